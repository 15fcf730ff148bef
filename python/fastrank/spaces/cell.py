"""Edge-op cells: nodes 0..n-1, one operation on every edge i → j (i < j). The NAS-Bench-201
cell (4 nodes, 6 edges), the TransNAS-Bench-101 micro cell that shares it, and
``CellSpace``, the same shape with any node count and operation list."""
from __future__ import annotations

import re
from typing import Callable, List, Mapping, Sequence, Tuple, Union

import numpy as np

from .base import Graph, InvalidArchitecture, SearchSpace, check_code, choice_constructors, declared_choices


def cell_edges(nodes: int) -> Tuple[Tuple[int, int], ...]:
    """Edges in the NB201 string order: grouped by target node, sources ascending
    ((0,1), (0,2), (1,2), (0,3), (1,3), (2,3), ...)."""
    return tuple((i, j) for j in range(1, nodes) for i in range(j))


# Edges (from, to) in the order of the NB201 string |o~0|+|o~0|o~1|+|o~0|o~1|o~2|.
EDGES: Tuple[Tuple[int, int], ...] = cell_edges(4)


def cell_graph(ops: Sequence[int], edges: Sequence[Tuple[int, int]] = EDGES) -> Graph:
    """Edge-op cell → operations on nodes: node 0 input, then one node per edge in string
    order (op id 2 + op), last node output. Edge (i→j) feeds every edge leaving j; edges
    leaving node 0 read the input; edges into the last cell node feed the output."""
    n = len(edges) + 2
    last = max(j for _, j in edges)
    adjacency = np.zeros((n, n), dtype=np.uint8)
    node_ops = np.empty(n, dtype=np.int64)
    node_ops[0], node_ops[-1] = 0, 1
    for e, (i, j) in enumerate(edges):
        node_ops[e + 1] = 2 + ops[e]
        if i == 0:
            adjacency[0, e + 1] = 1
        if j == last:
            adjacency[e + 1, n - 1] = 1
        for f, (k, _) in enumerate(edges):
            if k == j:
                adjacency[e + 1, f + 1] = 1
    return Graph(node_ops, adjacency)


class EdgeOpCell(SearchSpace):
    """One operation per edge of a ``nodes``-node cell (subclasses set ``ops``; NB201 and
    TransNAS-Bench-101 micro have 4 nodes, 6 edges). Architecture: the tuple of op indices,
    one per edge in string order; code: that tuple read as a base-len(ops) number."""

    ops: Tuple[str, ...] = ()
    nodes: int = 4

    def __init__(self):
        self.edges = cell_edges(self.nodes)
        self.node_ops = ("input", "output") + tuple(self.ops)
        self.max_nodes = len(self.edges) + 2
        self.size = len(self.ops) ** len(self.edges)

    def encode(self, arch) -> int:
        code = 0
        for op in self._ops_of(arch):
            code = code * len(self.ops) + op
        return code

    def decode(self, code: int) -> Tuple[int, ...]:
        code = check_code(code, self.size)
        digits = []
        for _ in self.edges:
            code, op = divmod(code, len(self.ops))
            digits.append(op)
        return tuple(reversed(digits))

    def _ops_of(self, arch) -> Tuple[int, ...]:
        if not isinstance(arch, tuple) or len(arch) != len(self.edges) or not all(
            isinstance(o, (int, np.integer)) and 0 <= o < len(self.ops) for o in arch
        ):
            raise InvalidArchitecture(
                f"{self.name} architectures are {len(self.edges)} op indices in 0..{len(self.ops) - 1}, got {arch!r}")
        return tuple(int(o) for o in arch)

    def sample(self, rng: np.random.Generator):
        return self.decode(int(rng.integers(self.size)))

    def neighbours(self, arch) -> List[Tuple[int, ...]]:
        ops = self._ops_of(arch)
        return [ops[:e] + (o,) + ops[e + 1:] for e in range(len(self.edges)) for o in range(len(self.ops)) if o != ops[e]]

    def graph(self, arch) -> Graph:
        return cell_graph(self._ops_of(arch), self.edges)


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

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The NB201 network (``fastrank.models.nb201``): by default the benchmark's, C = 16 and
        N = 5 cells per stage for 32×32 RGB inputs."""
        from ..models.nb201 import NB201Network

        return NB201Network(self._ops_of(arch), num_classes=num_classes, **sizes)


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

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The TransNAS-Bench-101 micro encoder with a classification head
        (``fastrank.models.transnas``)."""
        from ..models.transnas import TransNASMicroNetwork

        return TransNASMicroNetwork(self._ops_of(arch), num_classes=num_classes, **sizes)


