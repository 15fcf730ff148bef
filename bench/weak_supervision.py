"""Weak supervision's proof (issue: AceNAS): ranking quality with and without pretraining.

For each task and seed: pretrain the encoder once on every architecture of the table with all
of its weak labels, then for each training size draw that many labelled architectures, fit
{MSE, HR, LambdaRank} from scratch and from the pretrained encoder, and score the whole table:
Kendall τ, NDCG@10 (AceNAS' relevance grades of the table's accuracies, exp2 gain), N@10 (best
true rank among the predicted top 10) and Precision@1%. Also times one pretraining on all of
NB201 (the cost target: <= 20 s on 2 cores), natively and through torch.

Writes bench/weak_supervision/cells.csv and the markdown of bench/WEAK_SUPERVISION.md (printed).

    python bench/weak_supervision.py                          # the whole grid (~20 min on 2 cores)
    python bench/weak_supervision.py --seeds 2 --tasks nb201/cifar10 --sizes 20   # a quick look
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TASKS = ("nb201/cifar10", "nb201/cifar100", "nb201/imagenet16", "tnb101_micro/class_scene", "tnb101_micro/jigsaw",
         "nasbench-graph/cora")
SIZES = (20, 50, 100)
LOSSES = ("MSE", "HR", "LambdaRank")
METRICS = ("kendall_tau", "ndcg10", "n10", "precision1")
COLUMNS = ("task", "seed", "size", "loss", "pretrained", *METRICS, "fit_seconds")


def _init() -> None:
    import torch

    import fastrank

    torch.set_num_threads(1)
    fastrank.set_num_threads(1)


def evaluate_task_seed(task: str, seed: int, sizes, losses):
    """One (task, seed): a pretraining, then every size x loss x {scratch, pretrained}."""
    import torch

    from fastrank import Predictor, benchmarks, metrics
    from fastrank.losses import acenas_relevance

    bench = benchmarks.load(task)
    values = bench.values
    grades = acenas_relevance(torch.as_tensor(values)).numpy()
    start = time.perf_counter()
    pretrained = Predictor(bench.space, seed=seed).pretrain(bench.archs, bench.weak_labels)
    pretrain_seconds = time.perf_counter() - start
    weak = pretrained.predict_weak(bench.archs)
    weak_tau = {name: metrics.kendall_tau(weak[name][~np.isnan(bench.weak_labels[name])],
                                          bench.weak_labels[name][~np.isnan(bench.weak_labels[name])])
                for name in weak}
    rows = []
    for size in sizes:
        labelled = np.random.default_rng((seed, size)).choice(len(bench.archs), size, replace=False)
        archs = [bench.archs[i] for i in labelled]
        for loss in losses:
            for use in (False, True):
                predictor = Predictor(bench.space, seed=seed)
                if use:
                    predictor.adopt_pretraining(pretrained)
                start = time.perf_counter()
                predictor.fit(archs, values[labelled], loss=loss)
                fit_seconds = time.perf_counter() - start
                scores = predictor.predict_benchmark(bench)
                rows.append({"task": task, "seed": seed, "size": size, "loss": loss, "pretrained": int(use),
                             "kendall_tau": metrics.kendall_tau(scores, values),
                             "ndcg10": metrics.ndcg(grades, scores, k=10, gain="exp2"),
                             "n10": metrics.n_at_k(values, scores, 10),
                             "precision1": metrics.precision_at_t(values, scores, 0.01),
                             "fit_seconds": fit_seconds})
    return rows, {"task": task, "seed": seed, "pretrain_seconds": pretrain_seconds, **weak_tau}


def pretraining_cost(repeats: int = 3) -> dict:
    """Seconds to pretrain on all 15,625 NB201 cells with the defaults, native and torch."""
    from fastrank import Predictor, benchmarks

    bench = benchmarks.load("nb201/cifar10")
    out = {}
    for native in (True, False):
        times = []
        for r in range(repeats if native else 1):
            start = time.perf_counter()
            Predictor(bench.space, seed=r, native=native).pretrain(bench.archs, bench.weak_labels)
            times.append(time.perf_counter() - start)
        out["native" if native else "torch"] = min(times)
    return out


def fmt(values, digits=3) -> str:
    values = np.asarray(values, dtype=np.float64)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def markdown(rows, pretrain_rows, cost, seeds: int, threads: int) -> str:
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    sizes = sorted({r["size"] for r in rows})
    losses = list(dict.fromkeys(r["loss"] for r in rows))
    lines = [f"Mean ± std over {seeds} seeds; whole-table scores after training on `size` random labelled "
             "architectures. *pre* = encoder pretrained on every architecture's weak labels first.", ""]
    names = {"kendall_tau": "Kendall τ", "ndcg10": "NDCG@10", "n10": "N@10 (best true rank in the top 10; lower "
             "is better)", "precision1": "Precision@1%"}
    for metric in METRICS:
        digits = 1 if metric == "n10" else 3
        lines += [f"### {names[metric]}", "",
                  "| task | size | " + " | ".join(f"{loss} | {loss} pre" for loss in losses) + " |",
                  "|---|---:|" + "---:|" * (2 * len(losses))]
        for task in tasks:
            for size in sizes:
                cells = []
                for loss in losses:
                    for use in (0, 1):
                        vals = [r[metric] for r in rows if r["task"] == task and r["size"] == size and
                                r["loss"] == loss and r["pretrained"] == use]
                        cells.append(fmt(vals, digits))
                lines.append(f"| {task} | {size} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Where pretraining helps", "",
              "Share of (task, size, loss) cells where the pretrained mean beats the scratch mean:", "",
              "| metric | " + " | ".join(f"size {s}" for s in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for metric in METRICS:
        cells = []
        for size in sizes:
            wins = total = 0
            for task in tasks:
                for loss in losses:
                    mean = [np.mean([r[metric] for r in rows if r["task"] == task and r["size"] == size and
                                     r["loss"] == loss and r["pretrained"] == use]) for use in (0, 1)]
                    better = mean[1] < mean[0] if metric == "n10" else mean[1] > mean[0]
                    wins, total = wins + better, total + 1
            cells.append(f"{wins}/{total}")
        lines.append(f"| {names[metric].split(' (')[0]} | " + " | ".join(cells) + " |")
    lines += ["", "### Pretraining", "",
              "| task | seconds per pretraining | Kendall τ of the pretrained heads with their weak labels |",
              "|---|---:|---|"]
    for task in tasks:
        these = [p for p in pretrain_rows if p["task"] == task]
        labels = [k for k in these[0] if k not in ("task", "seed", "pretrain_seconds")]
        taus = ", ".join(f"{k} {np.mean([p[k] for p in these]):.2f}" for k in labels)
        lines.append(f"| {task} | {fmt([p['pretrain_seconds'] for p in these], 1)} | {taus} |")
    if cost:
        lines += ["", f"Pretraining on all 15,625 NB201 cells (zen; 20 epochs, batch 256, {threads} threads): "
                      f"**{cost['native']:.1f} s** with the native step, {cost['torch']:.1f} s through torch "
                      "autograd (same model and arithmetic)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    from fastrank.seeds import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("20"))
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--losses", default=",".join(LOSSES))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=HERE / "weak_supervision")
    parser.add_argument("--no-cost", action="store_true", help="skip the pretraining-cost measurement")
    args = parser.parse_args(argv)
    tasks, losses = args.tasks.split(","), args.losses.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    from tqdm.auto import tqdm

    import fastrank

    cost = {} if args.no_cost else pretraining_cost()  # first, alone on the machine
    threads = fastrank.num_threads()
    jobs = [(task, seed) for task in tasks for seed in args.seeds]
    rows, pretrain_rows = [], []
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn"), initializer=_init) as pool:
        futures = [pool.submit(evaluate_task_seed, task, seed, sizes, losses) for task, seed in jobs]
        for future in tqdm(futures, desc="task x seed", unit="job"):
            cells, pre = future.result()
            rows += cells
            pretrain_rows.append(pre)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "cells.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    text = markdown(rows, pretrain_rows, cost, len(args.seeds), threads)
    print(text)
    print(f"\n{len(rows)} cells in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    (args.out / "tables.md").write_text(text + "\n")
    (HERE / "WEAK_SUPERVISION.md").write_text("# Weak supervision: ranking quality with and without pretraining\n\n"
                                              "Generated by `python bench/weak_supervision.py`"
                                              f" (`{' '.join(sys.argv[1:]) or 'defaults'}`).\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
