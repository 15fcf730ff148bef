"""Which encoder's top picks are good from a few labels: no search, no pretraining. For each
table and training size, predictors are fitted (HR loss, the default settings) on random
training sets; each scores 5,000 cells drawn from the table (all of it when smaller), and the
row reports the mean regret of its predicted top 5 (the table's best minus the best of those 5,
in points) and the mean Kendall tau over those cells. A search queries a predictor's top picks,
so regret@5 says more about it than tau does.

    PYTHONPATH=python python bench/encoder_diagnostic.py --encoders gcn,mlp,gcn_flat --draws 8

Prints a markdown table (bench/PEERS_PILOT.md quotes one).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

TASKS = ("tnb101_micro/jigsaw", "nb201/cifar100", "nasbench-graph/citeseer", "tnb101_macro/class_object")
SIZES = (10, 20, 40)
SCORED = 5000


def measure(bench, encoder: str, size: int, draws: int):
    """(mean regret@5 in points, mean Kendall tau) over ``draws`` random training sets."""
    from fastrank import Predictor, metrics

    values = np.asarray(bench.values, dtype=np.float64)
    scale = 100.0 if values.max() <= 1.0 else 1.0  # NAS-Bench-Graph: fractions -> points
    regrets, taus = [], []
    for draw in range(draws):
        rng = np.random.default_rng(100 + draw)
        train = rng.choice(len(bench), size, replace=False)
        predictor = Predictor(bench.space, encoder=encoder, seed=draw)
        predictor.fit([bench.archs[i] for i in train], values[train], loss="HR")
        scored = rng.choice(len(bench), min(len(bench), SCORED), replace=False)
        predicted = predictor.predict([bench.archs[i] for i in scored])
        top = scored[np.argsort(-predicted, kind="stable")[:5]]
        regrets.append(scale * (values.max() - values[top].max()))
        taus.append(metrics.kendall_tau(predicted, values[scored]))
    return float(np.mean(regrets)), float(np.mean(taus))


def main(argv=None) -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "python"))
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoders", default="gcn,mlp,gcn_flat")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--draws", type=int, default=8)
    args = parser.parse_args(argv)
    from fastrank import benchmarks
    from fastrank.predictor.network import parse_encoders

    encoders = args.encoders.split(",")
    tasks = args.tasks.split(",")
    if args.draws < 1:
        parser.error(f"--draws must be at least 1, got {args.draws}")
    for encoder in encoders:
        try:
            parse_encoders(encoder)
        except ValueError as err:
            parser.error(f"--encoders: {err}")
    tables = {}
    for task in tasks:  # every table loaded before the first fit: a bad name fails at once
        try:
            tables[task] = benchmarks.load(task)
        except (ValueError, KeyError, OSError) as err:
            parser.error(f"--tasks: {task!r}: {err}")
    torch.set_num_threads(1)
    print("| table | labels | " + " | ".join(f"{e}: regret@5 / tau" for e in encoders) + " |")
    print("|---|---|" + "---|" * len(encoders))
    for task, bench in tables.items():
        for size in SIZES:
            cells = [measure(bench, e, size, args.draws) for e in encoders]
            print(f"| {task} | {size} | " + " | ".join(f"{r:.2f} / {t:.2f}" for r, t in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
