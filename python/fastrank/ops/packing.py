"""Checks and packs the list inputs shared by every ranking op and loss.

Two layouts reach the kernels as one: a 1-D score vector with optional ``group_sizes``
(ragged lists, like queries) or a 2-D (batch, list) tensor with an optional boolean
``mask``. Both become contiguous 1-D scores/targets plus int64 list offsets.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from numbers import Integral
from typing import Optional, Sequence, Union

import torch

from .. import _native
from .._native import require_cuda
from .._checks import check_number

GroupSizes = Union[torch.Tensor, Sequence[int], None]



@dataclass
class PackedLists:
    scores: torch.Tensor  # 1-D, contiguous, float32 or float64
    targets: torch.Tensor  # same dtype, device and length as scores
    offsets: torch.Tensor  # int64, n_lists + 1 entries, list g = offsets[g]:offsets[g+1]

    @property
    def n_lists(self) -> int:
        return self.offsets.numel() - 1


def check_device(t: torch.Tensor, name: str, device: torch.device) -> None:
    if t.device != device:
        raise ValueError(f"{name} is on {t.device} but scores is on {device}; move them to one device")


def supported_device(device: torch.device) -> None:
    if device.type == "cpu":
        return
    if device.type == "cuda":
        require_cuda("scores")
        return
    raise ValueError(f"fastrank ops run on CPU (and CUDA); got a tensor on {device}")


def float_scores(scores: torch.Tensor) -> torch.Tensor:
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if not scores.is_floating_point():
        raise TypeError(f"scores must be a floating-point tensor, got dtype {scores.dtype}")
    if scores.dtype not in (torch.float32, torch.float64):
        scores = scores.float()  # half precision is computed in float32
    return scores


def targets_like(targets, scores: torch.Tensor) -> torch.Tensor:
    if not isinstance(targets, torch.Tensor):
        try:
            targets = torch.as_tensor(targets, device=scores.device)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"targets must be a tensor or array of numbers: {err}") from None
    check_device(targets, "targets", scores.device)
    if targets.is_complex():
        raise TypeError(f"targets must be real numbers, got dtype {targets.dtype}")
    if targets.requires_grad:
        raise ValueError("targets must not require grad: the ops differentiate with respect to scores only")
    if targets.shape != scores.shape:
        raise ValueError(f"targets has shape {tuple(targets.shape)} but scores has shape {tuple(scores.shape)}")
    return targets.to(scores.dtype)


def _offsets_from_sizes(group_sizes: GroupSizes, n: int, device: torch.device) -> torch.Tensor:
    if isinstance(group_sizes, torch.Tensor):
        if group_sizes.dtype.is_floating_point or group_sizes.is_complex() or group_sizes.dtype == torch.bool:
            raise TypeError(f"group_sizes must hold integers, got dtype {group_sizes.dtype}")
        if group_sizes.dim() != 1:
            raise ValueError(f"group_sizes must be 1-D, got shape {tuple(group_sizes.shape)}")
        sizes = group_sizes.to(device=device, dtype=torch.int64)
    else:
        try:
            values = list(group_sizes)
        except TypeError:
            raise TypeError(f"group_sizes must be a sequence of ints or a tensor, got {type(group_sizes).__name__}") from None
        for v in values:
            if isinstance(v, bool) or not isinstance(v, Integral):
                raise TypeError(f"group_sizes must hold integers, got {v!r}")
            if v < 0:
                raise ValueError(f"group_sizes must be non-negative, got {int(v)}")
        for v in values:
            if v > n:  # checked before torch.tensor, which cannot hold sizes past 2^63
                raise ValueError(f"group_sizes add up to more than the {n} items of scores (a group of {int(v)})")
        # Python ints: checked and summed without reading a tensor back, so torch.compile traces it
        ends = list(itertools.accumulate(int(v) for v in values))
        total = ends[-1] if ends else 0
        if total != n:
            raise ValueError(f"group_sizes add up to {total} but scores has {n} items")
        return torch.tensor([0, *ends], dtype=torch.int64, device=device)
    if torch.compiler.is_compiling():  # the same conditions, checked when the compiled graph runs
        torch._assert_async((sizes >= 0).all() & (sizes <= n).all() & (sizes.sum() == n),
                            f"group_sizes must be non-negative and add up to the {n} items of scores")
    else:
        _check_size_tensor(sizes, n)
    offsets = torch.zeros(sizes.numel() + 1, dtype=torch.int64, device=device)
    torch.cumsum(sizes, 0, out=offsets[1:])
    return offsets


def _check_size_tensor(sizes: torch.Tensor, n: int) -> None:
    if sizes.numel() and bool((sizes < 0).any()):
        raise ValueError(f"group_sizes must be non-negative, got {sizes.min().item()}")
    # Sizes past n would let the int64 sum wrap round to n (4 x 2^62 + 6 == 6) and the
    # kernels read far outside the scores.
    if sizes.numel() and int(sizes.max()) > n:
        raise ValueError(f"group_sizes add up to more than the {n} items of scores (a group of {int(sizes.max())})")
    total = int(sizes.sum()) if sizes.numel() else 0
    if total != n:
        raise ValueError(f"group_sizes add up to {total} but scores has {n} items")


def pack_lists(scores, targets, group_sizes: GroupSizes = None, mask: Optional[torch.Tensor] = None) -> PackedLists:
    """Validates (scores, targets, group_sizes | mask) and returns the kernels' layout."""
    scores = float_scores(scores)
    supported_device(scores.device)
    targets = targets_like(targets, scores)
    if scores.dim() == 1:
        if mask is not None:
            raise ValueError("mask applies to 2-D (batch, list) scores; for 1-D scores use group_sizes")
        n = scores.shape[0]
        if group_sizes is None:
            offsets = torch.tensor([0, n], dtype=torch.int64, device=scores.device)
        else:
            offsets = _offsets_from_sizes(group_sizes, n, scores.device)
        return PackedLists(scores.contiguous(), targets.contiguous(), offsets)
    if scores.dim() == 2:
        if group_sizes is not None:
            raise ValueError("group_sizes applies to 1-D scores; for 2-D (batch, list) scores use mask")
        batch, length = scores.shape
        if mask is None:
            if length == 0:  # arange refuses a zero step: batch empty lists all start at 0
                offsets = torch.zeros(batch + 1, dtype=torch.int64, device=scores.device)
            else:
                offsets = torch.arange(0, (batch + 1) * length, length, dtype=torch.int64, device=scores.device)
            return PackedLists(scores.reshape(-1).contiguous(), targets.reshape(-1).contiguous(), offsets)
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
            raise TypeError("mask must be a boolean tensor (True marks the items of a list)")
        check_device(mask, "mask", scores.device)
        if mask.shape != scores.shape:
            raise ValueError(f"mask has shape {tuple(mask.shape)} but scores has shape {tuple(scores.shape)}")
        offsets = torch.zeros(batch + 1, dtype=torch.int64, device=scores.device)
        torch.cumsum(mask.sum(1), 0, out=offsets[1:])
        return PackedLists(scores[mask].contiguous(), targets[mask].contiguous(), offsets)
    raise ValueError(f"scores must be 1-D (one list or ragged lists) or 2-D (batch, list), got {scores.dim()}-D")


def check_reduction(reduction: str) -> int:
    """The native tag of a reduction name."""
    return _native.tag("reduction", reduction)


def check_real(value, name: str, *, positive: bool = False) -> float:
    """A finite real hyperparameter; non-negative, or strictly positive when asked."""
    if type(value) is float and (0 < value < math.inf or (value == 0 and not positive)):
        return value  # the common case, without check_number's abstract type tests: this runs on every op call
    check_number(value, name, "a finite real number")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return float(value)


def check_fits(value: float, name: str, dtype: torch.dtype) -> None:
    """A hyperparameter the kernels compute with in the scores' dtype must be representable in it
    (a float32 margin of 1e307 would be infinity, and the loss with it)."""
    if value > torch.finfo(dtype).max:
        raise ValueError(f"{name} ({value!r}) exceeds the largest {dtype} ({torch.finfo(dtype).max:.3g}); "
                         "use float64 scores or a smaller value")
