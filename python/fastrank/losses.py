"""Predictor losses for NAS, functional form.

Every loss takes ``(scores, targets)`` plus the list layout of the native ops
(``group_sizes`` for ragged 1-D input, ``mask`` for a 2-D batch) and ``reduction``:
"mean" averages, over the lists that have terms, each list's sum of terms divided by its
number of terms (items for pointwise losses, pairs with different targets for pairwise
ones, 1 for listwise ones); "sum" adds all terms of all lists; "none" returns each list's
sum of terms. Targets are higher-is-better (accuracies); gradients flow to ``scores``.

The eight losses of "Loss Functions for Predictor-based NAS" (Ji et al., ICCV 2025) are
here by their paper names in :data:`fastrank.nn.LOSSES` (MSE, HR, LR, MSE+SR, ListMLE, EW,
MAPE, WARP) next to ListNet and LambdaRank.
"""
from __future__ import annotations

from typing import Optional, Union

import torch

from ._dense_lists import DenseLists, dense_lists, padded, reduce_per_list, row_width, unpadded
from .ops.lambdarank import lambdarank as _lambdarank
from .ops.packing import GroupSizes, check_real, check_reduction, pack_lists
from .ops.pairwise import hinge_family, pairwise_logistic
from ._checks import check_number

__all__ = [
    "mse",
    "hinge_ranking",
    "logistic_ranking",
    "mse_sequence_ranking",
    "listmle",
    "listnet",
    "exp_weighted_mse",
    "mape",
    "warp",
    "lambdarank",
    "acenas_relevance",
]

Mask = Optional[torch.Tensor]


def _pointwise(terms: torch.Tensor, rows: DenseLists, reduction: str) -> torch.Tensor:
    return reduce_per_list(rows.row_sum(terms), rows.counts(), reduction)


# --- regression -------------------------------------------------------------------


def mse(scores, targets, *, group_sizes: GroupSizes = None, mask: Mask = None, reduction: str = "mean"):
    """Squared error (s - y)² per item (MSE)."""
    check_reduction(reduction)
    rows = dense_lists(scores, targets, group_sizes, mask)
    if rows.valid is None and reduction != "none" and rows.scores.numel():
        # Full rows of one length: the mean of the lists' means is the mean of all items, and
        # torch's fused op saves four autograd nodes (a third of the call at small n).
        return torch.nn.functional.mse_loss(rows.scores, rows.targets, reduction=reduction)
    return _pointwise((rows.scores - rows.targets) ** 2, rows, reduction)


# --- pairwise ranking -------------------------------------------------------------


def hinge_ranking(scores, targets, margin: float = 0.1, *, group_sizes: GroupSizes = None, mask: Mask = None,
                  reduction: str = "mean"):
    """HR: pairwise hinge max(0, m - (s_a - s_b)) over pairs y_a > y_b; exact O(n log n).

    The default margin 0.1 suits scores on the scale of normalised accuracies.
    """
    return hinge_family(scores, targets, margin, group_sizes, mask, reduction, False, squared=False)


def logistic_ranking(scores, targets, sigma: float = 1.0, *, group_sizes: GroupSizes = None, mask: Mask = None,
                     reduction: str = "mean"):
    """LR (RankNet): log(1 + exp(-σ(s_a - s_b))) over pairs y_a > y_b."""
    return pairwise_logistic(scores, targets, sigma, group_sizes=group_sizes, mask=mask, reduction=reduction)


def mse_sequence_ranking(scores, targets, weight: float = 0.2, *, group_sizes: GroupSizes = None, mask: Mask = None,
                         reduction: str = "mean"):
    """MSE+SR (NAR-Former): MSE + weight · SR.

    SR is the mean over consecutive items i, i+1 of a list in its given order (the batch
    order, shuffled by the data loader) of |(s_i - s_{i+1}) - (y_i - y_{i+1})|: it asks the
    predicted differences to match the true ones. weight = 0.2 as in NAR-Former. Each term
    is reduced on its own (MSE over n items, SR over n - 1 pairs per list), then added.
    """
    check_reduction(reduction)
    weight = check_real(weight, "weight")
    rows = dense_lists(scores, targets, group_sizes, mask)
    s, y = rows.scores, rows.targets
    regression = _pointwise((s - y) ** 2, rows, reduction)
    # Rows keep each list's items contiguous from the left, so neighbours are columns j, j+1.
    terms = ((s[:, 1:] - s[:, :-1]) - (y[:, 1:] - y[:, :-1])).abs()
    if rows.valid is not None:
        terms = torch.where(rows.valid[:, 1:], terms, torch.zeros_like(terms))
    counts = rows.counts()
    counts = max(counts - 1, 0) if isinstance(counts, int) else (counts - 1).clamp_min(0)
    sequence = reduce_per_list(terms.sum(1), counts, reduction)
    return regression + weight * sequence


