"""The NAS-Bench-301 sample (``nb301``): 1,218 cells of the DARTS space with NAS-Bench-301's
CIFAR-10 validation accuracy and zero-cost proxies, from the packaged ``nb301_subset.csv``."""
from __future__ import annotations

from typing import Optional

from ..spaces import DARTS
from . import csv_tables
from .family import CsvTable, Family, register_family
from .tabular import TabularBenchmark

TABLE = CsvTable("nb301_subset.csv", rows=1218)


def load_nb301(path: Optional[str] = None) -> TabularBenchmark:
    """The DARTS-space sample with NAS-Bench-301 CIFAR-10 validation accuracy (%) and
    zero-cost proxies."""
    return csv_tables.zero_cost_sample("nb301", DARTS(), TABLE, ("normal", "reduce"), "|", path)


FAMILY = register_family(Family(
    "nb301", load_nb301, space=DARTS.name, size=TABLE.rows, weak_labels=csv_tables.ZERO_COST, source=TABLE,
    target=csv_tables.SAMPLE_TARGET, seed_pw="darts", ignores_options=True))
