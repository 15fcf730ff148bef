"""The GCN predictor's training step (batch 32, NB201), fastrank against plain torch and
torch_geometric in interleaved rounds: on a shared machine whose speed drifts by 1.5x within
minutes, timing each implementation in its own stretch (as pytest-benchmark does) can put
them in different phases; interleaving gives each round's ratio under the same conditions.

    python bench/paired_training_step.py [--rounds 20] [--json bench/paired_training_step.json]

Prints the median step time of each implementation and the median over rounds of each
per-round ratio (other / fastrank).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

import test_bench_graph as graph_bench  # noqa: E402  (the steps of the pytest-benchmark rows)


def steps():
    impls = ["fastrank", "plain_torch", "plain_torch_fused_adam"]
    if graph_bench.HAS_PYG:
        impls.append("torch_geometric")
    return {impl: graph_bench.training_step(impl) for impl in impls}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per implementation and round")
    parser.add_argument("--json", default=None, help="write the times and ratios here")
    args = parser.parse_args(argv)
    impls = steps()
    times = {name: [] for name in impls}
    for _ in range(args.rounds):
        for name, step in impls.items():
            for _ in range(args.steps // 5):  # warm-up: caches, allocator, thread pool
                step()
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - start) / args.steps)
    ours = times["fastrank"]
    result = {
        "median_ms": {name: statistics.median(t) * 1e3 for name, t in times.items()},
        "ratio_median": {name: statistics.median(o / f for f, o in zip(ours, t))
                         for name, t in times.items() if name != "fastrank"},
        "rounds": args.rounds, "steps": args.steps, "torch": torch.__version__,
    }
    print("| implementation | median step | per-round ratio to fastrank (median) |")
    print("|---|---|---|")
    for name, ms in result["median_ms"].items():
        ratio = result["ratio_median"].get(name)
        print(f"| {name} | {ms * 1e3:,.0f} µs | {'-' if ratio is None else f'{ratio:.2f}×'} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
