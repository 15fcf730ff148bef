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


def run(benchmark, group: str, impl: str, n: int, fn, slow: bool = False, rounds: int = 3) -> None:
    """Times fn under pytest-benchmark, tagged so that bench/report.py can pair rows.

    slow: a fixed number of rounds (dense O(n²) references that take up to seconds);
    otherwise pytest-benchmark calibrates rounds itself.
    """
    benchmark.group = group
    benchmark.extra_info.update({"group": group, "impl": impl, "n": n})
    if slow:
        benchmark.pedantic(fn, rounds=rounds, warmup_rounds=1, iterations=1)
    else:
        benchmark(fn)


def skip_without(module, name: str):
    if module is None:
        pytest.skip(f"{name} is not installed (see README: benchmarks)")
