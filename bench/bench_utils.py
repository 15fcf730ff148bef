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


def with_cpu_targets(impls):
    """impls with a "fastrank_<target>" row after "fastrank" for every CPU vector target narrower
    than the one fastrank picks here (fastrank.cpu_targets()), so that a run on one machine also
    times the AVX2 and baseline code of the multiversioned kernels."""
    import fastrank

    narrower = [f"fastrank_{t}" for t in fastrank.cpu_targets()[1:]]
    out = []
    for impl in impls:
        out.append(impl)
        if impl == "fastrank":
            out += narrower
    return out


def _cpu_target_of(impl: str):
    suffix = impl.rpartition("_")[2]
    return suffix if impl.startswith("fastrank_") and suffix in ("avx512", "avx2", "baseline") else None


def base_impl(impl: str) -> str:
    """"fastrank" for fastrank's per-target rows, else impl."""
    return "fastrank" if _cpu_target_of(impl) else impl


def run(benchmark, group: str, impl: str, n: int, fn, slow: bool = False, rounds: int = 3) -> None:
    """Times fn under pytest-benchmark, tagged so that bench/report.py can pair rows.

    slow: a fixed number of rounds (dense O(n²) references that take up to seconds);
    otherwise pytest-benchmark calibrates rounds itself. An impl "fastrank_<target>" runs
    with that CPU vector target selected.
    """
    import fastrank

    benchmark.group = group
    target = _cpu_target_of(impl)
    benchmark.extra_info.update({"group": group, "impl": impl, "n": n,
                                 "cpu_target": target or fastrank.cpu_target()})
    before = fastrank.cpu_target()
    if target:
        fastrank.set_cpu_target(target)
    try:
        if slow:
            benchmark.pedantic(fn, rounds=rounds, warmup_rounds=1, iterations=1)
        else:
            benchmark(fn)
    finally:
        fastrank.set_cpu_target(before)


def skip_without(module, name: str):
    if module is None:
        pytest.skip(f"{name} is not installed (see README: benchmarks)")
