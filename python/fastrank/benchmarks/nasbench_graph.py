"""NAS-Bench-Graph (``nasbench-graph/<dataset>``, PyPI ``nas-bench-graph``): 26,206 GNN
architectures on 9 graph datasets (proteins: 2,021 in its 5-op space), read from the package's
pickles without importing it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from .._safe_pickle import package_file
from ..spaces.nasbench_graph import NASBenchGraph, read_table
from .family import Family, MetricSplit, PyPIPackage, register_family
from .tabular import TabularBenchmark

PACKAGE = PyPIPackage("nas_bench_graph", "nas-bench-graph", extra="nas")
# the first is what a bare "nasbench-graph" loads
DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins")
METRICS = ("valid_perf", "perf")  # validation and test accuracy: load_nasbench_graph's metric= option
WEAK_LABELS = ("latency", "params")  # the package's "latency" (s) and "para" (M)


def load_nasbench_graph(dataset: str = DATASETS[0], metric: str = METRICS[0], file: Optional[str] = None) -> TabularBenchmark:
    """Accuracy of every architecture on ``dataset``; ``metric`` "valid_perf" or "perf"
    (test). Weak labels: "latency" (s) and "params" (M)."""
    if dataset not in DATASETS:
        raise ValueError(f"NAS-Bench-Graph dataset must be one of {DATASETS}, got {dataset!r}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    path = Path(file) if file else package_file(PACKAGE.module, f"light/{dataset}.bench", PACKAGE.distribution)
    table = read_table(path)
    try:
        space = NASBenchGraph(proteins=dataset == "proteins", hashes=table.keys())
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as err:
        raise ValueError(f"{str(path)!r} is malformed: {type(err).__name__}: {err}") from None
    keys = sorted(table)
    try:
        rows = [table[k] for k in keys]
        values = np.array([float(r[metric]) for r in rows])
        weak = {"latency": np.array([float(r["latency"]) for r in rows]),
                "params": np.array([float(r["para"]) for r in rows])}
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{str(path)!r} is malformed: {err!r}") from None
    return TabularBenchmark(f"nasbench-graph/{dataset}", space, metric, [space.decode(i) for i in range(len(keys))],
                            values, weak_labels=weak, source=str(path))


# proteins was run in a 5-op space of its own: 2,021 architectures, against 26,206 on the others.
def _space_name(dataset: str) -> str:
    # NASBenchGraph's name, known here without building the space (that reads the package's hashes)
    return "nasbench_graph_proteins" if dataset == "proteins" else "nasbench_graph"


def _size(dataset: str) -> int:
    return 2021 if dataset == "proteins" else 26206


FAMILY = register_family(Family(
    "nasbench-graph", load_nasbench_graph, parts=DATASETS, default_part=DATASETS[0], aliases=("nasbench_graph",),
    space=_space_name, size=_size, weak_labels=WEAK_LABELS, source=PACKAGE,
    split=MetricSplit("metric", valid=METRICS[0], test=METRICS[1])))
