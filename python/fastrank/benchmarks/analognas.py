"""AnalogNAS-Bench (``analognas/<metric>``) from the PyPI package ``analog-nasbench``, read
without importing it.

Its pickle ``analognasbench/data.anb`` maps NASLib op-index 6-tuples (edges 0→1, 0→2, 0→3,
1→2, 1→3, 2→3; ops 0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3)
to ``analognasbench.data.Architecture`` objects. A restricted unpickler maps that class to a
plain attribute holder and refuses every other class, so no code from the file runs.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np

from .. import _safe_pickle as safe_pickle
from .._safe_pickle import package_file
from ..spaces import NASBench201
from . import nb201
from .family import Family, PyPIPackage, register_family
from .tabular import TabularBenchmark

PACKAGE = PyPIPackage("analognasbench", "analog-nasbench", extra="nas")
# the first is what a bare "analognas" loads
METRICS = ("baseline_accuracy", "ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy")
# accuracy drift after 60 s, 1 h, 1 day and 30 days (mean of the measurement)
DRIFTS = tuple(f"{kind}_drift_{t}" for kind in ("baseline", "analog") for t in (60, 3600, 86400, 2592000))
# NASLib op index -> NB201 op index (none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3)
_NASLIB_TO_NB201 = {0: 1, 1: 0, 2: 3, 3: 2, 4: 4}
# NASLib edge order (0→1, 0→2, 0→3, 1→2, 1→3, 2→3) -> position in the NB201 string order
_NASLIB_EDGE_TO_STRING = (0, 1, 3, 2, 4, 5)


class _Record:
    def __setstate__(self, state):
        self.__dict__.update(state if isinstance(state, dict) else {})


_ALLOWED = {("analognasbench.data", "Architecture"): _Record, ("analognasbench.data", "DriftMeasurement"): _Record}


def naslib_to_nb201(key) -> tuple:
    ops = [0] * 6
    for naslib_edge, op in enumerate(key):
        ops[_NASLIB_EDGE_TO_STRING[naslib_edge]] = _NASLIB_TO_NB201[int(op)]
    return tuple(ops)


def weak_labels(metric: str) -> tuple:
    """Every column but the target: the other accuracies, then the drifts."""
    return tuple(column for column in METRICS + DRIFTS if column != metric)


def load_analognas(metric: str = METRICS[0], file: Optional[str] = None) -> TabularBenchmark:
    """AnalogNAS-Bench: all NB201 cells retrained on CIFAR-10 (``baseline_accuracy``) and
    their accuracies on analog hardware. Weak labels: the other accuracy columns and the
    accuracy drifts (``analog_drift_86400`` ...)."""
    if metric not in METRICS:
        raise ValueError(f"AnalogNAS metric must be one of {METRICS}, got {metric!r}")
    path = Path(file) if file is not None else package_file(PACKAGE.module, "data.anb", PACKAGE.distribution)
    table = safe_pickle.load(path, {**_ALLOWED, **safe_pickle.numpy_scalars()})
    if not isinstance(table, dict):
        raise ValueError(f"{str(path)!r} is malformed: expected a dict of architectures")
    archs, columns = [], {m: [] for m in METRICS + DRIFTS}
    try:
        for key, record in table.items():
            archs.append(naslib_to_nb201(key))
            for m in METRICS + DRIFTS:
                value = getattr(record, m, None)
                value = getattr(value, "value", value)  # drift measurements carry (value, uncertainty)
                columns[m].append(float(value) if value is not None else math.nan)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as err:
        raise ValueError(f"{str(path)!r} is malformed: {type(err).__name__}: {err}") from None
    values = np.array(columns[metric])
    weak = {label: np.array(columns[label]) for label in weak_labels(metric)}
    return TabularBenchmark(f"analognas/{metric}", NASBench201(), metric, archs, values, weak_labels=weak,
                            source=str(path))


# Every NB201 cell, retrained: the nb201 table's rows.
FAMILY = register_family(Family(
    "analognas", load_analognas, parts=METRICS, default_part=METRICS[0], space=NASBench201.name,
    size=nb201.TABLE.rows, weak_labels=weak_labels, source=PACKAGE, target=lambda metric: metric))