OpNames = Union[Sequence[str], Mapping[str, Callable]]


class CellSpace(EdgeOpCell):
    """Your own edge-op cell space, declared: ``nodes`` nodes, one of ``ops`` on each of the
    nodes·(nodes−1)/2 edges (NB201 is ``CellSpace(nodes=4, ops=NASBench201.ops)``).

    ``ops`` is a list of operation names, or a mapping from each name to its constructor
    ``C -> nn.Module`` (C channels in and out, resolution kept). Names ``fastrank.models.cell``
    knows (none, skip_connect, conv1x1, conv3x3, conv5x5, avg_pool_3x3, max_pool_3x3, NB201's
    nor_conv_*) need no constructor. ``to_module`` puts the cell into NB201's network skeleton.

    Strings are NB201's form generalised: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|+...``, one
    ``+``-separated group per node after the input, listing the edges into it."""

    def __init__(self, nodes: int = 4, ops: OpNames = ("none", "skip_connect", "conv1x1", "conv3x3", "avg_pool_3x3"),
                 name: str = "cell"):
        if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 2:
            raise ValueError(f"a cell needs at least 2 nodes (input and output), got {nodes!r}")
        names, self._constructors = declared_choices(ops, "ops", "operation")
        self.nodes = nodes
        self.ops = names
        self.name = name
        super().__init__()

    def parse(self, text: str) -> Tuple[int, ...]:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a {self.name} architecture string is a str, got {type(text).__name__}")
        groups = text.strip().split("+")
        if len(groups) != self.nodes - 1:
            raise InvalidArchitecture(f"a {self.nodes}-node {self.name} string has {self.nodes - 1} '+'-separated "
                                      f"groups, got {text!r}")
        arch = []
        for j, group in enumerate(groups, start=1):
            entries = group.split("|")
            if len(entries) != j + 2 or entries[0] or entries[-1]:
                raise InvalidArchitecture(f"group {j} of {text!r} must be |op~0|...|op~{j - 1}|")
            for i, entry in enumerate(entries[1:-1]):
                op, _, source = entry.rpartition("~")
                if source != str(i):
                    raise InvalidArchitecture(f"entry {entry!r} of {text!r} must read node {i} (op~{i})")
                if op not in self.ops:
                    raise InvalidArchitecture(f"unknown operation {op!r} in {text!r}; known: {self.ops}")
                arch.append(self.ops.index(op))
        return tuple(arch)

    def to_string(self, arch) -> str:
        ops = self._ops_of(arch)
        groups, e = [], 0
        for j in range(1, self.nodes):
            groups.append("|" + "|".join(f"{self.ops[ops[e + i]]}~{i}" for i in range(j)) + "|")
            e += j
        return "+".join(groups)

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The cell in NB201's network: stem, 3 stages of ``cells_per_stage`` cells (5) at
        ``channels`` (16) doubling per stage; ``in_channels``/``image_size`` for the input."""
        from ..models.cell import CELL_OPS
        from ..models.nb201 import CellNetwork

        names = [self.ops[o] for o in self._ops_of(arch)]
        constructors = choice_constructors(self.ops, self._constructors, CELL_OPS, "operation",
                                           "CellSpace(ops={name: lambda C: module, ...})")
        return CellNetwork(names, constructors, nodes=self.nodes, num_classes=num_classes, **sizes)

    def __repr__(self) -> str:
        return f"CellSpace(nodes={self.nodes}, ops={list(self.ops)!r}, name={self.name!r})"
