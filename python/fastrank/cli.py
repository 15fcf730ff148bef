"""The ``fastrank`` command: ``fastrank search`` (predictor-guided NAS on packaged benchmarks),
``fastrank study`` (the loss study, :mod:`fastrank.study`) and ``fastrank benchmarks`` (what can
be searched)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

__all__ = ["main", "parse_seeds"]

DEFAULT_BENCHMARK = "nb201/cifar10"


def parse_seeds(text: str) -> List[int]:
    """"N" → 0..N-1; "a-b" → a..b; "a,b,c" → those seeds."""
    text = text.strip()
    try:
        if "," in text:
            seeds = [int(part) for part in text.split(",") if part.strip()]
        elif "-" in text[1:]:
            a, b = text.split("-", 1)
            seeds = list(range(int(a), int(b) + 1))
            if not seeds:
                raise argparse.ArgumentTypeError(f"empty seed range {text!r} (write a-b with a <= b)")
        else:
            count = int(text)
            if count < 1:
                raise argparse.ArgumentTypeError(f"a seed count must be positive, got {count}")
            seeds = list(range(count))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad --seeds {text!r}: a count N (seeds 0..N-1), a range a-b, or a list a,b,c") from None
    if any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"seeds must be non-negative, got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"seeds repeat in {text!r}")
    return seeds


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def _positive(text: str) -> int:
    return _int_at_least(text, 1, "a positive int")


def _non_negative(text: str) -> int:
    return _int_at_least(text, 0, "a non-negative int")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1], got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (value > 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    from .benchmarks import catalog
    from .nn import LOSSES
    from .predictor import ENCODERS
    from .search import PROTOCOLS, STRATEGIES

    try:
        names = [entry.name for entry in catalog()]
    except (FileNotFoundError, ValueError) as err:  # a data folder the user named is missing or bad
        raise SystemExit(f"fastrank: {err}") from None
    parser = argparse.ArgumentParser(prog="fastrank", description="Predictor-based neural architecture search.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    s = sub.add_parser("search", help="search a benchmark (defaults: predictor + pw on nb201/cifar10, 100 queries)",
                       description="Search real NAS benchmarks. Several --strategy / --loss / --benchmark values "
                                   "run side by side; every run of the grid uses each seed.")
    s.add_argument("--benchmark", nargs="+", default=[DEFAULT_BENCHMARK], metavar="NAME",
                   help=f"benchmark name(s) (default {DEFAULT_BENCHMARK}); `fastrank benchmarks` lists them")
    s.add_argument("--strategy", nargs="+", default=["predictor"], choices=STRATEGIES, metavar="STRATEGY",
                   help=f"one or more of {', '.join(STRATEGIES)} (default predictor)")
    s.add_argument("--loss", nargs="+", default=None, metavar="LOSS",
                   help=f"predictor loss(es): {', '.join(LOSSES)}; LambdaRank:k=10 (with hyperparameters); "
                        "sum:MSE=1,HR=0.5; pw (the seed study's pair, switching at half the budget); pw:HR,MAPE@50 "
                        "(default pw; acenas: LambdaRank with AceNAS' relevance grades)")
    s.add_argument("--budget", type=_positive, default=100, help="queries per run (default 100)")
    s.add_argument("--seeds", type=parse_seeds, default=[0], metavar="SEEDS",
                   help="N (seeds 0..N-1), a range a-b or a list a,b,c (default: seed 0)")
    s.add_argument("--protocol", choices=PROTOCOLS, default="valid",
                   help="valid: queries see validation accuracy, the choice is reported by its test accuracy "
                        "(default); test: queries see test accuracy")
    s.add_argument("--workers", type=_positive, default=os.cpu_count() or 1,
                   help="runs in parallel processes (default: all cores)")
    s.add_argument("--out", type=Path, default=None, metavar="DIR", help="write runs.csv, trace.csv, best_so_far.png")
    s.add_argument("--encoder", choices=ENCODERS, default="gcn", help="predictor encoder (default gcn)")
    s.add_argument("--ensemble", type=_positive, default=1, help="predictors averaged per fit (default 1)")
    s.add_argument("--epochs", type=_positive, default=None, help="training epochs per fit (default 100)")
    s.add_argument("--n-init", type=_positive, default=10, help="random queries before the first fit (default 10)")
    s.add_argument("--per-round", type=_positive, default=5, help="queries per fit (default 5)")
    s.add_argument("--exploration", type=_fraction, default=0.0,
                   help="share of each round's queries drawn at random (default 0)")
    s.add_argument("--pretrain", default=None, metavar="LABELS",
                   help="pretrain the encoder on these weak labels of the benchmark (comma list or 'all'; "
                        "`fastrank benchmarks` lists them) before the first fit: predictor and evolution "
                        "(default: none), acenas (default: all)")
    s.add_argument("--pretrain-epochs", type=_positive, default=20, help="pretraining epochs (default 20)")
    s.add_argument("--rounds", type=_positive, default=10,
                   help="acenas: rounds the budget is split over (default 10)")
    s.add_argument("--top-share", type=_fraction, default=1.0,
                   help="acenas: share of a round taken from the predicted top, the rest random (default 1)")
    s.add_argument("--ndcg-k", type=_positive, default=None,
                   help="acenas: LambdaRank's NDCG@k while fine-tuning (default: the whole labelled list)")
    s.add_argument("--memory", type=_positive, default=50,
                   help="proxy-validation: the FIFO memory the loss landscape is fitted on (default 50)")
    s.add_argument("--alpha-lr", type=_positive_float, default=0.1, help="proxy-validation: Adam's rate on α (default 0.1)")
    s.add_argument("--temperature", type=_positive_float, default=1.0,
                   help="proxy-validation: τ of softmax(α/τ) and the Gumbel sampling (default 1)")
    s.add_argument("--no-oiw", action="store_true", help="proxy-validation: unscaled sampling noise (ablation)")
    s.add_argument("--no-gae", action="store_true",
                   help="proxy-validation: one-hot representation instead of the GAE's (ablation)")
    s.add_argument("--gae-refit", type=_non_negative, default=5,
                   help="proxy-validation: the GAE's reconstruction epochs on the memory at each refit (default 5; "
                        "0 keeps the pretrained GAE fixed)")
    s.add_argument("--population", type=_positive, default=10, help="proxy-validation-ea: individuals (default 10)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(benchmark_names=names)
    from .study.command import add_parser as add_study_parser

    add_study_parser(sub, names)
    sub.add_parser("benchmarks", help="list the benchmarks: name, space, size, metrics, weak labels, source")
    return parser


def _check(parser: argparse.ArgumentParser, args) -> None:
    """Usage errors (exit status 2) for what argparse's types cannot see."""
    from .loss_spec import parse_loss

    for name in args.benchmark:
        if name not in args.benchmark_names:
            parser.error(f"argument --benchmark: unknown benchmark {name!r} (choose from "
                         f"{', '.join(args.benchmark_names)})")
    from .search import BenchmarkTask

    for name in args.benchmark:
        try:  # before any run starts (in-process runs then find the table cached)
            BenchmarkTask.load(name, args.protocol)
        except FileNotFoundError as err:  # an optional package (pip install '.[nas]') or a data file is missing
            raise SystemExit(f"fastrank: {name}: {err}") from None
    for loss in args.loss or []:
        try:
            parse_loss(loss)
        except (ValueError, TypeError) as err:
            parser.error(f"argument --loss: {err}")
    if any(s.startswith("proxy-validation") for s in args.strategy):
        from .search.relaxation import supports

        for name in args.benchmark:
            if not supports(BenchmarkTask.load(name, args.protocol).space):
                parser.error(f"argument --strategy: proxy-validation relaxes nb201, tnb101_micro and nasbench-graph "
                             f"cells, not {name}")
    if args.pretrain is not None:
        from .weak_labels import select_weak_labels

        for name in args.benchmark:
            try:
                select_weak_labels(BenchmarkTask.load(name, args.protocol).query, args.pretrain)
            except ValueError as err:
                parser.error(f"argument --pretrain: {err}")
    if args.budget < args.n_init and any(s != "random" for s in args.strategy):
        args.n_init = args.budget


