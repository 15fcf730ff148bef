"""What a strategy knows of its run: the paid queries (values and failures, in the order they
came back) and the architectures in flight. The driver writes it; strategies read it."""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Dict, Hashable, List, Optional, Set

import numpy as np

from ..spaces import SearchSpace


@dataclass
class Query:
    """One paid evaluation. ``value`` is None when it failed (``error`` says why)."""

    number: int  # 1-based, in the order results came back
    arch: object
    value: Optional[float]
    seconds: float  # wall time of the evaluation
    error: Optional[str] = None
    worker: Optional[str] = None

    @property
    def failed(self) -> bool:
        return self.value is None


class History:
    """Paid queries and architectures in flight, by ``space.identity`` (isomorphic NB101 cells
    are one architecture). ``failure_value``: what a failed evaluation is learned as (None:
    worse than anything seen, see :meth:`failure_value_now`)."""

    def __init__(self, space: SearchSpace, failure_value: Optional[float] = None):
        self.space = space
        self.failure_value = failure_value
        self.queries: List[Query] = []
        self._values: Dict[Hashable, Optional[float]] = {}
        self._in_flight: Dict[Hashable, object] = {}
        self._labelled_archs: List = []
        self._labelled_values: List[float] = []

    # --- written by the driver ---------------------------------------------------------
    def start(self, arch) -> None:
        self._in_flight[self.space.identity(arch)] = arch

    def abandon(self, arch) -> None:
        """An architecture in flight that will not be recorded (a run stopped with it running)."""
        self._in_flight.pop(self.space.identity(arch), None)

    @contextmanager
    def holding(self):
        """For a strategy's ``ask``: ``hold(arch)`` marks a proposal taken until the block ends,
        so that the rest of the same ask (a refill, a draw) does not propose it again; the driver
        then marks what the ask returned in flight itself."""
        held = []

        def hold(arch) -> None:
            self.start(arch)
            held.append(arch)

        try:
            yield hold
        finally:
            for arch in held:
                self.abandon(arch)

    def record(self, query: Query) -> None:
        key = self.space.identity(query.arch)
        self._in_flight.pop(key, None)
        self._values[key] = query.value
        self.queries.append(query)
        if query.value is not None:
            self._labelled_archs.append(query.arch)
            self._labelled_values.append(query.value)

    # --- read by strategies ------------------------------------------------------------
    def seen(self, arch) -> bool:
        """Queried (or failed) already, or in flight."""
        key = self.space.identity(arch)
        return key in self._values or key in self._in_flight

    def is_in_flight(self, arch) -> bool:
        return self.space.identity(arch) in self._in_flight

    def taken(self) -> Set[Hashable]:
        """Identities queried, failed or in flight."""
        return set(self._values) | set(self._in_flight)

    def cached(self, arch):
        """(True, value) for a paid architecture (value None if it failed), else (False, None)."""
        key = self.space.identity(arch)
        return (True, self._values[key]) if key in self._values else (False, None)

    @property
    def in_flight(self) -> List:
        return list(self._in_flight.values())

    @property
    def n_labelled(self) -> int:
        return len(self._labelled_values)

    def labelled(self, with_failures: bool = False):
        """(architectures, values) that came back, in that order; ``with_failures``: failed ones
        too, each at :meth:`failure_value_now`."""
        archs, values = list(self._labelled_archs), list(self._labelled_values)
        if with_failures and len(archs) < len(self.queries):
            worst = self.failure_value_now()
            archs = [q.arch for q in self.queries]
            values = [worst if q.value is None else q.value for q in self.queries]
        return archs, np.array(values, dtype=np.float64)

    def failure_value_now(self) -> float:
        """The value a failure is learned as: ``failure_value``, else one spread below the worst
        value seen (the spread: max − min, or 1 while all values are equal)."""
        if self.failure_value is not None:
            return float(self.failure_value)
        if not self._labelled_values:
            return 0.0
        low, high = min(self._labelled_values), max(self._labelled_values)
        spread = high - low
        return low - (spread if spread > 0 and math.isfinite(spread) else 1.0)

    def best(self, n: int = 1) -> List:
        """The n best architectures that came back, by value (the first to come back on ties)."""
        archs, values = self._labelled_archs, np.asarray(self._labelled_values, dtype=np.float64)
        return [archs[i] for i in np.argsort(-values, kind="stable")[:n]]
