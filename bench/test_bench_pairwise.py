"""Pairwise hinge and logistic losses (loss + gradient) against the dense plain-torch
references and torch.sort, in the same run."""
from __future__ import annotations

import pytest
import torch

import fastrank
import reference as ref
from bench_utils import base_impl, loss_and_grad, run, skip_without, with_cpu_targets
from peers import allrank_losses

torch.manual_seed(0)
ALLRANK = allrank_losses()


def one_list(n, levels=5, dtype=torch.float32):
    return torch.randn(n, dtype=dtype), torch.randint(0, levels, (n,)).to(dtype)


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch"])
def test_hinge_n4000(benchmark, impl):
    s, y = one_list(4000)
    fn = fastrank.pairwise_hinge if impl == "fastrank" else (lambda a, b: ref.pairwise(a, b, "hinge"))
    run(benchmark, "pairwise hinge, 1 list, n=4,000, 5 levels", impl, 4000, loss_and_grad(fn, s, y),
        slow=impl != "fastrank")


@pytest.mark.parametrize("impl", ["fastrank", "fastrank_squared", "torch_sort"])
def test_hinge_n1e6(benchmark, impl):
    s, y = one_list(10**6)
    if impl == "torch_sort":
        fn = lambda: torch.sort(s)  # noqa: E731
    else:
        fn = loss_and_grad(fastrank.pairwise_hinge if impl == "fastrank" else fastrank.pairwise_squared_hinge, s, y)
    run(benchmark, "pairwise hinge, 1 list, n=1,000,000, 5 levels", impl, 10**6, fn, slow=True)


@pytest.mark.parametrize("impl", with_cpu_targets(["fastrank", "dense_torch"]))
def test_hinge_many_small_lists(benchmark, impl):
    s, y = torch.randn(10_000, 32), torch.randint(0, 5, (10_000, 32)).float()
    fn = fastrank.pairwise_hinge if base_impl(impl) == "fastrank" else ref.dense_batched_hinge
    run(benchmark, "pairwise hinge, 10,000 lists x 32", impl, 320_000, loss_and_grad(fn, s, y),
        slow=base_impl(impl) != "fastrank", rounds=10)


@pytest.mark.parametrize("impl", with_cpu_targets(["fastrank", "dense_torch", "allrank"]))
def test_logistic_n4000(benchmark, impl):
    s, y = one_list(4000)
    if base_impl(impl) == "fastrank":
        fn = loss_and_grad(fastrank.pairwise_logistic, s, y, reduction="sum")
    elif impl == "dense_torch":
        fn = loss_and_grad(lambda a, b: ref.pairwise(a, b, "logistic", reduction="sum"), s, y)
    else:
        skip_without(ALLRANK, "allRank")
        fn = loss_and_grad(lambda a, b: ALLRANK.rankNet(a[None], b[None]), s, y)
    run(benchmark, "pairwise logistic (RankNet), 1 list, n=4,000", impl, 4000, fn, slow=base_impl(impl) != "fastrank")
