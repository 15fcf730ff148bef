"""The loss study (Ji et al., "Loss Functions for Predictor-based NAS", ICCV 2025) as a harness:
a grid of tasks × losses × training-set sizes × seeds, each cell a predictor trained on a random
sample of a benchmark table and scored on the whole table, plus a search per loss; resumable
(cells.csv), on local processes or Ray.

    >>> from fastrank import study
    >>> cells = study.make_cells(["nb201/cifar10"], ["MSE", "HR"], sizes=[20], seeds=[0])
    >>> run = study.run_study(cells, "study_out", progress=False)      # doctest: +SKIP
"""
from .cells import RANK_METRICS, evaluate_cell, load_task
from .executors import EXECUTORS, LocalExecutor, RayExecutor, make_executor
from .grid import EXTRA_TASKS, PAPER_LOSSES, PRESETS, STUDY_TASKS, Cell, Preset, make_cells
from .report import write_report
from .runner import StudyRun, run_study
from .store import CellStore

__all__ = ["Cell", "Preset", "PRESETS", "STUDY_TASKS", "EXTRA_TASKS", "PAPER_LOSSES", "EXECUTORS", "RANK_METRICS",
           "make_cells", "run_study", "StudyRun", "evaluate_cell", "load_task", "LocalExecutor", "RayExecutor",
           "make_executor", "CellStore", "write_report"]
