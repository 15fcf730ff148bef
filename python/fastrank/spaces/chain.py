"""Chain (macro) spaces: a sequence of layer choices. TransNAS-Bench-101 macro and NAS-Bench-Macro."""
from __future__ import annotations

import itertools
import re
from typing import List, Tuple

import numpy as np

from .base import Graph, InvalidArchitecture, ListedSpace, SearchSpace, check_code


def chain_graph(layer_ops: Tuple[int, ...]) -> Graph:
    """input → layer 1 → … → layer L → output (L + 2 nodes; node 0 the input, L + 1 the output)."""
    n = len(layer_ops) + 2
    ops = np.zeros(n, dtype=np.int64)
    adjacency = np.zeros((n, n), dtype=np.uint8)
    length = len(layer_ops)
    ops[0] = 0
    for i, op in enumerate(layer_ops):
        ops[i + 1] = 2 + op
    ops[length + 1] = 1
    for i in range(length + 1):
        adjacency[i, i + 1] = 1
    return Graph(ops, adjacency)


class TransNASMacro(ListedSpace):
    """TransNAS-Bench-101 macro (skeleton) space: 4–6 stages, each 1 (normal), 2 (channels
    ×2), 3 (stride 2) or 4 (both), with 1–4 stride-2 stages and 1–3 channel doublings:
    3,256 networks written ``64-<digits>-basic``. Architecture: the tuple of stage digits."""

    name = "tnb101_macro"
    stage_ops = ("normal", "channel_x2", "stride_2", "channel_x2_stride_2")
    max_nodes = 6 + 2

    def __init__(self):
        self.node_ops = ("input", "output") + self.stage_ops
        self._list(p for n in (4, 5, 6) for p in itertools.product((1, 2, 3, 4), repeat=n) if self._valid(p))

    @staticmethod
    def _valid(stages) -> bool:
        downs = sum(s in (3, 4) for s in stages)
        ups = sum(s in (2, 4) for s in stages)
        return 4 <= len(stages) <= 6 and 1 <= downs <= 4 and 1 <= ups <= 3

    def _member(self, arch) -> Tuple[int, ...]:
        if not isinstance(arch, tuple) or arch not in self._index:
            raise InvalidArchitecture(
                f"TransNAS macro architectures are 4-6 stage digits in 1..4 with 1-4 stride-2 and 1-3 "
                f"channel-doubling stages, got {arch!r}")
        return arch

    def parse(self, text: str):
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a TransNAS macro string is a str, got {type(text).__name__}")
        m = re.match(r"^64-([1-4]{4,6})-basic$", text.strip())
        if not m:
            raise InvalidArchitecture(f"not a TransNAS macro string (64-<4 to 6 digits 1-4>-basic): {text!r}")
        return self._member(tuple(int(c) for c in m.group(1)))

    def to_string(self, arch) -> str:
        return "64-" + "".join(str(s) for s in self._member(arch)) + "-basic"

    def neighbours(self, arch) -> List[Tuple[int, ...]]:
        stages = self._member(arch)
        out = set()
        for i in range(len(stages)):  # change one stage
            for s in (1, 2, 3, 4):
                out.add(stages[:i] + (s,) + stages[i + 1:])
            out.add(stages[:i] + stages[i + 1:])  # remove one stage
        for i in range(len(stages) + 1):  # insert one stage
            for s in (1, 2, 3, 4):
                out.add(stages[:i] + (s,) + stages[i:])
        out.discard(stages)
        return sorted(a for a in out if a in self._index)

    def graph(self, arch) -> Graph:
        return chain_graph(tuple(s - 1 for s in self._member(arch)))


class NASBenchMacro(SearchSpace):
    """NAS-Bench-Macro: 8 layers, each 0 (identity), 1 (MobileNetV2 block k3 e3) or 2 (k3 e6):
    6,561 networks written as 8 digits. Architecture: the tuple of digits; code: base 3."""

    name = "nasbench_macro"
    layer_ops = ("identity", "mbv2_k3_e3", "mbv2_k3_e6")
    max_nodes = 8 + 2

    def __init__(self):
        self.node_ops = ("input", "output") + self.layer_ops
        self.size = 3 ** 8

    def _layers(self, arch) -> Tuple[int, ...]:
        if not isinstance(arch, tuple) or len(arch) != 8 or not all(
                isinstance(o, (int, np.integer)) and 0 <= o <= 2 for o in arch):
            raise InvalidArchitecture(f"NAS-Bench-Macro architectures are 8 digits in 0..2, got {arch!r}")
        return tuple(int(o) for o in arch)

    def parse(self, text: str):
        if not isinstance(text, str) or not re.fullmatch(r"[0-2]{8}", text.strip()):
            raise InvalidArchitecture(f"not a NAS-Bench-Macro string (8 digits 0-2): {text!r}")
        return tuple(int(c) for c in text.strip())

    def to_string(self, arch) -> str:
        return "".join(str(o) for o in self._layers(arch))

    def encode(self, arch) -> int:
        code = 0
        for o in self._layers(arch):
            code = code * 3 + o
        return code

    def decode(self, code: int):
        code = check_code(code, self.size)
        return tuple(int(c) for c in np.base_repr(code, 3).zfill(8))

    def sample(self, rng: np.random.Generator):
        return self.decode(int(rng.integers(self.size)))

    def neighbours(self, arch):
        layers = self._layers(arch)
        return [layers[:i] + (o,) + layers[i + 1:] for i in range(8) for o in range(3) if o != layers[i]]

    def graph(self, arch) -> Graph:
        return chain_graph(self._layers(arch))
