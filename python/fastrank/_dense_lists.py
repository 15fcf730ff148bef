"""Lists as dense rows for the losses computed in torch (the loss zoo of losses.py): ragged
or masked lists padded to (n_lists, longest), finiteness checks, and the library-wide
reduction over per-list sums."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import torch

from . import _native
from .ops.packing import (GroupSizes, PackedLists, check_reduction, float_scores, pack_lists, supported_device,
                          targets_like)


def list_ids(lists: PackedLists) -> torch.Tensor:
    """The list index of every item (int64, one per item)."""
    sizes = lists.offsets.diff()
    ids = torch.arange(lists.n_lists, device=lists.offsets.device)
    return torch.repeat_interleave(ids, sizes, output_size=lists.scores.shape[0])


def item_slots(lists: PackedLists):
    """(list, position in the list) of every item: where it sits in the padded rows."""
    ids = list_ids(lists)
    return ids, torch.arange(lists.scores.shape[0], device=ids.device) - lists.offsets[:-1][ids]


def unpadded(rows: torch.Tensor, lists: PackedLists) -> torch.Tensor:
    """The items of padded rows, in the packed order (a gather of static size, which traces)."""
    return rows[item_slots(lists)]


def padded(lists: PackedLists, width: Optional[int] = None):
    """(scores, targets, valid) as (n_lists, width) tensors; invalid slots hold 0. width: at
    least the longest list; by default exactly the longest (read from the offsets)."""
    ids, pos = item_slots(lists)
    longest = width if width is not None else int(lists.offsets.diff().max()) if lists.n_lists else 0
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


def _finite(t: torch.Tensor) -> bool:
    if t.dtype in _native.DTYPE_TAGS and t.is_cpu and t.is_contiguous():
        # one native pass, no torch op: two torch reductions cost ~15 µs at n = 32
        return _native.call_cpu("all_finite", _native.dtype_tag(t.dtype), t, t.numel())
    return not t.is_floating_point() or bool(torch.isfinite(t).all())


def _beneath_transforms(t: torch.Tensor) -> torch.Tensor:
    from torch._C._functorch import get_unwrapped, is_functorch_wrapped_tensor

    while is_functorch_wrapped_tensor(t):
        t = get_unwrapped(t)
    return t


def _check_finite(scores: torch.Tensor, targets: torch.Tensor) -> None:
    if torch.compiler.is_compiling():
        # A traceable check (the native pass is opaque to dynamo); it raises RuntimeError, with the
        # same message, when the compiled graph runs.
        torch._assert_async(torch.isfinite(scores).all(), "scores contain NaN or infinity")
        torch._assert_async(torch.isfinite(targets).all(), "targets contain NaN or infinity")
        return
    if not scores.numel():
        return
    if torch._C._are_functorch_transforms_active():
        # torch.func (grad, vmap): the values beneath the transforms' wrappers, every vmapped row
        scores, targets = _beneath_transforms(scores), _beneath_transforms(targets)
    if scores.is_cpu:
        bad = "scores" if not _finite(scores) else "targets" if not _finite(targets) else None
    elif not bool(torch.isfinite(scores).all() & torch.isfinite(targets).all()):  # one host sync for both
        bad = "scores" if not bool(torch.isfinite(scores).all()) else "targets"
    else:
        bad = None
    if bad:
        raise ValueError(f"{bad} contain NaN or infinity")


def row_width(lists: PackedLists, group_sizes: GroupSizes, mask: Optional[torch.Tensor]) -> Optional[int]:
    """The padded rows' width when it is known without reading the data: the longest of
    group sizes given as ints; when compiling, the mask's row length or all the items (bounds
    that torch.compile can trace, where the exact longest list is a value in a tensor)."""
    if group_sizes is not None and not isinstance(group_sizes, torch.Tensor):
        sizes = [int(v) for v in group_sizes]  # checked ints (pack_lists); a list, which dynamo folds
        return max(sizes) if sizes else 0
    if torch.compiler.is_compiling():
        return mask.shape[1] if mask is not None else lists.scores.shape[0]
    return None


def dense_lists(scores, targets, group_sizes: GroupSizes = None, mask: Optional[torch.Tensor] = None) -> DenseLists:
    """Validates like :func:`pack_lists` (plus finiteness, which the native ops check in
    their kernels) and returns rows. One list or an unmasked batch is used as is; ragged
    or masked input is compacted and padded."""
    if group_sizes is None and mask is None and isinstance(scores, torch.Tensor) and scores.dim() in (1, 2):
        s = float_scores(scores)
        supported_device(s.device)
        y = targets_like(targets, s)
        rows = (s[None], y[None]) if s.dim() == 1 else (s, y)
        out = DenseLists(rows[0], rows[1], None)
    else:
        lists = pack_lists(scores, targets, group_sizes, mask)
        out = DenseLists(*padded(lists, row_width(lists, group_sizes, mask)))
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
