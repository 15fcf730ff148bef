"""The study's grid: tasks × losses × training-set sizes × seeds (ranking cells) and tasks ×
losses × seeds at a query budget (search cells), with the two presets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

# The seed study's 13 tasks in 5 spaces (Ji et al., ICCV 2025), from the packaged tables. NB101 and
# DARTS are the published samples (500 rows of 292 distinct cells, and 1,218 cells), not the whole
# spaces; TransNAS uses the four tasks the issue names, in both of its spaces.
STUDY_TASKS: Tuple[str, ...] = (
    "nb101", "nb201/cifar10", "nb201/cifar100", "nb201/imagenet16", "nb301",
    "tnb101_micro/class_scene", "tnb101_micro/class_object", "tnb101_micro/jigsaw", "tnb101_micro/autoencoder",
    "tnb101_macro/class_scene", "tnb101_macro/class_object", "tnb101_macro/jigsaw", "tnb101_macro/autoencoder")
# Beyond the paper, selectable by name (PyPI packages nas-bench-graph and analog-nasbench).
EXTRA_TASKS: Tuple[str, ...] = ("nasbench-graph/cora", "nasbench-graph/arxiv", "analognas/analog_accuracy")
PAPER_LOSSES: Tuple[str, ...] = ("MSE", "HR", "LR", "MSE+SR", "ListMLE", "EW", "MAPE", "WARP")


@dataclass(frozen=True)
class Cell:
    """One unit of work. kind "rank": train on ``size`` random labelled architectures and score
    the whole table; kind "search": one predictor-guided search of ``size`` queries (the budget)."""

    kind: str
    task: str
    loss: str
    size: int
    seed: int

    @property
    def key(self) -> str:
        """The cell's identity in cells.csv: what makes a finished cell never run again."""
        return f"{self.kind}|{self.task}|{self.loss}|{self.size}|{self.seed}"


@dataclass(frozen=True)
class Preset:
    tasks: Tuple[str, ...]
    losses: Tuple[str, ...]
    sizes: Tuple[int, ...]
    seeds: Tuple[int, ...]
    budget: int
    search_seeds: Tuple[int, ...]
    search_losses: Tuple[str, ...]


PRESETS: Dict[str, Preset] = {
    # every task and loss at two sizes, one seed; a short search per loss: minutes on 2 cores
    "quick": Preset(STUDY_TASKS, PAPER_LOSSES, (50, 200), (0,), 30, (0,), PAPER_LOSSES + ("pw",)),
    # the full grid: five sizes, five seeds, and a 100-query search per loss (with PW) on each task
    "paper": Preset(STUDY_TASKS, PAPER_LOSSES + ("pw",), (25, 50, 100, 200, 400), tuple(range(5)), 100,
                    tuple(range(5)), PAPER_LOSSES + ("pw",)),
}


def make_cells(tasks: Sequence[str], losses: Sequence[str], sizes: Sequence[int], seeds: Sequence[int],
               budget: int = 0, search_seeds: Sequence[int] = (), search_losses: Sequence[str] = ()) -> List[Cell]:
    """The ranking cells, then the search cells (none when budget is 0), in a stable order.
    Cheap cells of a task come together so that a worker reuses the table it loaded."""
    cells = [Cell("rank", t, loss, size, seed) for t in tasks for seed in seeds for size in sizes for loss in losses]
    if budget:
        cells += [Cell("search", t, loss, budget, seed) for t in tasks for seed in search_seeds
                  for loss in search_losses]
    return cells
