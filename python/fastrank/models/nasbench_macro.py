"""The NAS-Bench-Macro network (Su et al., "Prioritized Architecture Sampling with Monte-Carlo
Tree Search", CVPR 2021): a CIFAR-10 MobileNetV2-style chain of 8 searchable layers.

Structure, following the benchmark authors' definition (xiusu/NAS-Bench-Macro,
``train/model.py``):

- stem: 3×3 conv (32 channels) → BN → ReLU, at the full 32×32 resolution;
- three stages of 2, 3 and 3 layers. The first layer of *every* stage (stage 1 included)
  has stride 2 and doubles the channels (32 → 64 → 128 → 256, 32 → 16 → 8 → 4 pixels);
- each layer is one of: 0 identity, 1 inverted residual with a 3×3 depthwise conv and
  expansion 3, 2 inverted residual with a 5×5 depthwise conv and expansion 6;
- an identity in a stage's first layer cannot pass its input through (the shape changes), so
  the published model puts a 1×1 strided conv + BN there: that layer then has parameters;
- head: 1×1 conv to 1280 channels → BN → ReLU → global average pooling → linear.

Counting, as the benchmark's table (``fastrank.benchmarks`` ``nasbench_macro``) has it:
``params`` is every parameter (BN affine weights and the classifier bias included), which
``count_parameters`` reproduces; ``flops`` is the multiply-accumulates of the convolutions and
the linear layer, without biases, BN or activations (the authors' ``count_FLOPs`` in
``train/utils.py``), which ``count_flops(model, model.example_inputs(1))`` reproduces.

The benchmark trained one network per class of equivalent layer strings: it moves the
identities of a stage behind that stage's blocks (``get_real_arch`` in
``train/train_benchmark.py``). An identity after a stage's first layer is an exact no-op, so
the network built here for any string computes the same function as the one trained.
"""
from __future__ import annotations

import numbers
from typing import Sequence, Tuple

import torch
from torch import nn

from .network import Network, positive_int

#: (depthwise kernel, expansion) of the inverted residual of layer ops 1 and 2; op 0 is identity.
INVERTED_RESIDUALS = {1: (3, 3), 2: (5, 6)}
#: layers per stage; each stage's first layer halves the resolution and doubles the channels
STAGE_LAYERS = (2, 3, 3)


def conv_bn(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, groups: int = 1) -> Tuple[nn.Module, nn.Module]:
    """A bias-free conv (the BN after it has the shift) and its BN, "same" padding."""
    return (nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out))


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1×1 expansion → BN → ReLU → k×k depthwise (strided) → BN → ReLU →
    1×1 linear projection → BN, plus the input when the shape is kept."""

    def __init__(self, c_in: int, c_out: int, stride: int, kernel: int, expansion: int):
        super().__init__()
        hidden = c_in * expansion
        self.body = nn.Sequential(
            *conv_bn(c_in, hidden), nn.ReLU(inplace=False),
            *conv_bn(hidden, hidden, kernel, stride, groups=hidden), nn.ReLU(inplace=False),
            *conv_bn(hidden, c_out),
        )
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out + x if self.residual else out


def macro_layer(op: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    """Layer op ``op`` from ``c_in`` to ``c_out`` channels at ``stride``."""
    if op in INVERTED_RESIDUALS:
        kernel, expansion = INVERTED_RESIDUALS[op]
        return InvertedResidual(c_in, c_out, stride, kernel, expansion)
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return nn.Sequential(*conv_bn(c_in, c_out, 1, stride))


def check_layers(layers: Sequence[int]) -> Tuple[int, ...]:
    """``layers`` as a tuple of 8 ints in 0..2, or a ValueError that shows it."""
    if (not isinstance(layers, (tuple, list)) or len(layers) != sum(STAGE_LAYERS)
            or not all(isinstance(o, numbers.Integral) and not isinstance(o, bool) and 0 <= o <= 2 for o in layers)):
        raise ValueError(f"NAS-Bench-Macro layers are {sum(STAGE_LAYERS)} ints in 0..2 "
                         f"(0 identity, 1 MB k3 e3, 2 MB k5 e6), got {layers!r}")
    return tuple(int(o) for o in layers)


class NASBenchMacroNetwork(Network):
    """One NAS-Bench-Macro architecture (8 layer ops, see the module docstring) as the network
    the benchmark trained. The defaults (32 stem channels, a 1280-channel head, 32×32 RGB
    inputs, 10 classes) are the benchmark's CIFAR-10 setting; the parameter and FLOP counts
    match its table on every row (``tests/test_models_macro.py``)."""

    def __init__(self, layers: Sequence[int], num_classes: int = 10, stem_channels: int = 32,
                 head_channels: int = 1280, in_channels: int = 3, image_size: int = 32):
        super().__init__()
        self.layers = check_layers(layers)
        num_classes = positive_int("num_classes", num_classes)
        c = positive_int("stem_channels", stem_channels)
        head_channels = positive_int("head_channels", head_channels)
        self.input_shape = (positive_int("in_channels", in_channels), positive_int("image_size", image_size),
                            image_size)
        self.stem = nn.Sequential(*conv_bn(in_channels, c, 3), nn.ReLU(inplace=False))
        body, ops = [], iter(self.layers)
        for length in STAGE_LAYERS:
            for position in range(length):
                c_out, stride = (2 * c, 2) if position == 0 else (c, 1)
                body.append(macro_layer(next(ops), c, c_out, stride))
                c = c_out
        self.features = nn.Sequential(*body)
        self.head = nn.Sequential(*conv_bn(c, head_channels), nn.ReLU(inplace=False),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(head_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.features(self.stem(x))))
