"""fastrank: fast ranking losses and tools for predictor-based neural architecture search."""
from ._native import cpu_target, cpu_targets, cuda_available, num_threads, set_cpu_target, set_num_threads
from .ops import lambdarank, pairwise_hinge, pairwise_logistic, pairwise_squared_hinge
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
    "pairwise_hinge",
    "pairwise_squared_hinge",
    "pairwise_logistic",
    "lambdarank",
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
