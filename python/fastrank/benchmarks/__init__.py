"""Real NAS benchmarks as lookup tables. ``load("nb201/cifar10")``, ``load("tnb101_micro/jigsaw")``,
``load("nb101")``, ``load("nb301")``, ``load("nasbench_macro")``, ``load("analognas/analog_accuracy")``;
``catalog()`` lists every name. The CSV tables ship with the package (``data/``: see its README.md
for provenance and licences)."""
from __future__ import annotations

from typing import Optional

from .analognas import load_analognas
from .listing import Entry, catalog
from .nasbench_graph import load_nasbench_graph
from .csv_tables import (
    NB201_DATASETS,
    TRANSNAS_TASKS,
    data_dir,
    load_nasbench_macro,
    load_nb101,
    load_nb201,
    load_nb301,
    load_transnas,
)
from .tabular import TabularBenchmark


def load(name: str, data_dir: Optional[str] = None, **options) -> TabularBenchmark:
    """A benchmark by name: ``nb201/<cifar10|cifar100|imagenet16>`` (option metric="valid"|
    "test"), ``tnb101_micro/<task>``, ``tnb101_macro/<task>``, ``nb101``, ``nb301``,
    ``nasbench_macro`` (CSV tables packaged with fastrank; ``data_dir`` or $FASTRANK_DATA names a
    folder of ``<table>.csv`` / ``<table>.csv.xz`` files to read instead), ``analognas/<metric>``
    (PyPI package analog-nasbench), ``nasbench-graph/<dataset>`` (option metric="valid_perf"|"perf";
    PyPI package nas-bench-graph)."""
    family, _, part = name.partition("/")
    if family == "nb201":
        return load_nb201(part or "cifar10", path=data_dir, **options)
    if family in ("tnb101_micro", "tnb101_macro"):
        return load_transnas(family.split("_")[1], part, path=data_dir)
    if family == "nb101" and not part:
        return load_nb101(data_dir)
    if family == "nb301" and not part:
        return load_nb301(data_dir)
    if family == "nasbench_macro" and not part:
        return load_nasbench_macro(data_dir)
    if family in ("nasbench-graph", "nasbench_graph"):
        return load_nasbench_graph(part or "cora", **options)
    if family == "analognas":
        return load_analognas(part or "baseline_accuracy", **options)
    raise ValueError(f"unknown benchmark {name!r}; see fastrank.benchmarks.load's documentation")


__all__ = ["TabularBenchmark", "load", "catalog", "Entry", "load_nb201", "load_transnas", "load_nb101", "load_nb301",
           "load_nasbench_macro", "load_analognas", "load_nasbench_graph", "NB201_DATASETS", "TRANSNAS_TASKS", "data_dir"]
