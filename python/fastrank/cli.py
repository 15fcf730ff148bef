"""The ``fastrank`` command: ``fastrank search`` (predictor-guided NAS on packaged benchmarks, or
on real networks trained by an objective), ``fastrank model`` (an architecture as a network:
summary and exported program), ``fastrank study`` (the loss study, :mod:`fastrank.study`) and
``fastrank benchmarks`` (what can be searched)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, NoReturn, Optional

from .seeds import parse_seeds

__all__ = ["main", "parse_seeds"]

DEFAULT_BENCHMARK = "nb201/cifar10"


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def _usage_error(message: str) -> NoReturn:
    """A user's mistake found before the parser runs: one line, exit status 2 (as argparse's)."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def _positive(text: str) -> int:
    return _int_at_least(text, 1, "a positive int")


def build_parser() -> argparse.ArgumentParser:
    """The `fastrank` command line's parser (its reference page and tests read it too)."""
    from .benchmarks import catalog
    from .nn import LOSSES
    from .objectives import OBJECTIVES
    from .search import PROTOCOLS, STRATEGIES
    from .spaces import SPACES

    try:
        names = [entry.name for entry in catalog()]
    except (FileNotFoundError, ValueError) as err:  # a data folder the user named is missing or bad
        _usage_error(f"fastrank: {err}")
    parser = argparse.ArgumentParser(prog="fastrank", description="Predictor-based neural architecture search.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    s = sub.add_parser("search", help="search a benchmark (defaults: predictor + pw on nb201/cifar10, 100 queries)",
                       description="Search real NAS benchmarks. Several --strategy / --loss / --benchmark values "
                                   "run side by side; every run of the grid uses each seed.")
    s.add_argument("--benchmark", nargs="+", default=None, metavar="NAME",
                   help=f"benchmark name(s) (default {DEFAULT_BENCHMARK}); `fastrank benchmarks` lists them")
    s.add_argument("--objective", default=None, metavar="OBJECTIVE",
                   help=f"train real networks of --space instead of reading a table: {', '.join(OBJECTIVES)} "
                        "(scikit-learn's 8x8 digits; reports the found network's valid and test accuracy) or "
                        "module:function, your evaluate(arch) -> float importable from the working directory")
    s.add_argument("--space", default=None, metavar="SPACE",
                   help=f"the search space of --objective: {', '.join(SPACES)}")
    s.add_argument("--strategy", nargs="+", default=["predictor"], choices=list(STRATEGIES), metavar="STRATEGY",
                   help=f"one or more of {', '.join(STRATEGIES)} (default predictor)")
    s.add_argument("--loss", nargs="+", default=None, metavar="LOSS",
                   help=f"predictor loss(es): {', '.join(LOSSES)}; LambdaRank:k=10 (with hyperparameters); "
                        "sum:MSE=1,HR=0.5; pw (the seed study's pair, switching at half the budget); pw:HR,MAPE@50 "
                        "(switching at 50 labelled); pw@70%% (at 70%% of the budget) (default pw; acenas: LambdaRank with AceNAS' relevance grades)")
    s.add_argument("--budget", type=_positive, default=100, help="queries per run (default 100)")
    s.add_argument("--seeds", type=parse_seeds, default=[0], metavar="SEEDS",
                   help="N (seeds 0..N-1), a range a-b or a list a,b,c (default: seed 0)")
    s.add_argument("--protocol", choices=PROTOCOLS, default="valid",
                   help="valid: queries see validation accuracy, the choice is reported by its test accuracy "
                        "(default); test: queries see test accuracy")
    s.add_argument("--workers", type=_positive, default=None,
                   help="with several runs: runs side by side in local processes, each evaluating one "
                        "architecture at a time (default: all cores); with one run: evaluations of it in flight "
                        "at once, on --executor (default 1)")
    s.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="a new folder: the journal of every run (journals/), runs.csv as runs finish, then "
                        "trace.csv and best_so_far.png")
    s.add_argument("--resume", type=Path, default=None, metavar="DIR",
                   help="continue the search whose --out was DIR (its own options; give no others)")
    s.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import a module first (one that registers strategies, spaces or objectives: "
                        "register_strategy, register_space, register_objective)")
    from .search.cli_options import add_search_flags

    add_search_flags(s)
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(benchmark_names=names)
    from .study.command import add_parser as add_study_parser

    add_study_parser(sub, names)
    m = sub.add_parser("model", help="an architecture as a network: parameters, FLOPs, layers, exported program",
                       description="Builds ARCH of SPACE as the benchmark's network, prints its parameters, FLOPs "
                                   "and layers, and writes it as a torch.export program (torch.export.load "
                                   "reads it without fastrank).")
    m.add_argument("space", metavar="SPACE", help=f"one of {', '.join(SPACES)}")
    m.add_argument("arch", metavar="ARCH", help="the architecture string, as searches print it")
    m.add_argument("--classes", type=_positive, default=10, help="classifier outputs (default 10)")
    m.add_argument("--size", action="append", default=[], metavar="NAME=INT",
                   help="another network size, e.g. channels=32 or image_size=16 (repeatable)")
    m.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="write the exported program here (e.g. model.pt2); an existing file is not replaced")
    sub.add_parser("benchmarks", help="list the benchmarks: name, space, size, metrics, weak labels, source")
    return parser


