"""NAS search spaces: canonical strings, integer codes, sampling, mutation, graph form, and the
network of an architecture (``to_module``). Your own: ``CellSpace``/``ChainSpace`` (declared),
or a ``SearchSpace`` subclass, named with :func:`register_space`."""
from typing import Callable

from .._registry import register

from .base import Graph, InvalidArchitecture, SearchSpace
from .cell import CellSpace, EdgeOpCell, NASBench201, TransNASMicro
from .chain import ChainSpace, NASBenchMacro, TransNASMacro
from .darts import DARTS
from .nasbench_graph import NASBenchGraph
from .nb101 import NASBench101

#: name -> factory() returning the space
SPACES = {
    "nb201": NASBench201,
    "nb101": NASBench101,
    "darts": DARTS,
    "tnb101_micro": TransNASMicro,
    "tnb101_macro": TransNASMacro,
    "nasbench_macro": NASBenchMacro,
    "nasbench_graph": NASBenchGraph,  # needs the PyPI package nas-bench-graph
}
#: the spaces fastrank ships (SPACES also holds those registered since)
BUILT_IN_SPACES = tuple(SPACES)


def get_space(name: str) -> SearchSpace:
    """A search space by name: one of SPACES."""
    if name not in SPACES:
        raise ValueError(f"unknown search space {name!r}; known: {', '.join(SPACES)}")
    return SPACES[name]()


def register_space(name: str, factory: Callable[[], SearchSpace], *, replace: bool = False) -> None:
    """Names a space of your own: ``get_space(name)``, ``fastrank search --space NAME`` (with
    ``--import`` of the module that registers it) and saved predictors find it. ``factory()``
    returns the space, e.g. ``lambda: CellSpace(nodes=5, ops=[...], name="mine")``."""
    if not callable(factory):
        raise TypeError("factory must be callable: factory() -> SearchSpace")
    register(SPACES, "space", name, factory, replace=replace, valid_name=str.isidentifier,
             name_rule="an identifier (letters, digits, underscores)")


__all__ = ["Graph", "InvalidArchitecture", "SearchSpace", "EdgeOpCell", "CellSpace", "ChainSpace", "NASBench201",
           "NASBench101", "DARTS", "TransNASMicro", "TransNASMacro", "NASBenchMacro", "NASBenchGraph", "SPACES",
           "BUILT_IN_SPACES", "get_space", "register_space"]
