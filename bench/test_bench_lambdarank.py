"""LambdaRank (NDCG@k) loss + gradient against the dense plain-torch reference and
allRank's lambdaLoss with its LambdaRank weighing scheme, in the same run."""
from __future__ import annotations

import pytest
import torch

import fastrank
import reference as ref
from bench_utils import base_impl, loss_and_grad, run, skip_without, with_cpu_targets
from peers import allrank_losses

torch.manual_seed(0)
ALLRANK = allrank_losses()

CASES = [(4000, 10), (1000, None)]


@pytest.mark.parametrize("n,k", CASES, ids=["n4000-k10", "n1000-full"])
@pytest.mark.parametrize("impl", with_cpu_targets(["fastrank", "dense_torch", "allrank"]))
def test_lambdarank(benchmark, impl, n, k):
    s, y = torch.randn(n), torch.randint(0, 5, (n,)).float()
    if base_impl(impl) == "fastrank":
        fn = loss_and_grad(fastrank.lambdarank, s, y, k=k)
    elif impl == "dense_torch":
        fn = loss_and_grad(lambda a, b: ref.lambdarank(a, b, k=k), s, y)
    else:
        skip_without(ALLRANK, "allRank")
        fn = loss_and_grad(lambda a, b: ALLRANK.lambdaLoss(a[None], b[None], weighing_scheme="lambdaRank_scheme", k=k), s, y)
    group = f"lambdarank, 1 list, n={n:,}, k={'n' if k is None else k}"
    run(benchmark, group, impl, n, fn, slow=base_impl(impl) != "fastrank", rounds=3 if n > 2000 else 10)


@pytest.mark.parametrize("impl", ["fastrank", "dense_torch"])
def test_lambdarank_hinge_n4000(benchmark, impl):
    s, y = torch.randn(4000), torch.randint(0, 5, (4000,)).float()
    if impl == "fastrank":
        fn = loss_and_grad(fastrank.lambdarank, s, y, pair_loss="hinge")
    else:
        fn = loss_and_grad(lambda a, b: ref.lambdarank(a, b, pair="hinge"), s, y)
    run(benchmark, "lambdarank hinge (exact O(n log n)), 1 list, n=4,000, k=n", impl, 4000, fn,
        slow=impl != "fastrank")
