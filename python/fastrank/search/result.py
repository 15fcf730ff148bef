"""A finished (or interrupted) run: what it queried and what it found."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ..spaces import SearchSpace
from .history import Query

RUN_COLUMNS = ("benchmark", "strategy", "loss", "protocol", "seed", "budget", "queries", "failed", "arch",
               "query_value", "test_value", "rank", "regret", "seconds", "interrupted")


@dataclass
class SearchResult:
    """``arch`` is the best queried architecture by query value; ``test_value``, ``rank`` (1 =
    the table's best) and ``regret`` judge it on the benchmark's reported metric (None for a
    user's evaluate). ``queries`` holds failed evaluations too (value None, with their error)."""

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

    @property
    def failed(self) -> List[Query]:
        return [q for q in self.queries if q.failed]

    def best_so_far(self) -> np.ndarray:
        """Best value after each query (a failure holds the best before it; NaN before any value)."""
        values = np.array([np.nan if q.value is None else q.value for q in self.queries], dtype=np.float64)
        return np.fmax.accumulate(values) if values.size else values

    def row(self) -> dict:
        """One row of runs.csv."""
        out = {k: getattr(self, k) for k in RUN_COLUMNS if k not in ("arch", "queries", "failed")}
        out.update(arch=self.arch_string, queries=len(self.queries), failed=len(self.failed))
        return {k: out[k] for k in RUN_COLUMNS}

    def trace_rows(self) -> List[dict]:
        best = self.best_so_far()
        return [{"benchmark": self.benchmark, "strategy": self.strategy, "loss": self.loss,
                 "protocol": self.protocol, "seed": self.seed, "query": q.number,
                 "arch": self.space.to_string(q.arch), "value": "" if q.value is None else q.value,
                 "best_so_far": float(b), "seconds": q.seconds, "error": q.error or ""}
                for q, b in zip(self.queries, best)]
