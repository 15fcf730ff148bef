"""The paid-for queries of one search run: the budget, the cache and the trace."""
from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Hashable, List, Optional

import numpy as np

from ..spaces import SearchSpace
from .._checks import check_int

TRACE_COLUMNS = ("query", "arch", "value", "best_so_far", "seconds")


class BudgetSpent(Exception):
    """Raised by a query once the run's budget is spent; strategies stop on it."""


@dataclass
class Query:
    number: int  # 1-based
    arch: object
    value: float
    seconds: float  # wall time of the evaluation


@dataclass
class Trace:
    """Calls ``evaluate`` at most ``budget`` times, never twice for the same architecture
    (``space.identity``: isomorphic NB101 cells are one architecture); a repeated query
    returns the cached value for free. ``trace_file``: rows are appended and flushed as they
    come, so a killed run leaves every paid query on disk."""

    evaluate: Callable[[object], float]
    space: SearchSpace
    budget: int
    trace_file: Optional[str] = None
    queries: List[Query] = field(default_factory=list)
    on_query: Optional[Callable[[Query], None]] = None

    def __post_init__(self):
        check_int(self.budget, "budget")
        self._cache: Dict[Hashable, float] = {}
        self._best = -math.inf
        self._writer = None
        if self.trace_file is not None:
            self._handle = open(self.trace_file, "w", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(TRACE_COLUMNS)
            self._handle.flush()

    @property
    def remaining(self) -> int:
        return self.budget - len(self.queries)

    def seen(self, arch) -> bool:
        return self.space.identity(arch) in self._cache

    def __call__(self, arch) -> float:
        key = self.space.identity(arch)
        if key in self._cache:
            return self._cache[key]
        if self.remaining <= 0:
            raise BudgetSpent(f"the budget of {self.budget} queries is spent")
        start = time.perf_counter()
        value = self.evaluate(arch)
        seconds = time.perf_counter() - start
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"evaluate must return a number, got {type(value).__name__} for "
                            f"{self.space.to_string(arch)}") from None
        if not math.isfinite(value):
            raise ValueError(f"evaluate returned {value} for {self.space.to_string(arch)}; values must be finite")
        self._cache[key] = value
        query = Query(len(self.queries) + 1, arch, value, seconds)
        self.queries.append(query)
        self._best = max(self._best, value)
        if self._writer is not None:
            self._writer.writerow((query.number, self.space.to_string(arch), value, self._best, seconds))
            self._handle.flush()
        if self.on_query is not None:
            self.on_query(query)
        return value

    def close(self) -> None:
        if self._writer is not None:
            self._handle.close()
            self._writer = None

    # --- what the strategies read -------------------------------------------------------
    def labelled(self):
        """(architectures, values) queried so far, in query order."""
        return [q.arch for q in self.queries], np.array([q.value for q in self.queries], dtype=np.float64)

    def best(self):
        """The queried architecture with the highest value (the first on ties) and its value."""
        if not self.queries:
            raise ValueError("no query was made")
        i = int(np.argmax([q.value for q in self.queries]))
        return self.queries[i].arch, self.queries[i].value

    def best_so_far(self) -> np.ndarray:
        return np.maximum.accumulate(np.array([q.value for q in self.queries], dtype=np.float64))
