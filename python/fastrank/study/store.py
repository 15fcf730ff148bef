"""cells.csv: the study's tidy results, one row per cell and metric, appended as cells finish.

A finished cell's rows and then its ``cell_complete`` row (its value: the CRC-32 of the
cell's rows as written) go to the file in one ``write`` on an append-only descriptor, then
``fsync``. On opening:

- a trailing partial line (a write the kernel did not finish) is cut off;
- a last cell whose rows are not closed by a ``cell_complete`` row (the file was cut at a line
  boundary inside it) is unfinished: its rows are removed and it runs again;
- a cell whose rows do not match their checksum, or that lacks its ``cell_complete`` row before
  another cell's rows, is corrupt and refused;
- a row that is not a study row (a short line, a value that is not a number, a key that does
  not match its fields), a cell of another grid, or a finished cell written twice is refused
  with a ValueError naming the file and line;
- the folder is locked, so that a second study writing into it is refused rather than
  writing every cell twice.

A file written before the ``cell_complete`` rows existed is refused for resuming (it cannot
tell a finished cell from a cut one); :meth:`CellStore.rows` still reads it.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..durable import ExclusiveLock, append_synced, cut_torn_tail, replace_atomically
from .grid import Cell

COLUMNS = ("kind", "task", "loss", "size", "seed", "metric", "value", "cell")
COMPLETE = "cell_complete"


def _checksum(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode())


class CellStore:
    """``grid``: the keys of the study's cells; a row of any other cell is refused (None:
    any cell, for reading a finished study). ``lock``: hold the folder's lock until
    :meth:`close` (a study that writes; a reader need not)."""

    def __init__(self, path: Path, grid: Optional[Iterable[str]] = None, lock: bool = False):
        self.path = Path(path)
        self.finished: Set[str] = set()
        self._held = None
        if self.path.is_dir():
            raise ValueError(f"{self.path} is a folder; the study writes cells.csv there as a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if lock:
                self._lock()
            if self.path.exists() and self.path.stat().st_size:
                self._read(cut_torn_tail(self.path), set(grid) if grid is not None else None)
            else:
                append_synced(self.path, (",".join(COLUMNS) + "\n").encode())
        except PermissionError as err:
            self.close()
            raise ValueError(f"{self.path}: cannot read or write it ({err.strerror})") from None
        except OSError as err:
            self.close()
            raise ValueError(f"{self.path}: {err.strerror or err}") from None

    # --- the lock --------------------------------------------------------------------------
    def _lock(self) -> None:
        try:
            self._held = ExclusiveLock(self.path.with_name(self.path.name + ".lock"))
        except BlockingIOError:
            raise ValueError(f"another fastrank study is writing to {self.path.parent} (its cells.csv is locked); "
                             f"wait for it or choose another --out") from None

    def close(self) -> None:
        if self._held is not None:
            self._held.release()
            self._held = None

    # --- reading ---------------------------------------------------------------------------
    def _read(self, data: bytes, grid: Optional[Set[str]]) -> None:
        text = data.decode("utf-8", errors="replace")  # a damaged byte is a checksum mismatch, not a decode error
        lines = [line + "\n" for line in text.split("\n")[:-1]]  # the tail was repaired: it ends in "\n"
        reader = csv.reader(lines)
        header = next(reader, None)
        if tuple(header or ()) != COLUMNS:
            raise ValueError(f"{self.path} is not a fastrank study file (columns {header}, expected {list(COLUMNS)})")
        rows = []  # (line number, row)
        for number, row in enumerate(reader, start=2):
            rows.append((number, self._checked(row, number, grid)))
        if rows and not any(row[5] == COMPLETE for _, row in rows) and len({row[7] for _, row in rows}) > 1:
            raise ValueError(f"{self.path} has no {COMPLETE} rows: written by a fastrank before 0.1.0's "
                             f"checksummed cells, it cannot tell finished cells from cut ones; continue in a new "
                             f"--out folder (its rows still read with CellStore(path).rows())")
        keep = [0]  # line indices (0-based) to keep: the header, then complete cells
        block: List[Tuple[int, List[str]]] = []
        for number, row in rows + [(None, None)]:
            if block and (row is None or row[7] != block[0][1][7] or block[-1][1][5] == COMPLETE):
                keep += self._close(block, lines, last=row is None)
                block = []
            if row is not None:
                block.append((number, row))
        if len(keep) != len(lines):  # unfinished cells: their rows go, and the cells run again
            replace_atomically(self.path, "".join(lines[i] for i in keep).encode())

    def _checked(self, row: List[str], number: int, grid: Optional[Set[str]]) -> List[str]:
        where = f"{self.path}:{number}"
        if len(row) != len(COLUMNS):
            raise ValueError(f"{where}: {len(row)} fields, a study row has {len(COLUMNS)}")
        kind, task, loss, size, seed, metric, value, key = row
        try:
            int(size), int(seed), float(value)
        except ValueError:
            raise ValueError(f"{where}: size, seed and value must be numbers, got {size!r}, {seed!r}, "
                             f"{value!r}") from None
        if key != Cell(kind, task, loss, int(size), int(seed)).key:
            raise ValueError(f"{where}: the cell key {key!r} does not match the row's fields")
        if grid is not None and key not in grid:
            raise ValueError(f"{where}: cell {key} is not in this study's grid (another study's file? use "
                             f"another --out folder)")
        return row

    def _close(self, block: List[Tuple[int, List[str]]], lines: List[str], last: bool) -> List[int]:
        """The lines of a finished cell (empty for the unfinished last one)."""
        key = block[0][1][7]
        end, marker = block[-1]
        if marker[5] != COMPLETE:
            if last:
                return []  # cut inside the last cell: it runs again
            raise ValueError(f"{self.path}:{block[0][0]}: cell {key} has no {COMPLETE} row before the next "
                             f"cell (a corrupt file)")
        written = "".join(lines[n - 1] for n, _ in block[:-1])
        if float(marker[6]) != float(_checksum(written)):
            raise ValueError(f"{self.path}:{end}: cell {key}'s rows do not match their checksum (a corrupt file)")
        if key in self.finished:
            raise ValueError(f"{self.path}:{block[0][0]}: cell {key} is written twice")
        self.finished.add(key)
        return [number - 1 for number, _ in block]

    # --- writing ---------------------------------------------------------------------------
    def add(self, cell: Cell, values: Iterable[Tuple[str, float]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for metric, value in values:
            writer.writerow([cell.kind, cell.task, cell.loss, cell.size, cell.seed, metric, repr(float(value)),
                             cell.key])
        rows = buffer.getvalue()
        writer.writerow([cell.kind, cell.task, cell.loss, cell.size, cell.seed, COMPLETE,
                         repr(float(_checksum(rows))), cell.key])
        append_synced(self.path, buffer.getvalue().encode())
        self.finished.add(cell.key)

    def rows(self) -> List[Dict[str, object]]:
        """Every metric row of the finished cells (the ``cell_complete`` rows left out)."""
        with open(self.path, newline="") as handle:
            out = []
            for row in csv.DictReader(handle):
                if row["metric"] == COMPLETE:
                    continue
                row["size"], row["seed"], row["value"] = int(row["size"]), int(row["seed"]), float(row["value"])
                out.append(row)
            return out
