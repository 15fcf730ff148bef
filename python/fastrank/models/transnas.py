"""TransNAS-Bench-101 encoders (Duan et al., CVPR 2021) with a classification head.

Both search spaces share one ResNet-like skeleton, following the benchmark authors' definition
(yawen-d/TransNASBench, ``lib/models/net_infer/net_macro.py`` ``MacroNet``,
``lib/models/net_infer/cell_micro.py`` and ``lib/models/net_ops/cell_ops.py``; the same files
are in automl/NASLib under ``naslib/search_spaces/transbench101/tnb101/models/``):

- stem: 3×3 conv, stride 2, to ``base_channels // 2`` → BN → ReLU-conv3x3(stride 2)-BN to
  ``base_channels``, so the stem divides the resolution by 4;
- one stage per skeleton digit, each of two blocks; the first block of a stage takes the
  stage's change: digit 1 none, 2 channels ×2, 3 stride 2, 4 both;
- the head of TNB's classification tasks (``FFDecoder``): global average pooling → linear.

The macro space (``64-<digits>-basic``) fills the stages with ResNet basic blocks; the micro
space (``64-41414-<cell>``) uses the fixed skeleton 41414 and fills it with one searched
4-node edge-op cell (``fastrank.models.cell``). Only the classification head is built here:
TNB's other task decoders (room layout regression, jigsaw's siamese head, the segmentation,
surface-normal and autoencoder decoders) are not.

Defaults are TNB's: base channels 64 and 256×256 RGB inputs (the Taskonomy images are resized
to 256×256 for every task, ``configs/train_from_scratch/*/config.py``). TNB's class_object
task has 75 classes and class_scene 47 (pass ``num_classes``); the default 10 is fastrank's
``to_module`` default. BN layers are affine, as in TNB.

TNB counts every parameter (``lib/models/model_info.py``), as ``count_parameters`` does. With
63 classes and 256×256 inputs the parameter counts and ``count_torchstat_flops`` equal the
``params``/``flops`` that NASLib's zero-cost files store for TNB's class_scene networks
(``tests/test_models_transnas.py``).
"""
from __future__ import annotations

import numbers
from typing import Callable, Sequence, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from .cell import Cell, ReLUConvBN, Zero, cell_edges
from .network import Network, positive_int

#: TNB micro edge ops, by index (the TransNAS string's digits)
MICRO_OPS = ("none", "skip_connect", "conv1x1", "conv3x3")
#: the micro space's fixed skeleton ("64-41414-...")
MICRO_SKELETON = (4, 1, 4, 1, 4)
CELL_NODES = 4


class FactorizedReduce(nn.Module):
    """TNB's skip connection where the shape changes: ReLU, then two strided 1×1 convs, the
    second on the input shifted by one pixel (so together they see every pixel), each giving
    half of the output channels, concatenated → BN."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        if c_out % 2:
            raise ValueError(f"a factorized reduction needs an even number of output channels, got {c_out}")
        self.convs = nn.ModuleList(nn.Conv2d(c_in, half, 1, stride=stride, bias=False)
                                   for half in (c_out // 2, c_out - c_out // 2))
        self.bn = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


class ReshapingZero(nn.Module):
    """The "none" edge where the cell changes shape: zeros with ``c_out`` channels at the
    strided resolution. Unlike ``Zero`` the cell adds it in, so that a node whose only live
    input it is still gets the cell's output shape."""

    def __init__(self, c_out: int, stride: int):
        super().__init__()
        self.c_out, self.stride = c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x[:, :1, ::self.stride, ::self.stride].shape[2:]
        return x.new_zeros((x.shape[0], self.c_out, h, w))


