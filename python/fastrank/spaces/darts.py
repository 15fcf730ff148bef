"""The DARTS space (NAS-Bench-301 labels): a normal and a reduction cell, each with 4
intermediate nodes that sum two operations applied to earlier nodes."""
from __future__ import annotations

import re
from typing import List, Tuple

import numpy as np

from .base import Graph, InvalidArchitecture, SearchSpace

OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
Cell = Tuple[Tuple[int, int], ...]  # 8 (op index, input node) pairs, two per intermediate node 2..5

# Graph form of one cell: 2 inputs, 8 operation nodes, 4 sum nodes, 1 output = 15 nodes.
_CELL_NODES = 15


class DARTS(SearchSpace):
    """Architecture: ``(normal, reduce)``, each 8 ``(op, input)`` pairs; entries 2k, 2k+1 feed
    intermediate node k + 2 and read node 0 or 1 (the cell inputs) or an earlier
    intermediate node; a node's two inputs differ. String: ``"<normal>|<reduce>"`` with each
    cell as 8 space-separated ``op~input`` entries (the NB301 table's columns)."""

    name = "darts"
    ops = OPS
    node_ops = ("input_normal", "output", "input_reduce", "sum_normal", "sum_reduce") + OPS
    max_nodes = 2 * _CELL_NODES

    def _cell(self, cell, which: str) -> Cell:
        if not isinstance(cell, tuple) or len(cell) != 8:
            raise InvalidArchitecture(f"a DARTS {which} cell is 8 (op, input) pairs, got {cell!r}")
        for k in range(4):
            pair = cell[2 * k: 2 * k + 2]
            for op, node in pair:
                if not (isinstance(op, (int, np.integer)) and 0 <= op < len(OPS)):
                    raise InvalidArchitecture(f"DARTS op index {op!r} outside 0..{len(OPS) - 1}")
                if not (isinstance(node, (int, np.integer)) and 0 <= node < k + 2):
                    raise InvalidArchitecture(f"DARTS node {k + 2} of the {which} cell cannot read node {node!r}")
            if pair[0][1] == pair[1][1]:
                raise InvalidArchitecture(f"DARTS node {k + 2} of the {which} cell reads node {pair[0][1]} twice")
        return tuple((int(o), int(n)) for o, n in cell)

    def _unpack(self, arch) -> Tuple[Cell, Cell]:
        if not isinstance(arch, tuple) or len(arch) != 2:
            raise InvalidArchitecture(f"DARTS architectures are (normal cell, reduction cell), got {arch!r}")
        return self._cell(arch[0], "normal"), self._cell(arch[1], "reduction")

    def _parse_cell(self, text: str, which: str) -> Cell:
        entries = text.split()
        pairs = []
        for entry in entries:
            m = re.fullmatch(r"([a-z0-9_]+)~(\d+)", entry)
            if not m or m.group(1) not in OPS:
                raise InvalidArchitecture(f"bad DARTS entry {entry!r} in the {which} cell (op~input, ops {OPS})")
            pairs.append((OPS.index(m.group(1)), int(m.group(2))))
        return self._cell(tuple(pairs), which)

    def parse(self, text: str):
        if not isinstance(text, str) or text.count("|") != 1:
            raise InvalidArchitecture(f"a DARTS string is '<normal cell>|<reduction cell>', got {text!r}")
        normal, reduce = text.split("|")
        return self._parse_cell(normal, "normal"), self._parse_cell(reduce, "reduction")

    def to_string(self, arch) -> str:
        cells = self._unpack(arch)
        return "|".join(" ".join(f"{OPS[o]}~{n}" for o, n in cell) for cell in cells)

    def sample(self, rng: np.random.Generator):
        def cell():
            pairs = []
            for k in range(4):
                inputs = rng.choice(k + 2, size=2, replace=False)
                pairs += [(int(rng.integers(len(OPS))), int(i)) for i in inputs]
            return tuple(pairs)

        return cell(), cell()

    def neighbours(self, arch) -> List:
        cells = self._unpack(arch)
        out = []
        for c, cell in enumerate(cells):
            for e, (op, node) in enumerate(cell):
                k = e // 2
                other = cell[e ^ 1][1]
                variants = [(o, node) for o in range(len(OPS)) if o != op]
                variants += [(op, n) for n in range(k + 2) if n not in (node, other)]
                for v in variants:
                    new = cell[:e] + (v,) + cell[e + 1:]
                    out.append((new, cells[1]) if c == 0 else (cells[0], new))
        return out

    def graph(self, arch) -> Graph:
        """Both cells side by side (30 nodes), each in topological order: its 2 input nodes,
        then per intermediate node its two operation nodes (fed by the nodes they read) and
        its sum node (fed by the two), then the cell output (fed by the 4 sums, as their
        concatenation)."""
        n = self.max_nodes
        ops = np.zeros(n, dtype=np.int64)
        adjacency = np.zeros((n, n), dtype=np.uint8)
        first_op = len(self.node_ops) - len(OPS)
        for c, cell in enumerate(self._unpack(arch)):
            base = c * _CELL_NODES
            out = base + _CELL_NODES - 1

            def sum_node(k: int) -> int:  # intermediate node k = 2..5
                return base + 2 + 3 * (k - 2) + 2

            def node_index(node: int) -> int:
                return base + node if node < 2 else sum_node(node)

            ops[base:base + 2] = 0 if c == 0 else 2
            ops[out] = 1
            for e, (op, node) in enumerate(cell):
                k = e // 2 + 2
                op_node = base + 2 + 3 * (k - 2) + e % 2
                ops[op_node] = first_op + op
                ops[sum_node(k)] = 3 if c == 0 else 4
                adjacency[node_index(node), op_node] = 1
                adjacency[op_node, sum_node(k)] = 1
            for k in range(2, 6):
                adjacency[sum_node(k), out] = 1
        return Graph(ops, adjacency)

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The DARTS CIFAR network (``fastrank.models.darts``): by default the one NAS-Bench-301
        trained; ``preset="darts"`` is the DARTS evaluation network."""
        from ..models.darts import DARTSNetwork

        normal, reduce = self._unpack(arch)
        return DARTSNetwork(normal, reduce, num_classes=num_classes, **sizes)
