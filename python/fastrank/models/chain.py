"""A layer chain as a module: a stem, then one chosen block per layer, grouped into stages
that halve the resolution and double the width at their first layer, then pooling and a
linear classifier. ``fastrank.spaces.ChainSpace`` builds it; also the named blocks a chain
can take without the user writing a constructor."""
from __future__ import annotations

from typing import Callable, Dict, List, Mapping, Sequence

import torch
from torch import nn

from .network import Network, check_constructors, image_shape, positive_int

#: builds a block from C_in to C_out channels with the given stride (1 or 2)
BlockConstructor = Callable[[int, int, int], nn.Module]


class ConvBNReLU(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1):
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=False),
        )


def identity_block(c_in: int, c_out: int, stride: int) -> nn.Module:
    """Identity where the shape allows; where a layer must stride or widen, the cheapest block
    that can (a 1×1 conv-BN-ReLU), so that "identity" stays a choice at every layer."""
    if c_in == c_out and stride == 1:
        return nn.Identity()
    return ConvBNReLU(c_in, c_out, 1, stride)


def separable_block(kernel: int) -> BlockConstructor:
    return lambda c_in, c_out, stride: nn.Sequential(ConvBNReLU(c_in, c_in, kernel, stride, groups=c_in),
                                                     ConvBNReLU(c_in, c_out, 1))


#: blocks known by name
CHAIN_BLOCKS: Dict[str, BlockConstructor] = {
    "identity": identity_block,
    "conv1x1": lambda c_in, c_out, stride: ConvBNReLU(c_in, c_out, 1, stride),
    "conv3x3": lambda c_in, c_out, stride: ConvBNReLU(c_in, c_out, 3, stride),
    "conv5x5": lambda c_in, c_out, stride: ConvBNReLU(c_in, c_out, 5, stride),
    "sep_conv3x3": separable_block(3),
    "sep_conv5x5": separable_block(5),
}


def stage_starts(layers: int, stages: int) -> List[int]:
    """Indices of the layers that open a stage after the first: layers split as evenly as
    possible, earlier stages the shorter (8 layers in 3 stages: 2, 3, 3 as NAS-Bench-Macro)."""
    sizes = [layers // stages + (1 if s >= stages - layers % stages else 0) for s in range(stages)]
    starts, at = [], 0
    for size in sizes[:-1]:
        at += size
        starts.append(at)
    return starts


class ChainNetwork(Network):
    """``block_names[l]`` names layer l's block, built by ``constructors[name](c_in, c_out,
    stride)``. The stem is a 3×3 conv-BN-ReLU to ``channels``; ``stages`` stages, each after
    the first opened by a stride-2 layer that doubles the width."""

    def __init__(self, block_names: Sequence[str], constructors: Mapping[str, BlockConstructor],
                 num_classes: int = 10, channels: int = 16, stages: int = 3, in_channels: int = 3,
                 image_size: int = 32):
        super().__init__()
        check_constructors(block_names, constructors, "block")
        num_classes = positive_int("num_classes", num_classes)
        c = positive_int("channels", channels)
        stages = positive_int("stages", stages)
        if stages > len(block_names):
            raise ValueError(f"{stages} stages need at least {stages} layers, the chain has {len(block_names)}")
        self.input_shape = image_shape(in_channels, image_size, halvings=stages - 1)
        self.stem = ConvBNReLU(in_channels, c, 3)
        starts = set(stage_starts(len(block_names), stages))
        blocks = []
        for layer, name in enumerate(block_names):
            stride, c_out = (2, 2 * c) if layer in starts else (1, c)
            blocks.append(constructors[name](c, c_out, stride))
            c = c_out
        self.layers = nn.Sequential(*blocks)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.layers(self.stem(x))))
