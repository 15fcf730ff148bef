"""cells.csv: the study's tidy results, one row per cell and metric, appended as cells finish.

A finished cell's rows go to the file in one ``write`` on an append-only descriptor, then
``fsync``: a killed run leaves whole cells or nothing of them. On opening, a trailing partial
line (a write the kernel did not finish, e.g. on power loss) is cut off, and the keys of the
finished cells are read back so that a resumed study never recomputes them.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

from .grid import Cell

COLUMNS = ("kind", "task", "loss", "size", "seed", "metric", "value", "cell")


class CellStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.finished: Set[str] = set()
        if self.path.exists() and self.path.stat().st_size:
            self._repair_tail()
            with open(self.path, newline="") as handle:
                reader = csv.DictReader(handle)
                if tuple(reader.fieldnames or ()) != COLUMNS:
                    raise ValueError(f"{self.path} is not a fastrank study file (columns {reader.fieldnames}, "
                                     f"expected {list(COLUMNS)})")
                for row in reader:
                    self.finished.add(row["cell"])
        else:
            self._append(",".join(COLUMNS) + "\n")

    def _repair_tail(self) -> None:
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)

    def _append(self, text: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def add(self, cell: Cell, values: Iterable[Tuple[str, float]]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for metric, value in values:
            writer.writerow([cell.kind, cell.task, cell.loss, cell.size, cell.seed, metric, repr(float(value)),
                             cell.key])
        self._append(buffer.getvalue())
        self.finished.add(cell.key)

    def rows(self) -> List[Dict[str, object]]:
        with open(self.path, newline="") as handle:
            out = []
            for row in csv.DictReader(handle):
                row["size"], row["seed"], row["value"] = int(row["size"]), int(row["seed"]), float(row["value"])
                out.append(row)
            return out
