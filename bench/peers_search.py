"""fastrank's default strategy against the searchers users already have, through the same driver
(same budget and cache rules: a repeated architecture is free): random search, regularized
evolution (NASLib's population 30 / sample 10), Optuna TPE (multivariate, 10 startup trials),
Optuna's GP sampler (Bayesian optimisation) and SMAC3 (random forest + EI, 10 initial
configurations), on NB201 ×3 (both protocols), TransNAS-Bench-101
micro class_scene and jigsaw and macro class_object, NAS-Bench-Graph cora and citeseer (both
protocols), and the NB101 and DARTS (NB301) tables. The Optuna and SMAC peers query only table rows
(``search_peers``'s docstring says how).

The peers do not depend on the budget, so one budget-100 run gives their results at 20 and 50
too (the best by query value among the first B queries); fastrank's pw loss switches at half
the budget, so it runs once per budget.

    PYTHONPATH=python python bench/peers_search.py --seeds 0-29 --processes 2
    PYTHONPATH=python python bench/peers_search.py --table      # PEERS.md from peers/runs.csv

Appends to bench/peers/runs.csv (one row per task, protocol, method, seed, budget; a job whose rows
are there already is skipped, so a stopped run goes on where it stopped) and prints PEERS.md's tables.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np

HERE = Path(__file__).parent
OUT = HERE / "peers"
TASKS = [("nb201/cifar10", "test"), ("nb201/cifar100", "test"), ("nb201/imagenet16", "test"),
         ("nb201/cifar10", "valid"), ("nb201/cifar100", "valid"), ("nb201/imagenet16", "valid"),
         ("tnb101_micro/class_scene", "valid"), ("tnb101_micro/jigsaw", "valid"),
         ("tnb101_macro/class_object", "valid"),
         ("nasbench-graph/cora", "test"), ("nasbench-graph/citeseer", "test"),
         ("nasbench-graph/cora", "valid"), ("nasbench-graph/citeseer", "valid"),
         ("nb101", "test"), ("nb301", "test")]
BUDGETS = (20, 50, 100)
PEERS = ("random", "regularized-evolution", "optuna-tpe", "optuna-gp", "smac")
FASTRANK = "predictor"
# fastrank's rows from before the Gaussian process joined the GCN by default (gp_member, acquisition
# "bandit"), kept beside the new ones; not a peer (never bold).
PREVIOUS = "predictor-gcn-alone"
# the rows from before pretraining became the default (pretrain="auto"), the table's first publication:
# not in the tables, read only to say how far fastrank has moved since
FIRST = "predictor-no-pretrain"
COLUMNS = ("task", "protocol", "method", "seed", "budget", "test_error", "reached_best", "seconds")


def _setup() -> None:
    import torch

    import fastrank

    torch.set_num_threads(1)
    fastrank.set_num_threads(1)
    sys.path.insert(0, str(HERE))
    import search_peers  # noqa: F401  (registers the Optuna and SMAC strategies)


def job(task: str, protocol: str, method: str, seed: int, options: Optional[dict] = None,
        label: Optional[str] = None) -> list:
    """Rows of one (task, protocol, method, seed) at every budget; ``options`` go to the strategy
    (a pilot's variant, reported under ``label``)."""
    _setup()
    from fastrank import search

    bench = search.BenchmarkTask.load(task, protocol)
    best_query = float(np.max(bench.query.values))
    scale = 100.0 if bench.report.values.max() <= 1.0 else 1.0  # NAS-Bench-Graph: fractions -> %
    rows = []
    runs = [(b, b) for b in BUDGETS] if method == FASTRANK else [(max(BUDGETS), b) for b in BUDGETS]
    done = {}
    for run_budget, budget in runs:
        if run_budget not in done:
            start = time.perf_counter()
            result = search.run(task, method, run_budget, seed, protocol=protocol, **(options or {}))
            done[run_budget] = (result, time.perf_counter() - start)
        result, seconds = done[run_budget]
        queries = [q for q in result.queries if q.value is not None][:budget]
        chosen = max(queries, key=lambda q: q.value)  # the first on ties, as the result's own choice
        value = bench.report_value(chosen.arch)
        reached = next((i + 1 for i, q in enumerate(queries) if q.value >= best_query), "")
        rows.append({"task": task, "protocol": protocol, "method": label or method, "seed": seed, "budget": budget,
                     "test_error": round(100.0 - scale * value, 6), "reached_best": reached,
                     "seconds": round(seconds * (1.0 if method == FASTRANK else budget / run_budget), 4)})
    return rows


def _job(args):
    return job(*args)


def finished_jobs(path: Path) -> set:
    """(task, protocol, method, seed) of the jobs whose every budget is in the file already."""
    if not path.exists():
        return set()
    count = {}
    for r in csv.DictReader(open(path)):
        key = (r["task"], r["protocol"], r["method"], int(r["seed"]))
        count[key] = count.get(key, 0) + 1
    return {k for k, n in count.items() if n >= len(BUDGETS)}


def append_jobs(path: Path, jobs: list, fn, processes: int) -> None:
    """Runs ``fn(job) -> rows`` for every job (in ``processes`` spawned processes when more than
    one) and appends the rows to the CSV at ``path`` as each job finishes (a new file gets the
    header), so that a stopped run keeps what it finished."""
    from tqdm import tqdm

    path.parent.mkdir(exist_ok=True)
    fresh = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        if fresh:
            writer.writeheader()
        if processes > 1:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context

            with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
                results = pool.map(fn, jobs, chunksize=1)
                for rows in tqdm(results, total=len(jobs)):
                    writer.writerows(rows)
                    handle.flush()
        else:
            for j in tqdm(jobs):
                writer.writerows(fn(j))
                handle.flush()
    print(f"wrote {path}")


def run(seeds, processes: int, methods, gp_seeds, tasks) -> None:
    path = OUT / "runs.csv"
    done = finished_jobs(path)
    jobs = [(t, p, m, s) for t, p in tasks for m in methods for s in seeds
            if (m != "optuna-gp" or s in gp_seeds) and (t, p, m, s) not in done]
    append_jobs(path, jobs, _job, processes)


def table() -> str:
    rows = list(csv.DictReader(open(OUT / "runs.csv")))
    methods = [FASTRANK] + [m for m in (PREVIOUS, *PEERS) if any(r["method"] == m for r in rows)]
    partial = [m for m in methods if m != FASTRANK and _seeds(rows, m) < _seeds(rows, FASTRANK)]
    names = {FASTRANK: "fastrank (predictor + pw)", PREVIOUS: "fastrank, the GCN alone (before)", "random": "random",
             "regularized-evolution": "reg. evolution",
             "optuna-tpe": "Optuna TPE", "optuna-gp": "Optuna GP", "smac": "SMAC3"}
    out = ["| task | protocol | budget | " + " | ".join(names[m] for m in methods) + " |",
           "|---|---|---|" + "---|" * len(methods)]
    reach = ["| task | protocol | " + " | ".join(names[m] for m in methods) + " |", "|---|---|" + "---|" * len(methods)]
    errors = cell_errors(rows)
    for task, protocol in TASKS:
        for budget in BUDGETS:
            cells, means = [], {}
            for m in methods:
                sub = errors.get((task, protocol, m, budget), [])
                if sub:
                    means[m] = (np.mean(sub), np.std(sub), len(sub))
            if not means:
                continue
            full = means[FASTRANK][2] if FASTRANK in means else max(v[2] for v in means.values())
            # bold compares means over the same seeds: a method run on fewer seeds is shown, never bold
            best = min(v[0] for m, v in means.items() if m != PREVIOUS and v[2] == full)
            for m in methods:
                if m not in means:
                    cells.append("–")
                    continue
                mean, std, n = means[m]
                text = f"{mean:.2f} ± {std:.2f}" + (f" ({n} seeds)" if n != full else "")
                cells.append(f"**{text}**" if mean == best and m != PREVIOUS and n == full else text)
            out.append(f"| {task} | {protocol} | {budget} | " + " | ".join(cells) + " |")
        cells = []
        for m in methods:
            sub = [r["reached_best"] for r in rows if (r["task"], r["protocol"], r["method"], r["budget"])
                   == (task, protocol, m, "100")]
            if not sub:
                cells.append("–")
                continue
            values = sorted(float(x) if x else np.inf for x in sub)
            median = values[len(values) // 2]
            cells.append(f"{median:.0f} ({sum(np.isfinite(values))}/{len(values)})" if np.isfinite(median)
                         else f"> 100 ({sum(np.isfinite(values))}/{len(values)})")
        reach.append(f"| {task} | {protocol} | " + " | ".join(cells) + " |")
    speed = ["| task | protocol | " + " | ".join(names[m] for m in methods) + " |", "|---|---|" + "---|" * len(methods)]
    for task, protocol in TASKS:
        cells = []
        for m in methods:
            sub = [float(r["seconds"]) for r in rows if (r["task"], r["protocol"], r["method"], r["budget"])
                   == (task, protocol, m, "100")]
            cells.append(f"{np.mean(sub):.2f}" if sub else "–")
        if any(c != "–" for c in cells):
            speed.append(f"| {task} | {protocol} | " + " | ".join(cells) + " |")
    same = [same_seed_comparison(rows, m, names[m]) for m in partial]
    by_seed = runs_by_seed(rows)
    return "\n".join(out) + "".join(same) + lead_intervals(errors, methods, names) \
        + average_leads(by_seed, methods, names) + replication_odds(by_seed, methods) + budget50_gap(by_seed) \
        + "\n\nMedian queries to reach the table's best (by the query metric; runs that reached it):\n\n" \
        + "\n".join(reach) + "\n\nSeconds per run at budget 100 (mean over seeds):\n\n" + "\n".join(speed) + "\n"


BOOTSTRAP = 10000  # resamples of the seeds per cell


def cell_errors(rows) -> dict:
    """(task, protocol, method, budget) -> the test errors of its runs, in the file's order."""
    out = {}
    for r in rows:
        out.setdefault((r["task"], r["protocol"], r["method"], int(r["budget"])), []).append(float(r["test_error"]))
    return out


def lead_intervals(errors: dict, methods, names) -> str:
    """Per cell, fastrank's mean minus the best peer's, with a 95% bootstrap interval: each
    method's seeds resampled on their own (the methods draw their random starts differently, so
    the seeds do not pair). The best of several peers is picked after the fact, so its mean is
    biased low and a peer's lead looks bigger than it is; an interval that holds 0 says the cell
    is within the seed noise."""
    rng = np.random.default_rng(0)
    peers = [m for m in methods if m not in (FASTRANK, PREVIOUS)]
    lines, counts = [], {"peer": 0, "fastrank": 0, "noise": 0}
    for task, protocol in TASKS:
        for budget in BUDGETS:
            cell = {m: np.array(errors.get((task, protocol, m, budget), [])) for m in [FASTRANK, *peers]}
            if cell[FASTRANK].size == 0:
                continue
            full = cell[FASTRANK].size
            rivals = {m: e for m, e in cell.items() if m != FASTRANK and e.size == full}
            if not rivals:
                continue
            best = min(rivals, key=lambda m: rivals[m].mean())
            ours, theirs = cell[FASTRANK], rivals[best]
            diff = ours.mean() - theirs.mean()
            boot = (ours[rng.integers(0, ours.size, (BOOTSTRAP, ours.size))].mean(axis=1)
                    - theirs[rng.integers(0, theirs.size, (BOOTSTRAP, theirs.size))].mean(axis=1))
            low, high = np.percentile(boot, [2.5, 97.5])
            side = "peer" if low > 0 else "fastrank" if high < 0 else "noise"
            counts[side] += 1
            verdict = {"peer": f"**{names[best]} ahead**", "fastrank": "fastrank ahead", "noise": "within the noise"}
            lines.append(f"| {task} | {protocol} | {budget} | {names[best]} | {diff:+.2f} | "
                         f"[{low:+.2f}, {high:+.2f}] | {verdict[side]} |")
    return ("\n\nfastrank's mean minus the best peer's per cell (negative: fastrank ahead), with a 95% bootstrap "
            f"interval over the seeds: fastrank ahead beyond the seed noise in {counts['fastrank']} cells, the best "
            f"peer in {counts['peer']}, within the noise in {counts['noise']}. The best of several peers is chosen "
            "after the fact, so its lead is overstated:\n\n| task | protocol | budget | best peer | difference | "
            "95% interval | verdict |\n|---|---|---|---|---|---|---|\n" + "\n".join(lines))


def runs_by_seed(rows) -> dict:
    """(task, protocol, method, budget) -> {seed: test error}."""
    out = {}
    for r in rows:
        out.setdefault((r["task"], r["protocol"], r["method"], int(r["budget"])), {})[int(r["seed"])] = \
            float(r["test_error"])
    return out


def average_leads(by_seed: dict, methods, names) -> str:
    """fastrank's mean minus each peer's over all the cells: one number per seed (the mean of its
    cells' differences), and the standard error of their mean over the seeds. Who is ahead on
    average, and by how many times the seed noise (``by_seed``: :func:`runs_by_seed`)."""
    cells = [(t, p, b) for t, p in TASKS for b in BUDGETS if (t, p, FASTRANK, b) in by_seed]
    lines = []
    for m in methods:
        if m in (FASTRANK, PREVIOUS) or not cells:
            continue
        ours = [by_seed[(t, p, FASTRANK, b)] for t, p, b in cells]
        theirs = [by_seed.get((t, p, m, b), {}) for t, p, b in cells]
        seeds = sorted(set.intersection(*(set(a) & set(b) for a, b in zip(ours, theirs))))
        if len(seeds) < 2:
            continue
        per_seed = np.array([np.mean([a[s] - b[s] for a, b in zip(ours, theirs)]) for s in seeds])
        error = per_seed.std(ddof=1) / np.sqrt(len(seeds))
        lines.append(f"| {names[m]} | {len(seeds)} | {per_seed.mean():+.3f} | {error:.3f} | "
                     f"{abs(per_seed.mean()) / error:.1f} |")
    if not lines:
        return ""
    return (f"\n\nfastrank's mean minus each peer's over all {len(cells)} cells, seed by seed (negative: fastrank "
            "ahead), with its standard error over the seeds:\n\n| peer | seeds | mean difference | s.e. | "
            "standard errors |\n|---|---|---|---|---|\n" + "\n".join(lines))


SHIFTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # fastrank's errors lowered by this many of its cell's standard deviations


def replication_odds(by_seed: dict, methods) -> str:
    """How often a fresh set of seeds would put fastrank at or ahead of every peer's mean in every
    cell, were each method's runs drawn from the ones it has: each method's seeds resampled on
    their own (as in the interval table), one draw of a method's seeds for all of its cells (a
    seed's run is one run per task, read at every budget). Every peer is compared, not only the
    best one after the fact, so a resample shows the luck of the best of several peers as a new
    run of the table would. The rows with fastrank's errors lowered by a share of each cell's
    spread say how much better fastrank would have to be for the goal to hold on new seeds."""
    peers = [m for m in methods if m not in (FASTRANK, PREVIOUS)]
    seeds = sorted(by_seed.get((*TASKS[0], FASTRANK, BUDGETS[0]), {}))
    cells = []
    for task, protocol in TASKS:
        for budget in BUDGETS:
            runs = {m: by_seed.get((task, protocol, m, budget), {}) for m in [FASTRANK, *peers]}
            if sorted(runs[FASTRANK]) != seeds:
                continue
            rivals = [m for m in peers if sorted(runs[m]) == seeds]
            if rivals:
                cells.append({m: np.array([runs[m][s] for s in seeds]) for m in [FASTRANK, *rivals]})
    if not cells or not seeds:
        return ""
    rng = np.random.default_rng(1)
    draw = {m: rng.integers(0, len(seeds), (BOOTSTRAP, len(seeds))) for m in [FASTRANK, *peers]}
    means = [{m: e[draw[m]].mean(axis=1) for m, e in cell.items()} for cell in cells]
    lines = []
    for shift in SHIFTS:
        ahead = np.stack([cell[FASTRANK] - shift * np.std(raw[FASTRANK])
                          <= np.min([v for m, v in cell.items() if m != FASTRANK], axis=0)
                          for cell, raw in zip(means, cells)], axis=1)
        count = ahead.sum(axis=1)
        low, median, high = np.percentile(count, [5, 50, 95])
        lines.append(f"| {shift:g} | {median:.0f} [{low:.0f}, {high:.0f}] | {100 * np.mean(count == len(cells)):.2f}% |")
    moved = []  # fastrank's change since its first publication, in the same units
    for task, protocol in TASKS:
        for budget in BUDGETS:
            now, first = (by_seed.get((task, protocol, m, budget), {}) for m in (FASTRANK, FIRST))
            both = sorted(set(now) & set(first))
            spread = np.std([now[s] for s in both]) if both else 0.0
            if spread > 1e-6:  # a cell where every run ends on the table's best has no spread
                moved.append((np.mean([now[s] for s in both]) - np.mean([first[s] for s in both])) / spread)
    history = (f"\n\nFor scale: every change made to fastrank's default since this table's first publication "
               f"(pretraining, the Gaussian process beside the GCN) moved its mean by {np.mean(moved):+.2f} "
               f"standard deviations on average over {len(moved)} cells (better in "
               f"{sum(m < 0 for m in moved)})." if moved else "")
    return (f"\n\nThe goal on new seeds: {BOOTSTRAP} resamples of each method's {len(seeds)} seeds (as if its "
            "runs were drawn from the ones above), counting the cells where fastrank's mean is at or below every "
            f"peer's, over the {len(cells)} cells where every method ran on the same seeds; then the same with "
            "fastrank's errors lowered in each cell by a share of that cell's standard deviation (its spread over "
            "seeds):\n\n| fastrank better by (standard deviations) | cells at or ahead of every peer: median "
            "[5%, 95%] | resamples with every cell |\n|---|---|---|\n" + "\n".join(lines) + history)


def budget50_gap(by_seed: dict) -> str:
    """NB201 under the test protocol at budget 50 against the seed study's budget-100 numbers: how
    many of fastrank's runs end on the table's best cell, and how many would have to for its mean to
    reach the target, were the runs that miss it by most the ones to find it (the fewest that do)."""
    from search_table import GLOBAL_BEST, PWLNAS, TITLES

    lines = []
    for dataset, target in PWLNAS.items():
        errors = list(by_seed.get((f"nb201/{dataset}", "test", FASTRANK, 50), {}).values())
        if not errors:
            continue
        best, runs = GLOBAL_BEST[dataset], len(errors)
        misses = sorted((e for e in errors if e > best + 0.005), reverse=True)
        total, needed = sum(errors), runs - len(misses)
        for miss in misses:  # the worst miss left finds the best, until the mean is the target (to two decimals)
            if total / runs <= target + 0.005:
                break
            total, needed = total - miss + best, needed + 1
        lines.append(f"| {TITLES[dataset]} | {np.mean(errors):.2f} | {target:.2f} | {best:.2f} | "
                     f"{runs - len(misses)} of {runs} | {needed} of {runs} |")
    if not lines:
        return ""
    return ("\n\nNB201 (test protocol) at budget 50 against the seed study's PWLNAS at budget 100: fastrank's runs "
            "that end on the table's best cell, and the fewest that would have to for its mean to reach PWLNAS's "
            "(the runs that miss by most finding it first):\n\n| dataset | fastrank at 50 | PWLNAS at 100 | "
            "table's best | runs on the best | runs on the best the target needs |\n|---|---|---|---|---|---|\n"
            + "\n".join(lines))


def _seeds(rows, method) -> int:
    return len({r["seed"] for r in rows if r["method"] == method})


def same_seed_comparison(rows, method, name) -> str:
    """fastrank against a method run on fewer seeds, on the seeds of each cell that both ran."""
    lines, ahead = [], 0
    for task, protocol in TASKS:
        for budget in BUDGETS:
            key = (task, protocol, str(budget))
            theirs = {r["seed"]: float(r["test_error"]) for r in rows if (r["task"], r["protocol"], r["budget"]) == key
                      and r["method"] == method}
            ours = {r["seed"]: float(r["test_error"]) for r in rows if (r["task"], r["protocol"], r["budget"]) == key
                    and r["method"] == FASTRANK}
            seeds = sorted(set(theirs) & set(ours))
            if not seeds:
                continue
            a, b = np.mean([ours[s] for s in seeds]), np.mean([theirs[s] for s in seeds])
            ahead += b < a
            lines.append(f"| {task} | {protocol} | {budget} | {len(seeds)} | {a:.2f} | {b:.2f} |")
    return (f"\n\n{name} ran on fewer seeds; on the seeds both ran, it is ahead of fastrank in {ahead} of "
            f"{len(lines)} cells:\n\n| task | protocol | budget | seeds | fastrank | {name} |\n|---|---|---|---|---|---|\n"
            + "\n".join(lines))


def main(argv=None) -> None:
    sys.path.insert(0, str(HERE.parent / "python"))
    from fastrank.seeds import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-29"))
    parser.add_argument("--gp-seeds", type=parse_seeds, default=parse_seeds("0-29"),
                        help="Optuna GP is slow (5-35 s per run): only these seeds")
    parser.add_argument("--methods", nargs="+", default=[FASTRANK, *PEERS])
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--tasks", nargs="+", default=None, help="task:protocol pairs (default: all)")
    parser.add_argument("--table", action="store_true", help="only print the table of peers/runs.csv")
    args = parser.parse_args(argv)
    if not args.table and argv is None and os.environ.get("PYTHONHASHSEED") != "0":
        # SMAC's choices depend on the order of hashed sets of configurations: a run is
        # reproducible from its seed only under one hash seed, which the spawned workers inherit
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    if not args.table:
        tasks = TASKS if args.tasks is None else [tuple(t.rsplit(":", 1)) for t in args.tasks]
        run(args.seeds, args.processes, args.methods, set(args.gp_seeds), tasks)
    print(table())


if __name__ == "__main__":
    main()
