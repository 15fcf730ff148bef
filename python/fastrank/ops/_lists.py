"""Checks and packs the list inputs shared by every ranking op.

Two layouts reach the kernels as one: a 1-D score vector with optional ``group_sizes``
(ragged lists, like queries) or a 2-D (batch, list) tensor with an optional boolean
``mask``. Both become contiguous 1-D scores/targets plus int64 list offsets.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Optional, Sequence, Union

import torch

from .. import _C
from .._native import require_cuda
from ._custom_ops import REDUCTION_TAGS, is_finite_number

GroupSizes = Union[torch.Tensor, Sequence[int], None]



@dataclass
class PackedLists:
    scores: torch.Tensor  # 1-D, contiguous, float32 or float64
    targets: torch.Tensor  # same dtype, device and length as scores
    offsets: torch.Tensor  # int64, n_lists + 1 entries, list g = offsets[g]:offsets[g+1]

    @property
    def n_lists(self) -> int:
        return self.offsets.numel() - 1


def _check_device(t: torch.Tensor, name: str, device: torch.device) -> None:
    if t.device != device:
        raise ValueError(f"{name} is on {t.device} but scores is on {device}; move them to one device")


def _supported_device(device: torch.device) -> None:
    if device.type == "cpu":
        return
    if device.type == "cuda":
        require_cuda("scores")
        return
    raise ValueError(f"fastrank ops run on CPU (and CUDA); got a tensor on {device}")


def _float_scores(scores: torch.Tensor) -> torch.Tensor:
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if not scores.is_floating_point():
        raise TypeError(f"scores must be a floating-point tensor, got dtype {scores.dtype}")
    if scores.dtype not in (torch.float32, torch.float64):
        scores = scores.float()  # half precision is computed in float32
    return scores


def _targets_like(targets, scores: torch.Tensor) -> torch.Tensor:
    if not isinstance(targets, torch.Tensor):
        try:
            targets = torch.as_tensor(targets, device=scores.device)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"targets must be a tensor or array of numbers: {err}") from None
    _check_device(targets, "targets", scores.device)
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
    scores = _float_scores(scores)
    _supported_device(scores.device)
    targets = _targets_like(targets, scores)
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
        _check_device(mask, "mask", scores.device)
        if mask.shape != scores.shape:
            raise ValueError(f"mask has shape {tuple(mask.shape)} but scores has shape {tuple(scores.shape)}")
        offsets = torch.zeros(batch + 1, dtype=torch.int64, device=scores.device)
        torch.cumsum(mask.sum(1), 0, out=offsets[1:])
        return PackedLists(scores[mask].contiguous(), targets[mask].contiguous(), offsets)
    raise ValueError(f"scores must be 1-D (one list or ragged lists) or 2-D (batch, list), got {scores.dim()}-D")


def check_reduction(reduction: str) -> int:
    """The native tag of a reduction name."""
    if reduction not in REDUCTION_TAGS:
        raise ValueError(f"reduction must be one of {tuple(REDUCTION_TAGS)}, got {reduction!r}")
    return REDUCTION_TAGS[reduction]


def check_real(value, name: str, *, positive: bool = False) -> float:
    """A finite real hyperparameter; non-negative, or strictly positive when asked."""
    if isinstance(value, bool) or not isinstance(value, Real) or not is_finite_number(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return float(value)


def list_ids(lists: PackedLists) -> torch.Tensor:
    """The list index of every item (int64, one per item)."""
    sizes = lists.offsets.diff()
    ids = torch.arange(lists.n_lists, device=lists.offsets.device)
    return torch.repeat_interleave(ids, sizes, output_size=lists.scores.shape[0])


def padded(lists: PackedLists):
    """(scores, targets, valid) as (n_lists, longest) tensors; invalid slots hold 0."""
    ids = list_ids(lists)
    sizes = lists.offsets.diff()
    longest = int(sizes.max()) if lists.n_lists else 0
    pos = torch.arange(lists.scores.shape[0], device=ids.device) - lists.offsets[:-1][ids]
    shape = (lists.n_lists, longest)
    scores = lists.scores.new_zeros(shape).index_put((ids, pos), lists.scores)
    targets = lists.targets.new_zeros(shape).index_put((ids, pos), lists.targets)
    valid = torch.zeros(shape, dtype=torch.bool, device=ids.device).index_put((ids, pos), torch.ones_like(ids, dtype=torch.bool))
    return scores, targets, valid


@dataclass
class DenseLists:
    """Lists as rows: (n_lists, length) scores and targets, ``valid`` marking real items
    (None when every slot is one). Rows hold each list's items in order, padding last."""

    scores: torch.Tensor
    targets: torch.Tensor
    valid: Optional[torch.Tensor]

    def counts(self) -> Union[torch.Tensor, int]:
        """Items per list: a tensor, or one int when every list is full length."""
        return self.scores.shape[1] if self.valid is None else self.valid.sum(1)

    def where_valid(self, values: torch.Tensor, fill) -> torch.Tensor:
        return values if self.valid is None else torch.where(self.valid, values, torch.full_like(values, fill))

    def row_sum(self, terms: torch.Tensor) -> torch.Tensor:
        return self.where_valid(terms, 0).sum(1)


