"""Where the study's cells run: local processes (one per core, the search's worker processes of
:mod:`fastrank.search.evaluators`) or a Ray cluster (joined as the search joins it).

Every cell's result comes back on its own, as it finishes, and the caller writes it at once:
an interruption loses only the cells still running. Local processes take one cell per task
(a process pool's per-task cost is a millisecond). Ray tasks take a batch of cells (about
``batch_seconds`` of work, by a cost estimate) to keep Ray's per-task overhead small, and stream
each cell's result back as it finishes (a Ray generator task); a batch whose worker dies is
retried (``max_retries``), and the caller skips the cells it already has.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from .grid import Cell

Batch = List[Tuple[Cell, object]]  # (cell, loss module or None)
Done = List[Tuple[Cell, List[Tuple[str, float]]]]
EXECUTORS = ("local", "ray")


def estimated_seconds(cell: Cell) -> float:
    """A rough cost on one core (100 epochs of batches of 32; a search fits every 5 queries)."""
    if cell.kind == "search":
        return 0.04 * cell.size
    return 0.05 + 0.1 * -(-cell.size // 32)


def make_batches(work: Sequence[Tuple[Cell, object]], batch_seconds: float) -> List[Batch]:
    batches, current, cost = [], [], 0.0
    for item in work:
        current.append(item)
        cost += estimated_seconds(item[0])
        if cost >= batch_seconds:
            batches.append(current)
            current, cost = [], 0.0
    if current:
        batches.append(current)
    return batches


@contextmanager
def _one_thread():
    """Cells run on one thread everywhere: the same numbers from every executor (float sums
    split over threads round differently), and workers that leave the other cores to others."""
    import torch

    from .._native import num_threads, set_num_threads
    from ..workers import single_threaded

    before = torch.get_num_threads(), num_threads()
    single_threaded()
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        set_num_threads(before[1])


def run_cell(cell: Cell, loss, cell_fn: Callable) -> Done:
    with _one_thread():
        return [(cell, cell_fn(cell, loss))]


def _run_item(cell_fn: Callable, item) -> Done:
    return run_cell(item[0], item[1], cell_fn)


def stream_batch(batch: Batch, cell_fn: Callable):
    """A Ray generator task: each cell of the batch, yielded as it finishes."""
    for cell, loss in batch:
        with _one_thread():
            done = [(cell, cell_fn(cell, loss))]
        yield done


class LocalExecutor:
    """Processes on this machine (default: one per core), each single-threaded."""

    name = "local"

    def __init__(self, workers: Optional[int] = None):
        self.workers = workers or os.cpu_count() or 1

    def map(self, batches: Sequence[Batch], cell_fn: Callable) -> Iterator[Done]:
        work = [item for batch in batches for item in batch]
        if self.workers == 1:  # in this process
            for cell, loss in work:
                yield run_cell(cell, loss, cell_fn)
            return
        from functools import partial

        from ..search.evaluators import ProcessEvaluator, run_task

        # the search's worker processes: one cell at a time each, a dead worker named
        evaluator = ProcessEvaluator(partial(_run_item, cell_fn), min(self.workers, len(work)), call=run_task)
        try:
            pending = list(work)
            for _ in range(min(self.workers, len(pending))):
                evaluator.submit(pending.pop(0))
            while True:
                outcomes = evaluator.wait()
                if not outcomes:
                    return
                for outcome in outcomes:
                    if outcome.died:
                        raise RuntimeError(f"a study worker process died on cell {outcome.arch[0].key}: "
                                           f"{outcome.error}")
                    if outcome.error is not None:
                        raise outcome.error
                    if pending:
                        evaluator.submit(pending.pop(0))
                    yield outcome.value
        finally:
            evaluator.shutdown()


class RayExecutor:
    """Ray tasks, one batch each: ``ray.init(address)`` joins a cluster (None: a local
    instance, or the one already initialised in this process)."""

    name = "ray"

    def __init__(self, address: Optional[str] = None, max_retries: int = 3):
        from .._ray import connect

        self.ray = connect(address)
        self.max_retries = max_retries

    def map(self, batches: Sequence[Batch], cell_fn: Callable) -> Iterator[Done]:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=self.max_retries)(stream_batch)
        pending = [remote.remote(batch, cell_fn) for batch in batches]
        try:
            while pending:
                ready, _ = ray.wait(pending, num_returns=1)
                try:
                    ref = next(ready[0])
                except StopIteration:
                    pending.remove(ready[0])
                    continue
                yield ray.get(ref)
        finally:
            for generator in pending:
                ray.cancel(generator, force=True)


def make_executor(name: str, workers: Optional[int] = None, address: Optional[str] = None):
    if name == "local":
        if address is not None:
            raise ValueError("--address is for the ray executor")
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(address)
    raise ValueError(f"executor must be one of {EXECUTORS}, got {name!r}")