def _check(parser: argparse.ArgumentParser, args) -> None:
    """Usage errors (exit status 2) for what argparse's types cannot see: every option of every
    run of the grid is checked here, before the first run starts."""
    from .loss_spec import parse_loss
    from .search import STRATEGIES, BenchmarkTask, EvaluationOptions
    from .search.cli_options import evaluation_options, unused_flags

    _check_objective(parser, args)
    for flag, values in (("--benchmark", args.benchmark), ("--strategy", args.strategy), ("--loss", args.loss or [])):
        if len(set(values)) != len(values):
            parser.error(f"argument {flag}: a value is repeated in {' '.join(values)}")
    for name in args.benchmark:
        if name not in args.benchmark_names:
            parser.error(f"argument --benchmark: unknown benchmark {name!r} (choose from "
                         f"{', '.join(args.benchmark_names)})")
    for name in args.benchmark:
        try:  # before any run starts (in-process runs then find the table cached)
            BenchmarkTask.load(name, args.protocol)
        except (FileNotFoundError, ValueError) as err:
            # an optional package (pip install '.[nas]') or a data file is missing, or a table in
            # the data folder the user named is malformed: what the user asked for cannot be read
            parser.exit(2, f"fastrank: {name}: {err}\n")
    unused = unused_flags(args, args.strategy)
    if unused:
        parser.error(f"argument {unused[0]}: no chosen strategy ({', '.join(args.strategy)}) takes it")
    if args.loss and not any(STRATEGIES[s].takes_loss for s in args.strategy):
        parser.error(f"argument --loss: no chosen strategy ({', '.join(args.strategy)}) fits a predictor")
    for loss in args.loss or []:
        try:
            parse_loss(loss, budget=args.budget)
        except (ValueError, TypeError) as err:
            parser.error(f"argument --loss: {err}")
    try:
        args.evaluation = EvaluationOptions(**evaluation_options(args))
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    from .search.pretraining import chosen_labels

    for strategy in args.strategy:
        cls = STRATEGIES[strategy]
        options = _strategy_options(args, strategy)
        try:
            opts = cls.Options(**options)
        except (TypeError, ValueError) as err:
            parser.error(f"--strategy {strategy}: {err}")
        if args.objective_fn is not None:
            try:
                cls.check_space(args.search_space)
            except ValueError as err:
                parser.error(f"argument --strategy: {err}")
            if getattr(cls, "needs_pretraining", False) or chosen_labels(getattr(opts, "pretrain", None), None) is not None:  # "auto" is none here
                parser.error(f"--strategy {strategy}: its pretraining reads weak labels from a benchmark table; "
                             "--objective has none")
        for name in args.benchmark:
            task = BenchmarkTask.load(name, args.protocol)
            try:
                cls.check_space(task.space)
            except ValueError as err:
                parser.error(f"argument --strategy: {err}")
            pretrain = chosen_labels(getattr(opts, "pretrain", None), task.query)
            if pretrain is None and getattr(cls, "needs_pretraining", False):
                parser.error(f"--strategy {strategy}: it pretrains on weak labels, and --pretrain "
                             f"{getattr(opts, 'pretrain', None)} takes none of {name}'s")
            if isinstance(pretrain, str):
                from .weak_labels import select_weak_labels

                try:
                    select_weak_labels(task.query, pretrain)
                except ValueError as err:
                    parser.error(f"argument --pretrain: {err}")
    args.jobs = _jobs(args)  # the grid, built once: _search runs these
    runs = len(args.jobs)
    if args.workers is None:
        args.workers = 1 if runs == 1 else (os.cpu_count() or 1)
    if runs > 1 and args.evaluation.executor != "thread":
        parser.error("argument --executor: a grid of several runs runs them side by side in local processes; "
                     "--executor is for the evaluations of one run")
    if args.evaluation.executor == "ray":  # checked here, before --out is written
        from ._ray import RayUnavailable, check_reachable

        try:
            check_reachable(args.evaluation.address)
        except RayUnavailable as err:
            parser.exit(2, f"fastrank: {err}\n")


