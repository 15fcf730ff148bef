"""The NAS-Bench-201 network (NATS-Bench topology space): a 3×3 conv stem, three stages of N
cells with residual reduction blocks between them, then BN-ReLU, global pooling and a linear
classifier. Cells are the 4-node edge-op cell of ``fastrank.models.cell``.

Sizes default to the benchmark's own (C = 16, N = 5, 32×32 RGB). The parameter counts and
FLOPs this builds match the numbers NAS-Bench-201 stores for its networks (checked in
``tests/test_models_nb201.py``); the definitions follow the benchmark authors' code
(D-X-Y/AutoDL-Projects, ``xautodl/models/cell_infers/tiny_network.py`` and
``cell_operations.py``)."""
from __future__ import annotations

from typing import Dict, Mapping, Sequence, Tuple

import torch
from torch import nn

from .cell import CELL_OPS, Cell, OpConstructor, ReLUConvBN, cell_edges
from .network import Network, check_constructors, image_shape, positive_int


class ResidualReduction(nn.Module):
    """NB201's reduction block between stages: two ReLU-conv3x3-BN (the first strided) plus a
    shortcut of 2×2 average pooling and a 1×1 conv, so the block halves the resolution and
    changes the width with no searchable part."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(kernel_size=2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


#: NB201's five edge operations, each built for C channels in and out.
NB201_OPS: Dict[str, OpConstructor] = {name: CELL_OPS[name] for name in
                                       ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")}


def build_cell(nodes: int, op_names: Sequence[str], channels: int, builders: Mapping[str, OpConstructor]) -> Cell:
    """A cell with ``op_names[e]`` on edge e, each built by ``builders[name](channels)``."""
    return Cell(nodes, [builders[name](channels) for name in op_names])


class CellNetwork(Network):
    """The NB201 skeleton around any edge-op cell: stem, ``stages`` stages of ``cells_per_stage``
    cells, channels doubled by a residual reduction between stages, BN-ReLU, pooling, linear.
    ``op_names`` names one operation per edge of a ``nodes``-node cell; ``builders`` maps each
    name to a constructor taking the channel count."""

    def __init__(self, op_names: Sequence[str], builders: Mapping[str, OpConstructor], nodes: int = 4,
                 num_classes: int = 10, channels: int = 16, cells_per_stage: int = 5, stages: int = 3,
                 in_channels: int = 3, image_size: int = 32):
        super().__init__()
        nodes = positive_int("nodes", nodes, minimum=2)
        if len(op_names) != len(cell_edges(nodes)):
            raise ValueError(f"a {nodes}-node cell has {len(cell_edges(nodes))} edges, got {len(op_names)} operations")
        check_constructors(op_names, builders, "operation")
        num_classes = positive_int("num_classes", num_classes)
        c = positive_int("channels", channels)
        cells_per_stage = positive_int("cells_per_stage", cells_per_stage)
        stages = positive_int("stages", stages)
        self.input_shape = image_shape(in_channels, image_size, halvings=stages - 1)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        body = []
        for stage in range(stages):
            if stage:
                body.append(ResidualReduction(c, 2 * c))
                c *= 2
            body.extend(build_cell(nodes, op_names, c, builders) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*body)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.cells(self.stem(x))))


class NB201Network(CellNetwork):
    """An NB201 architecture (6 op indices into ``NASBench201.ops``, string order) as the
    benchmark's network. ``channels=16, cells_per_stage=5`` and 32×32 RGB inputs are the
    benchmark's CIFAR setting; ImageNet16-120 is ``image_size=16, num_classes=120``."""

    def __init__(self, ops: Tuple[int, ...], num_classes: int = 10, **sizes):
        from ..spaces.cell import NASBench201

        names = [NASBench201.ops[o] for o in ops]
        super().__init__(names, NB201_OPS, nodes=4, num_classes=num_classes, **sizes)