def _options(args, strategy: str) -> dict:
    """The strategy's keyword arguments of ``search.run`` from the command line."""
    predictor = {"encoder": args.encoder, "ensemble": args.ensemble, **({"epochs": args.epochs} if args.epochs else {})}
    pretraining = {"pretrain_epochs": args.pretrain_epochs}
    if strategy.startswith("proxy-validation"):
        return {"n_init": args.n_init, "memory": args.memory, "alpha_lr": args.alpha_lr,
                "temperature": args.temperature, "oiw": not args.no_oiw, "gae": not args.no_gae,
                "gae_refit": args.gae_refit,
                "population": args.population}
    if strategy == "acenas":
        return {"rounds": args.rounds, "top_share": args.top_share, "ndcg_k": args.ndcg_k, "predictor": predictor,
                "pretrain": args.pretrain or "all", **pretraining}
    if args.pretrain is not None:
        pretraining["pretrain"] = args.pretrain
    return {"n_init": args.n_init, "per_round": args.per_round, "exploration": args.exploration,
            "predictor": predictor, **pretraining}


def _jobs(args) -> List[dict]:
    jobs = []
    for bench in args.benchmark:
        for strategy in args.strategy:
            losses = ["-"] if strategy == "random" or strategy.startswith("proxy-validation") else args.loss or [None]
            for loss in losses:
                for seed in args.seeds:
                    job = {"objective": bench, "strategy": strategy, "budget": args.budget, "seed": seed,
                           "protocol": args.protocol}
                    if strategy.startswith("proxy-validation"):
                        job.update(_options(args, strategy))
                    elif strategy != "random":
                        job.update(loss=loss, **_options(args, strategy))
                    jobs.append(job)
    return jobs


