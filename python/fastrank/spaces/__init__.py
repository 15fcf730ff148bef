"""NAS search spaces: canonical strings, integer codes, sampling, mutation, graph form."""
from .base import Graph, InvalidArchitecture, SearchSpace
from .cell import EdgeOpCell, NASBench201, TransNASMicro
from .chain import NASBenchMacro, TransNASMacro
from .darts import DARTS
from .nasbench_graph import NASBenchGraph
from .nb101 import NASBench101

SPACES = {
    "nb201": NASBench201,
    "nb101": NASBench101,
    "darts": DARTS,
    "tnb101_micro": TransNASMicro,
    "tnb101_macro": TransNASMacro,
    "nasbench_macro": NASBenchMacro,
    "nasbench_graph": NASBenchGraph,  # needs the PyPI package nas-bench-graph
}


def get_space(name: str) -> SearchSpace:
    """A search space by name: one of SPACES."""
    if name not in SPACES:
        raise ValueError(f"unknown search space {name!r}; known: {', '.join(SPACES)}")
    return SPACES[name]()


__all__ = ["Graph", "InvalidArchitecture", "SearchSpace", "EdgeOpCell", "NASBench201", "NASBench101", "DARTS",
           "TransNASMicro", "TransNASMacro", "NASBenchMacro", "NASBenchGraph", "SPACES", "get_space"]
