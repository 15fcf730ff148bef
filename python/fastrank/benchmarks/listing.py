"""What ``load`` can load, for listings such as the command line's: read from the family
declarations (``family.py``) and a look-up of the PyPI packages, without reading any table, so it
takes microseconds."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import table_files
from .family import FAMILIES, CsvTable, Family


@dataclass(frozen=True)
class Entry:
    """One loadable benchmark. ``metrics``: the values of ``load``'s ``metric=`` option where
    it has one (the first is the default), else the one target column. ``architectures``: the
    table's rows; ``distinct``: how many distinct architectures they hold where that is fewer
    (the packaged NB101 sample, as published: 500 rows, 292 cells). ``available`` is False
    for a PyPI-backed benchmark whose package is not installed, or a table missing from the data
    folder the user named; ``needs`` then says what is missing. ``user_file``: ``source`` is a
    file of the data folder the user named (read as it is, not the packaged copy)."""

    name: str
    space: str
    architectures: int
    metrics: Tuple[str, ...]
    weak_labels: Tuple[str, ...]
    source: str
    available: bool = True
    needs: Optional[str] = None
    distinct: Optional[int] = None  # distinct architectures, where a sample lists isomorphic cells as rows
    user_file: bool = False

    def as_dict(self) -> Dict[str, object]:
        return asdict(self)


def catalog(data_dir: Optional[str] = None) -> List[Entry]:
    """Every benchmark name ``fastrank.benchmarks.load`` accepts, with its space, size,
    metrics, weak labels and source (the packaged table, the ``data_dir`` / $FASTRANK_DATA
    file it would read, or the PyPI package)."""
    folder = table_files.user_folder(data_dir)
    entries = []
    for family in FAMILIES.values():
        source = _source(family, folder)
        entries += [Entry(family.benchmark_name(part), family.space_of(part), family.size_of(part),
                          family.metrics_of(part), family.weak_labels_of(part), **source)
                    for part in family.part_names()]
    return entries


def _source(family: Family, folder: Optional[Path]) -> dict:
    """The Entry fields that say where a family's tables come from and whether they are there."""
    spec = family.source
    if isinstance(spec, CsvTable):
        if folder is None:
            return dict(source=f"packaged {spec.file}.xz", distinct=spec.distinct)
        found = next((p for p in (folder / spec.file, folder / (spec.file + ".xz")) if p.is_file()), None)
        if found is None:
            return dict(source=str(folder / spec.file), available=False, needs=f"{spec.file} or {spec.file}.xz in {folder}")
        return dict(source=str(found), user_file=True)
    # find_spec locates a package without importing it (or unpickling its data).
    installed = spec.installed()
    return dict(source=f"PyPI {spec.distribution}", available=installed, needs=None if installed else spec.install_hint)
