"""Searching real networks: NB201 cells trained on scikit-learn's digits (8×8, 10 classes).

Per seed, the default fastrank strategy (predictor + pw) and random search, budget 30: the
found network's valid and test accuracy. Then one run timed with 1 and 2 process workers, and
Kendall τ between the digits accuracy and NB201's CIFAR-10 validation accuracy over every
architecture evaluated. Writes bench/digits/{runs,evaluations,timing}.csv and DIGITS.md.

    OMP_NUM_THREADS=1 python bench/digits_search.py --part compare   # one thread: other work may share the machine
    python bench/digits_search.py --part timing                      # on a quiet machine

The objective is deterministic (one weight seed for every network), so an architecture that
two runs query is trained once and its value reused: the comparison is unchanged by that, and
seconds per evaluation are those of first trainings. The timing runs train everything anew.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from fastrank import search
from fastrank.benchmarks import load
from fastrank.metrics import kendall_tau
from fastrank.objectives import digits_objective
from fastrank.seeds import parse_seeds
from fastrank.spaces import NASBench201

sys.path.insert(0, str(Path(__file__).resolve().parent))
from published import PUBLISHED_PREDICTOR  # noqa: E402

HERE = Path(__file__).parent / "digits"


class Cached:
    """The digits objective with a memory: a deterministic training is not repeated."""

    def __init__(self, objective, log):
        self.objective, self.log, self.values = objective, log, {}
        self.__name__ = "digits"

    def __call__(self, arch):
        if arch not in self.values:
            start = time.perf_counter()
            self.values[arch] = self.objective(arch)
            self.log.append((arch, self.values[arch], time.perf_counter() - start))
        return self.values[arch]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(5)))
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--part", choices=("all", "compare", "timing", "page"), default="all",
                        help="compare: the strategies and τ only; timing: the 1- and 2-worker runs only; page: "
                             "only DIGITS.md, from the CSVs both parts wrote")
    args = parser.parse_args()
    HERE.mkdir(exist_ok=True)
    if args.part == "page":
        _write_markdown(args)
        return
    space = NASBench201()
    objective = digits_objective(space)
    if args.part in ("all", "compare"):
        compare(space, objective, args)
    if args.part in ("all", "timing"):
        timing(space, objective, args)
    _write_markdown(args)


def compare(space, objective, args) -> None:
    log = []
    cached = Cached(objective, log)
    rows = []
    for seed in args.seeds:
        for strategy in ("predictor", "random"):
            start = time.perf_counter()
            result = search.run(cached, strategy=strategy, space=space, budget=args.budget, seed=seed,
                                **(PUBLISHED_PREDICTOR if strategy == "predictor" else {}))
            report = objective.report(result.arch)
            rows.append({"seed": seed, "strategy": strategy, "arch": space.to_string(result.arch),
                         "valid_accuracy": result.query_value, "test_accuracy": report["test_accuracy"],
                         "seconds": time.perf_counter() - start})
            print(rows[-1], flush=True)
    with open(HERE / "runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    table = load("nb201/cifar10")
    cifar = dict(zip(table.archs, table.values))
    with open(HERE / "evaluations.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["arch", "digits_valid_accuracy", "seconds", "nb201_cifar10_valid"])
        for arch, value, seconds in log:
            writer.writerow([space.to_string(arch), value, f"{seconds:.3f}", cifar[arch]])


def timing(space, objective, args) -> None:
    """Every seed's predictor search with 1 and then 2 process workers, everything trained anew."""
    timing = []
    for seed in args.seeds:
        for workers in (1, 2):
            start = time.perf_counter()
            result = search.run(objective, strategy="predictor", space=space, budget=args.budget, seed=seed,
                                workers=workers, executor="process", **PUBLISHED_PREDICTOR)
            timing.append({"seed": seed, "workers": workers, "wall_seconds": time.perf_counter() - start,
                           "evaluation_seconds": sum(q.seconds for q in result.queries),
                           "arch": space.to_string(result.arch), "valid_accuracy": result.query_value})
            print(timing[-1], flush=True)
    with open(HERE / "timing.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(timing[0]))
        writer.writeheader()
        writer.writerows(timing)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _read(name):
    path = HERE / name
    if not path.exists():
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def _write_markdown(args) -> None:
    rows = [{**r, "valid_accuracy": float(r["valid_accuracy"]), "test_accuracy": float(r["test_accuracy"])}
            for r in _read("runs.csv")]
    log = _read("evaluations.csv")
    timing = [{k: float(v) if k.endswith("seconds") else v for k, v in r.items()} for r in _read("timing.csv")]
    seconds = np.array([float(r["seconds"]) for r in log])
    tau = kendall_tau(np.array([float(r["digits_valid_accuracy"]) for r in log]),
                      np.array([float(r["nb201_cifar10_valid"]) for r in log]))
    seeds = sorted({int(r["seed"]) for r in rows})
    budget = args.budget
    lines = ["# Searching real networks: NB201 cells on digits", "",
             f"`python bench/digits_search.py` on {_cpu()} "
             f"({os.cpu_count()} cores), torch threads per process as the search sets them. Objective: "
             f"`--objective digits` (NB201 network at C=8, one cell per stage, 1×8×8 inputs; 10 epochs of "
             f"SGD + cosine; valid accuracy in %, test accuracy of the found network retrained).", "",
             f"Budget {budget}, seeds {', '.join(str(s) for s in seeds)}.", "",
             f"- Seconds per evaluation in the comparison (first trainings, one thread): mean {seconds.mean():.2f}, median "
             f"{np.median(seconds):.2f}, max {seconds.max():.2f} over {len(seconds)} architectures.",
             f"- Kendall τ between digits valid accuracy and NB201 CIFAR-10 valid accuracy over those "
             f"{len(seconds)} architectures: {tau:.3f}.", ""]
    if timing:
        one = [r for r in timing if r["workers"] == "1"]
        two = [r for r in timing if r["workers"] == "2"]
        wall1 = np.array([r["wall_seconds"] for r in one])
        wall2 = np.array([r["wall_seconds"] for r in two])
        timed = ", ".join(r["seed"] for r in one)
        lines += [f"- Seconds per evaluation in the 1-worker timing runs (two torch threads, nothing cached): "
                  f"{sum(r['evaluation_seconds'] for r in one) / (budget * len(one)):.2f}; with 2 workers, each "
                  f"evaluation on one core: {sum(r['evaluation_seconds'] for r in two) / (budget * len(two)):.2f}.",
                  f"- Wall time of a predictor search (seeds {timed}, each run with 1 and then 2 workers): "
                  f"{wall1.mean():.0f} ± {wall1.std():.0f} s with 1 worker, {wall2.mean():.0f} ± {wall2.std():.0f} s "
                  f"with 2 process workers; speed-up per seed {', '.join(f'{a / b:.2f}' for a, b in zip(wall1, wall2))} "
                  f"(of the means: {wall1.mean() / wall2.mean():.2f}). The runs differ in what they train: with 2 "
                  f"workers a predictor round starts before every result of the last one is back.", ""]
    lines += ["| seed | strategy | valid % | test % | architecture |", "|---|---|---|---|---|"]
    for r in rows:
        arch = r["arch"].replace("|", "\\|")  # a table cell: the string's own bars escaped
        lines.append(f"| {r['seed']} | {r['strategy']} | {r['valid_accuracy']:.2f} | {r['test_accuracy']:.2f} | "
                     f"`{arch}` |")
    for strategy in ("predictor", "random"):
        test = [r["test_accuracy"] for r in rows if r["strategy"] == strategy]
        valid = [r["valid_accuracy"] for r in rows if r["strategy"] == strategy]
        lines.append(f"\n{strategy}: mean valid {np.mean(valid):.2f} %, mean test {np.mean(test):.2f} % "
                     f"(± {np.std(test):.2f})")
    (Path(__file__).parent / "DIGITS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