def _print_one(result) -> None:
    print(f"benchmark     {result.benchmark} (protocol {result.protocol}: queries see "
          f"{'test' if result.protocol == 'test' else 'validation'} values)")
    print(f"strategy      {result.strategy}" + ("" if result.strategy == "random" else f" + {result.loss}")
          + f", seed {result.seed}, {len(result.queries)} of {result.budget} queries, {result.seconds:.1f} s")
    print(f"architecture  {result.arch_string}")
    print(f"query value   {result.query_value:.4f}")
    if result.test_value is not None:
        print(f"test value    {result.test_value:.4f}")
        print(f"rank          {result.rank} of {len(_report_table(result))} in the space")
        print(f"regret        {result.regret:.4f}")


def _report_table(result):
    from .search import BenchmarkTask

    return BenchmarkTask.load(result.benchmark, result.protocol).report.values


def _write(results, out: Path) -> None:
    from .search import report

    out.mkdir(parents=True, exist_ok=True)
    report.write_runs(results, out / "runs.csv")
    report.write_trace(results, out / "trace.csv")
    report.plot_best_so_far(results, out / "best_so_far.png")


def _search(parser, args) -> int:
    from .search import report
    from .search.parallel import run_many

    _check(parser, args)
    jobs = _jobs(args)
    results, interrupted = run_many(jobs, args.workers, progress=not args.quiet)
    interrupted = interrupted or any(r.interrupted for r in results)
    if results:
        if len(results) == 1:
            _print_one(results[0])
        else:
            print(report.summary(results))
        if args.out is not None:
            _write(results, args.out)
            print(f"wrote {args.out / 'runs.csv'}, {args.out / 'trace.csv'}, {args.out / 'best_so_far.png'}")
    if interrupted:
        print(f"interrupted: {len(results)} of {len(jobs)} runs kept", file=sys.stderr)
        return 130
    return 0


def _benchmarks() -> int:
    from .benchmarks import catalog

    rows = [("name", "space", "size", "metrics", "weak labels", "source")]
    for e in catalog():
        source = e.source if e.available else f"{e.source} (not installed: {e.needs})"
        weak = list(e.weak_labels)
        weak = ", ".join(weak) if len(weak) <= 4 else ", ".join(weak[:3]) + f", ... ({len(weak)} in all)"
        rows.append((e.name, e.space, f"{e.architectures:,}", ", ".join(e.metrics), weak or "-", source))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "benchmarks":
            code = _benchmarks()
        elif args.command == "study":
            from .study.command import run as run_study_command

            code = run_study_command(parser, args)
        else:
            code = _search(parser, args)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe lands in the except below
        return code
    except BrokenPipeError:  # `fastrank benchmarks | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
