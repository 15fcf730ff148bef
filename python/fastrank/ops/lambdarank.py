"""LambdaRank with NDCG@k pair weights."""
from __future__ import annotations

from numbers import Integral
from typing import Optional

import torch

from ._custom_ops import list_loss
from .packing import GroupSizes, check_fits, check_real, check_reduction, pack_lists

__all__ = ["lambdarank"]

_GAINS = {"exp2": 0, "linear": 1}
_PAIR_LOSSES = {"logistic": 0, "hinge": 1, "squared_hinge": 2}


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
    tag = check_reduction(reduction)
    if k is not None and (isinstance(k, bool) or not isinstance(k, Integral)):
        raise TypeError(f"k must be an int or None, got {type(k).__name__}")
    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if gain not in _GAINS:
        raise ValueError(f"gain must be one of {tuple(_GAINS)}, got {gain!r}")
    if pair_loss not in _PAIR_LOSSES:
        raise ValueError(f"pair_loss must be one of {tuple(_PAIR_LOSSES)}, got {pair_loss!r}")
    sigma = check_real(sigma, "sigma", positive=True)
    margin = check_real(margin, "margin")
    lists = pack_lists(scores, targets, group_sizes, mask)  # negative targets: refused by the op itself
    check_fits(margin, "margin", lists.scores.dtype)
    return list_loss(
        "lambdarank", lists.scores, lists.targets, lists.offsets, tag, -1 if k is None else int(k),
        _GAINS[gain], _PAIR_LOSSES[pair_loss], sigma, margin,
    )
