"""The search of bench/test_bench_search.py (NB201/cifar10, test protocol, budget 100),
fastrank's Predictor against PlainTorchPredictor in interleaved rounds: pytest-benchmark
times each row in its own stretch, and on a shared 2-core machine whose load changes within
minutes the two stretches can see different machines. Here every round runs both, in
alternating order, so each round's ratio is taken under the same conditions.

    PYTHONPATH=python python bench/paired_search.py [--rounds 5] [--threads 1] [--json FILE]

Prints each round's times, the median time of each predictor, the median over rounds of
the per-round ratio (plain / fastrank), and what each search found.
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

import fastrank  # noqa: E402
from fastrank import search  # noqa: E402
from plain_gcn import PlainTorchPredictor  # noqa: E402
from published import PUBLISHED_PREDICTOR  # noqa: E402

CLASSES = {"fastrank": fastrank.Predictor, "plain_torch": PlainTorchPredictor}


def one_run(cls, seed: int):
    start = time.perf_counter()
    result = search.run("nb201/cifar10", strategy="predictor", budget=100, seed=seed, protocol="test",
                        predictor_class=cls, **PUBLISHED_PREDICTOR)  # the fit loop alone, as published
    return time.perf_counter() - start, result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch and fastrank threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fastrank.set_num_threads(args.threads)
    found = {}
    for name, cls in CLASSES.items():  # warm-up: table, pool encoding, torch's lazy imports
        found[name] = one_run(cls, args.seed)[1]
    times = {name: [] for name in CLASSES}
    for r in range(args.rounds):
        order = list(CLASSES) if r % 2 == 0 else list(reversed(CLASSES))
        for name in order:
            seconds, _ = one_run(CLASSES[name], args.seed)
            times[name].append(seconds)
        print(f"round {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in CLASSES), flush=True)
    ratios = [p / f for f, p in zip(times["fastrank"], times["plain_torch"])]
    result = {
        "median_s": {name: statistics.median(t) for name, t in times.items()},
        "times_s": times,
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
        "found": {name: {"arch": r.arch_string, "test_value": r.test_value, "rank": r.rank} for name, r in found.items()},
        "rounds": args.rounds, "threads": args.threads, "seed": args.seed, "torch": torch.__version__,
    }
    for name, t in result["median_s"].items():
        print(f"{name}: median {t:.2f} s")
    print(f"plain_torch / fastrank, median of per-round ratios: {result['ratio_median']:.2f}x "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
    for name, f in result["found"].items():
        print(f"{name} found {f['arch']} (test accuracy {f['test_value']:.2f}, rank {f['rank']})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
