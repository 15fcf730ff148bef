"""One search run: a strategy, a budget and a seed against a benchmark or a user's evaluate."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Union

import numpy as np

from ..benchmarks import TabularBenchmark
from ..loss_spec import parse_loss
from ..spaces import SearchSpace, get_space
from .acenas import AceNASOptions, pretrained_for_run
from .candidates import CandidatePool
from .evolution import EvolutionOptions, evolution_search
from .guided import GuidedOptions
from .predictor_guided import predictor_search
from .proxy_validation import ProxyValidationOptions, proxy_validation_ea_search, proxy_validation_search
from .relaxation import supports
from .random_search import random_search
from .task import BenchmarkTask
from .trace import BudgetSpent, Query, Trace
from .._checks import check_int

STRATEGIES = ("random", "predictor", "evolution", "acenas", "proxy-validation", "proxy-validation-ea")
_OWN_OBJECTIVE = ("proxy-validation", "proxy-validation-ea")  # fit their landscape by MSE: no loss choice

RUN_COLUMNS = ("benchmark", "strategy", "loss", "protocol", "seed", "budget", "queries", "arch", "query_value",
               "test_value", "rank", "regret", "seconds", "interrupted")


@dataclass
class SearchResult:
    """A finished (or interrupted) run. ``arch`` is the best queried architecture by query
    value; ``test_value``, ``rank`` (1 = the table's best) and ``regret`` judge it on the
    benchmark's reported metric (None for a user's evaluate)."""

    benchmark: str
    strategy: str
    loss: str
    protocol: str
    seed: int
    budget: int
    queries: List[Query]
    arch: object
    arch_string: str
    query_value: float
    test_value: Optional[float]
    rank: Optional[int]
    regret: Optional[float]
    seconds: float
    interrupted: bool = False
    space: SearchSpace = field(default=None, repr=False)

    def best_so_far(self) -> np.ndarray:
        return np.maximum.accumulate(np.array([q.value for q in self.queries], dtype=np.float64))

    def row(self) -> dict:
        """One row of runs.csv."""
        out = {k: getattr(self, k) for k in RUN_COLUMNS if k not in ("arch", "queries")}
        out["arch"] = self.arch_string
        out["queries"] = len(self.queries)
        return {k: out[k] for k in RUN_COLUMNS}

    def trace_rows(self) -> List[dict]:
        best = self.best_so_far()
        return [{"benchmark": self.benchmark, "strategy": self.strategy, "loss": self.loss,
                 "protocol": self.protocol, "seed": self.seed, "query": q.number,
                 "arch": self.space.to_string(q.arch), "value": q.value, "best_so_far": float(b),
                 "seconds": q.seconds} for q, b in zip(self.queries, best)]


def run(objective: Union[str, TabularBenchmark, Callable[[object], float]], strategy: str = "predictor",
        budget: int = 100, seed: int = 0, *, loss=None, protocol: str = "valid",
        space: Union[SearchSpace, str, None] = None, candidates: Optional[Sequence] = None,
        progress: bool = False, trace_file: Optional[str] = None, **options) -> SearchResult:
    """Runs one search and returns its :class:`SearchResult`.

    objective: a benchmark name (``"nb201/cifar10"``, see ``fastrank.benchmarks.load``), a
        loaded :class:`TabularBenchmark`, or any ``evaluate(arch) -> float`` (higher is better;
        then ``space`` is required).
    strategy: "random", "predictor", "evolution", "acenas" (weak-label pretraining, then
        LambdaRank fine-tuning rounds: :mod:`fastrank.search.acenas`), "proxy-validation" or
        "proxy-validation-ea" (:mod:`fastrank.search.proxy_validation`: NB201, TransNAS micro,
        NAS-Bench-Graph).
    budget: queries paid for; a repeated architecture is answered from the cache for free.
    loss: the predictor's loss, as :func:`fastrank.loss_spec.parse_loss` reads it: a registered
        name, ``"sum:MSE=1,HR=0.5"``, ``"pw"`` (the seed study's pair for the benchmark, switching
        at half the budget) or ``"pw:HR,MAPE@50"``; or a loss module. Default: "pw", and for
        "acenas" LambdaRank with AceNAS' relevance grades. Ignored by "random"; the
        proxy-validation strategies fit their loss landscape by MSE and take no loss.
    protocol: "valid" or "test" (see :mod:`fastrank.search.task`).
    candidates: the architectures the run may query (default: the benchmark's rows, else the
        whole space where it is enumerable, else mutations and samples drawn each round).
    trace_file: a CSV path; every query is appended as it is paid.
    options: the strategy's (:class:`GuidedOptions`, :class:`EvolutionOptions`,
        :class:`AceNASOptions`); ``pretrain=`` (weak labels) also works with "predictor" and
        "evolution". Pretraining counts in the run's seconds.

    Ctrl-C stops the run between queries: the result comes back with ``interrupted=True``
    and the queries made so far (and ``trace_file`` holds them).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    check_int(seed, "seed", 0)
    task = None
    if isinstance(objective, str):
        task = BenchmarkTask.load(objective, protocol)
    elif isinstance(objective, TabularBenchmark):
        task = BenchmarkTask(objective.name, protocol, objective, objective)
    elif not callable(objective):
        raise TypeError("objective must be a benchmark name, a TabularBenchmark or a callable evaluate(arch)")
    if task is not None:
        if space is not None:
            raise ValueError("space comes from the benchmark; pass it only with a callable objective")
        if not task.query.higher_is_better:
            raise ValueError(f"{task.name}: the search maximises; this table's metric is lower-is-better")
        space, evaluate, name = task.space, task.query.query, task.name
        if candidates is None:
            candidates = task.query.archs
    else:
        if space is None:
            raise ValueError("a callable objective needs space= (a SearchSpace or its name)")
        space = get_space(space) if isinstance(space, str) else space
        evaluate, name = objective, getattr(objective, "__name__", "evaluate")
    if strategy == "random":
        loss_name, loss_module, opts = "-", None, None
        if options:
            raise TypeError(f"random search takes no options, got {sorted(options)}")
    elif strategy in _OWN_OBJECTIVE:
        if loss is not None:
            raise TypeError(f"{strategy} fits its loss landscape by MSE and takes no loss")
        loss_name, loss_module, opts = "MSE", None, ProxyValidationOptions(**options)
        if not supports(space):
            raise ValueError(f"{strategy} relaxes nb201, tnb101_micro and nasbench-graph cells, not {space.name}")
    else:
        if strategy == "acenas":
            acenas = AceNASOptions(**options)
            opts = acenas.guided(budget)
            loss = acenas.loss() if loss is None else loss
        else:
            opts = (EvolutionOptions if strategy == "evolution" else GuidedOptions)(**options)
            loss = "pw" if loss is None else loss
        loss_name = loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__)
        loss_module = parse_loss(loss, task=name if task is not None else space.name, switch_at=max(1, budget // 2))
    pool = (CandidatePool.of_table(space, candidates) if task is not None and candidates is task.query.archs
            else CandidatePool(space, candidates))
    trace = Trace(evaluate, space, budget, trace_file=trace_file)
    rng = np.random.default_rng(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=budget, desc=f"{strategy} {name} seed {seed}", unit="query", leave=False)
        trace.on_query = lambda q: bar.update()
    start = time.perf_counter()
    interrupted = False
    try:
        pretrained = None
        if opts is not None and getattr(opts, "pretrain", None) is not None:
            pretrained = pretrained_for_run(space, opts, int(seed), task.query if task is not None else None,
                                            pool.archs if pool.fixed else None)
        if strategy == "random":
            random_search(trace, pool, rng)
        elif strategy == "evolution":
            evolution_search(trace, pool, rng, loss_module, int(seed), opts, pretrained)
        elif strategy == "proxy-validation":
            proxy_validation_search(trace, pool, rng, int(seed), opts)
        elif strategy == "proxy-validation-ea":
            proxy_validation_ea_search(trace, pool, rng, int(seed), opts)
        else:
            predictor_search(trace, pool, rng, loss_module, int(seed), opts, pretrained)
    except BudgetSpent:
        pass
    except KeyboardInterrupt:
        interrupted = True
    finally:
        trace.close()
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    if not trace.queries:
        if interrupted:
            raise KeyboardInterrupt("the search was interrupted before its first query")
        raise ValueError("the search found no architecture to query (empty candidates?)")
    arch, value = trace.best()
    test_value = rank = regret = None
    if task is not None:
        test_value, rank, regret = task.report_value(arch), task.rank(arch), task.regret(arch)
    return SearchResult(name, strategy, "-" if strategy == "random" else loss_name, protocol, int(seed), budget,
                        list(trace.queries), arch, space.to_string(arch), value, test_value, rank, regret, seconds,
                        interrupted, space)
