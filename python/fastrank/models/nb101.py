"""The NAS-Bench-101 network (Ying et al. 2019; ``nasbench/lib/model_builder.py`` and
``nasbench/lib/base_ops.py`` of google-research/nasbench), as a torch module.

Layout, with the default sizes (the benchmark's own):

- stem: 3×3 convolution from ``in_channels`` to ``stem_channels`` (128), batch norm, ReLU;
- ``stacks`` (3) stacks of ``cells_per_stack`` (3) cells; before every stack but the first a
  2×2 max pool of stride 2 halves the resolution and the channel count doubles (128, 256, 512);
- global average pool and a linear classifier (with bias) to ``num_classes``.

A cell is the benchmark's pruned cell (``NASBench101.prune``: vertices on no input→output
path removed). Its output channels are split among the vertices that feed the output, one more
channel to the first ``C mod k`` of them, and every other vertex gets the largest count of the
vertices it feeds (``vertex_channels``, NB101's ``compute_vertex_channels``). A vertex adds its
inputs: other vertices' outputs cut to its channel count (they have at most one more), and, if
it reads the cell input, a 1×1 convolution-BN-ReLU projection of it. The output concatenates the
vertices that feed it and, if the cell input feeds it directly, adds a projection of the cell
input to the full channel count; a cell of input and output alone is that projection.

Every convolution has no bias and is followed by batch norm (with scale and shift) and ReLU;
``maxpool3x3`` is a 3×3 max pool of stride 1 that keeps the size (TensorFlow's ``same`` padding
ignores the border, as torch's padding does). Batch norm: TensorFlow's momentum 0.997 is the
weight of the old running average, torch's momentum that of the new batch, so torch's is 0.003;
eps 1e-5 in both. The downsampling pool is TensorFlow's ``same`` 2×2/2 pool: ``ceil_mode=True``
here, the same for even sizes and a partial last window for odd ones, as ``same`` gives. Weights
start as the benchmark's did (``NB101Network.reset_parameters``).

Counting, checked on every one of the 500 rows of ``benchmarks/data/nb101_subset.csv.xz``
(``tests/test_models_nb101.py``):

- ``params`` (millions) is ``count_parameters(net)``: every convolution weight, batch-norm scale
  and shift, and the classifier's weight and bias (running statistics are buffers);
- ``flops`` (millions) is ``count_torchstat_flops(net)`` at the defaults (one 3×32×32 input), not
  the plain MACs of ``count_flops``, which are 0.2–13.4 % lower. The table's columns are those of NASLib's
  zero-cost benchmark, which counts with tensorwatch's ``ModelStats(model, (1, 3, 32, 32)).Flops``
  (NASLib's ``naslib/predictors/utils/pruners/measures/model_stats.py``; tensorwatch's torchstat
  copy, ``tensorwatch/model_graph/torchstat/compute_flops.py``): convolution MACs, linear MACs
  without the bias, 2 per batch-norm element, 1 per ReLU element and k² per element of a k×k
  pool's output. Additions, concatenations and the global average pool are not modules, so not
  counted. That every row matches to the FLOP is the evidence that this is the counting used.
"""
from __future__ import annotations

import math
from typing import List, Sequence

import numpy as np
import torch
from torch import nn

from ..spaces.nb101 import NASBench101
from .network import Network, image_shape, positive_int

#: TensorFlow's batch-norm momentum 0.997 (the old running value's weight) in torch's terms
BN_MOMENTUM = 0.003
BN_EPSILON = 1e-5


