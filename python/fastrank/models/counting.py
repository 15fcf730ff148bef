"""Parameters and FLOPs of a built network, counted the way NAS benchmarks count them.

Benchmarks report "FLOPs" as multiply-accumulates (MACs) of the convolutions and linear layers
for one input: one MAC per weight use, so a k×k convolution from C_in/groups to C_out channels
costs ``H_out·W_out·C_out·(C_in/groups)·k²``. Batch norms, activations, pooling and additions
are left out unless asked for, because that is what the benchmarks' own counters did (each
benchmark module says which counting reproduces its table column).
"""
from __future__ import annotations

from typing import Iterable, Tuple

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (every parameter, or only those that require grad)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, inputs: Tuple[torch.Tensor, ...], bias: bool = False,
                extra: Iterable[type] = ()) -> int:
    """Multiply-accumulates of one forward pass per example of ``inputs`` (their first dimension
    is the batch).

    ``bias=True`` adds one per output element of each convolution/linear layer that has a bias;
    ``extra`` lists further module types (e.g. ``nn.BatchNorm2d``) counted at one operation per
    output element."""
    if not isinstance(inputs, tuple) or not inputs or not all(isinstance(t, torch.Tensor) for t in inputs):
        raise TypeError("count_flops takes the forward inputs as a non-empty tuple of tensors")
    batch = inputs[0].shape[0]
    if batch < 1:
        raise ValueError("count_flops needs a batch of at least one example")
    extra = tuple(extra)
    total = [0]

    def hook(module, args, output):
        if isinstance(module, nn.modules.conv._ConvNd):
            kernel = 1
            for k in module.kernel_size:
                kernel *= k
            per_output = (module.in_channels // module.groups) * kernel
            total[0] += output.numel() * per_output
            if bias and module.bias is not None:
                total[0] += output.numel()
        elif isinstance(module, nn.Linear):
            total[0] += output.numel() * module.in_features
            if bias and module.bias is not None:
                total[0] += output.numel()
        elif extra and isinstance(module, extra):
            total[0] += output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear) + extra)]
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(*inputs)
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    if total[0] % batch:
        raise AssertionError("per-example FLOPs are not a whole number: an input is not batched")
    return total[0] // batch
