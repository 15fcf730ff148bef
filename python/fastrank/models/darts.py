"""The DARTS CIFAR network (Liu et al., "DARTS: Differentiable Architecture Search", ICLR 2019)
for a normal and a reduction cell of the DARTS space (``fastrank.spaces.DARTS``).

Definitions follow the DARTS code, quokkas/darts ``cnn/model.py`` (``NetworkCIFAR``, ``Cell``,
``AuxiliaryHeadCIFAR``) and ``cnn/operations.py`` (``OPS``, ``SepConv``, ``DilConv``,
``FactorizedReduce``, ``ReLUConvBN``), read in the c-bata/darts fork; NAS-Bench-301 trained its
architectures with Auto-PyTorch's copy of that network (automl/Auto-PyTorch,
``autoPyTorch/components/networks/image/darts/model.py``).

Layout:

- stem: 3×3 convolution from ``in_channels`` to 3·C, batch norm;
- ``cells`` cells; the cells at positions ``cells // 3`` and ``2 * cells // 3`` are reduction
  cells, which double the channel count and halve the resolution, the others normal cells;
- a cell preprocesses its two inputs (the outputs of the two cells before it; the stem's for the
  first cells) with ReLU-conv1×1-BN to its C channels, or, for the older input when the cell
  before it reduced, with a factorized reduction (ReLU, two 1×1 stride-2 convolutions, one on the
  map shifted by one pixel, concatenated, BN). Intermediate node k + 2 sums the operations of
  entries 2k and 2k + 1, each applied to the node it reads; the output concatenates the four
  intermediate nodes (4·C channels). In a reduction cell the operations that read the cell inputs
  have stride 2 (``skip_connect`` becomes a factorized reduction);
- operations: ``sep_conv_k×k`` is two (ReLU, depthwise k×k, pointwise 1×1, BN) stacks, the first
  carrying the stride; ``dil_conv_k×k`` one such stack with dilation 2; pools are 3×3 (average
  pooling does not count the padding);
- global average pooling and a linear classifier; optionally DARTS's auxiliary head
  (``AuxiliaryHeadCIFAR``) on the output of cell ``2 * cells // 3`` and drop path.

Presets (``preset=``; each keyword below overrides its preset value):

- ``"nb301"`` (default): ``channels=32, cells=8, auxiliary=False, op_affine=False, pool_bn=True``,
  the network whose counts the NAS-Bench-301 sample lists;
- ``"darts"``: ``channels=36, cells=20, auxiliary=True, op_affine=True, pool_bn=False``, the DARTS
  evaluation network.

``op_affine``: whether the operations' batch norms have scale and shift (the stem's and the
preprocessing's always do); ``pool_bn``: whether a batch norm without them follows each pool;
``drop_path`` is 0 in both; ``in_channels=3, image_size=32``.

``nb301`` is the network whose counts ``benchmarks/data/nb301_subset.csv.xz`` lists (from
NASLib's zero-cost benchmark): NASLib's ``NasBench301SearchSpace`` (automl/NASLib,
``naslib/search_spaces/nasbench301/graph.py``), which gives the operations' batch norms no scale
and shift (``affine=False``) and follows each pool with a batch norm without them, while the stem's
and the preprocessing's batch norms keep theirs. Its counts have no auxiliary head. Checked on all
1,218 rows (``tests/test_models_darts.py``):

- ``params`` (millions) is ``count_parameters(net)``; with the auxiliary head none match;
- ``flops`` (millions) is ``count_torchstat_flops(net)`` (``fastrank.models.counting``), the counting NASLib
  took from tensorwatch's ``ModelStats`` (``naslib/predictors/utils/pruners/predictive.py``;
  microsoft/tensorwatch ``tensorwatch/model_graph/torchstat/compute_flops.py``): convolution and
  linear multiply-accumulates plus one per batch-norm element (two when it has scale and shift),
  one per ReLU input element, k² per pooled output and the global pool's count. Plain
  multiply-accumulates (``count_flops``) come out 2.8 to 9.8 % lower, within 1 % on no row.

That is not quite the network NAS-Bench-301 trained: its configurations (automl/nasbench301,
``nasbench301/data_generation/configs/config_0.json``: init_channels 32, layers 8, auxiliary,
drop_path_prob 0.2) ran Auto-PyTorch's copy of the DARTS network, whose cells build every
operation with ``affine=True`` as DARTS's do, i.e. ``preset="nb301", auxiliary=True,
op_affine=True, pool_bn=False, drop_path=0.2`` (pools without batch norm as in DARTS's
``operations.py``; Auto-PyTorch's own copy of that file was not available to check).

``darts`` is ``train.py``'s network of the DARTS repository. For the DARTS V2 cells it has
3,349,342 parameters without the auxiliary head, the ``param size = 3.349342MB`` DARTS prints
(``utils.count_parameters_in_MB`` leaves the auxiliary head out; the paper's 3.3M), 3,825,768
with it, and 528,359,040 multiply-accumulates per 32×32 image.

Forward: in eval mode ``net(x)`` returns the logits ``(batch, num_classes)``; the auxiliary head
and drop path are off, and the module exports with ``torch.export``. In training mode the
auxiliary head, if the network has one, also runs: ``net(x)`` returns ``(logits, aux_logits)``
(DARTS weighs the auxiliary loss by 0.4), otherwise the logits alone. Drop path (DARTS's
``drop_path``: in training, each example's output of an operation other than the identity is
zeroed with probability ``drop_path`` and otherwise scaled by ``1 / (1 - drop_path)``) is the
attribute ``net.drop_path``, which a training loop may change between epochs (DARTS raises it
linearly from 0 to its final value).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import torch
from torch import nn

from .cell import ReLUConvBN
from .network import Network, image_shape, positive_int

# Each preset's sizes; ``DARTSNetwork``'s keywords override them one by one.
PRESETS: Dict[str, Dict[str, object]] = {
    "nb301": dict(channels=32, cells=8, auxiliary=False, drop_path=0.0, op_affine=False, pool_bn=True),
    "darts": dict(channels=36, cells=20, auxiliary=True, drop_path=0.0, op_affine=True, pool_bn=False),
}
STEM_MULTIPLIER = 3  # the stem has 3·C channels (DARTS's stem_multiplier)
NODES = 4  # intermediate nodes per cell, all concatenated into the output


class FactorizedReduce(nn.Module):
    """Halves the resolution with two 1×1 stride-2 convolutions, one of them on the map shifted
    by one pixel so that every input position is read, each giving half the output channels."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True):
        super().__init__()
        if c_out % 2:
            raise ValueError(f"a factorized reduction needs an even channel count, got {c_out}")
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_shifted = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv(x), self.conv_shifted(x[:, :, 1:, 1:])], dim=1))


