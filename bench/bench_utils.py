"""Helpers shared by the benchmark files: one timed call = loss forward + backward."""
from __future__ import annotations

import pytest
import torch


def loss_and_grad(loss_fn, scores: torch.Tensor, *args, **kwargs):
    """A closure that computes loss_fn(scores, ...) and its gradient, as training does."""
    leaf = scores.detach().clone().requires_grad_(True)

    def step():
        leaf.grad = None
        loss = loss_fn(leaf, *args, **kwargs)
        loss.backward()
        return loss

    return step


def run(benchmark, group: str, impl: str, n: int, fn, slow: bool = False) -> None:
    """Times fn under pytest-benchmark, tagged so that bench/report.py can pair rows."""
    benchmark.group = group
    benchmark.extra_info.update({"group": group, "impl": impl, "n": n})
    if slow:  # dense O(n²) references: a few rounds are enough and keep the run short
        benchmark.pedantic(fn, rounds=3, warmup_rounds=1, iterations=1)
    else:
        benchmark(fn)


def skip_without(module, name: str):
    if module is None:
        pytest.skip(f"{name} is not installed (see README: benchmarks)")
