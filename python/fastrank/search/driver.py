"""The driver of a search run: the budget, the cache, the architectures in flight, failures and
the journal, around an ask/tell :class:`~fastrank.search.strategy.Strategy`.

:class:`Search` is the run as an object, for a loop of your own (as Optuna's study)::

    s = search.Search(space="nb201", strategy="evolution", budget=50, seed=0, loss="HR")
    while not s.done:
        for arch in s.ask(4):           # up to 4 new architectures, neither paid nor in flight
            s.tell(arch, train(arch))   # or s.tell_failure(arch, "diverged")
    print(s.result().arch_string)

:func:`fastrank.search.run` drives the same object with an evaluator (threads, processes, Ray).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import List, Optional, Sequence, Union


from ..benchmarks import TabularBenchmark
from ..loss_spec import parse_loss
from ..spaces import SearchSpace, get_space
from .._checks import check_int
from .candidates import CandidatePool
from .evaluators import EXECUTORS, as_value
from .history import History, Query
from .journal import Journal
from .options import Bool, Check, Choice, Float, Int, Optional_, Options, option
from .strategy import Context, get_strategy
from .task import BenchmarkTask

class TooManyFailures(RuntimeError):
    """``max_failures`` evaluations in a row failed: the objective is broken, not unlucky."""


class _Devices(Check):
    what = "device ids (a comma list such as 0,1,2,3)"

    def check(self, value, name):
        if value is None:
            return value
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
            raise TypeError(f"{name} must be a non-empty list of device ids, got {value!r}")
        return value

    def parse(self, text):
        parts = [p.strip() for p in text.split(",")]
        if not all(parts):
            raise ValueError(text)
        return parts


@dataclass
class EvaluationOptions(Options):
    """How a run evaluates (``search.run(..., **options)``; the flags of ``fastrank search``)."""

    workers: int = option(1, "evaluations in flight at once; as one returns, the strategy is told and asked "
                             "for the next", Int(1))
    executor: str = option("thread", "where evaluations run: thread (objectives that release the GIL: GPU "
                                     "training, I/O, sleeps), process (spawned processes; local is the same, "
                                     "the name fastrank study uses), ray",
                           Choice(EXECUTORS))
    address: str = option(None, "the Ray cluster to join (none: a local Ray)", Optional_(Check(), "local"))
    devices: list = option(None, "one device per worker process, given to it as CUDA_VISIBLE_DEVICES",
                           Optional_(_Devices(), "all"))
    num_cpus: float = option(1.0, "Ray: CPUs per evaluation", Float("a non-negative number", low=0))
    num_gpus: float = option(0.0, "Ray: GPUs per evaluation", Float("a non-negative number", low=0))
    failure_value: float = option(None, "the value a strategy learns for a failed evaluation (none: one spread "
                                        "below the worst seen)", Optional_(Float("a finite number"), "auto"))
    count_failures: bool = option(True, "failed evaluations count against the budget", Bool())
    max_failures: int = option(10, "failures in a row before the run stops with an error", Int(1))
    retries: int = option(1, "re-evaluations of an architecture whose worker process died", Int(0))

    def __post_init__(self):
        super().__post_init__()
        # an option of another executor would be ignored: the run would not be the one asked for
        if self.address is not None and self.executor != "ray":
            raise ValueError(f"address (--address) is for the ray executor, not {self.executor!r}")
        if self.devices and self.executor not in ("process", "local"):
            raise ValueError("devices (--devices) gives one device per worker process: use executor 'process'"
                             + (" (on Ray, num_gpus gives each evaluation its GPUs)" if self.executor == "ray"
                                else " (or 'ray' with num_gpus)"))
        defaults = {f.name: f.default for f in fields(self)}
        for name in ("num_cpus", "num_gpus"):
            if getattr(self, name) != defaults[name] and self.executor != "ray":
                raise ValueError(f"{name} (--{name.replace('_', '-')}) is for the ray executor, not "
                                 f"{self.executor!r}" + (": process workers get one device each from devices"
                                                         if name == "num_gpus" else ""))


def _resolve(objective, space, protocol: str, candidates):
    """(task or None, space, evaluate, name, candidates) of search.run's objective argument."""
    task = None
    if isinstance(objective, str):
        task = BenchmarkTask.load(objective, protocol)
    elif isinstance(objective, TabularBenchmark):
        task = BenchmarkTask(objective.name, protocol, objective, objective)
    elif objective is not None and not callable(objective):
        raise TypeError("objective must be a benchmark name, a TabularBenchmark or a callable evaluate(arch)")
    if task is not None:
        if space is not None:
            raise ValueError("space comes from the benchmark; pass it only with a callable objective")
        if not task.query.higher_is_better:
            raise ValueError(f"{task.name}: the search maximises; this table's metric is lower-is-better")
        return task, task.space, task.query.query, task.name, task.query.archs if candidates is None else candidates
    if space is None:
        raise ValueError("a callable objective (or none, for ask/tell) needs space= (a SearchSpace or its name)")
    space = get_space(space) if isinstance(space, str) else space
    name = getattr(objective, "__name__", type(objective).__name__) if objective is not None else "ask/tell"
    return None, space, objective, name, candidates


