"""Parallel evaluation on a simulated costly objective: NB201's value, returned after a time
proportional to the cell's cost (1 s on average over the space), as a training run would.

The default strategy (predictor + pw), budget 100, with 1, 2, 4 and 8 workers:

- ``--mode real``: real sleeps through the thread executor and Ray; wall seconds per run.
- ``--mode virtual``: the same evaluations on a virtual clock (an evaluation's duration is
  simulated, the driver's own work is timed for real and moves the clock too), so that 30
  seeds × 3 datasets × 4 worker counts take minutes, not days. The real mode checks that the
  clock agrees with real sleeps.

    PYTHONPATH=python python bench/parallel_search.py --mode virtual --seeds 0-29
    PYTHONPATH=python python bench/parallel_search.py --mode real --seeds 0-1 --executors thread ray
    PYTHONPATH=python python bench/parallel_search.py --seeds 1000-1015 --workers 8 \
        --variant 'believer={"gp_batch": "believer"}'

``--variant NAME={JSON}``: the predictor's options instead of the published table's (``{}``: today's
defaults), written to bench/parallel_search/<mode>_<NAME>.csv.

Writes bench/parallel_search/<mode>.csv (one row per run) and prints a table.
"""
from __future__ import annotations

import argparse
import csv
import heapq
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from published import PUBLISHED_PREDICTOR, parse_variant  # noqa: E402

OUT = Path(__file__).parent / "parallel_search"
DATASETS = ("cifar10", "cifar100", "imagenet16")
# relative cost of an NB201 edge operation (none, skip, conv1x1, conv3x3, avg pool): a 3x3
# convolution does 9 times the multiply-adds of a 1x1 one; every cell pays 1 for its stem share
OP_COST = np.array([0.0, 0.0, 1.0, 9.0, 1.0])


def cost(arch) -> float:
    return 1.0 + float(OP_COST[list(arch)].sum())


MEAN_COST = float(np.mean([cost(a) for a in itertools.product(range(5), repeat=6)]))


class SimulatedTraining:
    """NB201's value of ``arch`` (valid or test protocol) after ``mean_seconds`` × relative
    cost. Picklable (the table loads in each worker), as a training function is."""

    def __init__(self, dataset: str, protocol: str = "test", mean_seconds: float = 1.0, sleep: bool = True):
        self.dataset, self.protocol, self.mean_seconds, self.sleep = dataset, protocol, mean_seconds, sleep
        self._task = None

    def task(self):
        if self._task is None:
            from fastrank.search import BenchmarkTask

            self._task = BenchmarkTask.load(f"nb201/{self.dataset}", self.protocol)
        return self._task

    def duration(self, arch) -> float:
        return self.mean_seconds * cost(arch) / MEAN_COST

    def __call__(self, arch) -> float:
        if self.sleep:
            time.sleep(self.duration(arch))
        return self.task().query.query(arch)

    def __getstate__(self):
        return {**self.__dict__, "_task": None}


class VirtualClock:
    """An evaluator whose evaluations take simulated time: ``wait`` returns the one that would
    finish first. The driver's real compute between calls advances the clock as well."""

    def __init__(self, objective: SimulatedTraining, workers: int):
        self.objective, self.workers = objective, workers
        self.now, self.real = 0.0, time.perf_counter()
        self.heap, self.counter = [], itertools.count()

    def _sync(self) -> None:
        t = time.perf_counter()
        self.now += t - self.real
        self.real = t

    def submit(self, arch) -> None:
        self._sync()
        heapq.heappush(self.heap, (self.now + self.objective.duration(arch), next(self.counter), arch))

    def wait(self):
        from fastrank.search.evaluators import Outcome

        self._sync()
        if not self.heap:
            return []
        finish, _, arch = heapq.heappop(self.heap)
        self.now = max(self.now, finish)
        self.real = time.perf_counter()
        return [Outcome(arch, self.objective.task().query.query(arch), None, self.objective.duration(arch), "sim")]

    def shutdown(self) -> None:
        self.heap.clear()


