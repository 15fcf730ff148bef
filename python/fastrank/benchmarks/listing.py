"""What ``load`` can load, for listings such as the command line's: built from the facts the
loaders enforce (row counts, columns) and a look-up of the PyPI packages, without reading any
table, so it takes microseconds."""
from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Tuple

from ..spaces import DARTS, NASBench101, NASBench201, NASBenchMacro, TransNASMacro, TransNASMicro
from . import analognas, nasbench_graph, table_files
from .csv_tables import NB201_DATASETS, ROWS, TRANSNAS_TASKS, ZERO_COST

# Zero-cost proxy columns of the two samples (the loaders take every one a table has; the
# packaged NB101 sample lacks nwot, a test checks both against the tables).
NB101_PROXIES = tuple(p for p in ZERO_COST if p != "nwot")
NB301_PROXIES = ZERO_COST
# NAS-Bench-Graph: 26,206 architectures per dataset; proteins was run in a 5-op space.
GRAPH_SIZES = {d: (2021 if d == "proteins" else 26206) for d in nasbench_graph.DATASETS}
NAS_EXTRA = "pip install 'fastrank[nas]'"
# The packaged NB101 sample, as published, lists isomorphic cells as rows of their own (trained
# separately, values up to 1.41 apart): 500 rows, 292 distinct cells (a test counts them).
PACKAGED_DISTINCT = {"nb101_subset.csv": 292}


@dataclass(frozen=True)
class Entry:
    """One loadable benchmark. ``metrics``: the values of ``load``'s ``metric=`` option where
    it has one (the first is the default), else the one target column. ``architectures``: the
    table's rows; ``distinct``: how many distinct architectures they hold where that is fewer
    (the packaged NB101 sample, as published: 500 rows, 292 cells). ``available`` is False
    for a PyPI-backed benchmark whose package is not installed, or a table missing from the data
    folder the user named; ``needs`` then says what is missing."""

    name: str
    space: str
    architectures: int
    metrics: Tuple[str, ...]
    weak_labels: Tuple[str, ...]
    source: str
    available: bool = True
    needs: Optional[str] = None
    distinct: Optional[int] = None  # distinct architectures, where a sample lists isomorphic cells as rows

    def as_dict(self) -> Dict[str, object]:
        return asdict(self)


def catalog(data_dir: Optional[str] = None) -> List[Entry]:
    """Every benchmark name ``fastrank.benchmarks.load`` accepts, with its space, size,
    metrics, weak labels and source (the packaged table, the ``data_dir`` / $FASTRANK_DATA
    file it would read, or the PyPI package)."""
    folder = table_files.user_folder(data_dir)

    def table(name: str, space: str, file: str, metrics, weak) -> Entry:
        """A CSV table's entry: packaged, or the user folder's file (missing: not available)."""
        if folder is None:
            return Entry(name, space, ROWS[file], tuple(metrics), tuple(weak), f"packaged {file}.xz",
                     distinct=PACKAGED_DISTINCT.get(file))
        found = next((p for p in (folder / file, folder / (file + ".xz")) if p.is_file()), None)
        if found is None:
            return Entry(name, space, ROWS[file], tuple(metrics), tuple(weak), str(folder / file), False,
                         f"{file} or {file}.xz in {folder}")
        return Entry(name, space, ROWS[file], tuple(metrics), tuple(weak), str(found))

    entries = [table(f"nb201/{d}", NASBench201.name, "nb201.csv", ("valid", "test"), ("zen",)) for d in NB201_DATASETS]
    for space in (TransNASMicro, TransNASMacro):
        file = f"{space.name}.csv"
        entries += [table(f"{space.name}/{t}", space.name, file, (f"{t}_valid",), ("zen",)) for t in TRANSNAS_TASKS]
    entries += [
        table("nb101", NASBench101.name, "nb101_subset.csv", ("cifar10_valid",), NB101_PROXIES),
        table("nb301", DARTS.name, "nb301_subset.csv", ("cifar10_valid",), NB301_PROXIES),
        table("nasbench_macro", NASBenchMacro.name, "nasbench_macro.csv", ("cifar10_test_mean",), ("params", "flops")),
    ]
    # find_spec locates a package without importing it (or unpickling its data).
    has_analog = importlib.util.find_spec("analognasbench") is not None
    labels = analognas.METRICS + analognas.DRIFTS
    entries += [Entry(f"analognas/{m}", NASBench201.name, ROWS["nb201.csv"], (m,), tuple(x for x in labels if x != m),
                      "PyPI analog-nasbench", has_analog, None if has_analog else NAS_EXTRA)
                for m in analognas.METRICS]
    has_graph = importlib.util.find_spec("nas_bench_graph") is not None
    entries += [Entry(f"nasbench-graph/{d}", "nasbench_graph_proteins" if d == "proteins" else "nasbench_graph",
                      GRAPH_SIZES[d], nasbench_graph.METRICS, ("latency", "params"), "PyPI nas-bench-graph",
                      has_graph, None if has_graph else NAS_EXTRA)
                for d in nasbench_graph.DATASETS]
    return entries