class SeparableStack(nn.Sequential):
    """ReLU → depthwise k×k convolution (with ``stride`` and ``dilation``, size kept up to the
    stride) → pointwise 1×1 convolution → BN: DARTS's ``dil_conv`` alone, half a ``sep_conv``."""

    def __init__(self, c: int, kernel: int, stride: int, dilation: int, affine: bool):
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c, c, kernel, stride=stride, padding=dilation * (kernel // 2), dilation=dilation, groups=c,
                      bias=False),
            nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c, affine=affine),
        )


def operation(name: str, c: int, stride: int, affine: bool, pool_bn: bool) -> nn.Module:
    """The DARTS operation ``name`` (one of ``fastrank.spaces.darts.OPS``) on ``c`` channels;
    ``affine``: whether its batch norms have scale and shift; ``pool_bn``: a pool is followed by a
    batch norm without them."""
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine)
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (nn.MaxPool2d(3, stride=stride, padding=1) if name == "max_pool_3x3"
                else nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False))
        return nn.Sequential(pool, nn.BatchNorm2d(c, affine=False)) if pool_bn else pool
    kind, size = name.rsplit("_", 1)
    kernel = int(size.split("x")[0])
    if kind == "sep_conv":
        return nn.Sequential(SeparableStack(c, kernel, stride, 1, affine), SeparableStack(c, kernel, 1, 1, affine))
    if kind == "dil_conv":
        return SeparableStack(c, kernel, stride, 2, affine)
    raise ValueError(f"unknown DARTS operation {name!r}")


def drop_path(x: torch.Tensor, p: float) -> torch.Tensor:
    """Zeroes each example of ``x`` with probability ``p``, scales the others by 1 / (1 - p)."""
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
    return x * mask / keep


class Cell(nn.Module):
    """A DARTS cell for ``pairs`` (8 ``(op index, input node)`` entries): preprocessing of its
    two inputs, the 4 intermediate nodes, and their concatenation (4·``c`` channels)."""

    def __init__(self, pairs: Sequence[Tuple[int, int]], c_prev_prev: int, c_prev: int, c: int, reduction: bool,
                 reduction_prev: bool, affine: bool, pool_bn: bool):
        from ..spaces.darts import OPS

        super().__init__()
        self.preprocess0 = FactorizedReduce(c_prev_prev, c) if reduction_prev else ReLUConvBN(c_prev_prev, c, 1)
        self.preprocess1 = ReLUConvBN(c_prev, c, 1)
        self.ops = nn.ModuleList(operation(OPS[op], c, 2 if reduction and node < 2 else 1, affine, pool_bn)
                                 for op, node in pairs)
        self.inputs: List[int] = [node for _, node in pairs]
        # DARTS never drops the identity: that would cut the cell's shortcut
        self.droppable: List[bool] = [not isinstance(op, nn.Identity) for op in self.ops]

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(NODES):
            total = None
            for e in (2 * k, 2 * k + 1):
                h = self.ops[e](states[self.inputs[e]])
                if drop_prob > 0.0 and self.droppable[e]:
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat(states[2:], dim=1)


