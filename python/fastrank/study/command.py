"""``fastrank study``: the command line of the loss study."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

from .executors import EXECUTORS
from .grid import EXTRA_TASKS, PRESETS, STUDY_TASKS, make_cells


def _comma(kind):
    def parse(text: str) -> List:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise argparse.ArgumentTypeError(f"expected a comma list, got {text!r}")
        if kind is int:
            try:
                values = [int(p) for p in parts]
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected a comma list of ints, got {text!r}") from None
            if any(v < 1 for v in values):
                raise argparse.ArgumentTypeError(f"expected positive ints, got {text!r}")
            return values
        return parts
    return parse


def _seed_list(text: str) -> List[int]:
    from ..seeds import parse_seeds

    return parse_seeds(text)


def add_parser(sub, benchmark_names: List[str]) -> argparse.ArgumentParser:
    from ..nn import LOSSES

    s = sub.add_parser("study", help="the loss study: tasks x losses x training sizes x seeds, plus a search per loss",
                       description="Train a predictor per cell on a random sample of a benchmark table and score "
                                   "the whole table (Kendall tau, Spearman, Precision@T, N@10, NDCG@10, top-K "
                                   "regret, times), then search with each loss. Resumable: rerun the same command "
                                   "and finished cells are kept.")
    s.add_argument("--preset", choices=sorted(PRESETS), default="quick",
                   help="quick: every task and loss, sizes 50,200, one seed, a 30-query search (minutes); paper: "
                        "sizes 25..400, 5 seeds, 100-query searches (default quick)")
    s.add_argument("--tasks", type=_comma(str), default=None, metavar="T,T",
                   help=f"tasks (default: the study's 13: {', '.join(STUDY_TASKS)}; also {', '.join(EXTRA_TASKS)} "
                        "or any name `fastrank benchmarks` lists)")
    s.add_argument("--losses", type=_comma(str), default=None, metavar="L,L",
                   help=f"losses: {', '.join(LOSSES)}, pw, pw:A,B@N, sum:A=w;B=w (write sums with ';' here), "
                        "NAME:key=value (default: the preset's)")
    s.add_argument("--sizes", type=_comma(int), default=None, metavar="N,N", help="training-set sizes")
    s.add_argument("--seeds", type=_seed_list, default=None, metavar="SEEDS", help="N, a-b or a,b,c")
    s.add_argument("--budget", type=int, default=None,
                   help="queries of each search cell; 0: no search grid (default: the preset's)")
    s.add_argument("--executor", choices=EXECUTORS, default="local", help="local processes or Ray (default local)")
    s.add_argument("--address", default=None, help="Ray cluster address (ray executor; default: a local instance)")
    s.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    s.add_argument("--out", type=Path, default=Path("study"), metavar="DIR",
                   help="cells.csv, tables.md and the figures (default ./study)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(benchmark_names=benchmark_names)
    return s


def run(parser: argparse.ArgumentParser, args) -> int:
    from .._ray import RayUnavailable
    from ..loss_spec import parse_loss
    from .executors import make_executor
    from .runner import run_study

    preset = PRESETS[args.preset]
    tasks = args.tasks or list(preset.tasks)
    known = set(args.benchmark_names) | set(STUDY_TASKS) | set(EXTRA_TASKS)
    for task in tasks:
        if task not in known:
            parser.error(f"argument --tasks: unknown task {task!r} (choose from {', '.join(sorted(known))})")
    # sums are written with ';' inside a comma list: sum:MSE=1;HR=0.5
    losses = [loss.replace(";", ",") for loss in args.losses] if args.losses else list(preset.losses)
    for loss in losses:
        try:
            parse_loss(loss)
        except (ValueError, TypeError) as err:
            parser.error(f"argument --losses: {err}")
    if args.budget is not None and args.budget < 0:
        parser.error("argument --budget: must be 0 (no search grid) or a positive number of queries")
    if args.workers is not None and args.workers < 1:
        parser.error("argument --workers: must be positive")
    if args.address is not None and args.executor != "ray":
        parser.error("argument --address: only with --executor ray")
    sizes = args.sizes or list(preset.sizes)
    seeds = args.seeds or list(preset.seeds)
    budget = preset.budget if args.budget is None else args.budget
    search_losses = losses if args.losses else list(preset.search_losses)
    cells = make_cells(tasks, losses, sizes, seeds, budget, args.seeds or list(preset.search_seeds), search_losses)
    try:
        executor = make_executor(args.executor, args.workers, args.address)
        result = run_study(cells, args.out, executor, progress=not args.quiet)
    except ValueError as err:  # a task that does not load, a size too large for a table
        parser.error(str(err))
    except RayUnavailable as err:  # Ray missing, or the cluster named cannot be reached
        parser.exit(2, f"fastrank study: {err}\n")
    except RuntimeError as err:
        print(f"fastrank study: {err}", file=sys.stderr)
        return 1
    print(f"{result.computed} cells computed, {result.reused} already in {args.out / 'cells.csv'} "
          f"({result.seconds:.0f} s, {args.executor})")
    for path in result.files:
        print(f"wrote {path}")
    if result.interrupted:
        print(f"interrupted: {result.computed + result.reused} of {result.cells} cells are in "
              f"{args.out / 'cells.csv'}; run the same command again to finish", file=sys.stderr)
        return 130
    return 0
