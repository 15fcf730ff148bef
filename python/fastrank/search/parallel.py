"""Many runs at once: one process per core, each single-threaded (the runs are the parallelism)."""
from __future__ import annotations

import os
import time
from typing import Callable, List, Optional, Sequence, Tuple

from ..workers import single_threaded
from .result import SearchResult
from .runner import run


def _run_job(numbered: Tuple[int, dict]) -> SearchResult:
    single_threaded()
    return run(**numbered[1])


def run_many(jobs: Sequence[dict], workers: Optional[int] = None, progress: bool = True,
             desc: str = "runs", on_result: Optional[Callable[[List[SearchResult]], None]] = None
             ) -> Tuple[List[SearchResult], bool]:
    """Runs ``search.run(**job)`` for every job; returns (results in job order, interrupted).

    ``workers``: processes (default: all cores), the search's worker processes
    (:class:`~fastrank.search.evaluators.ProcessEvaluator`); with 1 (or one job) the runs stay
    in this process and a single run shows its own per-query progress bar. Ctrl-C stops the
    grid: finished runs are kept, and runs in flight come back partial (``interrupted=True``).
    ``on_result(results so far)`` is called as each run finishes (a caller writes them)."""
    from tqdm.auto import tqdm

    from .evaluators import ProcessEvaluator, run_task

    workers = (os.cpu_count() or 1) if workers is None else workers
    results: List[Optional[SearchResult]] = [None] * len(jobs)

    def finished(index: int, result: SearchResult) -> None:
        results[index] = result
        bar.update()
        if on_result is not None:
            on_result([r for r in results if r is not None])

    if workers == 1 or len(jobs) == 1:
        bar = tqdm(total=len(jobs), desc=desc, unit="run", disable=not progress or len(jobs) == 1)
        try:
            for i, job in enumerate(jobs):
                finished(i, run(progress=progress and len(jobs) == 1, **job))
                if results[i].interrupted:
                    return [r for r in results if r is not None], True
        except KeyboardInterrupt:
            return [r for r in results if r is not None], True
        finally:
            bar.close()
        return list(results), False
    evaluator = ProcessEvaluator(_run_job, min(workers, len(jobs)), call=run_task)
    bar = tqdm(total=len(jobs), desc=desc, unit="run", disable=not progress)
    pending = list(enumerate(jobs))
    interrupted = False

    def collect(outcomes) -> None:
        for outcome in outcomes:
            if outcome.died:
                raise RuntimeError(f"a search worker process died: {outcome.error}")
            if outcome.error is not None:
                raise outcome.error
            finished(outcome.arch[0], outcome.value)

    try:
        while pending or evaluator.busy:
            while pending and evaluator.busy < len(evaluator.workers):
                evaluator.submit(pending.pop(0))
            collect(evaluator.wait())
    except KeyboardInterrupt:
        interrupted = True
        # the workers got the same Ctrl-C: their runs come back as partial results
        deadline = time.monotonic() + 10
        try:
            while evaluator.busy and time.monotonic() < deadline:
                collect(evaluator.wait(timeout=max(0.0, deadline - time.monotonic())))
        except (KeyboardInterrupt, RuntimeError):
            pass
    finally:
        bar.close()
        evaluator.shutdown()
    return [r for r in results if r is not None], interrupted
