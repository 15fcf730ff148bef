"""Reading a family's CSV table (``CsvTable``): the copy packaged in ``data/`` (see its README.md
for provenance and licences), or a folder the caller names with ``data_dir=`` / $FASTRANK_DATA.
What every CSV family's loader checks lives here: the row count, finite targets, missing weak
labels, architectures parsed once and never twice in a table."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..spaces import InvalidArchitecture
from . import table_files
from .family import CsvTable
from .table_files import Table
from .tabular import TabularBenchmark

ZERO_COST = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
             "snip", "synflow")
FAILED_PROXY = -1e8  # NASLib's zero-cost tables (NB201, TransNAS) mark a failed proxy with this value
SAMPLE_TARGET = "cifar10_valid"  # the metric of the zero-cost samples (NB101, NB301)


def data_dir(path: Optional[str] = None) -> Path:
    """The folder the CSV tables are read from: ``path``, else $FASTRANK_DATA, else the copy
    packaged with fastrank (a folder of ``<name>.csv.xz`` files, itself a valid ``data_dir``).
    A folder the caller names that does not exist raises FileNotFoundError."""
    folder = table_files.user_folder(path)
    return folder if folder is not None else Path(str(table_files.packaged_folder()))


def read(spec: CsvTable, required: Sequence[str], path: Optional[str]) -> Table:
    """The family's table with its ``required`` columns and its row count."""
    table = table_files.read(spec.file, path)
    table.require(required)
    if len(table) != spec.rows:
        raise ValueError(f"{table.where} has {len(table)} rows, but {spec.file} must have {spec.rows} "
                         "(one per architecture of the benchmark): truncated, or another table?")
    return table


def target(table: Table, column: str) -> np.ndarray:
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


def weak(table: Table, column: str, missing_below: Optional[float] = None) -> np.ndarray:
    """A weak label: NaN (an empty cell, or a value at or below ``missing_below``) is missing."""
    out = table.numbers(column).copy()
    if missing_below is not None:
        out[out <= missing_below] = math.nan
    return out


def archs(table: Table, space, columns: Sequence[str], joiner: str = "") -> list:
    """The architecture of every row: ``columns`` joined by ``joiner``, parsed by ``space``."""
    texts = [table.text(c) for c in columns]

    def parse(i: int):
        try:
            return space.parse(joiner.join(t[i] for t in texts))
        except InvalidArchitecture as err:
            raise ValueError(f"{table.where} is malformed: row {table.lines[i]}: {err}") from None

    # Parsed once per table and space; the architectures are immutable, a fresh list per load.
    out = list(table.parsed((type(space), tuple(columns), joiner), parse))
    _refuse_duplicates(table, space, out, by_identity=space.size is not None)
    return out


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


def zero_cost_sample(name: str, space, spec: CsvTable, arch_columns: Sequence[str], joiner: str,
                     path: Optional[str]) -> TabularBenchmark:
    """The NB101 / NB301 samples: CIFAR-10 validation accuracy and every zero-cost proxy column
    the table has."""
    table = read(spec, list(arch_columns) + [SAMPLE_TARGET], path)
    labels = {proxy: weak(table, proxy) for proxy in ZERO_COST if proxy in table.header}
    return TabularBenchmark(name, space, SAMPLE_TARGET, archs(table, space, arch_columns, joiner),
                            target(table, SAMPLE_TARGET), weak_labels=labels, source=table.where)