def _check_objective(parser: argparse.ArgumentParser, args) -> None:
    """--objective with --space, or --benchmark: sets args.benchmark (tables to read),
    args.objective_fn and args.search_space (the objective and its space, or None)."""
    from .objectives import ObjectiveError, load_objective
    from .spaces import SPACES, get_space

    args.objective_fn = args.search_space = None
    if args.objective is None:
        if args.space is not None:
            parser.error("argument --space: it names the space of --objective (a benchmark brings its own)")
        args.benchmark = args.benchmark or [DEFAULT_BENCHMARK]
        return
    if args.benchmark is not None:
        parser.error("argument --objective: it trains networks instead of reading --benchmark tables; give one")
    if args.space is None:
        parser.error("argument --objective: it needs --space (the architectures to train)")
    if args.space not in SPACES:
        parser.error(f"argument --space: unknown space {args.space!r} (choose from {', '.join(SPACES)})")
    args.benchmark = []
    try:
        args.search_space = get_space(args.space)
        args.objective_fn = load_objective(args.objective, args.search_space)
    except (ObjectiveError, FileNotFoundError, ImportError) as err:
        parser.exit(2, f"fastrank: {err}\n")


def _run_key(job: dict) -> str:
    """A run's name in its --out folder: benchmark or objective, strategy, loss, protocol, seed."""
    loss = job.get("loss") or "default"
    objective = job["objective"] if isinstance(job["objective"], str) else getattr(job["objective"], "__name__", "objective")
    text = f"{objective}__{job['strategy']}__{loss}__{job['protocol']}__seed{job['seed']}"
    return "".join(c if c.isalnum() or c in "-_.=@" else "-" for c in text)


def _strategy_options(args, strategy: str) -> dict:
    """The options of ``strategy`` the command line set; a random start longer than the budget
    is cut to it."""
    from .search.cli_options import strategy_options

    options = strategy_options(args, strategy)
    if options.get("n_init", 0) > args.budget:
        options["n_init"] = args.budget
    return options


def _jobs(args) -> List[dict]:
    from .search import STRATEGIES

    jobs = []
    targets = [(bench, {}) for bench in args.benchmark]
    if args.objective_fn is not None:
        targets = [(args.objective_fn, {"space": args.search_space})]
    for bench, extra in targets:
        for strategy in args.strategy:
            cls = STRATEGIES[strategy]
            losses = (args.loss or [None]) if cls.takes_loss else [None]
            for loss in losses:
                for seed in args.seeds:
                    job = {"objective": bench, "strategy": strategy, "budget": args.budget, "seed": seed,
                           "protocol": args.protocol, **extra, **_strategy_options(args, strategy)}
                    if loss is not None:
                        job["loss"] = loss
                    jobs.append(job)
    return jobs


