"""The search proof on NB201 against the seed study (PWLNAS, Ji et al. ICCV 2025, Table: NB201).

Budget 100, seeds 0..29, CIFAR-10 / CIFAR-100 / ImageNet16-120, both protocols; strategies
random, predictor x {MSE, HR, MAPE, pw} and evolution x pw, every run with fastrank's defaults.
Writes bench/search/runs.csv, bench/search/best_so_far_<protocol>.png and the markdown of
bench/SEARCH.md (also printed), which README's search table is copied from.

    python bench/search_table.py                   # the whole table (about an hour on 2 cores)
    python bench/search_table.py --seeds 3 --datasets cifar10   # a quick look
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from fastrank.seeds import parse_seeds
from fastrank.search import BenchmarkTask, report, run_many

sys.path.insert(0, str(Path(__file__).resolve().parent))
from published import PUBLISHED_PREDICTOR  # noqa: E402

HERE = Path(__file__).resolve().parent
DATASETS = ("cifar10", "cifar100", "imagenet16")
TITLES = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet16": "ImageNet16-120"}
# Mean test error (%) the seed study reports on NB201 at 100 queries (its Table; test protocol).
PWLNAS = {"cifar10": 5.63, "cifar100": 26.51, "imagenet16": 52.88}
NPENAS = {"cifar10": 5.69, "cifar100": 26.54, "imagenet16": 53.52}
GLOBAL_BEST = {"cifar10": 5.63, "cifar100": 26.49, "imagenet16": 52.69}
# The targets for predictor + pw under the valid protocol.
VALID_TARGET = {"cifar10": 5.75, "cifar100": 26.80, "imagenet16": 53.80}
CONFIGS = [("random", "-"), ("predictor", "MSE"), ("predictor", "HR"), ("predictor", "MAPE"),
           ("predictor", "pw"), ("evolution", "pw")]


def label(strategy: str, loss: str) -> str:
    return strategy if strategy == "random" else f"{strategy} + {loss}"


def chosen_error_curve(result, task: BenchmarkTask) -> np.ndarray:
    """Test error (%) of the architecture the run would report after each query: the best
    queried by query value (the first on ties), judged on the test metric."""
    out, best_value, best_test = [], -np.inf, None
    for q in result.queries:
        if q.value > best_value:
            best_value, best_test = q.value, task.report_value(q.arch)
        out.append(100.0 - best_test)
    return np.array(out)


def first_budget(curves: np.ndarray, target: float):
    """The smallest number of queries at which the mean over seeds reaches the target."""
    mean = curves.mean(0)
    hits = np.flatnonzero(mean <= target + 1e-9)
    return int(hits[0]) + 1 if hits.size else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("30"))
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--protocols", nargs="+", choices=("test", "valid"), default=["test", "valid"])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "search")
    parser.add_argument("--markdown", type=Path, default=HERE / "SEARCH.md")
    args = parser.parse_args(argv)

    jobs = []
    for protocol in args.protocols:
        for ds in args.datasets:
            for strategy, loss in CONFIGS:
                for seed in args.seeds:
                    job = {"objective": f"nb201/{ds}", "strategy": strategy, "budget": args.budget, "seed": seed,
                           "protocol": protocol}
                    if strategy != "random":
                        job["loss"] = loss
                    if strategy == "predictor":  # the table predates pretraining and the process by default
                        job.update(PUBLISHED_PREDICTOR)
                    jobs.append(job)
    start = time.perf_counter()
    results, interrupted = run_many(jobs, args.workers, desc="search table")
    wall = time.perf_counter() - start
    if interrupted:
        print(f"interrupted after {len(results)} of {len(jobs)} runs; nothing written", file=sys.stderr)
        return 130
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_runs(results, args.out / "runs.csv")
    for protocol in args.protocols:
        report.plot_best_so_far([r for r in results if r.protocol == protocol],
                                args.out / f"best_so_far_{protocol}.png")

    tasks = {(ds, p): BenchmarkTask.load(f"nb201/{ds}", p) for ds in args.datasets for p in args.protocols}
    cell = {}  # (protocol, label, dataset) -> error curves (seeds x queries)
    seconds = {}
    for r in results:
        ds = r.benchmark.split("/")[1]
        key = (r.protocol, label(r.strategy, r.loss), ds)
        cell.setdefault(key, []).append(chosen_error_curve(r, tasks[(ds, r.protocol)]))
        seconds.setdefault(label(r.strategy, r.loss), []).append(r.seconds)
    cell = {k: np.array(v) for k, v in cell.items()}

    lines = [f"Budget {args.budget}, seeds {args.seeds[0]}..{args.seeds[-1]} ({len(args.seeds)} runs per cell), "
             f"mean ± std of the chosen architecture's test error (%); lower is better. "
             f"{len(results)} runs in {wall / 60:.1f} min on {args.workers or 'all'} worker(s).", ""]
    for protocol in args.protocols:
        what = ("queries see test accuracy (the seed study's NB201 reporting)" if protocol == "test" else
                "queries see validation accuracy; the best by validation is reported by its test error")
        lines += [f"**Protocol `{protocol}`**: {what}.", ""]
        lines.append("| strategy | " + " | ".join(TITLES[d] for d in args.datasets) + " |")
        lines.append("|---|" + "---|" * len(args.datasets))
        for strategy, loss in CONFIGS:
            lab = label(strategy, loss)
            row = [f"{cell[(protocol, lab, d)][:, -1].mean():.2f} ± {cell[(protocol, lab, d)][:, -1].std():.2f}"
                   for d in args.datasets]
            lines.append(f"| {lab} | " + " | ".join(row) + " |")
        if protocol == "test":
            lines.append("| PWLNAS (seed study) | " + " | ".join(f"{PWLNAS[d]:.2f}" for d in args.datasets) + " |")
            lines.append("| NPENAS (seed study) | " + " | ".join(f"{NPENAS[d]:.2f}" for d in args.datasets) + " |")
            lines.append("| global best | " + " | ".join(f"{GLOBAL_BEST[d]:.2f}" for d in args.datasets) + " |")
        lines.append("")

    lines += ["Targets (predictor + pw):", ""]
    for protocol, targets, name in (("test", PWLNAS, "at or ahead of PWLNAS"), ("valid", VALID_TARGET, "issue target")):
        if protocol not in args.protocols:
            continue
        for d in args.datasets:
            ours = cell[(protocol, "predictor + pw", d)][:, -1].mean()
            verdict = "met" if ours <= targets[d] + 1e-9 else "missed"
            lines.append(f"- `{protocol}` {TITLES[d]}: {ours:.2f} vs ≤ {targets[d]:.2f} ({name}): **{verdict}**")
    for protocol in args.protocols:
        for d in args.datasets:
            pw = cell[(protocol, "predictor + pw", d)][:, -1].mean()
            rnd = cell[(protocol, "random", d)][:, -1].mean()
            mse = cell[(protocol, "predictor + MSE", d)][:, -1].mean()
            lines.append(f"- `{protocol}` {TITLES[d]}: pw {pw:.2f} vs random {rnd:.2f} "
                         f"({'better' if pw < rnd else 'not better'}), vs MSE {mse:.2f} "
                         f"({'not worse' if pw <= mse + 1e-9 else 'worse'})")
    if "test" in args.protocols:
        lines += ["", "Queries after which predictor + pw's mean test error first reaches the PWLNAS number "
                  "(protocol `test`; the smaller, the better):", "",
                  "| " + " | ".join(TITLES[d] for d in args.datasets) + " |", "|" + "---|" * len(args.datasets)]
        firsts = [first_budget(cell[("test", "predictor + pw", d)], PWLNAS[d]) for d in args.datasets]
        lines.append("| " + " | ".join(str(f) if f else f"not within {args.budget}" for f in firsts) + " |")
    lines += ["", "Seconds per run (mean over every dataset and protocol, one core each):", "",
              "| " + " | ".join(label(s, l) for s, l in CONFIGS) + " |", "|" + "---|" * len(CONFIGS),
              "| " + " | ".join(f"{np.mean(seconds[label(s, l)]):.1f}" for s, l in CONFIGS) + " |", ""]
    text = "\n".join(lines)
    args.markdown.write_text("# NB201 search against the seed study\n\nGenerated by `python bench/search_table.py`"
                             f" (`{' '.join(sys.argv[1:]) or 'defaults'}`).\n\n" + text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