def one_run(dataset: str, seed: int, workers: int, mode: str, executor: str, budget: int, mean: float,
            num_cpus: float = 1.0, options: dict = None) -> dict:
    from fastrank import search
    from fastrank.search.driver import EvaluationOptions
    from fastrank.search.runner import drive

    objective = SimulatedTraining(dataset, "test", mean, sleep=mode == "real")
    start = time.perf_counter()
    options = PUBLISHED_PREDICTOR if options is None else options
    s = search.Search(objective, "predictor", budget, seed, space="nb201", **options)
    if mode == "virtual":
        clock = VirtualClock(objective, workers)
        result = drive(s, EvaluationOptions(workers=workers), evaluator=clock)
        seconds = clock.now
    else:
        result = drive(s, EvaluationOptions(workers=workers, executor=executor, num_cpus=num_cpus))
        seconds = time.perf_counter() - start
    test = objective.task().report_value(result.arch)
    return {"mode": mode, "executor": executor if mode == "real" else "virtual", "dataset": dataset, "seed": seed,
            "workers": workers, "budget": budget, "mean_seconds": mean, "seconds": round(seconds, 3),
            "test_error": round(100.0 - test, 4), "evaluations": len(result.queries),
            "driver_seconds": round(time.perf_counter() - start, 3) if mode == "virtual" else ""}


def _job(args):
    import torch

    import fastrank

    torch.set_num_threads(1)
    fastrank.set_num_threads(1)
    return one_run(*args)


def main(argv=None) -> None:
    sys.path.insert(0, os.path.dirname(__file__))
    from fastrank.seeds import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("real", "virtual"), default="virtual")
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-29"))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--executors", nargs="+", default=["thread"], choices=("thread", "process", "ray"))
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--mean-seconds", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=1, help="virtual mode: runs side by side")
    parser.add_argument("--num-cpus", type=float, default=1.0,
                        help="Ray: CPUs reserved per evaluation (a sleep needs none: 0.25 lets 8 run on 2 cores)")
    parser.add_argument("--variant", default=None, metavar="NAME={JSON}",
                        help="the predictor's options instead of the published table's ({}: today's defaults)")
    args = parser.parse_args(argv)
    name, options = None, None
    if args.variant is not None:
        try:
            name, options = parse_variant(args.variant)
        except ValueError as err:
            parser.error(f"argument --variant: {args.variant!r}: {err}")
    executors = args.executors if args.mode == "real" else ["virtual"]
    jobs = [(d, seed, w, args.mode, e, args.budget, args.mean_seconds, args.num_cpus, options)
            for e in executors for d in args.datasets for seed in args.seeds for w in args.workers]
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{args.mode}{'_' + '_'.join(args.executors) if args.mode == 'real' else ''}{'_' + name if name else ''}.csv"
    rows = []
    from tqdm import tqdm

    if args.processes > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(args.processes, mp_context=get_context("spawn")) as pool:
            for row in tqdm(pool.map(_job, jobs), total=len(jobs)):
                rows.append(row)
    else:
        import torch

        import fastrank

        torch.set_num_threads(1)
        fastrank.set_num_threads(1)
        for job in tqdm(jobs):
            rows.append(one_run(*job))
            with open(path, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(table(rows))
    print(f"wrote {path}")


def table(rows) -> str:
    out = ["| executor | dataset | workers | seeds | seconds per run | speed-up | test error (%) |",
           "|---|---|---|---|---|---|---|"]
    keys = sorted({(r["executor"], r["dataset"]) for r in rows}, key=lambda k: (k[0], DATASETS.index(k[1])))
    for executor, dataset in keys:
        sub = [r for r in rows if r["executor"] == executor and r["dataset"] == dataset]
        one = np.mean([r["seconds"] for r in sub if r["workers"] == 1]) if any(r["workers"] == 1 for r in sub) else None
        for w in sorted({r["workers"] for r in sub}):
            these = [r for r in sub if r["workers"] == w]
            secs = np.array([r["seconds"] for r in these])
            err = np.array([r["test_error"] for r in these])
            speed = f"{one / secs.mean():.2f}" if one else "-"
            out.append(f"| {executor} | {dataset} | {w} | {len(these)} | {secs.mean():.1f} ± {secs.std():.1f} | "
                       f"{speed} | {err.mean():.2f} ± {err.std():.2f} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
