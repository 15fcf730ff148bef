"""A benchmark as a search task: what a query returns and what a run is judged by.

Protocol "valid" (NASLib's, the default): a query returns the validation metric and the run
reports the test metric of the architecture it chose by validation. Protocol "test": queries
return the test metric (the seed study's NB201 reporting). Which load option gives which metric
is the benchmark family's ``split`` (``fastrank.benchmarks.Family``); a family with one metric
only (its ``target``) queries and reports that metric under either protocol.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Tuple

import numpy as np

from .. import benchmarks
from ..benchmarks import TabularBenchmark

PROTOCOLS = ("valid", "test")


@lru_cache(maxsize=16)
def _load(name: str, option: Optional[Tuple[str, str]]) -> TabularBenchmark:
    return benchmarks.load(name, **dict([option])) if option else benchmarks.load(name)


@dataclass
class BenchmarkTask:
    """``query`` answers the search's queries; ``report`` judges the chosen architecture."""

    name: str
    protocol: str
    query: TabularBenchmark
    report: TabularBenchmark

    @classmethod
    def load(cls, name: str, protocol: str = "valid") -> "BenchmarkTask":
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        split = benchmarks.family_of(name)[0].split
        if split is None:
            table = _load(name, None)
            return cls(name, protocol, table, table)
        report = _load(name, (split.option, split.test))
        query = report if protocol == "test" else _load(name, (split.option, split.valid))
        return cls(name, protocol, query, report)

    @property
    def space(self):
        return self.query.space

    def report_value(self, arch) -> float:
        return self.report.query(arch)

    def rank(self, arch) -> int:
        """1-based rank of arch's reported value in the table (ties share the best rank)."""
        value = self.report_value(arch)
        values = self.report.values
        better = values > value if self.report.higher_is_better else values < value
        return int(np.count_nonzero(better)) + 1

    def regret(self, arch) -> float:
        """How far arch's reported value is from the table's best (>= 0)."""
        _, best = self.report.optimum()
        return abs(best - self.report_value(arch))