class AuxiliaryHead(nn.Sequential):
    """DARTS's ``AuxiliaryHeadCIFAR``: ReLU, 5×5 average pool of stride 3 (8×8 → 2×2), 1×1
    convolution to 128 channels, BN, ReLU, 2×2 convolution to 768, BN, ReLU, linear."""

    def __init__(self, c: int, num_classes: int):
        # DARTS's first ReLU is in place, so it also rectifies the cell output the later cells
        # read; they start with a ReLU themselves, so out of place computes the same (unless the
        # head sits on the last cell, cells <= 2, where DARTS's classifier would see it rectified)
        super().__init__(
            nn.ReLU(),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(768, num_classes),
        )


class DARTSNetwork(Network):
    """The DARTS CIFAR network of a normal and a reduction cell (each 8 ``(op index, input
    node)`` pairs, ``fastrank.spaces.darts``), by default as counted by the NAS-Bench-301 sample
    (``preset="nb301"``); ``preset="darts"`` is the DARTS evaluation network. See the module
    docstring for the layout, the presets and what ``forward`` returns."""

    def __init__(self, normal, reduce, num_classes: int = 10, *, preset: str = "nb301", channels=None, cells=None,
                 auxiliary=None, drop_path=None, op_affine=None, pool_bn=None, in_channels: int = 3,
                 image_size: int = 32):
        from ..spaces.darts import DARTS

        super().__init__()
        if preset not in PRESETS:
            raise ValueError(f"unknown DARTS preset {preset!r}; presets: {sorted(PRESETS)}")
        given = dict(channels=channels, cells=cells, auxiliary=auxiliary, drop_path=drop_path, op_affine=op_affine,
                     pool_bn=pool_bn)
        sizes = {k: PRESETS[preset][k] if v is None else v for k, v in given.items()}
        normal, reduce = DARTS().check((_pairs(normal), _pairs(reduce)))
        num_classes = positive_int("num_classes", num_classes)
        c = positive_int("channels", sizes["channels"])
        cells = positive_int("cells", sizes["cells"])
        for flag in ("auxiliary", "op_affine", "pool_bn"):
            if not isinstance(sizes[flag], bool):
                raise TypeError(f"{flag} must be a bool, got {type(sizes[flag]).__name__}")
        self.input_shape = image_shape(in_channels, image_size)

        reductions = sorted({cells // 3, 2 * cells // 3})
        if image_size % 2 ** len(reductions):
            raise ValueError(f"image_size must be a multiple of {2 ** len(reductions)} (each of the "
                             f"{len(reductions)} reductions halves it exactly), got {image_size}")
        self.aux_cell = 2 * cells // 3
        if sizes["auxiliary"]:
            side = image_size // 2 ** len(reductions)
            if not 8 <= side <= 10:  # its 5×5/3 pool must leave 2×2 for the 2×2 convolution
                raise ValueError(f"the auxiliary head needs an 8×8 to 10×10 map after cell {self.aux_cell}, got "
                                 f"{side}×{side} (image_size {image_size}); 32 gives 8×8")

        self.stem = nn.Sequential(nn.Conv2d(in_channels, STEM_MULTIPLIER * c, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(STEM_MULTIPLIER * c))
        c_prev_prev = c_prev = STEM_MULTIPLIER * c
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(cells):
            reduction = i in reductions
            if reduction:
                c *= 2
            self.cells.append(Cell(reduce if reduction else normal, c_prev_prev, c_prev, c, reduction,
                                   reduction_prev, sizes["op_affine"], sizes["pool_bn"]))
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, NODES * c
            if i == self.aux_cell and sizes["auxiliary"]:
                self.auxiliary_head = AuxiliaryHead(c_prev, num_classes)
        self.auxiliary = sizes["auxiliary"]
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)
        self.drop_path = sizes["drop_path"]

    @property
    def drop_path(self) -> float:
        """Probability of dropping an operation's output per example in training (0: off)."""
        return self._drop_path

    @drop_path.setter
    def drop_path(self, p) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
            raise ValueError(f"drop_path must be a probability in [0, 1), got {p!r}")
        self._drop_path = float(p)

    def forward(self, x: torch.Tensor):
        """Logits ``(batch, num_classes)``; in training mode with the auxiliary head,
        ``(logits, aux_logits)``."""
        drop_prob = self._drop_path if self.training else 0.0
        aux_logits = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, drop_prob)
            if i == self.aux_cell and self.auxiliary and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits if aux_logits is None else (logits, aux_logits)


def _pairs(cell) -> Tuple:
    """A cell given as any sequence of pairs, as the tuple of tuples the space checks."""
    try:
        return tuple(tuple(pair) for pair in cell)
    except TypeError:
        return cell  # not pairs: the space's check names what is wrong
