"""fastrank: fast ranking losses and tools for predictor-based neural architecture search."""
from ._native import cpu_target, cpu_targets, cuda_available, num_threads, set_cpu_target, set_num_threads
from . import ops as _ops
from .ops import *  # noqa: F401,F403  (every public op: fastrank.pairwise_hinge, ...; a new op needs no entry)
from . import benchmarks, graph, losses, metrics, nn, optim, spaces  # noqa: E402  (built on the ops above)
from .predictor import Predictor  # noqa: E402
from . import search  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "cpu_target",
    "cpu_targets",
    "set_cpu_target",
    "cuda_available",
    "num_threads",
    "set_num_threads",
    *_ops.__all__,
    "benchmarks",
    "graph",
    "losses",
    "metrics",
    "nn",
    "optim",
    "spaces",
    "Predictor",
    "search",
]