def _print_one(result, objective=None) -> None:
    if objective is not None:
        print(f"objective     {result.benchmark} on {result.space.name}")
    else:
        print(f"benchmark     {result.benchmark} (protocol {result.protocol}: queries see "
              f"{'test' if result.protocol == 'test' else 'validation'} values)")
    print(f"strategy      {result.strategy}" + ("" if result.strategy == "random" else f" + {result.loss}")
          + f", seed {result.seed}, {len(result.queries)} of {result.budget} queries, {result.seconds:.1f} s")
    print(f"architecture  {result.arch_string}")
    print(f"query value   {result.query_value:.4f}")
    if result.test_value is not None:
        print(f"test value    {result.test_value:.4f}")
        print(f"rank          {result.rank} of {_table_size(result)}")
        print(f"regret        {result.regret:.4f}")
    if objective is not None and hasattr(objective, "report") and result.arch is not None:
        report = objective.report(result.arch)  # the found network, trained again: its valid and test accuracy
        for key, value in report.items():
            if key != "seconds":
                print(f"{key.replace('_', ' '):<13} {value:.4f}")


def _table_size(result) -> str:
    """"15625 in the space" for a table of a whole space; a published sample's rows, and its
    distinct cells where isomorphic cells have rows of their own (NB101)."""
    from .search import BenchmarkTask

    table = BenchmarkTask.load(result.benchmark, result.protocol).report
    if table.space.size is not None and len(table.values) == table.space.size:
        return f"{len(table.values)} in the space"
    distinct = len({table.space.identity(a) for a in table.archs})
    cells = f", {distinct} distinct cells" if distinct != len(table.values) else ""
    return f"{len(table.values)} rows of the table (a sample of the space{cells})"


OUT_FILES = ("command.json", "runs.csv", "trace.csv", "best_so_far.png", "journals", "model.pt2")


