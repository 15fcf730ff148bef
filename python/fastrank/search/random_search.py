"""Random search: uniform draws from the pool (or the space) until the budget is spent."""
from __future__ import annotations

import numpy as np

from .candidates import CandidatePool
from .trace import Trace


def random_search(trace: Trace, pool: CandidatePool, rng: np.random.Generator) -> None:
    while trace.remaining > 0:
        batch = pool.draw(trace, rng, trace.remaining)
        if not batch:
            return  # a pool smaller than the budget: everything was queried
        for arch in batch:
            trace(arch)