_FLOAT_TAG = {torch.float32: 0, torch.float64: 1}


def _finite(t: torch.Tensor) -> bool:
    tag = _FLOAT_TAG.get(t.dtype)
    if tag is not None and t.is_cpu and t.is_contiguous():
        return _C.all_finite_cpu(tag, t.data_ptr(), t.numel())  # one native pass, no torch op
    return not t.is_floating_point() or bool(torch.isfinite(t).all())


def _check_finite(scores: torch.Tensor, targets: torch.Tensor) -> None:
    if torch.compiler.is_compiling():
        # A traceable check (the native pass is opaque to dynamo); it raises RuntimeError, with the
        # same message, when the compiled graph runs.
        torch._assert_async(torch.isfinite(scores).all(), "scores contain NaN or infinity")
        torch._assert_async(torch.isfinite(targets).all(), "targets contain NaN or infinity")
        return
    if not scores.numel():
        return
    if scores.is_cpu:
        bad = "scores" if not _finite(scores) else "targets" if not _finite(targets) else None
    elif not bool(torch.isfinite(scores).all() & torch.isfinite(targets).all()):  # one host sync for both
        bad = "scores" if not bool(torch.isfinite(scores).all()) else "targets"
    else:
        bad = None
    if bad:
        raise ValueError(f"{bad} contain NaN or infinity")


def dense_lists(scores, targets, group_sizes: GroupSizes = None, mask: Optional[torch.Tensor] = None) -> DenseLists:
    """Validates like :func:`pack_lists` (plus finiteness, which the native ops check in
    their kernels) and returns rows. One list or an unmasked batch is used as is; ragged
    or masked input is compacted and padded."""
    if group_sizes is None and mask is None and isinstance(scores, torch.Tensor) and scores.dim() in (1, 2):
        s = _float_scores(scores)
        _supported_device(s.device)
        y = _targets_like(targets, s)
        rows = (s[None], y[None]) if s.dim() == 1 else (s, y)
        out = DenseLists(rows[0], rows[1], None)
    else:
        lists = pack_lists(scores, targets, group_sizes, mask)
        out = DenseLists(*padded(lists))
    _check_finite(out.scores.detach(), out.targets)
    return out


def reduce_per_list(list_sum: torch.Tensor, list_count: Union[torch.Tensor, int], reduction: str) -> torch.Tensor:
    """The library-wide reduction over per-list sums of terms.

    "none": the per-list sums; "sum": their total; "mean": each list's sum divided by its
    number of terms (items, pairs, or 1 for listwise losses), averaged over the lists
    that have terms (0 when none has). No data-dependent shapes, so it traces.
    """
    check_reduction(reduction)
    if reduction == "none":
        return list_sum
    if reduction == "sum":
        return list_sum.sum()
    if isinstance(list_count, int):  # every list has the same number of terms
        return list_sum.mean() / list_count if list_count > 0 and list_sum.numel() else list_sum.sum() * 0
    count = list_count.to(list_sum.dtype)
    has_terms = count > 0
    per_list = torch.where(has_terms, list_sum / count.clamp_min(1), torch.zeros_like(list_sum))
    return per_list.sum() / has_terms.sum().clamp_min(1)