def _prepare_out(out: Path, argv: List[str]) -> None:
    """A new run folder, checked before any work: refuses a file, an unwritable place and a
    folder that holds a search already (that one is continued with --resume)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"argument --out: {out} is a file, not a folder")
    if out.is_dir() and any((out / name).exists() for name in OUT_FILES):
        raise ValueError(f"argument --out: {out} holds a search already: continue it with --resume {out}, "
                         f"or choose another folder")
    from .durable import replace_atomically

    try:
        (out / "journals").mkdir(parents=True, exist_ok=True)
        replace_atomically(out / "command.json", (json.dumps({"argv": argv}, indent=1) + "\n").encode())
    except OSError as err:
        raise ValueError(f"argument --out: cannot write in {out} ({err.strerror or err})") from None


def _resume_argv(folder: Path, argv: List[str]) -> List[str]:
    """The command line of the search in ``folder``, for --resume (which takes no other option)."""
    if len([a for a in argv if a.startswith("-") and a != "--quiet"]) > 1:
        raise ValueError("argument --resume: it takes no other options; the search continues with its own "
                         f"(in {folder / 'command.json'})")
    try:
        saved = json.loads((folder / "command.json").read_text())["argv"]
        if not isinstance(saved, list) or not all(isinstance(a, str) for a in saved) or "--resume" in saved:
            raise ValueError
    except FileNotFoundError:
        raise ValueError(f"argument --resume: no search in {folder} (no command.json)") from None
    except (ValueError, KeyError, TypeError, OSError):
        raise ValueError(f"argument --resume: {folder / 'command.json'} is not a fastrank search's") from None
    return saved


def _write_results(results, out: Path, final: bool) -> None:
    from .search import report

    report.write_runs(results, out / "runs.csv.tmp")  # then renamed over the old one: never half a file
    os.replace(out / "runs.csv.tmp", out / "runs.csv")
    if final and results:
        report.write_trace(results, out / "trace.csv")
        report.plot_best_so_far(results, out / "best_so_far.png")


def _search(parser, args, argv: List[str]) -> int:
    from ._ray import RayUnavailable
    from .search import JournalError, TooManyFailures, report
    from .search.parallel import run_many

    resuming = args.resume is not None
    if resuming:
        folder = args.resume
        try:
            saved = _resume_argv(folder, argv)
        except ValueError as err:
            parser.error(str(err))
        _imports(saved)
        args = parser.parse_args(saved)
        args.out = folder  # the folder as named now (it may have moved since)
    _check(parser, args)
    jobs = args.jobs
    if args.out is not None:
        if not resuming:
            try:
                _prepare_out(args.out, argv)
            except ValueError as err:
                parser.error(str(err))
        for job in jobs:
            path = args.out / "journals" / f"{_run_key(job)}.jsonl"
            job["resume" if resuming and path.exists() and path.stat().st_size else "journal"] = str(path)
    from .search.cli_options import evaluation_options

    for job in jobs:
        job.update(evaluation_options(args))
    if len(jobs) == 1:
        jobs[0]["workers"] = args.workers
    on_result = (lambda results: _write_results(results, args.out, final=False)) if args.out is not None else None
    try:
        results, interrupted = run_many(jobs, 1 if len(jobs) == 1 else args.workers, progress=not args.quiet,
                                        on_result=on_result)
    except (JournalError, RayUnavailable) as err:  # the user's file or cluster: a usage error
        parser.exit(2, f"fastrank: {err}\n")
    except TooManyFailures as err:
        raise SystemExit(f"fastrank: {err}") from None
    interrupted = interrupted or any(r.interrupted for r in results)
    if results:
        if len(results) == 1:
            _print_one(results[0], args.objective_fn)
        else:
            print(report.summary(results))
        if args.out is not None:
            _write_results(results, args.out, final=True)
            print(f"wrote {args.out / 'runs.csv'}, {args.out / 'trace.csv'}, {args.out / 'best_so_far.png'}"
                  f" and the runs' journals in {args.out / 'journals'}")
            for model in ([] if interrupted else _write_model(args, results)):
                print(f"wrote {model}: the found network (torch.export.load reads it)")
    if interrupted:
        hint = f"; continue with fastrank search --resume {args.out}" if args.out is not None else ""
        print(f"interrupted: {len(results)} of {len(jobs)} runs kept{hint}", file=sys.stderr)
        return 130
    return 0


def _write_model(args, results) -> List[Path]:
    """The found architecture as a network in --out, where its space builds one (sized for the
    benchmark's dataset or the objective's inputs): of each benchmark's runs, the one whose
    architecture has the best query value, the value the search was shown (never the test
    value: that would choose by the test set). One benchmark: ``model.pt2``; several (their
    values do not compare): ``model-<benchmark>.pt2`` each."""
    from .export import benchmark_sizes, write_found_model

    groups: dict = {}
    for r in results:
        if r.arch is not None and r.query_value is not None:
            groups.setdefault(r.benchmark, []).append(r)
    written = []
    for benchmark, runs in groups.items():
        best = max(runs, key=lambda r: r.query_value)  # the first run on ties
        if args.objective_fn is not None:
            sizes = dict(getattr(args.objective_fn, "sizes", {}))
        else:
            sizes = benchmark_sizes(best.benchmark)
            if sizes is None:
                continue
        name = "model.pt2" if len(groups) == 1 else f"model-{benchmark.replace('/', '-')}.pt2"
        path = write_found_model(best.space, best.arch, args.out, sizes, name=name)
        if path is not None:
            written.append(path)
    return written


def _model(parser, args) -> int:
    from .export import describe, export
    from .spaces import SPACES, InvalidArchitecture, get_space

    if args.space not in SPACES:
        parser.error(f"argument SPACE: unknown space {args.space!r} (choose from {', '.join(SPACES)})")
    sizes = {}
    for item in args.size:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            parser.error(f"argument --size: expected NAME=INT, got {item!r}")
        try:
            sizes[name] = int(value)
        except ValueError:
            parser.error(f"argument --size: {name} must be an int, got {value!r}")
    if args.out is not None and args.out.exists():
        parser.error(f"argument --out: {args.out} exists; choose a new file")
    if args.out is not None and not args.out.parent.is_dir():
        parser.error(f"argument --out: there is no folder {args.out.parent}")
    try:
        space = get_space(args.space)
        arch = space.parse(args.arch)
        model = space.to_module(arch, num_classes=args.classes, **sizes)
    except InvalidArchitecture as err:
        parser.exit(2, f"fastrank: {err}\n")
    except (TypeError, ValueError) as err:  # a size the network does not take, or a bad value
        parser.exit(2, f"fastrank: {args.space} network: {err}\n")
    except (NotImplementedError, ImportError, FileNotFoundError) as err:
        parser.exit(2, f"fastrank: {err}\n")
    print(f"{args.space}  {space.to_string(arch)}")
    print(describe(model))
    if args.out is not None:
        try:
            export(model, args.out)
        except OSError as err:
            parser.exit(2, f"fastrank: cannot write {args.out} ({err.strerror or err})\n")
        print(f"wrote {args.out}: torch.export.load reads it (no fastrank needed)")
    return 0


def _user_file_size(entry, counted: dict) -> str:
    """A table in the user's data folder, as it is: its rows, and what load will say of them."""
    path = Path(entry.source)
    if path not in counted:
        from .benchmarks.table_files import count_rows

        try:
            counted[path] = count_rows(path)
        except (OSError, ValueError) as err:
            counted[path] = err
    rows = counted[path]
    if isinstance(rows, Exception):
        return f"unreadable ({rows})"
    if rows != entry.architectures:
        return f"{rows:,} (not {entry.architectures:,}: load refuses it)"
    return f"{rows:,}"


