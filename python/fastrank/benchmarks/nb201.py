"""NAS-Bench-201 (``nb201/<dataset>``): every cell of its space trained on CIFAR-10, CIFAR-100
and ImageNet16-120, from the packaged ``nb201.csv``."""
from __future__ import annotations

from typing import Optional

from ..spaces import NASBench201
from . import csv_tables
from .family import CsvTable, Family, MetricSplit, register_family
from .tabular import TabularBenchmark

DATASETS = ("cifar10", "cifar100", "imagenet16")  # the first is what a bare "nb201" loads
METRICS = ("valid", "test")  # load_nb201's metric= option; its columns are <dataset>_<metric>
TABLE = CsvTable("nb201.csv", rows=15625)


def load_nb201(dataset: str = DATASETS[0], metric: str = METRICS[0], path: Optional[str] = None) -> TabularBenchmark:
    """NAS-Bench-201 on cifar10 / cifar100 / imagenet16 (ImageNet16-120): accuracy (%) at
    200 epochs, ``metric`` "valid" or "test"; weak label "zen" (Zen-NAS score; NaN for the 341
    cells where the proxy failed, all of them cells whose output is cut off from the input)."""
    if dataset not in DATASETS:
        raise ValueError(f"NB201 dataset must be one of {DATASETS}, got {dataset!r}")
    if metric not in METRICS:
        raise ValueError(f"metric must be {' or '.join(map(repr, METRICS))}, got {metric!r}")
    column = f"{dataset}_{metric}"
    table = csv_tables.read(TABLE, ["arch", column, f"{dataset}_zen"], path)
    space = NASBench201()
    zen = csv_tables.weak(table, f"{dataset}_zen", missing_below=csv_tables.FAILED_PROXY)
    return TabularBenchmark(f"nb201/{dataset}", space, column, csv_tables.archs(table, space, ["arch"]),
                            csv_tables.target(table, column), weak_labels={"zen": zen}, source=table.where)


FAMILY = register_family(Family(
    "nb201", load_nb201, parts=DATASETS, default_part=DATASETS[0], space=NASBench201.name, size=TABLE.rows,
    weak_labels=("zen",), source=TABLE, split=MetricSplit("metric", valid=METRICS[0], test=METRICS[1]),
    seed_pw="nb201"))
