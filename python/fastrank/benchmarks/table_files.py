"""Finding, decompressing and parsing the CSV benchmark tables, once per process.

A table comes from the copy packaged with fastrank (``data/<name>.csv.xz``, read with
``importlib.resources``) unless the caller names a folder (``data_dir=`` or $FASTRANK_DATA)
holding ``<name>.csv`` or ``<name>.csv.xz``. The parsed text and every column converted to
numbers are kept per (file, source), so the many loads a search makes (valid and test tables of
one file, run after run) parse each file once. Cached arrays are read-only; loaders hand out
copies. Every malformed input ends in a ValueError naming the file and, where it has one, the
1-based line.
"""
from __future__ import annotations

import codecs
import csv
import io
import lzma
import math
import os
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Callable, Dict, Hashable, List, Optional, Sequence, Tuple

import numpy as np

ENV = "FASTRANK_DATA"
_PACKAGE = "fastrank.benchmarks"
# Enough for every table of the packaged copy and a few user folders; a bound keeps a long
# process that loads from many temporary folders from growing without end.
_CACHE_SIZE = 16


def user_folder(path: Optional[str] = None) -> Optional[Path]:
    """The folder the caller chose (``path``, else $FASTRANK_DATA), or None for the packaged copy.
    An empty $FASTRANK_DATA counts as unset, as shells leave it after ``export FASTRANK_DATA=``."""
    chosen, where = (path, "data_dir") if path is not None else (os.environ.get(ENV) or None, ENV)
    if chosen is None:
        return None
    folder = Path(chosen).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"benchmark data folder {str(folder)!r} (from {where}) does not exist")
    return folder


def packaged_folder():
    """The package's data folder (a Path in every ordinary install)."""
    return resources.files(_PACKAGE).joinpath("data")


class Table:
    """One parsed CSV file: its header, the text of every cell by column, the line of every row,
    and (filled on demand) numeric columns and parsed architecture lists."""

    def __init__(self, where: str, header: Sequence[str], rows: List[List[str]], lines: Sequence[int]):
        self.where = where  # names the file in messages and in TabularBenchmark.source
        self.header = tuple(header)
        self.lines = lines
        self._text = dict(zip(self.header, zip(*rows))) if rows else {c: () for c in self.header}
        self._numbers: Dict[str, np.ndarray] = {}
        self._parsed: Dict[Hashable, Tuple] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def require(self, columns: Sequence[str]) -> None:
        missing = [c for c in columns if c not in self._text]
        if missing:
            raise ValueError(f"{self.where} is malformed: missing column(s) {missing}")

    def text(self, column: str) -> Tuple[str, ...]:
        return self._text[column]

    def numbers(self, column: str) -> np.ndarray:
        """The column as float64 (an empty cell is NaN), read-only and shared: copy before
        handing it out. Text that is not a number is refused with its line."""
        out = self._numbers.get(column)
        if out is None:
            out = self._convert(column)
            out.flags.writeable = False
            self._numbers[column] = out
        return out

    def _convert(self, column: str) -> np.ndarray:
        cells = self._text[column]
        try:
            # float() mapped in C: 6 ms for an NB201 column, faster than numpy's str -> float
            # cast (10 ms with building the str array). It refuses empty cells, which the
            # per-cell path below reads as missing values.
            return np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
        except ValueError:
            pass
        out = np.empty(len(cells))
        for i, cell in enumerate(cells):
            if cell.strip() == "":
                out[i] = math.nan
                continue
            try:
                out[i] = float(cell)
            except ValueError:
                raise ValueError(f"{self.where} is malformed: row {self.lines[i]}, column {column!r} is {cell!r}, "
                                 "not a number") from None
        return out

    def parsed(self, key: Hashable, parse: Callable[[int], object]) -> Tuple:
        """``parse(i)`` of every row, computed once per key (architectures are immutable tuples,
        so one tuple of them can back every load)."""
        out = self._parsed.get(key)
        if out is None:
            out = tuple(parse(i) for i in range(len(self)))
            self._parsed[key] = out
        return out


_cache: "OrderedDict[Hashable, Table]" = OrderedDict()
_lock = threading.Lock()


