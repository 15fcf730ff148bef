"""AceNAS search proof on NB201: acenas vs predictor + pw vs random at budgets 50 and 100.

Seeds 0..29, CIFAR-10 / CIFAR-100 / ImageNet16-120, both protocols, fastrank's defaults for
every strategy (acenas: pretraining on the table's weak label zen, 10 rounds, LambdaRank with
AceNAS' relevance grades), plus predictor + pw pretrained on zen as acenas is. The goal: acenas at budget 50 at least as good as predictor + pw at
budget 100 on every dataset. Writes bench/acenas_search/runs.csv, best_so_far_<protocol>.png
and the markdown of bench/ACENAS_SEARCH.md (printed).

    python bench/acenas_search.py                                   # everything (~25 min, 2 cores)
    python bench/acenas_search.py --seeds 3 --datasets cifar10      # a quick look
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from published import PUBLISHED_PREDICTOR  # noqa: E402
from search_table import DATASETS, TITLES, chosen_error_curve  # noqa: E402

HERE = Path(__file__).resolve().parent
BUDGETS = (50, 100)
# (strategy, its options): the last pairs the seed study's pw loss with acenas' pretraining
CONFIGS = (("acenas", {}), ("predictor", {"loss": "pw", **PUBLISHED_PREDICTOR}), ("predictor-pretrained", {"loss": "pw", **PUBLISHED_PREDICTOR, "pretrain": "zen"}),
           ("random", {}))
NAMES = {"acenas": "acenas", "predictor": "predictor + pw", "predictor-pretrained": "predictor + pw, pretrained",
         "random": "random"}


def label(config: str, budget: int) -> str:
    return f"{NAMES[config]} @ {budget}"


def _group(dataset: str, seed: int, protocols, budgets):
    """Every run of one (dataset, seed) in one process: acenas' pretraining is made once."""
    from fastrank.search import run
    from fastrank.workers import single_threaded

    single_threaded()
    results = []
    for protocol in protocols:
        for budget in budgets:
            for config, options in CONFIGS:
                result = run(f"nb201/{dataset}", config.split("-")[0], budget=budget, seed=seed, protocol=protocol,
                             **options)
                results.append((config, result))
    return results


def main(argv=None) -> int:
    from fastrank.seeds import parse_seeds
    from fastrank.search import BenchmarkTask, report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("30"))
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--protocols", nargs="+", choices=("test", "valid"), default=["test", "valid"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=HERE / "acenas_search")
    parser.add_argument("--markdown", type=Path, default=HERE / "ACENAS_SEARCH.md")
    args = parser.parse_args(argv)
    from tqdm.auto import tqdm

    start = time.perf_counter()
    results = []
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_group, ds, seed, args.protocols, BUDGETS) for seed in args.seeds
                   for ds in args.datasets]
        for future in tqdm(futures, desc="dataset x seed", unit="group"):
            results += future.result()
    configs = [c for c, _ in results]
    results = [r for _, r in results]
    wall = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    for config, r in zip(configs, results):
        if config == "predictor-pretrained":
            r.strategy = "predictor (pretrained)"  # tells the two predictor rows apart in the files
    report.write_runs(results, args.out / "runs.csv")
    for protocol in args.protocols:
        report.plot_best_so_far([r for r in results if r.protocol == protocol and r.budget == max(BUDGETS)],
                                args.out / f"best_so_far_{protocol}.png")

    tasks = {(ds, p): BenchmarkTask.load(f"nb201/{ds}", p) for ds in args.datasets for p in args.protocols}
    final, seconds = {}, {}
    for config, r in zip(configs, results):
        ds = r.benchmark.split("/")[1]
        key = (r.protocol, label(config, r.budget), ds)
        final.setdefault(key, []).append(chosen_error_curve(r, tasks[(ds, r.protocol)])[-1])
        seconds.setdefault(label(config, r.budget), []).append(r.seconds)
    lines = [f"Seeds {args.seeds[0]}..{args.seeds[-1]} ({len(args.seeds)} runs per cell), mean ± std of the chosen "
             f"architecture's test error (%); lower is better. {len(results)} runs in {wall / 60:.1f} min on "
             f"{args.workers} worker(s).", ""]
    rows = [(s, b) for b in BUDGETS for s, _ in CONFIGS]
    for protocol in args.protocols:
        what = ("queries see test accuracy" if protocol == "test" else
                "queries see validation accuracy; the best by validation is reported by its test error")
        lines += [f"**Protocol `{protocol}`**: {what}.", "",
                  "| strategy @ budget | " + " | ".join(TITLES[d] for d in args.datasets) + " |",
                  "|---|" + "---|" * len(args.datasets)]
        for strategy, budget in rows:
            lab = label(strategy, budget)
            cells = [f"{np.mean(final[(protocol, lab, d)]):.2f} ± {np.std(final[(protocol, lab, d)]):.2f}"
                     for d in args.datasets]
            lines.append(f"| {lab} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Goal: acenas @ 50 at least as good as predictor + pw @ 100 (and, beside it, the pretrained "
              "predictor + pw @ 50):", ""]
    for protocol in args.protocols:
        for d in args.datasets:
            ours = np.mean(final[(protocol, label("acenas", 50), d)])
            theirs = np.mean(final[(protocol, label("predictor", 100), d)])
            verdict = "met" if ours <= theirs + 1e-9 else "missed"
            other = np.mean(final[(protocol, label("predictor-pretrained", 50), d)])
            lines.append(f"- `{protocol}` {TITLES[d]}: {ours:.2f} vs {theirs:.2f}: **{verdict}** (pretrained "
                         f"predictor + pw @ 50: {other:.2f}, {'met' if other <= theirs + 1e-9 else 'missed'})")
    lines += ["", "Seconds per run (mean over datasets and protocols, one core each; acenas includes its "
              "pretraining, made once per dataset and seed and shared by that seed's runs):", "",
              "| " + " | ".join(label(s, b) for s, b in rows) + " |", "|" + "---|" * len(rows),
              "| " + " | ".join(f"{np.mean(seconds[label(s, b)]):.1f}" for s, b in rows) + " |", ""]
    text = "\n".join(lines)
    args.markdown.write_text("# AceNAS search on NB201\n\nGenerated by `python bench/acenas_search.py`"
                             f" (`{' '.join(sys.argv[1:]) or 'defaults'}`).\n\n" + text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