class Search:
    """One search run as an object: ask for architectures, tell their results.

    objective: a benchmark name, a :class:`TabularBenchmark`, a callable ``evaluate(arch) ->
        float`` (higher is better), or None when you evaluate yourself (then ``space`` is
        required). See :func:`fastrank.search.run` for the other arguments.
    journal: a path; the run's header and each paid query are appended as they come (a new
        file, or an empty one). resume: a journal path to continue: its queries are not paid
        again, and the strategy is brought to where it was (it is replayed, answering from the
        journal), so that a resumed deterministic run equals an uninterrupted one.
    """

    def __init__(self, objective=None, strategy: str = "predictor", budget: int = 100, seed: int = 0, *,
                 loss=None, protocol: str = "valid", space: Union[SearchSpace, str, None] = None,
                 candidates: Optional[Sequence] = None, journal=None, resume=None,
                 failure_value: Optional[float] = EvaluationOptions.failure_value,
                 count_failures: bool = EvaluationOptions.count_failures,
                 max_failures: int = EvaluationOptions.max_failures, **options):
        cls = get_strategy(strategy)
        check_int(seed, "seed", 0)
        check_int(budget, "budget")
        failures = EvaluationOptions(failure_value=failure_value, count_failures=count_failures,
                                     max_failures=max_failures)
        self.task, self.space, self.evaluate, self.name, candidates = _resolve(objective, space, protocol, candidates)
        cls.check_space(self.space)
        self.strategy_name, self.budget, self.seed, self.protocol = strategy, budget, int(seed), protocol
        self.count_failures, self.max_failures = failures.count_failures, failures.max_failures
        opts = cls.Options.taking(strategy, options)
        if cls.takes_loss:
            loss = cls.default_loss(opts) if loss is None else loss
            self.loss_name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
            loss_module = parse_loss(loss, task=self.name if self.task is not None else self.space.name,
                                     switch_at=max(1, budget // 2), budget=budget)
        else:
            if loss is not None:
                raise TypeError(f"{strategy} takes no loss")
            self.loss_name, loss_module = cls.loss_label, None
        if self.task is not None and candidates is self.task.query.archs:
            pool = CandidatePool.of_table(self.space, candidates)
        else:
            pool = CandidatePool(self.space, candidates)
        self.history = History(self.space, failures.failure_value)
        self.started = time.perf_counter()
        self.elapsed_before = 0.0  # seconds the run took before it was resumed
        context = Context(self.space, pool, self.history, self.seed, budget, loss_module,
                          self.task.query if self.task is not None else None)
        self.strategy = cls(context, opts)
        self._failures_in_row = 0
        self._carry: List = []  # asked during a replay, not yet handed out
        self._exhausted = False
        self.journal = None
        run_record = {"objective": self.name, "space": self.space.name, "strategy": strategy, "seed": self.seed,
                      "budget": budget, "loss": self.loss_name, "protocol": protocol,
                      "candidates": None if candidates is None else len(candidates),
                      "options": opts.as_record(),
                      "failures": {"failure_value": failures.failure_value, "count_failures": failures.count_failures}}
        if journal is not None and resume is not None:
            raise ValueError("give journal= (a new run) or resume= (continue one), not both")
        if resume is not None:
            self.journal = Journal(resume, run_record, resume=True)
            self._replay(self.journal.records)
        elif journal is not None:
            self.journal = Journal(journal, run_record)

    def close(self) -> None:
        """Lets another run take the journal (``resume=``); ``search.run`` closes its search when
        it ends, and ``with Search(...) as search:`` does the same for ask/tell."""
        if self.journal is not None:
            self.journal.close()

    def __enter__(self) -> "Search":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the budget ------------------------------------------------------------------------
    @property
    def paid(self) -> int:
        """Queries that count against the budget."""
        queries = self.history.queries
        return len(queries) if self.count_failures else sum(not q.failed for q in queries)

    @property
    def remaining(self) -> int:
        """Queries that may still be asked for: the budget less the paid and those in flight."""
        return max(0, self.budget - self.paid - len(self.history.in_flight))

    @property
    def in_flight(self) -> List:
        return self.history.in_flight

    @property
    def queries(self) -> List[Query]:
        return self.history.queries

    @property
    def done(self) -> bool:
        """The budget is spent (or the pool exhausted) and nothing is in flight."""
        return not self.history.in_flight and (self.paid >= self.budget or self._exhausted)

    # --- ask and tell ----------------------------------------------------------------------
    def ask(self, n: int = 1) -> List:
        """Up to n new architectures (fewer while the strategy waits for results in flight; none
        once the budget is spent). They are in flight until told."""
        check_int(n, "n")
        n = min(n, self.remaining)
        out = []
        while self._carry and len(out) < n:
            arch = self._carry.pop(0)
            if not self.history.seen(arch):
                out.append(arch)
        if len(out) < n and not self._exhausted:
            proposed = self.strategy.ask(n - len(out))
            for arch in proposed:
                if len(out) < n and not self.history.seen(arch) and arch not in out:
                    out.append(arch)
            if not out and not self.history.in_flight:
                self._exhausted = True  # nothing new and nothing in flight to wait for: the strategy is done
        for arch in out:
            self.history.start(arch)
        return out

    def tell(self, arch, value, *, seconds: float = 0.0, worker: Optional[str] = None) -> None:
        """``arch``'s result. A value that is not a finite number is recorded as a failure."""
        number, error = as_value(value)
        self._learn(arch, number, error, seconds, worker)

    def tell_failure(self, arch, error: str, *, seconds: float = 0.0, worker: Optional[str] = None) -> None:
        """``arch``'s evaluation failed; ``error`` says why (kept in the journal and the result)."""
        self._learn(arch, None, str(error), seconds, worker)

    def _learn(self, arch, value: Optional[float], error: Optional[str], seconds: float, worker: Optional[str],
               replayed: bool = False) -> None:
        """Records a result (in the journal too, unless it comes from there) and teaches the
        strategy; ``max_failures`` failures in a row stop a live run."""
        if not self.history.is_in_flight(arch):
            seen, _ = self.history.cached(arch)
            raise ValueError(f"{self.space.to_string(arch)} was {'told already' if seen else 'not asked for'}: "
                             f"tell only what ask returned, once")
        query = Query(len(self.history.queries) + 1, arch, value, float(seconds), error, worker)
        if not replayed and self.journal is not None:
            self.journal.add(query.number, self.space.to_string(arch), value, error, query.seconds, worker,
                             self.elapsed())
        self.history.record(query)
        if value is not None:
            self._failures_in_row = 0
            self.strategy.tell(arch, value)
            return
        self._failures_in_row += 1
        self.strategy.tell_failure(arch, error)
        if not replayed and self._failures_in_row >= self.max_failures:
            raise TooManyFailures(f"{self._failures_in_row} evaluations failed in a row (max_failures="
                                  f"{self.max_failures}); the last: {self.space.to_string(arch)}: {error}")

    def abandon(self, arch) -> None:
        """Gives up an architecture in flight without a result (a stopped run): it is not paid."""
        self.history.abandon(arch)

    def _replay(self, records: List[dict]) -> None:
        """Brings the strategy to where the journal's run left it: the strategy is asked one
        architecture at a time and answered from the journal while it asks for what the journal
        holds. Where it asks for something else (the run had several workers, or is not
        deterministic), the rest of the journal is told as it stands and the new proposal is
        the first architecture this run evaluates."""
        left = {}
        for number, record in enumerate(records, start=2):
            try:
                arch = self.space.parse(record["arch"])
            except ValueError as err:
                raise ValueError(f"{self.journal.path}:{number}: {err}") from None
            left[self.space.identity(arch)] = (arch, record)
            self.elapsed_before = max(self.elapsed_before, float(record.get("t") or 0.0))
        paid = sum(1 for r in records if r["value"] is not None or self.count_failures)
        while left and paid < self.budget:  # a finished run needs no strategy to be rebuilt
            proposed = self.strategy.ask(1)
            if not proposed:
                break
            key = self.space.identity(proposed[0])
            if key not in left:
                self._carry = [proposed[0]]
                break
            self._tell_record(*left.pop(key))
        for arch, record in list(left.values()):
            self._tell_record(arch, record)

    def _tell_record(self, arch, record: dict) -> None:
        self.history.start(arch)
        self._learn(arch, record["value"], record["error"], record["seconds"], record.get("worker"), replayed=True)

    def elapsed(self) -> float:
        """Seconds the run has taken, over every session that worked on it."""
        return self.elapsed_before + time.perf_counter() - self.started

    # --- the result ------------------------------------------------------------------------
    def result(self, interrupted: bool = False) -> "SearchResult":  # noqa: F821 (imported below: result imports driver)
        from .result import SearchResult

        if not self.history.n_labelled:
            if interrupted:
                raise KeyboardInterrupt("the search was interrupted before its first result")
            if self.history.queries:
                raise TooManyFailures(f"every evaluation failed ({len(self.history.queries)}); the last: "
                                      f"{self.history.queries[-1].error}")
            raise ValueError("the search found no architecture to query (empty candidates?)")
        arch = self.history.best(1)[0]
        _, value = self.history.cached(arch)
        test_value = rank = regret = None
        if self.task is not None:
            test_value, rank, regret = self.task.report_value(arch), self.task.rank(arch), self.task.regret(arch)
        return SearchResult(self.name, self.strategy_name, self.loss_name, self.protocol, self.seed, self.budget,
                            list(self.history.queries), arch, self.space.to_string(arch), value, test_value, rank,
                            regret, self.elapsed(), interrupted, self.space)
