"""Many runs at once: one process per core, each single-threaded (the runs are the parallelism)."""
from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Callable, List, Optional, Sequence, Tuple

from .result import SearchResult
from .runner import run


def _single_threaded() -> None:
    """torch and fastrank on one thread each: what every search worker (and study cell) runs with,
    so that results do not depend on the executor and workers leave the other cores alone."""
    import torch

    import fastrank

    torch.set_num_threads(1)
    fastrank.set_num_threads(1)


def _run_job(job: dict) -> SearchResult:
    return run(**job)


def run_many(jobs: Sequence[dict], workers: Optional[int] = None, progress: bool = True,
             desc: str = "runs", on_result: Optional[Callable[[List[SearchResult]], None]] = None
             ) -> Tuple[List[SearchResult], bool]:
    """Runs ``search.run(**job)`` for every job; returns (results in job order, interrupted).

    ``workers``: processes (default: all cores); with 1 (or one job) the runs stay in this
    process and a single run shows its own per-query progress bar. Ctrl-C stops the grid:
    finished runs are kept, and runs in flight come back partial (``interrupted=True``).
    ``on_result(results so far)`` is called as each run finishes (a caller writes them)."""
    from tqdm.auto import tqdm

    workers = (os.cpu_count() or 1) if workers is None else workers
    results: List[Optional[SearchResult]] = [None] * len(jobs)
    if workers == 1 or len(jobs) == 1:
        bar = tqdm(total=len(jobs), desc=desc, unit="run", disable=not progress or len(jobs) == 1)
        try:
            for i, job in enumerate(jobs):
                results[i] = run(progress=progress and len(jobs) == 1, **job)
                bar.update()
                if on_result is not None:
                    on_result([r for r in results if r is not None])
                if results[i].interrupted:
                    return [r for r in results if r is not None], True
        except KeyboardInterrupt:
            return [r for r in results if r is not None], True
        finally:
            bar.close()
        return list(results), False
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("spawn"),
                               initializer=_single_threaded)
    futures = {pool.submit(_run_job, job): i for i, job in enumerate(jobs)}
    bar = tqdm(total=len(jobs), desc=desc, unit="run", disable=not progress)
    pending, interrupted = set(futures), False
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                results[futures[future]] = future.result()
                bar.update()
                if on_result is not None:
                    on_result([r for r in results if r is not None])
    except KeyboardInterrupt:
        interrupted = True
        for future in pending:
            future.cancel()
        # the workers got the same Ctrl-C: their runs come back as partial results
        finished, _ = wait([f for f in pending if not f.cancelled()], timeout=10)
        for future in finished:
            if future.exception() is None:
                results[futures[future]] = future.result()
    finally:
        bar.close()
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return [r for r in results if r is not None], interrupted
