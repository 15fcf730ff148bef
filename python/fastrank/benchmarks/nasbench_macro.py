"""NAS-Bench-Macro (``nasbench_macro``): every architecture of its 8-layer chain space on
CIFAR-10, from the packaged ``nasbench_macro.csv``."""
from __future__ import annotations

from typing import Optional

from ..spaces import NASBenchMacro
from . import csv_tables
from .family import CsvTable, Family, register_family
from .tabular import TabularBenchmark

TABLE = CsvTable("nasbench_macro.csv", rows=6561)
TARGET = "cifar10_test_mean"
WEAK_LABELS = ("params", "flops")


def load_nasbench_macro(path: Optional[str] = None) -> TabularBenchmark:
    """NAS-Bench-Macro: CIFAR-10 test accuracy (%, mean of 3 seeds); weak labels params, flops."""
    table = csv_tables.read(TABLE, ["arch", TARGET, *WEAK_LABELS], path)
    space = NASBenchMacro()
    return TabularBenchmark(
        "nasbench_macro", space, TARGET, csv_tables.archs(table, space, ["arch"]), csv_tables.target(table, TARGET),
        weak_labels={label: csv_tables.weak(table, label) for label in WEAK_LABELS}, source=table.where)


FAMILY = register_family(Family(
    "nasbench_macro", load_nasbench_macro, space=NASBenchMacro.name, size=TABLE.rows, weak_labels=WEAK_LABELS,
    source=TABLE, target=TARGET, ignores_options=True))