# --- listwise ---------------------------------------------------------------------


def _masked_scores(scores: torch.Tensor, valid: Optional[torch.Tensor]) -> torch.Tensor:
    # The most negative finite value, not -inf: exp underflows to exactly 0 all the same,
    # and neither the forward nor the backward pass meets inf - inf.
    if valid is None:
        return scores
    return torch.where(valid, scores, torch.full_like(scores, torch.finfo(scores.dtype).min))


def _listwise_counts(rows: DenseLists):
    counts = rows.counts()  # one term per non-empty list
    return int(counts > 0) if isinstance(counts, int) else (counts > 0).to(rows.scores.dtype)


def listmle(scores, targets, *, group_sizes: GroupSizes = None, mask: Mask = None, reduction: str = "mean"):
    r"""ListMLE: the Plackett–Luce negative log-likelihood of the true order,
    :math:`\sum_i \log\sum_{j \ge i} e^{s_{\pi_j}} - s_{\pi_i}` with π the items by target
    descending (ties in stable position order). Computed with logcumsumexp, so it never
    under- or overflows. One term per list."""
    check_reduction(reduction)
    rows = dense_lists(scores, targets, group_sizes, mask)
    # Padding sorts first, so no valid item's suffix includes it.
    key = rows.where_valid(rows.targets, float("inf"))
    order = torch.sort(key, dim=1, descending=True, stable=True).indices
    s_sorted = torch.gather(_masked_scores(rows.scores, rows.valid), 1, order)
    suffix_lse = torch.flip(torch.logcumsumexp(torch.flip(s_sorted, [1]), dim=1), [1])
    terms = suffix_lse - s_sorted
    if rows.valid is not None:
        terms = torch.where(torch.gather(rows.valid, 1, order), terms, torch.zeros_like(terms))
    return reduce_per_list(terms.sum(1), _listwise_counts(rows), reduction)


def listnet(scores, targets, *, group_sizes: GroupSizes = None, mask: Mask = None, reduction: str = "mean"):
    r"""ListNet (top-one): cross-entropy :math:`-\sum_i \mathrm{softmax}(y)_i \log\mathrm{softmax}(s)_i`
    of each list. One term per list."""
    check_reduction(reduction)
    rows = dense_lists(scores, targets, group_sizes, mask)
    true_p = torch.softmax(_masked_scores(rows.targets, rows.valid), dim=1)
    log_p = torch.log_softmax(_masked_scores(rows.scores, rows.valid), dim=1)
    return reduce_per_list(rows.row_sum(-true_p * log_p), _listwise_counts(rows), reduction)


# --- weighted ---------------------------------------------------------------------


def _row_range(rows: DenseLists):
    """Per-row (min, max) of the targets over valid items, shaped (n_lists, 1)."""
    y = rows.targets
    low = rows.where_valid(y, float("inf")).amin(1, keepdim=True) if y.shape[1] else y.new_zeros(y.shape[0], 1)
    high = rows.where_valid(y, -float("inf")).amax(1, keepdim=True) if y.shape[1] else y.new_zeros(y.shape[0], 1)
    return low, high


def exp_weighted_mse(scores, targets, *, group_sizes: GroupSizes = None, mask: Mask = None, reduction: str = "mean"):
    r"""EW: :math:`e^{\hat y - 1}(s - y)^2` with :math:`\hat y = (y - \min y)/(\max y - \min y)`
    the list's targets scaled to [0, 1] (1 when all are equal), so the best architectures
    weigh e times the worst. The squared error is on the targets as given."""
    check_reduction(reduction)
    rows = dense_lists(scores, targets, group_sizes, mask)
    y = rows.targets
    low, high = _row_range(rows)
    span = high - low
    ok = span > 0
    scaled = torch.where(ok, (y - low) / torch.where(ok, span, torch.ones_like(span)), torch.ones_like(y))
    return _pointwise(torch.exp(scaled - 1) * (rows.scores - y) ** 2, rows, reduction)


