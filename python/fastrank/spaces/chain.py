"""Chain (macro) spaces: a sequence of layer choices. TransNAS-Bench-101 macro and NAS-Bench-Macro."""
from __future__ import annotations

import itertools
import re
from typing import Callable, List, Mapping, Sequence, Tuple, Union

import numpy as np

from .base import Graph, InvalidArchitecture, ListedSpace, SearchSpace, check_code, choice_constructors, declared_choices


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

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The TransNAS-Bench-101 macro encoder with a classification head
        (``fastrank.models.transnas``)."""
        from ..models.transnas import TransNASMacroNetwork

        return TransNASMacroNetwork(self._member(arch), num_classes=num_classes, **sizes)


class NASBenchMacro(SearchSpace):
    """NAS-Bench-Macro: 8 layers, each 0 (identity), 1 (MobileNetV2 block k3 e3) or 2 (k5 e6):
    6,561 networks written as 8 digits. Architecture: the tuple of digits; code: base 3."""

    name = "nasbench_macro"
    layer_ops = ("identity", "mbv2_k3_e3", "mbv2_k5_e6")
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

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The published NAS-Bench-Macro network (``fastrank.models.nasbench_macro``)."""
        from ..models.nasbench_macro import NASBenchMacroNetwork

        return NASBenchMacroNetwork(self._layers(arch), num_classes=num_classes, **sizes)


class ChainSpace(SearchSpace):
    """Your own layer-chain space, declared: ``layers`` layers, each one of ``choices``
    (NAS-Bench-Macro's shape). ``choices`` is a list of block names, or a mapping from each
    name to its constructor ``(C_in, C_out, stride) -> nn.Module``; names that
    ``fastrank.models.chain.CHAIN_BLOCKS`` knows (identity, conv1x1, conv3x3, conv5x5,
    sep_conv3x3, sep_conv5x5) need none. Architecture: the tuple of choice indices; code:
    that tuple as a base-len(choices) number; string: the names joined by commas."""

    def __init__(self, layers: int = 8, choices: Union[Sequence[str], Mapping[str, Callable]] = (
            "identity", "conv3x3", "sep_conv3x3"), name: str = "chain"):
        if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
            raise ValueError(f"a chain needs at least one layer, got {layers!r}")
        names, self._constructors = declared_choices(choices, "choices", "block")
        self.layers = layers
        self.choices = names
        self.name = name
        self.node_ops = ("input", "output") + names
        self.max_nodes = layers + 2
        self.size = len(names) ** layers

    def _layers(self, arch) -> Tuple[int, ...]:
        if not isinstance(arch, tuple) or len(arch) != self.layers or not all(
                isinstance(o, (int, np.integer)) and not isinstance(o, bool) and 0 <= o < len(self.choices)
                for o in arch):
            raise InvalidArchitecture(f"{self.name} architectures are {self.layers} choice indices in "
                                      f"0..{len(self.choices) - 1}, got {arch!r}")
        return tuple(int(o) for o in arch)

    def parse(self, text: str):
        if not isinstance(text, str):
            raise InvalidArchitecture(f"a {self.name} string is a str, got {type(text).__name__}")
        names = [n.strip() for n in text.split(",")]
        if len(names) != self.layers:
            raise InvalidArchitecture(f"a {self.name} string names {self.layers} blocks separated by commas, "
                                      f"got {text!r}")
        unknown = [n for n in names if n not in self.choices]
        if unknown:
            raise InvalidArchitecture(f"unknown block(s) {unknown} in {text!r}; choices: {self.choices}")
        return tuple(self.choices.index(n) for n in names)

    def to_string(self, arch) -> str:
        return ",".join(self.choices[o] for o in self._layers(arch))

    def encode(self, arch) -> int:
        code = 0
        for o in self._layers(arch):
            code = code * len(self.choices) + o
        return code

    def decode(self, code: int):
        code = check_code(code, self.size)
        digits = []
        for _ in range(self.layers):
            code, o = divmod(code, len(self.choices))
            digits.append(o)
        return tuple(reversed(digits))

    def sample(self, rng: np.random.Generator):
        return tuple(int(o) for o in rng.integers(len(self.choices), size=self.layers))

    def neighbours(self, arch):
        layers = self._layers(arch)
        return [layers[:i] + (o,) + layers[i + 1:] for i in range(self.layers) for o in range(len(self.choices))
                if o != layers[i]]

    def graph(self, arch) -> Graph:
        return chain_graph(self._layers(arch))

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """A stem to ``channels`` (16), the chosen blocks in ``stages`` stages (3) that halve the
        resolution and double the width at their first layer, pooling and a linear head;
        ``in_channels``/``image_size`` for the input."""
        from ..models.chain import CHAIN_BLOCKS, ChainNetwork

        constructors = choice_constructors(self.choices, self._constructors, CHAIN_BLOCKS, "block",
                                           "ChainSpace(choices={name: lambda c_in, c_out, stride: module, ...})")
        return ChainNetwork([self.choices[o] for o in self._layers(arch)], constructors, num_classes=num_classes,
                            **sizes)

    def __repr__(self) -> str:
        return f"ChainSpace(layers={self.layers}, choices={list(self.choices)!r}, name={self.name!r})"
