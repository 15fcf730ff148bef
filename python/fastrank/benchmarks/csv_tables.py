"""Loaders of the CSV benchmark tables: the copies packaged in ``data/`` (see its README.md for
provenance and licences), or a folder the caller names with ``data_dir=`` / $FASTRANK_DATA."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..spaces import DARTS, InvalidArchitecture, NASBench101, NASBench201, NASBenchMacro, TransNASMacro, TransNASMicro
from . import table_files
from .table_files import Table
from .tabular import TabularBenchmark

NB201_DATASETS = ("cifar10", "cifar100", "imagenet16")
TRANSNAS_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
ZERO_COST = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
             "snip", "synflow")
FAILED_PROXY = -1e8  # NASLib's zero-cost tables (NB201, TransNAS) mark a failed proxy with this value
# Rows of each table: every architecture of the space, or the fixed size of the published
# sample. A different count means a truncated download or another table under this name.
ROWS = {"nb201.csv": 15625, "tnb101_micro.csv": 4096, "tnb101_macro.csv": 3256, "nasbench_macro.csv": 6561,
        "nb101_subset.csv": 500, "nb301_subset.csv": 1218}


def data_dir(path: Optional[str] = None) -> Path:
    """The folder the CSV tables are read from: ``path``, else $FASTRANK_DATA, else the copy
    packaged with fastrank (a folder of ``<name>.csv.xz`` files, itself a valid ``data_dir``).
    A folder the caller names that does not exist raises FileNotFoundError."""
    folder = table_files.user_folder(path)
    return folder if folder is not None else Path(str(table_files.packaged_folder()))


def _table(file: str, required: Sequence[str], path: Optional[str]) -> Table:
    table = table_files.read(file, path)
    table.require(required)
    if len(table) != ROWS[file]:
        raise ValueError(f"{table.where} has {len(table)} rows, but {file} must have {ROWS[file]} "
                         "(one per architecture of the benchmark): truncated, or another table?")
    return table


def _target(table: Table, column: str) -> np.ndarray:
    """The metric searched for: every cell a finite number (a copy the caller may edit)."""
    values = table.numbers(column)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        cell = table.text(column)[i]
        why = ("is empty" if not cell.strip() else
               "overflows a float64" if np.isinf(values[i]) and "inf" not in cell.lower() else "is not finite")
        raise ValueError(f"{table.where} is malformed: row {table.lines[i]}, column {column!r} {why} ({cell!r}); "
                         "the target metric needs a finite number for every architecture")
    return values.copy()


def _weak(table: Table, column: str, missing_below: Optional[float] = None) -> np.ndarray:
    """A weak label: NaN (an empty cell, or a value at or below ``missing_below``) is missing."""
    out = table.numbers(column).copy()
    if missing_below is not None:
        out[out <= missing_below] = math.nan
    return out


def _archs(table: Table, space, columns: Sequence[str], joiner: str = "") -> list:
    texts = [table.text(c) for c in columns]

    def parse(i: int):
        try:
            return space.parse(joiner.join(t[i] for t in texts))
        except InvalidArchitecture as err:
            raise ValueError(f"{table.where} is malformed: row {table.lines[i]}: {err}") from None

    # Parsed once per table and space; the architectures are immutable, a fresh list per load.
    archs = list(table.parsed((type(space), tuple(columns), joiner), parse))
    _refuse_duplicates(table, space, archs, by_identity=space.size is not None)
    return archs


def _refuse_duplicates(table: Table, space, archs: list, by_identity: bool) -> None:
    """A table of a whole space holds each architecture once (by ``space.identity``): two rows
    for one would make a search pay for it once and find the other row's value unreachable. The
    published samples (NB101, NB301) may list isomorphic cells as separate rows, as they were
    trained separately, but not the same cell written twice."""
    first = {}
    for i, arch in enumerate(archs):
        key = space.identity(arch) if by_identity else arch
        j = first.setdefault(key, i)
        if j != i:
            what = "the same architecture" if by_identity else "the same cell, written the same way"
            raise ValueError(f"{table.where} is malformed: rows {table.lines[j]} and {table.lines[i]} hold {what} "
                             f"({space.to_string(arch)})")


def load_nb201(dataset: str = "cifar10", metric: str = "valid", path: Optional[str] = None) -> TabularBenchmark:
    """NAS-Bench-201 on cifar10 / cifar100 / imagenet16 (ImageNet16-120): accuracy (%) at
    200 epochs, ``metric`` "valid" or "test"; weak label "zen" (Zen-NAS score; NaN for the 341
    cells where the proxy failed, all of them cells whose output is cut off from the input)."""
    if dataset not in NB201_DATASETS:
        raise ValueError(f"NB201 dataset must be one of {NB201_DATASETS}, got {dataset!r}")
    if metric not in ("valid", "test"):
        raise ValueError(f"metric must be 'valid' or 'test', got {metric!r}")
    column = f"{dataset}_{metric}"
    table = _table("nb201.csv", ["arch", column, f"{dataset}_zen"], path)
    space = NASBench201()
    return TabularBenchmark(f"nb201/{dataset}", space, column, _archs(table, space, ["arch"]),
                            _target(table, column), weak_labels={"zen": _weak(table, f"{dataset}_zen", missing_below=FAILED_PROXY)},
                            source=table.where)


def load_transnas(space_name: str, task: str, path: Optional[str] = None) -> TabularBenchmark:
    """TransNAS-Bench-101 ``micro`` or ``macro`` on one of its 7 tasks (validation metric,
    higher is better: room_layout is a negative L2 loss); weak label "zen" (NaN where the
    proxy failed)."""
    if task not in TRANSNAS_TASKS:
        raise ValueError(f"TransNAS task must be one of {TRANSNAS_TASKS}, got {task!r}")
    spaces = {"micro": TransNASMicro, "macro": TransNASMacro}
    if space_name not in spaces:
        raise ValueError(f"TransNAS space must be 'micro' or 'macro', got {space_name!r}")
    table = _table(f"tnb101_{space_name}.csv", ["arch", f"{task}_valid", f"{task}_zen"], path)
    space = spaces[space_name]()
    return TabularBenchmark(
        f"tnb101_{space_name}/{task}", space, f"{task}_valid", _archs(table, space, ["arch"]),
        _target(table, f"{task}_valid"),
        weak_labels={"zen": _weak(table, f"{task}_zen", missing_below=FAILED_PROXY)}, source=table.where)


def _zero_cost_sample(name: str, space, file: str, arch_columns, joiner: str, path) -> TabularBenchmark:
    """The NB101 / NB301 samples: CIFAR-10 validation accuracy and every zero-cost proxy column."""
    table = _table(file, list(arch_columns) + ["cifar10_valid"], path)
    weak = {proxy: _weak(table, proxy) for proxy in ZERO_COST if proxy in table.header}
    return TabularBenchmark(name, space, "cifar10_valid", _archs(table, space, arch_columns, joiner),
                            _target(table, "cifar10_valid"), weak_labels=weak, source=table.where)


def load_nb101(path: Optional[str] = None) -> TabularBenchmark:
    """The NAS-Bench-101 sample: CIFAR-10 validation accuracy (%) and zero-cost proxies."""
    return _zero_cost_sample("nb101", NASBench101(), "nb101_subset.csv", ("adjacency", "ops"), ";", path)


def load_nb301(path: Optional[str] = None) -> TabularBenchmark:
    """The DARTS-space sample with NAS-Bench-301 CIFAR-10 validation accuracy (%) and
    zero-cost proxies."""
    return _zero_cost_sample("nb301", DARTS(), "nb301_subset.csv", ("normal", "reduce"), "|", path)


def load_nasbench_macro(path: Optional[str] = None) -> TabularBenchmark:
    """NAS-Bench-Macro: CIFAR-10 test accuracy (%, mean of 3 seeds); weak labels params, flops."""
    table = _table("nasbench_macro.csv", ["arch", "cifar10_test_mean", "params", "flops"], path)
    space = NASBenchMacro()
    return TabularBenchmark(
        "nasbench_macro", space, "cifar10_test_mean", _archs(table, space, ["arch"]),
        _target(table, "cifar10_test_mean"), weak_labels={"params": _weak(table, "params"), "flops": _weak(table, "flops")},
        source=table.where)
