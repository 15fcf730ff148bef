"""NAS-Bench-Graph: GNN architectures of 4 operation nodes whose wiring is one of 9 link
patterns; each node reads the input (0) or an earlier node, nodes nobody reads form the output.

The benchmark lists each architecture once, up to its own equivalences (skip moves, orderings
of interchangeable branches), keyed by ``hash = ((link·b + o1)·b + o2)·b + o3)·b + o4`` with
b = number of ops + 1. This space is that list of distinct architectures: it is read from the
package's table keys (PyPI ``nas-bench-graph``, never imported), or given as hashes.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import numpy as np

from .base import Graph, InvalidArchitecture, ListedSpace

LINKS = ((0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3), (0, 1, 1, 1), (0, 1, 1, 2),
         (0, 1, 2, 2), (0, 1, 2, 3))
OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")


class NASBenchGraph(ListedSpace):
    """Architecture: ``(link index, op1, op2, op3, op4)`` (op indices into ``ops``); string
    ``"0,1,2,3|gcn,gat,skip,fc"`` (the link's parents, then the ops). ``proteins=True`` is
    the proteins dataset's smaller space (ops gcn, sage, arma, fc, skip; hashed with the same
    9-op vocabulary). Codes index the sorted benchmark hashes."""

    def __init__(self, proteins: bool = False, hashes: Optional[Iterable[int]] = None):
        self.proteins = proteins
        self.ops = OPS
        self.name = "nasbench_graph_proteins" if proteins else "nasbench_graph"
        self.node_ops = ("input", "output") + self.ops
        self.max_nodes = 6
        if hashes is None:
            hashes = _package_hashes(proteins)
        self._hashes = sorted(int(h) for h in hashes)
        self._list(self._unhash(h) for h in self._hashes)

    def _unhash(self, value: int) -> Tuple[int, ...]:
        base = len(self.ops) + 1
        ops = []
        for _ in range(4):
            value, op = divmod(value, base)
            ops.append(op)
        if not 0 <= value < len(LINKS) or any(o >= len(self.ops) for o in ops):
            raise ValueError(f"{value} is not a NAS-Bench-Graph hash")
        return (value,) + tuple(reversed(ops))

    def hash(self, arch) -> int:
        """The benchmark's key of an architecture."""
        base = len(self.ops) + 1
        value = self._member(arch)[0]
        for op in arch[1:]:
            value = value * base + op
        return value

    def _member(self, arch):
        if arch not in self._index:
            raise InvalidArchitecture(
                f"{arch!r} is not one of the {self.size} distinct NAS-Bench-Graph architectures "
                "(link index, 4 op indices; equivalent wirings are listed once)")
        return arch

    def parse(self, text: str):
        m = re.fullmatch(r"\s*([0-3],[0-3],[0-3],[0-3])\|([a-z]+),([a-z]+),([a-z]+),([a-z]+)\s*", str(text))
        if not m:
            raise InvalidArchitecture(f"not a NAS-Bench-Graph string ('0,1,2,3|gcn,gat,skip,fc'): {text!r}")
        link = tuple(int(c) for c in m.group(1).split(","))
        if link not in LINKS:
            raise InvalidArchitecture(f"link {link} is not one of the 9 canonical NAS-Bench-Graph links {LINKS}")
        bad = [o for o in m.groups()[1:] if o not in self.ops]
        if bad:
            raise InvalidArchitecture(f"unknown NAS-Bench-Graph operation(s) {bad}; known: {self.ops}")
        return self._member((LINKS.index(link),) + tuple(self.ops.index(o) for o in m.groups()[1:]))

    def to_string(self, arch) -> str:
        link, *ops = self._member(arch)
        return ",".join(str(p) for p in LINKS[link]) + "|" + ",".join(self.ops[o] for o in ops)

    def neighbours(self, arch) -> List:
        link, *ops = self._member(arch)
        out = []
        for i in range(4):  # one operation changed
            for o in range(len(self.ops)):
                if o != ops[i]:
                    cand = (link,) + tuple(ops[:i]) + (o,) + tuple(ops[i + 1:])
                    if cand in self._index:
                        out.append(cand)
        for other in range(len(LINKS)):  # the wiring changed
            cand = (other,) + tuple(ops)
            if other != link and cand in self._index:
                out.append(cand)
        return out

    def graph(self, arch) -> Graph:
        link, *ops = self._member(arch)
        return Graph(np.array([0] + [2 + o for o in ops] + [1], dtype=np.int64), wiring(link))

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The benchmark's GNN (``fastrank.models.nasbench_graph``), built with torch_geometric
        (the ``[graph]`` extra)."""
        from ..models.nasbench_graph import NASBenchGraphNetwork

        link, *ops = self._member(arch)
        return NASBenchGraphNetwork(LINKS[link], tuple(self.ops[o] for o in ops), num_classes=num_classes, **sizes)


def wiring(link: int) -> np.ndarray:
    """The (6, 6) adjacency of a link index: input 0, the four op nodes 1..4 (node i + 1 reads
    ``LINKS[link][i]``), output 5 (reads every op node no other node reads)."""
    parents = LINKS[link]
    adjacency = np.zeros((6, 6), dtype=np.uint8)
    for i, parent in enumerate(parents):
        adjacency[parent, i + 1] = 1
    for i in range(4):
        if i + 1 not in parents:
            adjacency[i + 1, 5] = 1
    return adjacency


def _package_hashes(proteins: bool):
    from .. import _safe_pickle as safe_pickle

    name = "proteins" if proteins else "cora"
    table = read_table(safe_pickle.package_file("nas_bench_graph", f"light/{name}.bench", "nas-bench-graph"))
    return table.keys()


def read_table(path: Path) -> dict:
    from .. import _safe_pickle as safe_pickle

    table = safe_pickle.load(path, safe_pickle.numpy_scalars())
    if not isinstance(table, dict):
        raise ValueError(f"{str(path)!r} is malformed: expected a dict keyed by architecture hash")
    return table
