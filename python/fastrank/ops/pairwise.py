"""Pairwise ranking losses over lists: hinge, squared hinge (exact O(n log n)) and logistic."""
from __future__ import annotations

from typing import Optional

import torch

from ._custom_ops import MARGIN, SIGMA, Hyper, OpSpec, define_list_op
from .packing import GroupSizes

__all__ = ["pairwise_hinge", "pairwise_squared_hinge", "pairwise_logistic"]


def _hinge_long_lists(**hyper) -> str:
    return "pairwise_hinge_sweep"  # its O(n log n) device sweep (src/cuda/hinge_sweep_device.h)


PAIRWISE_HINGE = define_list_op(OpSpec(
    "pairwise_hinge",
    (MARGIN, Hyper.flag("squared"), Hyper.flag("weighted", public="pair_weight"), Hyper.tag("rank_weight")),
    reference="reference:pairwise_hinge_op",
    long_list_route=_hinge_long_lists,
))

PAIRWISE_LOGISTIC = define_list_op(OpSpec(
    "pairwise_logistic",
    (SIGMA,),
    reference="reference:pairwise_logistic_op",
))


def hinge_family(scores, targets, margin, group_sizes, mask, reduction, pair_weight, squared, rank_weight=None):
    """The hinge kernel with every option: the public hinge ops and the hinge-based losses
    (HR, WARP: rank_weight "warp" or "warp_sum") call it."""
    return PAIRWISE_HINGE.loss(scores, targets, group_sizes, mask, reduction, margin=margin, squared=squared,
                               weighted=pair_weight, rank_weight=rank_weight or "none")


def pairwise_hinge(
    scores: torch.Tensor,
    targets,
    margin: float = 1.0,
    *,
    group_sizes: GroupSizes = None,
    mask: Optional[torch.Tensor] = None,
    reduction: str = "mean",
    pair_weight: bool = False,
) -> torch.Tensor:
    r"""Pairwise hinge loss :math:`\sum_{y_a > y_b} w_{ab} \max(0, m - (s_a - s_b))`.

    Exact, O(n log n) per list: one sort and two Fenwick-tree sweeps give the loss and
    the gradient (no n×n tensor is formed).

    Args:
        scores: 1-D (one list, or ragged lists with ``group_sizes``) or 2-D (batch, list)
            floating tensor; float32/float64 are computed as given, half types in float32.
        targets: same shape as ``scores``; higher is better; equal targets form no pair.
        margin: m >= 0.
        group_sizes: lengths of consecutive lists in a 1-D ``scores``.
        mask: boolean (batch, list) mask of valid items for 2-D ``scores``.
        reduction: "mean" (each list's sum over its pairs divided by its number of
            pairs, averaged over lists that have pairs), "sum", or "none" (each list's
            sum over its pairs).
        pair_weight: weight each pair by :math:`y_a - y_b` instead of 1.
    """
    return hinge_family(scores, targets, margin, group_sizes, mask, reduction, pair_weight, squared=False)


def pairwise_squared_hinge(
    scores: torch.Tensor,
    targets,
    margin: float = 1.0,
    *,
    group_sizes: GroupSizes = None,
    mask: Optional[torch.Tensor] = None,
    reduction: str = "mean",
    pair_weight: bool = False,
) -> torch.Tensor:
    r"""Pairwise squared hinge :math:`\sum_{y_a > y_b} w_{ab} \max(0, m - (s_a - s_b))^2`.

    Exact, O(n log n) per list. Arguments as :func:`pairwise_hinge`.
    """
    return hinge_family(scores, targets, margin, group_sizes, mask, reduction, pair_weight, squared=True)


def pairwise_logistic(
    scores: torch.Tensor,
    targets,
    sigma: float = 1.0,
    *,
    group_sizes: GroupSizes = None,
    mask: Optional[torch.Tensor] = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Pairwise logistic loss (RankNet) :math:`\sum_{y_a > y_b} \log(1 + e^{-\sigma (s_a - s_b)})`.

    Exact O(n²) per list (no sub-quadratic exact form exists), computed natively in
    blocks without n×n tensors; large lists are split across threads.
    ``sigma`` > 0; other arguments as :func:`pairwise_hinge`.
    """
    return PAIRWISE_LOGISTIC.loss(scores, targets, group_sizes, mask, reduction, sigma=sigma)