def micro_edge_op(op: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    """Micro op ``op`` on an edge from ``c_in`` to ``c_out`` channels at ``stride``."""
    reshapes = stride != 1 or c_in != c_out
    name = MICRO_OPS[op]
    if name == "none":
        return ReshapingZero(c_out, stride) if reshapes else Zero()
    if name == "skip_connect":
        return FactorizedReduce(c_in, c_out, stride) if reshapes else nn.Identity()
    return ReLUConvBN(c_in, c_out, 1 if name == "conv1x1" else 3, stride=stride)


def micro_cell(ops: Sequence[int], c_in: int, c_out: int, stride: int) -> Cell:
    """TNB's micro cell: edges out of the input node take the cell's stride and channel change,
    the others map ``c_out`` to ``c_out``."""
    return Cell(CELL_NODES, [micro_edge_op(op, c_in, c_out, stride) if i == 0 else micro_edge_op(op, c_out, c_out, 1)
                             for op, (i, _) in zip(ops, cell_edges(CELL_NODES))])


class BasicBlock(nn.Module):
    """TNB's ResNet basic block: ReLU-conv3x3-BN (strided) → ReLU-conv3x3-BN, plus the input,
    through a strided 1×1 conv + BN where the shape changes (no ReLU after the sum)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(ReLUConvBN(c_in, c_out, 3, stride=stride), ReLUConvBN(c_out, c_out, 3))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else
                         nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.body(x)


BlockBuilder = Callable[[int, int, int], nn.Module]


def _digits(name: str, value, length: Tuple[int, int], low: int, high: int, meaning: str) -> Tuple[int, ...]:
    """``value`` as a tuple of ints in low..high of a length within ``length``, or a ValueError."""
    if (not isinstance(value, (tuple, list)) or not length[0] <= len(value) <= length[1]
            or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and low <= d <= high
                       for d in value)):
        count = f"{length[0]}" if length[0] == length[1] else f"{length[0]}-{length[1]}"
        raise ValueError(f"{name} must be {count} ints in {low}..{high} ({meaning}), got {value!r}")
    return tuple(int(d) for d in value)


class TransNASNetwork(Network):
    """TNB's skeleton (see the module docstring) around ``block(c_in, c_out, stride)``: stem,
    one stage of ``blocks_per_stage`` blocks per digit of ``skeleton``, pooling, linear."""

    def __init__(self, skeleton: Sequence[int], block: BlockBuilder, num_classes: int = 10,
                 base_channels: int = 64, blocks_per_stage: int = 2, in_channels: int = 3,
                 image_size: int = 256):
        super().__init__()
        num_classes = positive_int("num_classes", num_classes)
        c = positive_int("base_channels", base_channels, minimum=2)
        if c % 2:
            raise ValueError(f"base_channels must be even (the stem's first conv has half of them), got {c}")
        blocks_per_stage = positive_int("blocks_per_stage", blocks_per_stage)
        self.input_shape = (positive_int("in_channels", in_channels), positive_int("image_size", image_size),
                            image_size)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c // 2),
            ReLUConvBN(c // 2, c, 3, stride=2))
        stages = []
        for digit in skeleton:
            c_out = 2 * c if digit in (2, 4) else c
            stride = 2 if digit in (3, 4) else 1
            blocks = [block(c, c_out, stride)] + [block(c_out, c_out, 1) for _ in range(blocks_per_stage - 1)]
            stages.append(nn.Sequential(*blocks))
            c = c_out
        self.stages = nn.Sequential(*stages)
        self.out_channels = c
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.stages(self.stem(x))))


class TransNASMicroNetwork(TransNASNetwork):
    """A TNB micro architecture, ``64-41414-<cell>``: ``ops`` is the cell's 6 edge ops in NB201
    string order (0 none, 1 skip_connect, 2 conv1x1, 3 conv3x3), the cell shared by all ten
    blocks of the fixed 41414 skeleton. Size keywords: ``base_channels`` (64),
    ``blocks_per_stage`` (2), ``in_channels`` (3), ``image_size`` (256)."""

    def __init__(self, ops: Sequence[int], num_classes: int = 10, **sizes):
        ops = _digits("ops", ops, (6, 6), 0, 3, "0 none, 1 skip_connect, 2 conv1x1, 3 conv3x3")
        super().__init__(MICRO_SKELETON, lambda c_in, c_out, stride: micro_cell(ops, c_in, c_out, stride),
                         num_classes=num_classes, **sizes)
        self.ops = ops


class TransNASMacroNetwork(TransNASNetwork):
    """A TNB macro architecture, ``64-<digits>-basic``: ``stages`` is the skeleton, 4 to 6
    digits (1 normal, 2 channels ×2, 3 stride 2, 4 both), each stage two ResNet basic blocks.
    Size keywords as ``TransNASMicroNetwork``."""

    def __init__(self, stages: Sequence[int], num_classes: int = 10, **sizes):
        skeleton = _digits("stages", stages, (4, 6), 1, 4,
                           "1 normal, 2 channels x2, 3 stride 2, 4 channels x2 and stride 2")
        super().__init__(skeleton, BasicBlock, num_classes=num_classes, **sizes)
        self.skeleton = skeleton
