"""Loads the compiled extension and reports what it can run."""
from __future__ import annotations

from . import _C

__all__ = ["cpu_target", "cpu_targets", "cuda_available", "num_threads", "set_cpu_target", "set_num_threads"]

CPU_TARGETS = ("avx512", "avx2", "baseline")


def _check_cpu_target_at_import() -> None:
    import os

    usable = _C.cpu_targets_usable()
    if not usable:  # a single-target build (FASTRANK_CPU_TARGET) on a CPU without that target
        raise ImportError("this fastrank build has vector code for a CPU target this CPU lacks; rebuild it with "
                          "-C cmake.define.FASTRANK_CPU_TARGET=dispatch (the default)")
    wanted = os.environ.get("FASTRANK_CPU_TARGET")
    if wanted and wanted not in usable:
        raise ImportError(f"FASTRANK_CPU_TARGET={wanted!r} is not usable here; this build and CPU can run "
                          f"{', '.join(usable)}")


_check_cpu_target_at_import()


def cuda_available() -> bool:
    """Whether fastrank's CUDA kernels were compiled in and a CUDA device is usable.

    Importing fastrank never touches a GPU driver; this asks torch only when called.
    """
    global _CUDA_USABLE
    if _CUDA_USABLE is None:
        _CUDA_USABLE = _probe_cuda()
    return _CUDA_USABLE


_CUDA_USABLE = None


def require_cuda(what: str) -> None:
    """The one error for a CUDA tensor that fastrank's CUDA kernels cannot take: a RuntimeError
    (the build or the machine is at fault, not the value passed)."""
    if not cuda_available():
        why = "this build has no CUDA kernels" if not getattr(_C, "has_cuda", False) else "no usable GPU"
        raise RuntimeError(f"{what} is on a CUDA device but fastrank's CUDA kernels are not available ({why}; "
                           "fastrank.cuda_available() is False); move the tensors to the CPU")


def _probe_cuda() -> bool:
    if not getattr(_C, "has_cuda", False):
        return False
    import torch

    # torch first: it sets up the primary context the kernels share; then our own runtime,
    # which also checks that the binary has code for this GPU and that the driver is new
    # enough for the CUDA version it was built with.
    return torch.cuda.is_available() and _C.cuda_probe() == 0


def cpu_target() -> str:
    """The vector code the CPU kernels run: "avx512", "avx2" (with FMA) or "baseline" (x86-64 SSE2,
    or the only code on other architectures). The widest the CPU has unless narrowed by
    set_cpu_target or the FASTRANK_CPU_TARGET environment variable."""
    return _C.cpu_target()


def cpu_targets() -> list:
    """The targets this build and this CPU can run, widest first."""
    return list(_C.cpu_targets_usable())


def set_cpu_target(name: str) -> None:
    """Selects the vector code of the CPU kernels (for measuring the narrower targets; results
    agree to rounding across targets)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if name not in CPU_TARGETS:
        raise ValueError(f"name must be one of {', '.join(CPU_TARGETS)}, got {name!r}")
    if not _C.set_cpu_target(name):
        raise ValueError(f"CPU target {name!r} is not usable here; this build and CPU can run "
                         f"{', '.join(cpu_targets())}")


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
