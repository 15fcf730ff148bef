"""A user's fully custom space, in its own file (the recipe of docs/spaces.md): a subclass of
SearchSpace with the five methods, registered by name, plus a cheap objective for it. It runs
from search.run and from `fastrank search --import user_space --space knobs --objective
user_space:score`."""
from __future__ import annotations

import re

import numpy as np
from torch import nn

from fastrank.models import Network
from fastrank.spaces import Graph, InvalidArchitecture, SearchSpace, register_space

DEPTHS = (1, 2, 3, 4)
WIDTHS = (8, 16, 32)
KERNELS = (3, 5)


class KnobSpace(SearchSpace):
    """A plain CNN by three knobs: depth, width, kernel. Architecture: (depth, width, kernel)
    indices; string ``d2-w16-k5``."""

    name = "knobs"
    node_ops = ("input", "output") + tuple(f"conv{k}x{k}_w{w}" for w in WIDTHS for k in KERNELS)
    max_nodes = max(DEPTHS) + 2

    def _check(self, arch):
        if not (isinstance(arch, tuple) and len(arch) == 3 and all(isinstance(i, int) for i in arch)
                and 0 <= arch[0] < len(DEPTHS) and 0 <= arch[1] < len(WIDTHS) and 0 <= arch[2] < len(KERNELS)):
            raise InvalidArchitecture(f"knobs architectures are (depth, width, kernel) indices, got {arch!r}")
        return arch

    def parse(self, text):
        m = re.fullmatch(r"d(\d+)-w(\d+)-k(\d+)", str(text).strip())
        if not m or int(m[1]) not in DEPTHS or int(m[2]) not in WIDTHS or int(m[3]) not in KERNELS:
            raise InvalidArchitecture(f"not a knobs string (d<depth>-w<width>-k<kernel>): {text!r}")
        return DEPTHS.index(int(m[1])), WIDTHS.index(int(m[2])), KERNELS.index(int(m[3]))

    def to_string(self, arch):
        d, w, k = self._check(arch)
        return f"d{DEPTHS[d]}-w{WIDTHS[w]}-k{KERNELS[k]}"

    def sample(self, rng):
        return int(rng.integers(len(DEPTHS))), int(rng.integers(len(WIDTHS))), int(rng.integers(len(KERNELS)))

    def neighbours(self, arch):
        d, w, k = self._check(arch)
        out = []
        for i, n in enumerate((len(DEPTHS), len(WIDTHS), len(KERNELS))):
            for v in range(n):
                if v != arch[i]:
                    out.append(arch[:i] + (v,) + arch[i + 1:])
        return out

    def graph(self, arch):
        d, w, k = self._check(arch)
        n = DEPTHS[d] + 2
        ops = np.array([0] + [2 + w * len(KERNELS) + k] * DEPTHS[d] + [1], dtype=np.int64)
        adjacency = np.eye(n, k=1, dtype=np.uint8)
        return Graph(ops, adjacency)

    def to_module(self, arch, num_classes=10, **sizes):
        return KnobNetwork(*self._check(arch), num_classes=num_classes, **sizes)


class KnobNetwork(Network):
    def __init__(self, d, w, k, num_classes=10, in_channels=3, image_size=32):
        super().__init__()
        self.input_shape = (in_channels, image_size, image_size)
        layers, c = [], in_channels
        for _ in range(DEPTHS[d]):
            layers += [nn.Conv2d(c, WIDTHS[w], KERNELS[k], padding=KERNELS[k] // 2), nn.ReLU()]
            c = WIDTHS[w]
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.classifier(self.body(x))


register_space("knobs", KnobSpace, replace=True)


def score(arch) -> float:
    """A stand-in for training: deeper, wider, larger kernels score higher (best d4-w32-k5)."""
    d, w, k = arch
    return float(d + 2 * w + 0.5 * k)


def diverges(arch) -> float:
    """An objective whose widest networks fail, as diverged trainings do."""
    if arch[1] == len(WIDTHS) - 1:
        raise FloatingPointError("the training loss became nan")
    return score(arch)

