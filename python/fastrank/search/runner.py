"""One search run, driven to its end: :func:`run`."""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

from ..benchmarks import TabularBenchmark
from ..spaces import SearchSpace
from .driver import EvaluationOptions, Search, TooManyFailures
from .evaluators import make_evaluator
from .result import SearchResult


def run(objective: Union[str, TabularBenchmark, Callable[[object], float]], strategy: str = "predictor",
        budget: int = 100, seed: int = 0, *, loss=None, protocol: str = "valid",
        space: Union[SearchSpace, str, None] = None, candidates: Optional[Sequence] = None,
        progress: bool = False, journal=None, resume=None,
        # the evaluation options' defaults are EvaluationOptions' (written there once)
        workers: int = EvaluationOptions.workers, executor: str = EvaluationOptions.executor,
        address: Optional[str] = EvaluationOptions.address, devices: Optional[Sequence] = EvaluationOptions.devices,
        num_cpus: float = EvaluationOptions.num_cpus, num_gpus: float = EvaluationOptions.num_gpus,
        failure_value: Optional[float] = EvaluationOptions.failure_value,
        count_failures: bool = EvaluationOptions.count_failures, max_failures: int = EvaluationOptions.max_failures,
        retries: int = EvaluationOptions.retries, **options) -> SearchResult:
    """Runs one search and returns its :class:`SearchResult`.

    objective: a benchmark name (``"nb201/cifar10"``, see ``fastrank.benchmarks.load``), a
        loaded :class:`TabularBenchmark`, or any ``evaluate(arch) -> float`` (higher is better;
        then ``space`` is required).
    strategy: a registered strategy (``fastrank.search.STRATEGIES``): "random", "predictor",
        "evolution", "acenas", "proxy-validation", "proxy-validation-ea", or your own
        (:func:`fastrank.search.register_strategy`).
    budget: queries paid for; an architecture is never evaluated twice.
    loss: the predictor's loss for the strategies that fit one, as
        :func:`fastrank.loss_spec.parse_loss` reads it (default "pw"; acenas: LambdaRank with
        AceNAS' relevance grades).
    protocol: "valid" or "test" (see :mod:`fastrank.search.task`).
    candidates: the architectures the run may query (default: the benchmark's rows, else the
        whole space where it is enumerable, else mutations and samples drawn each round).
    journal: a file the run's header and every paid query are appended to as they come back
        (fsync'ed); resume: such a file to continue (its queries are not evaluated again).
    workers, executor, address, devices, num_cpus, num_gpus: parallel evaluation
        (:class:`EvaluationOptions`): ``workers`` evaluations in flight in threads, spawned
        processes (one device each) or Ray tasks. With one worker, evaluations run in this
        thread, one at a time.
    failure_value, count_failures, max_failures, retries: failed evaluations (an exception, a
        value that is not a finite number, a dead worker) are recorded and learned as
        ``failure_value``; the run stops with :class:`TooManyFailures` after ``max_failures``
        in a row.
    options: the strategy's (its ``Options`` dataclass: ``GuidedOptions``,
        ``EvolutionOptions``, ``AceNASOptions``, ``ProxyValidationOptions``).

    Ctrl-C stops the run: the result comes back with ``interrupted=True`` and the queries paid
    so far; the journal can be resumed.
    """
    evaluation = EvaluationOptions(workers=workers, executor=executor, address=address, devices=devices,
                                   num_cpus=num_cpus, num_gpus=num_gpus, failure_value=failure_value,
                                   count_failures=count_failures, max_failures=max_failures, retries=retries)
    if objective is None or (not callable(objective) and not isinstance(objective, (str, TabularBenchmark))):
        raise TypeError("objective must be a benchmark name, a TabularBenchmark or a callable evaluate(arch)")
    search = Search(objective, strategy, budget, seed, loss=loss, protocol=protocol, space=space,
                    candidates=candidates, journal=journal, resume=resume, failure_value=failure_value,
                    count_failures=count_failures, max_failures=max_failures, **options)
    return drive(search, evaluation, progress)


def drive(search: Search, evaluation: EvaluationOptions, progress: bool = False, evaluator=None) -> SearchResult:
    """Keeps ``evaluation.workers`` evaluations of ``search`` in flight until it is done.
    ``evaluator``: one of your own (``submit(arch)``, ``wait() -> [Outcome]``, ``shutdown()``)
    instead of the one ``evaluation.executor`` names."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=search.budget, initial=len(search.queries), unit="query", leave=False,
                   desc=f"{search.strategy_name} {search.name} seed {search.seed}")
    interrupted = False
    died = {}  # identity -> deaths of its worker so far
    try:
        evaluator = evaluator or make_evaluator(search.evaluate, evaluation.workers, evaluation.executor,
                                   devices=evaluation.devices, address=evaluation.address,
                                   num_cpus=evaluation.num_cpus, num_gpus=evaluation.num_gpus,
                                   retries=evaluation.retries)
        while not search.done:
            free = evaluation.workers - len(search.in_flight)
            if free > 0:
                for arch in search.ask(free):
                    evaluator.submit(arch)
            if not search.in_flight:
                continue  # the strategy has nothing left; search.done says so now
            for outcome in evaluator.wait():
                if outcome.died:
                    key = search.space.identity(outcome.arch)
                    died[key] = died.get(key, 0) + 1
                    if died[key] <= evaluation.retries:
                        evaluator.submit(outcome.arch)
                        continue
                if outcome.error is None:
                    search.tell(outcome.arch, outcome.value, seconds=outcome.seconds, worker=outcome.worker)
                else:
                    search.tell_failure(outcome.arch, outcome.error, seconds=outcome.seconds, worker=outcome.worker)
                if bar is not None:
                    bar.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for arch in search.in_flight:  # not paid: a resumed run evaluates them again
            search.abandon(arch)
        if evaluator is not None:
            evaluator.shutdown()
        if bar is not None:
            bar.close()
        search.close()
    return search.result(interrupted)


__all__ = ["run", "drive", "Search", "SearchResult", "TooManyFailures"]
