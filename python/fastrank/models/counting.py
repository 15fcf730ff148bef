"""Parameters and FLOPs of a built network, counted the way NAS benchmarks count them.

Benchmarks report "FLOPs" as multiply-accumulates (MACs) of the convolutions and linear layers
for one input: one MAC per weight use, so a k×k convolution from C_in/groups to C_out channels
costs ``H_out·W_out·C_out·(C_in/groups)·k²``. Batch norms, activations, pooling and additions
are left out unless asked for. That is what NB201 and NAS-Bench-Macro counted (NB201 with one
add per bias output: ``bias=True``). The tables NASLib made (the NB101 and NB301 samples,
TransNAS-Bench-101) counted with tensorwatch's torchstat rules instead:
:func:`count_torchstat_flops`. Each network's module says which counting reproduces its table.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, Optional, Tuple

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (every parameter, or only those that require grad)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _macs(module: nn.Module, output: torch.Tensor) -> int:
    """Multiply-accumulates of a convolution or linear layer: one per weight use."""
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)


def _per_example(model: nn.Module, inputs, counted: tuple, count: Callable, what: str) -> int:
    """Runs ``model`` once in eval mode on ``inputs`` with ``count(module, args, output) -> int``
    hooked on every module of the ``counted`` types; their sum per example of the batch."""
    if not isinstance(inputs, tuple) or not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise TypeError(f"{what} takes the forward inputs as a non-empty tuple of tensors")
    batch = inputs[0].shape[0]
    if batch < 1:
        raise ValueError(f"{what} needs a batch of at least one example")
    total = [0]

    def hook(module, args, output):
        total[0] += count(module, args, output)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, counted)]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(*inputs)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    if total[0] % batch:
        raise AssertionError("per-example counts are not a whole number: an input is not batched")
    return total[0] // batch


def count_flops(model: nn.Module, inputs: Tuple[torch.Tensor, ...], bias: bool = False,
                extra: Iterable[type] = ()) -> int:
    """Multiply-accumulates of one forward pass per example of ``inputs`` (their first dimension
    is the batch).

    ``bias=True`` adds one per output element of each convolution/linear layer that has a bias;
    ``extra`` lists further module types (e.g. ``nn.BatchNorm2d``) counted at one operation per
    output element."""
    layers = (nn.modules.conv._ConvNd, nn.Linear)

    def count(module, args, output) -> int:
        if isinstance(module, layers):
            with_bias = bias and module.bias is not None
            return _macs(module, output) + (output.numel() if with_bias else 0)
        return output.numel()  # one of ``extra``

    return _per_example(model, inputs, layers + tuple(extra), count, "count_flops")


def count_torchstat_flops(model: nn.Module, inputs: Optional[Tuple[torch.Tensor, ...]] = None) -> int:
    """Operations of one eval-mode forward pass per example of ``inputs``, counted by torchstat's
    rules (microsoft/tensorwatch, ``tensorwatch/model_graph/torchstat/compute_flops.py``), which
    NASLib's zero-cost benchmark used for its ``flops`` column:

    - ``Conv2d``: multiply-accumulates, plus one per output element if it has a bias;
    - ``Linear``: multiply-accumulates (its bias is not counted);
    - ``BatchNorm2d``: one per element, two if it has scale and shift;
    - ReLU (and ReLU6, PReLU, ELU, LeakyReLU): one per input element;
    - ``MaxPool2d`` / ``AvgPool2d``: kernel area per output element;
    - ``AdaptiveAvgPool2d`` / ``AdaptiveMaxPool2d``: per output cell and channel, (rows + 1) ×
      (columns + 1) of the window it reads (torchstat's formula; (H + 1)(W + 1) per channel for a
      global pool).

    Other modules (concatenation, additions, slicing, flatten) count nothing. ``inputs``
    defaults to ``model.example_inputs(1)``."""
    if inputs is None:
        inputs = model.example_inputs(1)
    relus = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)

    def count(module, args, output) -> int:
        x = args[0]
        if isinstance(module, nn.Conv2d):
            return _macs(module, output) + (output.numel() if module.bias is not None else 0)
        if isinstance(module, nn.Linear):
            return _macs(module, output)
        if isinstance(module, nn.BatchNorm2d):
            return x.numel() * (2 if module.affine else 1)
        if isinstance(module, relus):
            return x.numel()
        if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            kernel = module.kernel_size if isinstance(module.kernel_size, tuple) else (module.kernel_size,) * 2
            return output.numel() * kernel[0] * kernel[1]
        (h, w), (oh, ow) = x.shape[-2:], output.shape[-2:]  # an adaptive pool
        rows = sum(math.ceil((i + 1) * h / oh) - math.floor(i * h / oh) + 1 for i in range(oh))
        cols = sum(math.ceil((j + 1) * w / ow) - math.floor(j * w / ow) + 1 for j in range(ow))
        return x.shape[0] * x.shape[1] * rows * cols

    counted = (nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
               nn.AdaptiveMaxPool2d) + relus
    return _per_example(model, inputs, counted, count, "count_torchstat_flops")
