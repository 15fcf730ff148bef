"""The NAS-Bench-101 sample (``nb101``): 500 rows of its space with CIFAR-10 validation accuracy
and zero-cost proxies, from the packaged ``nb101_subset.csv``."""
from __future__ import annotations

from typing import Optional

from ..spaces import NASBench101
from . import csv_tables
from .family import CsvTable, Family, register_family
from .tabular import TabularBenchmark

# As published, the sample lists isomorphic cells as rows of their own (trained separately,
# values up to 1.41 apart): 500 rows, 292 distinct cells (a test counts them).
TABLE = CsvTable("nb101_subset.csv", rows=500, distinct=292)
# The loader takes every zero-cost column the table has; the packaged sample lacks nwot (a
# test checks the listing against the table).
PROXIES = tuple(p for p in csv_tables.ZERO_COST if p != "nwot")


def load_nb101(path: Optional[str] = None) -> TabularBenchmark:
    """The NAS-Bench-101 sample: CIFAR-10 validation accuracy (%) and zero-cost proxies."""
    return csv_tables.zero_cost_sample("nb101", NASBench101(), TABLE, ("adjacency", "ops"), ";", path)


FAMILY = register_family(Family(
    "nb101", load_nb101, space=NASBench101.name, size=TABLE.rows, weak_labels=PROXIES, source=TABLE,
    target=csv_tables.SAMPLE_TARGET, seed_pw="nb101", ignores_options=True))
