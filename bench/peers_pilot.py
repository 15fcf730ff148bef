"""Variants of fastrank's default strategy on tuning seeds (1000 and up, never the seeds of
PEERS.md), on the tasks where a peer leads: which change, if any, becomes the default.

    PYTHONPATH=python python bench/peers_pilot.py --seeds 1000-1019 --processes 2 \\
        --variant 'default={}' --variant 'per_round=3={"per_round": 3}'
    PYTHONPATH=python python bench/peers_pilot.py --seeds 1000-1015 --peers optuna-gp,optuna-tpe
    PYTHONPATH=python python bench/peers_pilot.py --compare gpm_bandit --baseline pretrain5
    PYTHONPATH=python python bench/peers_pilot.py --summary --baseline default_1207 --seeds 1032-1063
    PYTHONPATH=python python bench/peers_pilot.py --table

Appends to bench/peers_pilot/runs.csv (peers_search's columns; method is the variant's name, or
the peer's) and prints mean test error per task, protocol and budget, one column per variant.
``--peers`` runs PEERS.md's peers on the tuning seeds too, so that a variant is judged against the
best peer on the same seeds; ``--compare`` prints a variant's paired differences from the
baseline per cell and where it stands against that best peer. With ``--seeds``, ``--compare`` and
``--summary`` read only those seeds: a variant chosen on some seeds is confirmed on others.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import peers_search  # noqa: E402
from published import parse_variant  # noqa: E402

OUT = HERE / "peers_pilot"
# where a peer leads in PEERS.md (CIFAR-100 at 20/50, jigsaw, class_object at 20, NAS-Bench-Graph),
# and one where fastrank leads
TASKS = [("nb201/cifar100", "test"), ("nb201/imagenet16", "test"), ("tnb101_micro/jigsaw", "valid"),
         ("nasbench-graph/cora", "test"), ("nasbench-graph/citeseer", "test"),
         ("tnb101_macro/class_object", "valid"), ("nasbench-graph/cora", "valid")]


def _job(args):
    task, protocol, seed, label, options = args
    if options is None:  # a peer, under its own name
        return peers_search.job(task, protocol, label, seed)
    return peers_search.job(task, protocol, peers_search.FASTRANK, seed, options, label)


def run(seeds, variants, processes: int, tasks, peers=()) -> None:
    path = OUT / "runs.csv"
    done = peers_search.finished_jobs(path)
    runs = list(variants) + [(peer, None) for peer in peers]
    jobs = [(t, p, s, label, options) for t, p in tasks for s in seeds for label, options in runs
            if (t, p, label, s) not in done]
    peers_search.append_jobs(path, jobs, _job, processes)


def read_errors(seeds=None) -> dict:
    """(task, protocol, budget, method) -> {seed: test error} of every run in runs.csv (of
    ``seeds`` only, when given)."""
    errors, keep = {}, None if seeds is None else {str(s) for s in seeds}
    for r in csv.DictReader(open(OUT / "runs.csv")):
        if keep is not None and r["seed"] not in keep:
            continue
        errors.setdefault((r["task"], r["protocol"], r["budget"], r["method"]), {})[r["seed"]] = float(r["test_error"])
    return errors


def summary(baseline: str, seeds=None) -> str:
    """Every variant and peer against ``baseline``, best first: the paired difference averaged
    over the baseline's cells seed by seed, with its standard error over the seeds where both
    ran every one of those cells. ``seeds``: only those (all that ran, when None)."""
    errors = read_errors(seeds)
    cells = sorted({key[:3] for key in errors if key[3] == baseline})
    out = [f"| against {baseline} | seeds | mean difference over {len(cells)} cells | s.e. |", "|---|---|---|---|"]
    found = []
    for name in sorted({key[3] for key in errors} - {baseline}):
        per_seed = {}
        for cell in cells:
            base, new = errors[cell + (baseline,)], errors.get(cell + (name,), {})
            for seed in set(base) & set(new):
                per_seed.setdefault(seed, []).append(new[seed] - base[seed])
        whole = np.array([np.mean(d) for d in per_seed.values() if len(d) == len(cells)])
        if whole.size > 1:
            found.append((whole.mean(), whole.std(ddof=1) / np.sqrt(whole.size), whole.size, name))
    out += [f"| {name} | {n} | {mean:+.3f} | {se:.3f} |" for mean, se, n, name in sorted(found)]
    return "\n".join(out) + "\n"


def compare(name: str, baseline: str, seeds=None) -> str:
    """Per cell: the baseline's and the variant's means over the seeds both ran, the variant's
    mean paired difference with its standard error, and the best peer on the seeds the peers ran
    too (when ``--peers`` ran there). Below, the difference averaged over the cells seed by seed,
    with its standard error over the seeds that ran every cell: how far the whole change is from
    the seed noise. ``seeds``: only those (all that ran, when None)."""
    errors = read_errors(seeds)
    out = [f"| task | protocol | budget | seeds | {baseline} | {name} | difference ± s.e. | best peer | "
           f"{name} vs best peer |", "|---|---|---|---|---|---|---|---|---|"]
    diffs, better, worse, ahead, judged, per_seed = [], 0, 0, 0, 0, {}
    for task, protocol in TASKS:
        for budget in map(str, peers_search.BUDGETS):
            base, new = errors.get((task, protocol, budget, baseline), {}), errors.get((task, protocol, budget, name), {})
            seeds = sorted(set(base) & set(new))
            if not seeds:
                continue
            paired = np.array([new[s] - base[s] for s in seeds])
            b, v = np.mean([base[s] for s in seeds]), np.mean([new[s] for s in seeds])
            se = paired.std(ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else float("nan")
            diffs.append(v - b)
            better, worse = better + (v < b), worse + (v > b)
            for s, d in zip(seeds, paired):
                per_seed.setdefault(s, []).append(d)
            ran = {p: set(errors.get((task, protocol, budget, p), {})) & set(seeds) for p in peers_search.PEERS}
            common = sorted(set.intersection(*ran.values())) if ran else []
            standing = "– | –"
            if common:
                peers = {p: np.mean([errors[(task, protocol, budget, p)][s] for s in common]) for p in ran}
                peer, mine = min(peers, key=peers.get), np.mean([new[s] for s in common])
                ahead, judged = ahead + (mine <= peers[peer]), judged + 1
                where = "" if len(common) == len(seeds) else f" ({len(common)} seeds: {name} {mine:.2f})"
                standing = f"{peer} {peers[peer]:.2f}{where} | {'at or ahead' if mine <= peers[peer] else 'behind'}"
            out.append(f"| {task} | {protocol} | {budget} | {len(seeds)} | {b:.2f} | {v:.2f} | {v - b:+.2f} ± {se:.2f} "
                       f"| {standing} |")
    if diffs:
        out.append(f"\n{len(diffs)} cells: {better} better, {worse} worse, mean difference {np.mean(diffs):+.3f}, "
                   f"worst {max(diffs):+.2f}; " + (f"at or ahead of the best peer in {ahead} of {judged}" if judged
                                                      else "no peer ran on these seeds"))
        whole = np.array([np.mean(d) for d in per_seed.values() if len(d) == len(diffs)])
        if whole.size > 1:
            out.append(f"over the {whole.size} seeds that ran every cell: mean difference {whole.mean():+.3f} "
                       f"± {whole.std(ddof=1) / np.sqrt(whole.size):.3f} (s.e.)")
    return "\n".join(out) + "\n"


def table() -> str:
    rows = list(csv.DictReader(open(OUT / "runs.csv")))
    labels = list(dict.fromkeys(r["method"] for r in rows))
    out = ["| task | protocol | budget | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    for task, protocol in TASKS:
        for budget in peers_search.BUDGETS:
            cells = []
            for label in labels:
                sub = [float(r["test_error"]) for r in rows if (r["task"], r["protocol"], r["method"], r["budget"])
                       == (task, protocol, label, str(budget))]
                cells.append(f"{np.mean(sub):.2f} ({len(sub)})" if sub else "–")
            out.append(f"| {task} | {protocol} | {budget} | " + " | ".join(cells) + " |")
    seconds = [f"{label}: {np.mean([float(r['seconds']) for r in rows if r['method'] == label and r['budget'] == '100']):.2f} s"
               for label in labels]
    return "\n".join(out) + "\n\nseconds per budget-100 run: " + ", ".join(seconds) + "\n"


def main(argv=None) -> None:
    sys.path.insert(0, str(HERE.parent / "python"))
    from fastrank.seeds import parse_seeds

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=parse_seeds, default=None,
                        help="seeds to run (default 1000-1019); with --compare or --summary, the seeds to read "
                             "(default: all that ran)")
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME={JSON options of the predictor strategy} (repeatable)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tasks", default=None,
                        help="a comma list of TASK:PROTOCOL among the pilot's (default: all of them), to screen a "
                             "variant on the cells that tell variants apart before running it on every one")
    parser.add_argument("--peers", default="",
                        help=f"a comma list of peers to run on the same seeds, among {', '.join(peers_search.PEERS)}")
    parser.add_argument("--compare", default=None, metavar="VARIANT",
                        help="print VARIANT's paired differences from --baseline per cell, and the best peer")
    parser.add_argument("--baseline", default="pretrain5", help="the variant --compare measures against")
    parser.add_argument("--summary", action="store_true",
                        help="print every variant and peer against --baseline, averaged over its cells, best first")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args(argv)
    if args.summary:
        print(summary(args.baseline, args.seeds))
        return
    if args.compare:
        ran = {r["method"] for r in csv.DictReader(open(OUT / "runs.csv"))}
        missing = [m for m in (args.compare, args.baseline) if m not in ran]
        if missing:
            parser.error(f"--compare/--baseline: {missing} never ran here (bench/peers_pilot/runs.csv)")
        print(compare(args.compare, args.baseline, args.seeds))
        return
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in peers_search.PEERS]
    if unknown:
        parser.error(f"--peers: {unknown} not among {', '.join(peers_search.PEERS)}")
    if not args.table:
        args.seeds = args.seeds or parse_seeds("1000-1019")
        if min(args.seeds) < 1000:
            parser.error("the pilot tunes on seeds 1000 and up only (PEERS.md reports seeds 0-29)")
        variants = []
        for v in args.variant:
            try:
                variants.append(parse_variant(v))
            except ValueError as err:
                parser.error(f"argument --variant: {v!r}: {err}")
        tasks = TASKS
        if args.tasks:
            tasks = [tuple(t.strip().rsplit(":", 1)) for t in args.tasks.split(",")]
            unknown = [t for t in tasks if t not in TASKS]
            if unknown:
                parser.error(f"--tasks: {unknown} not among the pilot's tasks {TASKS}")
        run(args.seeds, variants, args.processes, tasks, peers)
    print(table())


if __name__ == "__main__":
    main()
