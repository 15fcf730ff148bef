"""Real NAS benchmarks as lookup tables. ``load("nb201/cifar10")``, ``load("tnb101_micro/jigsaw")``,
``load("nb101")``, ``load("nb301")``, ``load("nasbench_macro")``, ``load("analognas/analog_accuracy")``,
``load("nasbench-graph/cora")``; ``catalog()`` lists every name. The CSV tables ship with the package
(``data/``: see its README.md for provenance and licences).

Each benchmark family is declared once, next to its loader, in a module of its own (``nb201.py``,
``transnas.py``, ...: see ``family.py``); ``load``, ``catalog``, the search's protocols and the PW
loss's default read that declaration."""
from __future__ import annotations

from typing import Optional

from .csv_tables import data_dir
from .family import FAMILIES, CsvTable, Family, MetricSplit, PyPIPackage, family_of, register_family
from .tabular import TabularBenchmark

# The families register themselves on import, in the order catalog() lists them.
from .nb201 import DATASETS as NB201_DATASETS, load_nb201
from .transnas import TASKS as TRANSNAS_TASKS, load_transnas
from .nb101 import load_nb101
from .nb301 import load_nb301
from .nasbench_macro import load_nasbench_macro
from .analognas import load_analognas
from .nasbench_graph import load_nasbench_graph
from .listing import Entry, catalog


def load(name: str, data_dir: Optional[str] = None, **options) -> TabularBenchmark:
    """A benchmark by name: ``<family>/<part>`` (``nb201/cifar10``, ``tnb101_micro/jigsaw``,
    ``analognas/analog_accuracy``, ``nasbench-graph/cora``) or the name of a family of one table
    (``nb101``, ``nb301``, ``nasbench_macro``); ``catalog()`` lists them all. A bare family name
    loads its default part where it has one (``nb201``: cifar10). ``options`` go to the family's
    loader: ``metric="valid"|"test"`` for nb201, ``metric="valid_perf"|"perf"`` for nasbench-graph,
    ``file=`` for the PyPI benchmarks (analognas: package analog-nasbench; nasbench-graph:
    nas-bench-graph). ``data_dir`` or $FASTRANK_DATA names a folder of ``<table>.csv`` /
    ``<table>.csv.xz`` files to read instead of the packaged CSV tables."""
    family, part = family_of(name)
    return family.load(part, data_dir, **options)


__all__ = ["TabularBenchmark", "load", "catalog", "Entry", "load_nb201", "load_transnas", "load_nb101", "load_nb301",
           "load_nasbench_macro", "load_analognas", "load_nasbench_graph", "NB201_DATASETS", "TRANSNAS_TASKS", "data_dir",
           "Family", "CsvTable", "PyPIPackage", "MetricSplit", "FAMILIES", "register_family", "family_of"]