def mape(scores, targets, bound: Optional[float] = None, *, group_sizes: GroupSizes = None, mask: Mask = None,
         reduction: str = "mean"):
    r"""MAPE in error space with a bound (BANANAS): :math:`|s - y| / (b - y)`.

    BANANAS writes it for errors e with a lower bound b_e: |ê - e| / (e - b_e). With
    higher-is-better targets (accuracy = 100 - error) this is the same loss with
    b = 100 - b_e an upper bound on the targets, e.g. BANANAS' b_e = 4.5 % ↔ b = 95.5.
    ``bound`` must exceed every target. Default (None): per list,
    b = max y + 0.1·(max y - min y) (or max y + 0.1·max(|max y|, 1) when all targets are
    equal, to within rounding), so the best architecture's relative error is scaled by a tenth
    of the range.
    """
    check_reduction(reduction)
    if bound is not None:
        check_number(bound, "bound", "a finite real number or None")
    rows = dense_lists(scores, targets, group_sizes, mask)
    y = rows.targets
    low, high = _row_range(rows)
    if bound is None:
        span = high - low
        scale = high.abs().clamp_min(1)
        # a span within rounding of the targets' scale counts as all equal: a denormal span would
        # put b on the best target and divide by (almost) zero
        b = high + 0.1 * torch.where(span > torch.finfo(span.dtype).eps * scale, span, scale)
    else:
        nonempty = rows.counts() > 0 if rows.valid is not None else slice(None)
        if high.numel() and rows.scores.shape[1] and not bool((high[nonempty] < bound).all()):
            raise ValueError(f"bound ({bound}) must exceed every target (max {float(high.max())})")
        b = torch.full_like(high, float(bound))
    denominator = rows.where_valid(b - y, 1.0)  # padding slots: keep the division finite
    return _pointwise((rows.scores - y).abs() / denominator, rows, reduction)


def warp(scores, targets, margin: float = 1.0, normalize: bool = True, *, group_sizes: GroupSizes = None,
         mask: Mask = None, reduction: str = "mean"):
    r"""WARP with exact ranks: each better item a weighs its hinge pairs by
    :math:`L(v_a)/v_a` (``normalize=True``, Weston et al. 2011) or :math:`L(v_a)` (``False``, the
    seed study's form), with :math:`v_a` its number of violating lower items
    (:math:`y_b < y_a`, :math:`s_b + m > s_a`) and :math:`L(v) = \sum_{j \le v} 1/j`. The
    ranks are counted exactly, not sampled, in O(n log n); weights are constants for the
    gradient."""
    if not isinstance(normalize, bool):
        raise TypeError(f"normalize must be a bool, got {type(normalize).__name__}")
    return hinge_family(scores, targets, margin, group_sizes, mask, reduction, False, squared=False,
                  rank_weight="warp" if normalize else "warp_sum")


# --- LambdaRank -------------------------------------------------------------------


def acenas_relevance(targets, *, group_sizes: GroupSizes = None, mask: Mask = None,
                     levels: float = 20.0) -> torch.Tensor:
    r"""AceNAS' relevance mapping of accuracies:
    :math:`\mathrm{clip}((y - q_{20})/(\max y - q_{20}), 0, 1)\cdot 20` per list, with
    :math:`q_{20}` the list's 20th percentile (linear interpolation). Where max = q20,
    items at the max get ``levels`` and the others 0. Returns the layout of ``targets``."""
    ref = targets if isinstance(targets, torch.Tensor) else torch.as_tensor(targets)
    if ref.is_complex():  # .double() would drop the imaginary part without a word
        raise TypeError(f"targets must be real numbers, got dtype {ref.dtype}")
    if not ref.is_floating_point():
        ref = ref.double()
    lists = pack_lists(ref.detach(), ref.detach(), group_sizes, mask)
    if lists.scores.shape[0] == 0:  # no items (quantiles of nothing are undefined)
        return torch.zeros_like(ref, dtype=lists.scores.dtype)
    _, y, valid = padded(lists, row_width(lists, group_sizes, mask))
    q20 = torch.nanquantile(torch.where(valid, y, torch.full_like(y, float("nan"))), 0.2, dim=1, keepdim=True)
    top = torch.where(valid, y, torch.full_like(y, -float("inf"))).amax(1, keepdim=True)
    span = top - q20
    rel = torch.where(span > 0, ((y - q20) / torch.where(span > 0, span, torch.ones_like(span))).clamp(0, 1),
                      (y >= top).to(y.dtype)) * levels
    flat = unpadded(rel, lists)
    if ref.dim() == 2:
        if mask is None:
            return flat.reshape(ref.shape)
        return torch.zeros_like(ref, dtype=flat.dtype).masked_scatter(mask, flat)
    return flat


def lambdarank(scores, targets, k: Optional[int] = None, sigma: float = 1.0, gain: str = "exp2", *,
               relevance: Union[str, None] = None, pair_loss: str = "logistic", margin: float = 1.0,
               group_sizes: GroupSizes = None, mask: Mask = None, reduction: str = "mean"):
    """LambdaRank with NDCG@k (see :func:`fastrank.lambdarank`). ``relevance="acenas"`` maps
    the targets with :func:`acenas_relevance` first (AceNAS' recipe, with k, gain exp2)."""
    if relevance not in (None, "acenas"):
        raise ValueError(f"relevance must be None or 'acenas', got {relevance!r}")
    if relevance == "acenas":
        targets = acenas_relevance(targets, group_sizes=group_sizes, mask=mask)
    return _lambdarank(scores, targets, k, sigma, gain, pair_loss=pair_loss, margin=margin,
                       group_sizes=group_sizes, mask=mask, reduction=reduction)