def _benchmarks() -> int:
    from .benchmarks import catalog

    rows = [("name", "space", "size", "metrics", "weak labels", "source")]
    counted: dict = {}
    for e in catalog():
        if e.available:
            source = e.source
        elif e.source.startswith("PyPI"):
            source = f"{e.source} (not installed: {e.needs})"
        else:
            source = f"missing: {e.needs}"
        weak = list(e.weak_labels)
        weak = ", ".join(weak) if len(weak) <= 4 else ", ".join(weak[:3]) + f", ... ({len(weak)} in all)"
        size = f"{e.architectures:,}" + (f" ({e.distinct:,} cells)" if e.distinct else "")
        if e.user_file:
            size = _user_file_size(e, counted)
        rows.append((e.name, e.space, size, ", ".join(e.metrics), weak or "-", source))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return 0


def _imports(argv: List[str]) -> None:
    """``--import MODULE``, before the parser is built: a module that registers strategies,
    spaces (register_space) or objectives (register_objective)."""
    import importlib

    for i, arg in enumerate(argv):
        name = argv[i + 1] if arg == "--import" and i + 1 < len(argv) else arg.partition("=")[2] \
            if arg.startswith("--import=") else None
        if not name:
            continue
        sys.path.insert(0, os.getcwd()) if os.getcwd() not in sys.path else None
        try:
            importlib.import_module(name)
        except Exception as err:  # the user's module: one clear line, not its traceback
            _usage_error(f"fastrank: --import {name}: {type(err).__name__}: {err}")


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _imports(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "benchmarks":
            code = _benchmarks()
        elif args.command == "model":
            code = _model(parser, args)
        elif args.command == "study":
            from .study.command import run as run_study_command

            code = run_study_command(parser, args)
        else:
            code = _search(parser, args, argv)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe lands in the except below
        return code
    except KeyboardInterrupt:  # Ctrl-C outside a run (joining a cluster, loading a table): no traceback
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `fastrank benchmarks | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
