"""Loads the compiled extension and reports what it can run."""
from __future__ import annotations

from . import _C

__all__ = ["cuda_available", "num_threads", "set_num_threads"]


def cuda_available() -> bool:
    """Whether fastrank's CUDA kernels were compiled in and a CUDA device is usable.

    Importing fastrank never touches a GPU driver; this asks torch only when called.
    """
    global _CUDA_USABLE
    if _CUDA_USABLE is None:
        _CUDA_USABLE = _probe_cuda()
    return _CUDA_USABLE


_CUDA_USABLE = None


def _probe_cuda() -> bool:
    if not getattr(_C, "has_cuda", False):
        return False
    import torch

    # torch first: it sets up the primary context the kernels share; then our own runtime,
    # which also checks that the binary has code for this GPU and that the driver is new
    # enough for the CUDA version it was built with.
    return torch.cuda.is_available() and _C.cuda_probe() == 0


def num_threads() -> int:
    """Threads the CPU kernels spread lists over (default: all cores)."""
    return _C.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the CPU kernels' thread count; 0 restores the default (all cores)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    limit = max_threads()
    if n > limit:  # each is an OS thread: tens of thousands starve the machine and never finish
        raise ValueError(f"n must be at most {limit} (4 threads per core on this machine), got {n}")
    _C.set_num_threads(n)


def max_threads() -> int:
    """The largest thread count set_num_threads accepts: 4 per core (at least 16)."""
    import os

    return max(16, 4 * (os.cpu_count() or 1))
