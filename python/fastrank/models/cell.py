"""An edge-op cell as a module: node 0 the cell input, every edge i → j (i < j) one operation,
node j the sum of its incoming edges, the last node the cell output. NB201, TransNAS-Bench-101
micro and ``fastrank.spaces.CellSpace`` cells all have this shape. Also the named operations
a cell can take without the user writing a constructor."""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence

import torch
from torch import nn

from ..spaces.cell import cell_edges

#: builds an edge operation for C channels in and out
OpConstructor = Callable[[int], nn.Module]


class Zero(nn.Module):
    """The "none" operation: zeros of the input's shape (an edge that carries nothing)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ReLUConvBN(nn.Sequential):
    """ReLU → conv (no bias: the BN that follows has its own shift) → BN."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, affine: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


def _avg_pool(c: int) -> nn.Module:
    # count_include_pad=False: border pixels average only real neighbours, as NB201 does
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


#: operations known by name (NB201's names and plain aliases), each for C channels
CELL_OPS: Dict[str, OpConstructor] = {
    "none": lambda c: Zero(),
    "skip_connect": lambda c: nn.Identity(),
    "nor_conv_1x1": lambda c: ReLUConvBN(c, c, 1),
    "nor_conv_3x3": lambda c: ReLUConvBN(c, c, 3),
    "avg_pool_3x3": _avg_pool,
    "max_pool_3x3": lambda c: nn.MaxPool2d(3, stride=1, padding=1),
    "zero": lambda c: Zero(),
    "skip": lambda c: nn.Identity(),
    "conv1x1": lambda c: ReLUConvBN(c, c, 1),
    "conv3x3": lambda c: ReLUConvBN(c, c, 3),
    "conv5x5": lambda c: ReLUConvBN(c, c, 5),
}


class Cell(nn.Module):
    """``edge_ops[e]`` is the module on edge ``cell_edges(nodes)[e]``. Edges whose operation
    is a ``Zero`` are left out of the sums (they add nothing); a node with no other input is
    zero, so a cell whose output is unreachable outputs zeros, as the benchmarks' networks do."""

    def __init__(self, nodes: int, edge_ops: Sequence[nn.Module]):
        super().__init__()
        edges = cell_edges(nodes)
        if len(edge_ops) != len(edges):
            raise ValueError(f"a {nodes}-node cell has {len(edges)} edges, got {len(edge_ops)} operations")
        self.nodes = nodes
        self.edge_ops = nn.ModuleList(edge_ops)
        # decided here, so forward has no branches on values and exports as one graph
        self.incoming: List[List[int]] = [[] for _ in range(nodes)]
        for e, (_, j) in enumerate(edges):
            if not isinstance(edge_ops[e], Zero):
                self.incoming[j].append(e)
        self.sources = [i for i, _ in edges]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for j in range(1, self.nodes):
            live = self.incoming[j]
            if live:
                total = self.edge_ops[live[0]](states[self.sources[live[0]]])
                for e in live[1:]:
                    total = total + self.edge_ops[e](states[self.sources[e]])
            else:
                total = torch.zeros_like(x)
            states.append(total)
        return states[-1]
