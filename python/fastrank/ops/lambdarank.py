"""LambdaRank with NDCG@k pair weights."""
from __future__ import annotations

from numbers import Integral
from typing import Optional

import torch

from .._native import TAGS
from ._custom_ops import MARGIN, SIGMA, Hyper, OpSpec, check_cutoff, define_list_op
from .packing import GroupSizes

__all__ = ["lambdarank"]


def _long_lists(*, k: int, pair_loss: int, **hyper):
    """Truncated at k: the O(n·k) device algorithm (src/cuda/lambdarank_topk_device.h); untruncated
    with a hinge pair loss: the O(n log n) CPU kernel; the untruncated logistic one is O(n²) anyway."""
    if k > 0:
        return "lambdarank_topk"
    return "cpu" if pair_loss != TAGS["pair_loss"]["logistic"] else None


def _relevance_grades(targets: torch.Tensor) -> None:
    if bool((targets < 0).any()):
        raise ValueError("lambdarank targets are relevance grades and must be non-negative")


LAMBDARANK = define_list_op(OpSpec(
    "lambdarank",
    (Hyper("k", "int", check_cutoff, samples=(-1, 1, 5)), Hyper.tag("gain"), Hyper.tag("pair_loss"), SIGMA, MARGIN),
    reference="reference:lambdarank_op",
    check_targets=_relevance_grades,
    long_list_route=_long_lists,
))


def lambdarank(
    scores: torch.Tensor,
    targets,
    k: Optional[int] = None,
    sigma: float = 1.0,
    gain: str = "exp2",
    *,
    pair_loss: str = "logistic",
    margin: float = 1.0,
    group_sizes: GroupSizes = None,
    mask: Optional[torch.Tensor] = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""LambdaRank loss whose gradient is the lambda gradient for NDCG@k.

    Ranks come from the current scores (descending, ties by position) and are held
    constant. For each pair with :math:`y_a > y_b`,
    :math:`w_{ab} = (G_a - G_b)\,|D(r_a) - D(r_b)| / \mathrm{IDCG@k}` with gain
    :math:`G = 2^y - 1` ("exp2") or :math:`y` ("linear") and discount
    :math:`D(r) = 1/\log_2(1 + r)` for :math:`r \le k`, else 0. The loss is
    :math:`\sum w_{ab}\,\ell(s_a - s_b)` with ℓ the logistic
    :math:`\log(1 + e^{-\sigma x})` (O(n log n + n·k); O(n²) when ``k`` is None),
    or the hinge / squared hinge with ``margin`` (exact, O(n log n) for any ``k``).
    Pairs whose items both rank below k weigh 0 (as in XGBoost and LightGBM; allRank's
    lambdaLoss also drops pairs with one item below k). A list whose ideal DCG is 0
    (no relevant item) adds 0.

    Args:
        targets: relevance, >= 0 (``exp2`` gain: at most 1000).
        k: NDCG truncation (>= 1) or None for the whole list.
        sigma: logistic steepness (> 0).
        gain: "exp2" or "linear".
        pair_loss: "logistic", "hinge" or "squared_hinge".
        margin: hinge margin (>= 0), used by the hinge pair losses.
        group_sizes, mask, reduction: as :func:`fastrank.pairwise_hinge`.
    """
    if k is not None and (isinstance(k, bool) or not isinstance(k, Integral)):
        raise TypeError(f"k must be an int or None, got {type(k).__name__}")
    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    # negative targets: refused by the op itself
    return LAMBDARANK.loss(scores, targets, group_sizes, mask, reduction, k=-1 if k is None else int(k), gain=gain,
                           pair_loss=pair_loss, sigma=sigma, margin=margin)
