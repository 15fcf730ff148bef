"""The NAS-Bench-201 cell (4 nodes, 6 edges, one operation per edge) and the TransNAS-Bench-101
micro space that shares it."""
from __future__ import annotations

import re
from typing import List, Sequence, Tuple

import numpy as np

from .base import Graph, InvalidArchitecture, SearchSpace, check_code

# Edges (from, to) in the order of the NB201 string |o~0|+|o~0|o~1|+|o~0|o~1|o~2|.
EDGES: Tuple[Tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))


def cell_graph(ops: Sequence[int]) -> Graph:
    """Edge-op cell → operations on nodes: node 0 input, nodes 1..6 the edges in string
    order (op id 2 + op), node 7 output. Edge (i→j) feeds every edge leaving j; edges
    leaving node 0 read the input; edges into node 3 feed the output."""
    n = len(EDGES) + 2
    adjacency = np.zeros((n, n), dtype=np.uint8)
    node_ops = np.empty(n, dtype=np.int64)
    node_ops[0], node_ops[-1] = 0, 1
    for e, (i, j) in enumerate(EDGES):
        node_ops[e + 1] = 2 + ops[e]
        if i == 0:
            adjacency[0, e + 1] = 1
        if j == 3:
            adjacency[e + 1, n - 1] = 1
        for f, (k, _) in enumerate(EDGES):
            if k == j:
                adjacency[e + 1, f + 1] = 1
    return Graph(node_ops, adjacency)


class EdgeOpCell(SearchSpace):
    """The shape NB201 and TransNAS-Bench-101 micro share: 4 nodes, 6 edges, one operation per
    edge (subclasses set ``ops``)."""

    ops: Tuple[str, ...] = ()
    max_nodes = len(EDGES) + 2

    def __init__(self):
        self.node_ops = ("input", "output") + self.ops
        self.size = len(self.ops) ** len(EDGES)

    def encode(self, arch) -> int:
        code = 0
        for op in self._ops_of(arch):
            code = code * len(self.ops) + op
        return code

    def decode(self, code: int) -> Tuple[int, ...]:
        code = check_code(code, self.size)
        digits = []
        for _ in EDGES:
            code, op = divmod(code, len(self.ops))
            digits.append(op)
        return tuple(reversed(digits))

    def _ops_of(self, arch) -> Tuple[int, ...]:
        if not isinstance(arch, tuple) or len(arch) != len(EDGES) or not all(
            isinstance(o, (int, np.integer)) and 0 <= o < len(self.ops) for o in arch
        ):
            raise InvalidArchitecture(f"{self.name} architectures are {len(EDGES)} op indices in 0..{len(self.ops) - 1}, got {arch!r}")
        return tuple(int(o) for o in arch)

    def sample(self, rng: np.random.Generator):
        return self.decode(int(rng.integers(self.size)))

    def neighbours(self, arch) -> List[Tuple[int, ...]]:
        ops = self._ops_of(arch)
        return [ops[:e] + (o,) + ops[e + 1:] for e in range(len(EDGES)) for o in range(len(self.ops)) if o != ops[e]]

    def graph(self, arch) -> Graph:
        return cell_graph(self._ops_of(arch))


class NASBench201(EdgeOpCell):
    """NAS-Bench-201 / NATS-Bench topology: 5 operations on 6 edges, 15,625 cells.
    Architecture: a tuple of 6 op indices (string order); code: base-5 number of them."""

    name = "nb201"
    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    _pattern = re.compile(r"^\|([a-z0-9_]+)~0\|\+\|([a-z0-9_]+)~0\|([a-z0-9_]+)~1\|\+"
                          r"\|([a-z0-9_]+)~0\|([a-z0-9_]+)~1\|([a-z0-9_]+)~2\|$")

    def parse(self, text: str) -> Tuple[int, ...]:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"an NB201 architecture string is a str, got {type(text).__name__}")
        m = self._pattern.match(text.strip())
        if not m:
            raise InvalidArchitecture(f"not an NB201 string (|op~0|+|op~0|op~1|+|op~0|op~1|op~2|): {text!r}")
        bad = [name for name in m.groups() if name not in self.ops]
        if bad:
            raise InvalidArchitecture(f"unknown NB201 operation(s) {bad} in {text!r}; known: {self.ops}")
        return tuple(self.ops.index(name) for name in m.groups())

    def to_string(self, arch) -> str:
        o = [self.ops[i] for i in self._ops_of(arch)]
        return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


class TransNASMicro(EdgeOpCell):
    """TransNAS-Bench-101 micro (cell) space: the NB201 cell with 4 operations, 4,096 cells,
    written ``64-41414-a_bc_def`` with one digit per edge in NB201 string order."""

    name = "tnb101_micro"
    ops = ("none", "skip_connect", "conv1x1", "conv3x3")
    _pattern = re.compile(r"^64-41414-([0-3])_([0-3]{2})_([0-3]{3})$")

    def parse(self, text: str) -> Tuple[int, ...]:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a TransNAS micro architecture string is a str, got {type(text).__name__}")
        m = self._pattern.match(text.strip())
        if not m:
            raise InvalidArchitecture(f"not a TransNAS micro string (64-41414-a_bc_def, digits 0-3): {text!r}")
        return tuple(int(c) for c in "".join(m.groups()))

    def to_string(self, arch) -> str:
        d = "".join(str(o) for o in self._ops_of(arch))
        return f"64-41414-{d[0]}_{d[1:3]}_{d[3:]}"
