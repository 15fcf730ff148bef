"""NAS-Bench-101: cells of up to 7 nodes (input, ≤5 operations, output) and ≤9 edges."""
from __future__ import annotations

import hashlib
from typing import List, Tuple

import numpy as np

from .base import Graph, InvalidArchitecture, SearchSpace

MAX_NODES = 7
MAX_EDGES = 9


class NASBench101(SearchSpace):
    """Architecture: ``(adjacency bits, ops)`` with the 7×7 upper-triangular matrix as a
    49-character 0/1 string (row-major, as the benchmark tables store it) and the tuple of
    node labels. ``parse`` takes ``"<49 bits>;<comma-separated ops>"``. Cells are pruned
    (nodes off every input→output path removed) before hashing: ``identity`` is
    isomorphism-aware (equal for relabelled, equivalent cells)."""

    name = "nb101"
    ops = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
    node_ops = ("input", "output") + ops
    max_nodes = MAX_NODES

    # --- representation ----------------------------------------------------------
    def make(self, matrix, ops) -> Tuple[str, Tuple[str, ...]]:
        """Validates a (matrix, ops) pair and returns the architecture tuple."""
        m = np.asarray(matrix)
        if m.shape != (MAX_NODES, MAX_NODES):
            raise InvalidArchitecture(
                f"NB101 adjacency must be {MAX_NODES}x{MAX_NODES} (smaller cells: pad with unconnected nodes), "
                f"got shape {m.shape}")
        if not np.isin(m, (0, 1)).all():
            raise InvalidArchitecture("NB101 adjacency must hold 0/1")
        if np.tril(m).any():
            raise InvalidArchitecture("NB101 adjacency must be strictly upper triangular (a DAG in node order)")
        ops = tuple(ops)
        if len(ops) != m.shape[0]:
            raise InvalidArchitecture(f"{len(ops)} ops for {m.shape[0]} nodes")
        if ops[0] != "input" or ops[-1] != "output":
            raise InvalidArchitecture("NB101 ops must start with 'input' and end with 'output'")
        bad = [o for o in ops[1:-1] if o not in self.ops]
        if bad:
            raise InvalidArchitecture(f"unknown NB101 operation(s) {bad}; known: {self.ops}")
        pruned, pruned_ops = self.prune(m.astype(np.uint8), ops)
        if pruned is None:
            raise InvalidArchitecture("NB101 cell has no path from input to output")
        if int(pruned.sum()) > MAX_EDGES:
            raise InvalidArchitecture(f"NB101 cell has {int(pruned.sum())} edges after pruning (at most {MAX_EDGES})")
        return "".join(str(int(b)) for b in m.reshape(-1)), ops

    @staticmethod
    def matrix(arch) -> np.ndarray:
        """The cell's 7×7 adjacency matrix (uint8, upper triangular)."""
        return np.frombuffer(arch[0].encode(), dtype=np.uint8).reshape(MAX_NODES, MAX_NODES) - ord("0")

    @staticmethod
    def prune(m: np.ndarray, ops):
        """(matrix, ops) of the vertices on some input→output path, as NAS-Bench-101 prunes a
        cell before building it; (None, None) when no path joins input and output."""
        n = m.shape[0]
        from_input = np.zeros(n, dtype=bool)
        from_input[0] = True
        for j in range(1, n):
            from_input[j] = bool((m[:j, j] & from_input[:j]).any())
        to_output = np.zeros(n, dtype=bool)
        to_output[n - 1] = True
        for i in range(n - 2, -1, -1):
            to_output[i] = bool((m[i, i + 1:] & to_output[i + 1:]).any())
        keep = from_input & to_output
        if not keep[0] or not keep[-1]:
            return None, None
        idx = np.flatnonzero(keep)
        return m[np.ix_(idx, idx)], tuple(ops[i] for i in idx)

    def _unpack(self, arch):
        if not (isinstance(arch, tuple) and len(arch) == 2 and isinstance(arch[0], str) and len(arch[0]) == 49
                and isinstance(arch[1], tuple) and all(isinstance(o, str) for o in arch[1])):
            raise InvalidArchitecture(f"NB101 architectures are (49-bit adjacency string, ops tuple), got {arch!r}")
        if set(arch[0]) - {"0", "1"}:
            raise InvalidArchitecture(f"NB101 adjacency must be 49 characters of 0/1, got {arch[0]!r}")
        m = self.matrix(arch)
        # everything parse would refuse (op count, labels, triangularity, edges) is refused here too
        self.make(m, arch[1])
        return m, arch[1]

    def parse(self, text: str):
        if not isinstance(text, str) or ";" not in text:
            raise InvalidArchitecture(f"an NB101 string is '<49 bits>;<op,op,...>', got {text!r}")
        bits, ops = text.strip().split(";", 1)
        if len(bits) != 49 or set(bits) - {"0", "1"}:
            raise InvalidArchitecture(f"NB101 adjacency must be 49 characters of 0/1, got {bits!r}")
        return self.make(np.array([int(c) for c in bits]).reshape(MAX_NODES, MAX_NODES), ops.split(","))

    def to_string(self, arch) -> str:
        self._unpack(arch)
        return arch[0] + ";" + ",".join(arch[1])

    # --- identity ------------------------------------------------------------------
    def identity(self, arch) -> str:
        """NB101-style graph hash of the pruned cell: iterated hashing of each node's
        (in-degree, out-degree, label) with its neighbours', so isomorphic cells agree."""
        m, ops = self._unpack(arch)
        m, ops = self.prune(m, ops)
        labels = [-1 if o == "input" else -2 if o == "output" else self.ops.index(o) for o in ops]
        n = m.shape[0]
        digest = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
        hashes = [digest(str((int(m[v].sum()), int(m[:, v].sum()), labels[v]))) for v in range(n)]
        for _ in range(n):
            hashes = [
                digest("".join(sorted(hashes[w] for w in range(n) if m[w, v])) + "|"
                       + "".join(sorted(hashes[w] for w in range(n) if m[v, w])) + "|" + hashes[v])
                for v in range(n)
            ]
        return digest(str(sorted(hashes)))

    # --- variation -------------------------------------------------------------------
    def sample(self, rng: np.random.Generator):
        while True:
            m = np.triu(rng.integers(0, 2, (MAX_NODES, MAX_NODES)), 1)
            ops = ["input"] + [self.ops[int(i)] for i in rng.integers(0, 3, MAX_NODES - 2)] + ["output"]
            try:
                return self.make(m, ops)
            except InvalidArchitecture:
                continue

    def neighbours(self, arch) -> List:
        m, ops = self._unpack(arch)
        out = []
        for i in range(MAX_NODES):
            for j in range(i + 1, MAX_NODES):
                flipped = m.copy()
                flipped[i, j] ^= 1
                try:
                    out.append(self.make(flipped, ops))
                except InvalidArchitecture:
                    pass
        for v in range(1, MAX_NODES - 1):
            for op in self.ops:
                if op != ops[v]:
                    out.append(self.make(m, ops[:v] + (op,) + ops[v + 1:]))
        return out

    def graph(self, arch) -> Graph:
        m, ops = self._unpack(arch)
        return Graph(np.array([self.node_ops.index(o) for o in ops], dtype=np.int64), m.astype(np.uint8))

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The NB101 network (``fastrank.models.nb101``): by default the benchmark's own, a
        128-channel stem and 3 stacks of 3 cells."""
        from ..models.nb101 import NB101Network

        matrix, ops = self._unpack(arch)
        return NB101Network(matrix, ops, num_classes=num_classes, **sizes)
