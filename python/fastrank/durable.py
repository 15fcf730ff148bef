"""Files that survive a killed process: what the search journal, the study's cells.csv and a
search's --out folder are written with.

``append_synced`` adds a record in one ``write`` on an append-only descriptor, then ``fsync``:
a crash leaves whole records and at most one torn last line, which ``cut_torn_tail`` removes on
the next open. ``replace_atomically`` writes a whole file under a temporary name and renames
it over the old one, so that a reader sees the old file or the new one, never half of either.
``ExclusiveLock`` keeps a second process from writing the same file at the same time.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

__all__ = ["append_synced", "cut_torn_tail", "replace_atomically", "ExclusiveLock"]


def append_synced(path: Union[str, Path], data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def cut_torn_tail(path: Union[str, Path]) -> bytes:
    """The file's bytes up to its last line end; a partial last line (a write the kernel did not
    finish: it was never acknowledged) is cut off the file too."""
    with open(path, "rb+") as handle:
        data = handle.read()
        if not data.endswith(b"\n"):
            data = data[:data.rfind(b"\n") + 1]
            handle.truncate(len(data))
    return data


def replace_atomically(path: Union[str, Path], data: bytes) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ExclusiveLock:
    """An exclusive ``flock`` on ``path``, taken without waiting and held until :meth:`release`
    (or until the object is collected, or the process ends, a killed one too). Raises
    ``BlockingIOError`` where another descriptor holds it. On a system without ``flock`` it holds
    nothing: one writer at a time is then the caller's to ensure."""

    def __init__(self, path: Union[str, Path], create: bool = True):
        self.fd = None
        try:
            import fcntl
        except ImportError:
            return
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BlockingIOError(f"{path} is locked by another writer") from None
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None

    def __del__(self):
        self.release()
