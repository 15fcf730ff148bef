"""Tabular NAS benchmarks: architecture → metric over real benchmark data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..spaces import SearchSpace


@dataclass
class TabularBenchmark:
    """A table of architectures with a target metric (higher is better when
    ``higher_is_better``) and optional cheap weak labels (zero-cost proxies, params,
    FLOPs) aligned with it. NaN in a weak label marks a missing value."""

    name: str
    space: SearchSpace
    metric: str
    archs: List
    values: np.ndarray
    higher_is_better: bool = True
    weak_labels: Dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self):
        self.values = np.asarray(self.values, dtype=np.float64)
        if len(self.archs) != self.values.shape[0]:
            raise ValueError(f"{self.name}: {len(self.archs)} architectures but {self.values.shape[0]} values")
        self._row = {}
        for i, arch in enumerate(self.archs):
            self._row.setdefault(arch, i)

    def __len__(self) -> int:
        return len(self.archs)

    def __contains__(self, arch) -> bool:
        return arch in self._row

    def index(self, arch) -> int:
        """Row of an architecture (object or canonical string)."""
        if isinstance(arch, str):
            arch = self.space.parse(arch)
        try:
            return self._row[arch]
        except (KeyError, TypeError):
            raise KeyError(f"{self.name} has no entry for {self.space.to_string(arch)!r}") from None

    def query(self, arch) -> float:
        return float(self.values[self.index(arch)])

    def weak(self, label: str, arch) -> float:
        if label not in self.weak_labels:
            raise KeyError(f"{self.name} has no weak label {label!r}; it has {sorted(self.weak_labels)}")
        return float(self.weak_labels[label][self.index(arch)])

    def optimum(self) -> Tuple[object, float]:
        """The best architecture in the table and its value."""
        i = int(np.argmax(self.values) if self.higher_is_better else np.argmin(self.values))
        return self.archs[i], float(self.values[i])

    def codes(self) -> Optional[np.ndarray]:
        """Integer codes of the rows where the space is enumerable, else None."""
        if self.space.size is None:
            return None
        return np.array([self.space.encode(a) for a in self.archs], dtype=np.int64)

    def __repr__(self) -> str:
        return f"TabularBenchmark({self.name!r}, {len(self)} architectures, metric={self.metric!r})"
