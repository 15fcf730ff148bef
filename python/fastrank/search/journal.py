"""A search run's journal: one JSON line for the run (what it is: objective, space, strategy,
seed, budget, loss, options), then one line per paid query as it comes back (architecture,
value or the failure's error, seconds, worker).

Each line goes to the file in one ``write`` on an append-only descriptor, then ``fsync``: a
killed run leaves whole records. On opening, a trailing partial line (a write the kernel did
not finish) is cut off; any other line that is not a record, or whose checksum does not match,
is refused with its line number.
A record's ``t`` is the run's elapsed time, so that a resumed run's seconds include the time
spent before it stopped.
A journal of another run is refused, never overwritten.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import List, Optional

from ..durable import ExclusiveLock, append_synced, cut_torn_tail

FORMAT = "fastrank.search.journal"
VERSION = 1


class JournalError(ValueError):
    """A journal that cannot be used: another run's, corrupt, or in the way."""


def _encode(record: dict) -> bytes:
    return (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode()


def _checksum(record: dict) -> int:
    """CRC-32 of a record's canonical JSON without its own ``crc``: a flipped byte that still
    parses (a digit of a value) is caught."""
    import zlib

    body = {k: v for k, v in record.items() if k != "crc"}
    return zlib.crc32(json.dumps(body, sort_keys=True, allow_nan=False).encode())


def _differences(theirs: dict, ours: dict, prefix: str = "") -> List[tuple]:
    """(key, theirs, ours) where two runs' settings differ; nested settings (a strategy's options)
    by their own keys, so that a message names the one option that changed, not all twenty."""
    out = []
    for key in sorted(set(theirs) | set(ours)):
        a, b = theirs.get(key), ours.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append((prefix + key, a, b))
    return out


class Journal:
    """``Journal(path, run)`` starts a new journal (refusing a file that holds anything);
    ``Journal(path, run, resume=True)`` continues one and reads its ``records``.

    A journal is written by one run at a time: it holds an exclusive lock on the file (``flock``)
    from here until :meth:`close`, so that a second copy of the run (a job started twice, a
    cluster's requeue while the first still runs) is refused instead of interleaving its records
    with the first's."""

    def __init__(self, path, run: dict, resume: bool = False):
        self.path = Path(path)
        self.run = json.loads(json.dumps(run, sort_keys=True, allow_nan=False))  # as it reads back
        self.records: List[dict] = []
        self._held: Optional[ExclusiveLock] = None
        if self.path.is_dir():
            raise JournalError(f"{self.path} is a directory; a journal is a file")
        if resume and not (self.path.exists() and self.path.stat().st_size > 0):
            raise JournalError(f"{self.path}: no journal to resume (the file is missing or empty)")
        try:
            self._lock(create=not resume)
            if resume:
                self._read()
            elif self.path.stat().st_size > 0:
                raise JournalError(f"{self.path} already holds a run's journal: resume it (search.run(..., "
                                   f"resume={str(self.path)!r}), or fastrank search --resume DIR), or write to "
                                   "another path")
            else:
                append_synced(self.path, _encode({"format": FORMAT, "version": VERSION, "run": self.run}))
        except BaseException:
            self.close()
            raise

    def _lock(self, create: bool) -> None:
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._held = ExclusiveLock(self.path, create)
        except BlockingIOError:
            raise JournalError(f"{self.path}: another run is writing this journal (the same search started "
                               "twice?); it was left as it is") from None

    def close(self) -> None:
        """Releases the journal for another run (a resume); records added later are still written."""
        if self._held is not None:
            self._held.release()
            self._held = None

    def _read(self) -> None:
        data = cut_torn_tail(self.path)
        lines = data.decode("utf-8", errors="replace").split("\n")[:-1]
        if not lines:
            raise JournalError(f"{self.path}: the journal lost its header line; it cannot be resumed")
        header = self._parse(lines[0], 1)
        if header.get("format") != FORMAT or not isinstance(header.get("run"), dict):
            raise JournalError(f"{self.path}:1: not a fastrank search journal")
        if header.get("version") != VERSION:
            raise JournalError(f"{self.path}:1: journal version {header.get('version')!r}, this fastrank reads "
                               f"{VERSION}")
        # the run's own settings (strategy, seed, budget) before its strategy's options
        differ = sorted(_differences(header["run"], self.run), key=lambda d: d[0].count("."))
        if differ:
            shown = "; ".join(f"{k}: journal {a!r}, now {b!r}" for k, a, b in differ[:4]) \
                + (f"; and {len(differ) - 4} more" if len(differ) > 4 else "")
            raise JournalError(f"{self.path} is the journal of another run ({shown}); it was left as it is")
        for number, line in enumerate(lines[1:], start=2):
            record = self._parse(line, number)
            if not self._valid(record, len(self.records) + 1):
                raise JournalError(f"{self.path}:{number}: not a query record of this journal")
            if record.get("crc") != _checksum(record):
                raise JournalError(f"{self.path}:{number}: the record does not match its checksum (corrupt file?)")
            self.records.append(record)

    def _parse(self, line: str, number: int) -> dict:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise JournalError(f"{self.path}:{number}: not a journal line (corrupt file?)") from None
        if not isinstance(record, dict):
            raise JournalError(f"{self.path}:{number}: not a journal line (corrupt file?)")
        return record

    @staticmethod
    def _valid(record: dict, number: int) -> bool:
        value, error = record.get("value"), record.get("error")
        return (record.get("n") == number and isinstance(record.get("arch"), str)
                and (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                     and error is None or value is None and isinstance(error, str))
                and isinstance(record.get("seconds"), (int, float)))

    def add(self, number: int, arch: str, value: Optional[float], error: Optional[str], seconds: float,
            worker: Optional[str], elapsed: float) -> None:
        """A query: ``seconds`` its evaluation took, ``elapsed`` the run's time when it came back."""
        record = {"n": number, "arch": arch, "value": value, "error": error, "seconds": float(seconds),
                  "worker": worker, "t": round(float(elapsed), 6)}
        record["crc"] = _checksum(record)
        append_synced(self.path, _encode(record))
        self.records.append(record)