class ConvBnRelu(nn.Sequential):
    """``kernel``×``kernel`` convolution (stride 1, size kept, no bias), batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(out_channels, eps=BN_EPSILON, momentum=BN_MOMENTUM),
            nn.ReLU(),
        )


def _operation(op: str, in_channels: int, out_channels: int) -> nn.Module:
    if op == "conv3x3-bn-relu":
        return ConvBnRelu(in_channels, out_channels, 3)
    if op == "conv1x1-bn-relu":
        return ConvBnRelu(in_channels, out_channels, 1)
    if op == "maxpool3x3":
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 operation {op!r}")


def vertex_channels(in_channels: int, out_channels: int, matrix: np.ndarray) -> List[int]:
    """Output channels of each vertex of a pruned cell (NB101's ``compute_vertex_channels``):
    the input has ``in_channels``, the output ``out_channels``; the vertices feeding the output
    share its channels (the first ``out_channels mod k`` one more), and every other vertex takes
    the largest count among the vertices it feeds."""
    m = np.asarray(matrix)
    n = m.shape[0]
    channels = [0] * n
    channels[0], channels[n - 1] = in_channels, out_channels
    if n == 2:
        return channels
    feeding_output = [v for v in range(1, n - 1) if m[v, n - 1]]
    share, extra = divmod(out_channels, len(feeding_output))
    for rank, v in enumerate(feeding_output):
        channels[v] = share + (1 if rank < extra else 0)
    for v in range(n - 3, 0, -1):
        if not m[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if m[v, dst]:
                    channels[v] = max(channels[v], channels[dst])
    if min(channels[1:n - 1]) < 1:
        raise ValueError(f"{out_channels} output channels are too few for a cell whose output concatenates "
                         f"{len(feeding_output)} vertices: give the network more stem_channels")
    return channels


class NB101Cell(nn.Module):
    """One cell (an NB101 "module") of a pruned ``matrix`` and its ``ops`` (first "input",
    last "output"), from ``in_channels`` to ``out_channels``."""

    def __init__(self, matrix: np.ndarray, ops: Sequence[str], in_channels: int, out_channels: int):
        super().__init__()
        m = np.asarray(matrix, dtype=np.int64)
        n = m.shape[0]
        self.vertices = n
        self.channels = vertex_channels(in_channels, out_channels, m)
        # reads[t]: the interior vertices vertex t adds (cut to its channels); from_input[t]: it reads the input
        self.reads = [[s for s in range(1, t) if m[s, t]] for t in range(n)]
        self.from_input = [bool(m[0, t]) for t in range(n)]
        self.to_output = [t for t in range(1, n - 1) if m[t, n - 1]]
        self.projections = nn.ModuleDict()
        self.vertex_ops = nn.ModuleDict()
        for t in range(1, n - 1):
            if self.from_input[t]:
                self.projections[str(t)] = ConvBnRelu(in_channels, self.channels[t], 1)
            self.vertex_ops[str(t)] = _operation(ops[t], self.channels[t], self.channels[t])
        if self.from_input[n - 1]:
            self.projections[str(n - 1)] = ConvBnRelu(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for t in range(1, self.vertices - 1):
            c = self.channels[t]
            parts = [states[s][:, :c] for s in self.reads[t]]
            if self.from_input[t]:
                parts.append(self.projections[str(t)](x))
            total = parts[0]
            for p in parts[1:]:
                total = total + p
            states.append(self.vertex_ops[str(t)](total))
        if not self.to_output:
            return self.projections[str(self.vertices - 1)](x)
        out = states[self.to_output[0]] if len(self.to_output) == 1 else torch.cat(
            [states[t] for t in self.to_output], dim=1)
        if self.from_input[self.vertices - 1]:
            out = out + self.projections[str(self.vertices - 1)](x)
        return out


class NB101Network(Network):
    """The NB101 network of one cell (the unpruned 7×7 0/1 ``matrix`` and its 7 ``ops``, as
    ``NASBench101._unpack`` gives them), the same cell in every stack. Sizes: ``stem_channels``
    (128), ``stacks`` (3), ``cells_per_stack`` (3), ``in_channels`` (3), ``image_size`` (32).
    An architecture the space refuses raises ``InvalidArchitecture``."""

    def __init__(self, matrix, ops, num_classes: int = 10, stem_channels: int = 128, stacks: int = 3,
                 cells_per_stack: int = 3, in_channels: int = 3, image_size: int = 32):
        super().__init__()
        num_classes = positive_int("num_classes", num_classes)
        stem_channels = positive_int("stem_channels", stem_channels)
        stacks = positive_int("stacks", stacks)
        cells_per_stack = positive_int("cells_per_stack", cells_per_stack)
        self.input_shape = image_shape(in_channels, image_size)
        space = NASBench101()
        bits, ops = space.make(matrix, ops)
        self.cell_matrix, self.cell_ops = space.prune(space.matrix((bits, ops)), ops)

        layers: List[nn.Module] = [ConvBnRelu(in_channels, stem_channels, 3)]
        channels = stem_channels
        for stack in range(stacks):
            out_channels = channels
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
                out_channels = channels * 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(self.cell_matrix, self.cell_ops, channels, out_channels))
                channels = out_channels
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The benchmark's initial weights: convolutions from a normal of variance 1/fan_in cut
        at two standard deviations (rescaled so the variance stays 1/fan_in, as TensorFlow's
        ``variance_scaling_initializer`` does); the classifier Glorot-uniform, bias zero; batch
        norms scale one, shift zero, fresh running statistics."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                # 0.8796...: the standard deviation of a unit normal truncated to [-2, 2]
                std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
                nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
        nn.init.xavier_uniform_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).mean(dim=(2, 3)))
