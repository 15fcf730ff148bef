"""What every worker process runs with (a search run of a grid, a study cell): torch and
fastrank on one thread each, so that results do not depend on the executor (float sums split
over threads round differently) and workers leave the other cores to each other."""
from __future__ import annotations

__all__ = ["single_threaded"]


def single_threaded() -> None:
    import torch

    from ._native import set_num_threads

    torch.set_num_threads(1)
    set_num_threads(1)
