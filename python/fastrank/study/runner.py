"""Runs a study grid: the cells not yet in cells.csv, on an executor, then the tables and figures."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence, Union

from ..loss_spec import parse_loss
from .cells import evaluate_cell, load_task
from .executors import LocalExecutor, RayExecutor, make_batches, make_executor
from .grid import Cell
from .store import CellStore


@dataclass
class StudyRun:
    out: Path
    cells: int         # in the grid
    computed: int      # run now
    reused: int        # already in cells.csv: not run again
    seconds: float
    interrupted: bool
    files: tuple = ()


def check_grid(cells: Sequence[Cell], losses: Mapping[str, object]) -> None:
    """Refuses, before any work, tasks that do not load, loss specs that do not parse and
    training sets too large for their table."""
    for task in sorted({c.task for c in cells}):
        try:
            bench, _, _ = load_task(task)
        except (ValueError, KeyError, ImportError, FileNotFoundError) as err:
            raise ValueError(f"task {task!r}: {err}") from None
        too_large = sorted({c.size for c in cells if c.task == task and c.kind == "rank" and c.size >= len(bench)})
        if too_large:
            raise ValueError(f"task {task!r} has {len(bench)} architectures: training sizes {too_large} leave "
                             "nothing to rank")
    for spec in sorted({c.loss for c in cells}):
        if spec not in losses:
            parse_loss(spec)


def run_study(cells: Sequence[Cell], out: Union[str, Path], executor: Union[str, LocalExecutor, RayExecutor] = "local",
              *, losses: Optional[Mapping[str, object]] = None, cell_fn: Callable = evaluate_cell,
              batch_seconds: float = 3.0, progress: bool = True, report: bool = True) -> StudyRun:
    """Runs every cell not yet finished in ``out/cells.csv`` and writes the report there.

    losses: label -> loss module for losses that are not spec strings (a user's own module);
        cells name them by label. Registered names and spec strings need no entry.
    cell_fn: ``fn(cell, loss) -> [(metric, value), ...]`` (default: :func:`evaluate_cell`).
    Ctrl-C stops the grid; every finished cell is kept and a rerun continues from there.
    """
    losses = dict(losses or {})
    out = Path(out)
    check_grid(cells, losses)
    # Specs become modules here, in the process that knows every registered loss (a user's
    # register_loss included); only the bare "pw" waits for its task to pick the pair.
    for spec in {c.loss for c in cells}:
        if spec not in losses and spec.strip().lower() != "pw" and not spec.strip().lower().startswith("pw@"):
            losses[spec] = parse_loss(spec)
    if isinstance(executor, str):
        executor = make_executor(executor)
    store = CellStore(out / "cells.csv", grid=[c.key for c in cells], lock=True)
    try:
        return _run_cells(store, cells, out, executor, losses, cell_fn, batch_seconds, progress, report)
    finally:
        store.close()


def _run_cells(store, cells, out, executor, losses, cell_fn, batch_seconds, progress, report) -> "StudyRun":
    pending = [c for c in dict.fromkeys(cells) if c.key not in store.finished]
    reused = len(set(cells)) - len(pending)
    batches = make_batches([(c, losses.get(c.loss)) for c in pending], batch_seconds)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(pending), desc=f"study ({executor.name})", unit="cell")
    computed, interrupted, start = 0, False, time.perf_counter()
    try:
        for done in executor.map(batches, cell_fn):
            for cell, values in done:
                if cell.key in store.finished:  # a retried Ray batch repeats the cells it had streamed
                    continue
                store.add(cell, values)
                computed += 1
                if bar is not None:
                    bar.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    files = ()
    if report and store.finished:
        from .report import write_report
        files = write_report(store.rows(), out)
    return StudyRun(out, len(set(cells)), computed, reused, seconds, interrupted, files)