def read(name: str, path: Optional[str] = None) -> Table:
    """The table ``name`` (e.g. "nb201.csv") from the caller's folder (see ``user_folder``) or
    the packaged copy, parsed once per process while the file is unchanged."""
    folder = user_folder(path)
    if folder is None:
        resource = packaged_folder().joinpath(name + ".xz")
        key: Hashable = ("package", name)
        where = f"packaged copy {resource}"
        load: Callable[[], bytes] = lambda: _read_resource(resource, name)
    else:
        file = _file_in(folder, name)
        stat = file.stat()
        # The file's identity and version: an edited or replaced table is read again.
        key = (str(file.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        where = str(file)
        load = file.read_bytes
    with _lock:
        table = _cache.get(key)
        if table is not None:
            _cache.move_to_end(key)
            return table
    data = load()
    if where.endswith(".xz"):
        data = _decompress(data, where)
    table = parse(data, where)
    with _lock:
        _cache[key] = table
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return table


def clear_cache() -> None:
    """Forget every parsed table (the next load reads its file again)."""
    with _lock:
        _cache.clear()


def count_rows(path: Path) -> int:
    """Data rows of a table file (non-blank lines after the header; .xz read decompressed),
    without parsing it: for listings that show what a user's folder holds."""
    data = path.read_bytes()
    if path.suffix == ".xz":
        data = _decompress(data, str(path))
    return max(sum(1 for line in data.splitlines() if line.strip()) - 1, 0)


def _file_in(folder: Path, name: str) -> Path:
    # A plain .csv wins over a compressed one: it is the copy a user edits.
    for candidate in (folder / name, folder / (name + ".xz")):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"benchmark table {name} not found: looked for {str(folder / name)!r} "
                            f"and {str(folder / (name + '.xz'))!r}")


def _read_resource(resource, name: str) -> bytes:
    try:
        return resource.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"the packaged copy of {name} is missing from this install ({resource}); "
                                f"reinstall fastrank, or pass data_dir= / set {ENV} to a folder of the CSV tables") from None


def _decompress(data: bytes, where: str) -> bytes:
    try:
        return lzma.decompress(data, format=lzma.FORMAT_XZ)
    except (lzma.LZMAError, EOFError) as err:
        raise ValueError(f"{where} is not a readable xz file ({err}): truncated or corrupt; "
                         "compress the table again with `xz -k <name>.csv`") from None


def parse(data: bytes, where: str) -> Table:
    """CSV bytes → Table. Strict: UTF-8 without a byte-order mark, a header of distinct names
    and the header's number of fields on every row (blank lines are skipped)."""
    if data.startswith(codecs.BOM_UTF8):
        raise ValueError(f"{where} is malformed: row 1 starts with a UTF-8 byte-order mark; "
                         "save the table as UTF-8 without BOM")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ValueError(f"{where} is malformed: row {line} is not valid UTF-8 "
                         f"(byte {data[err.start:err.start + 1]!r} at offset {err.start}: {err.reason})") from None
    if text and not text.endswith(("\n", "\r")):
        # a cut copy and a complete one differ only here: a last value cut short still parses
        line = text.count("\n") + 1
        raise ValueError(f"{where} is malformed: row {line}, the last, has no line end (a cut copy?); "
                         "if the file is complete, end it with a newline")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise ValueError(f"{where} is malformed: no header row")
        duplicates = sorted({c for c in header if header.count(c) > 1})
        if duplicates:
            raise ValueError(f"{where} is malformed: row 1 repeats column(s) {duplicates}")
        rows: List[List[str]] = list(reader)
        lines: Sequence[int] = range(2, len(rows) + 2)
        # The common case, checked in C: one physical line per row, every row full. Otherwise
        # (blank lines, quoted line breaks, a bad row) read again row by row for the line numbers.
        if reader.line_num != len(rows) + 1 or set(map(len, rows)) != {len(header)}:
            rows, lines = _rows_with_lines(text, len(header), where)
    except csv.Error as err:
        raise ValueError(f"{where} is malformed: row {reader.line_num}: {err}") from None
    if not rows:
        raise ValueError(f"{where} is malformed: no rows")
    return Table(where, header, rows, lines)


def _rows_with_lines(text: str, width: int, where: str) -> Tuple[List[List[str]], List[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    next(reader)
    rows: List[List[str]] = []
    lines: List[int] = []
    for row in reader:
        if not row:
            continue
        if len(row) != width:
            raise ValueError(f"{where} is malformed: row {reader.line_num} has {len(row)} field(s), "
                             f"the header has {width}")
        rows.append(row)
        lines.append(reader.line_num)
    return rows, lines

