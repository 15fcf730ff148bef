"""Ranking metrics for predictors, on torch tensors or numpy arrays (1-D, one list).

Ties follow scipy and scikit-learn: Kendall τ-b and Spearman ρ (average ranks) as
scipy.stats.kendalltau / spearmanr, NDCG@k as sklearn.metrics.ndcg_score (gains of items
tied in score are averaged). Precision@T, N@K and top-K regret break ties in the predicted
scores by position (the first listed wins). All return Python floats (N@K an int).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from . import _native
from ._native import cuda_available
from ._checks import check_int, check_number

__all__ = ["kendall_tau", "spearman", "ndcg", "precision_at_t", "n_at_k", "top_k_regret"]


def _as_array(values, name: str) -> np.ndarray:
    if hasattr(values, "detach"):  # torch tensor
        values = values.detach().cpu().numpy()
    if np.iscomplexobj(values):  # casting would drop the imaginary part without a word
        raise TypeError(f"{name} must be real numbers, got complex values")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers (a 1-D tensor or array)") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity")
    return np.ascontiguousarray(arr)


def _pair(true, pred, true_name="y_true", pred_name="y_score"):
    t, p = _as_array(true, true_name), _as_array(pred, pred_name)
    if t.shape != p.shape:
        raise ValueError(f"{true_name} has {t.shape[0]} items but {pred_name} has {p.shape[0]}")
    return t, p


def _count(value, name: str, n: int) -> int:
    check_int(value, name)
    return min(int(value), n)


# Longest CUDA input counted by one thread per item (O(n²) pair counts in one launch);
# longer ones take the O(n log n) device sweep of sorts and scans.
KENDALL_ITEM_PARALLEL_MAX = 1 << 16


def kendall_tau(x, y) -> float:
    """Kendall's τ-b in O(n log n) (native); NaN for fewer than 2 items or a constant input.
    CUDA tensors are counted on their GPU."""
    if (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.is_cuda and y.device == x.device
            and x.dim() == 1 and x.shape == y.shape and cuda_available()):
        return _kendall_on_device(x, y)
    a, b = _pair(x, y, "x", "y")
    return float(_native.call_cpu("kendall_tau_b", _native.dtype_tag(torch.float64), torch.from_numpy(a),
                                  torch.from_numpy(b), a.shape[0]))


def _kendall_on_device(x: torch.Tensor, y: torch.Tensor) -> float:
    """The device algorithm: CUDA kernels for CUDA tensors, its host twin for CPU ones."""
    x = x.detach().to(torch.float64).contiguous()
    y = y.detach().to(torch.float64).contiguous()
    for name, t in (("x", x), ("y", y)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} contains NaN or infinity")
    out = torch.empty(1, dtype=torch.float64, device=x.device)
    name = "kendall_tau_b" if x.numel() <= KENDALL_ITEM_PARALLEL_MAX else "kendall_tau_b_sweep"
    _native.device_call(name, x.device, _native.dtype_tag(torch.float64), x, y, x.numel(), out)
    return float(out.item())


def _tie_groups(sorted_values: np.ndarray):
    """For a sorted array: each position's tie-group index and each group's first position."""
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    return np.cumsum(starts) - 1, np.flatnonzero(starts)


def _average_ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    group, first = _tie_groups(v[order])
    sizes = np.diff(np.r_[first, v.shape[0]])
    ranks = np.empty(v.shape[0])
    ranks[order] = first[group] + (sizes[group] + 1) / 2.0  # 1-based average rank of the tie group
    return ranks


def spearman(x, y) -> float:
    """Spearman's ρ: Pearson correlation of average ranks; NaN for fewer than 2 items or
    a constant input."""
    a, b = _pair(x, y, "x", "y")
    if a.shape[0] < 2:
        return math.nan
    ra, rb = _average_ranks(a), _average_ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denominator = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb) / denominator if denominator > 0 else math.nan


_EXP2_MAX = 1000.0  # as the LambdaRank op's exp2 gain


def _discounts(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def ndcg(y_true, y_score, k=None, gain: str = "linear") -> float:
    """NDCG@k of one list, as sklearn.metrics.ndcg_score([y_true], [y_score], k=k).

    gain "linear" (sklearn's) uses y as the gain, "exp2" uses 2^y - 1. Items tied in
    y_score share the average gain of their group. A list whose ideal DCG is 0 scores 0.
    """
    t, p = _pair(y_true, y_score)
    n = t.shape[0]
    if n == 0:
        raise ValueError("ndcg needs at least one item")
    k = n if k is None else _count(k, "k", n)
    if gain not in ("linear", "exp2"):
        raise ValueError(f"gain must be 'linear' or 'exp2', got {gain!r}")
    if np.any(t < 0):  # as sklearn.metrics.ndcg_score: a negative gain makes the ratio meaningless
        raise ValueError("ndcg needs non-negative relevance (y_true)")
    if gain == "exp2" and np.any(t > _EXP2_MAX):
        raise ValueError(f"gain='exp2' needs relevance <= {_EXP2_MAX:g} (2^y overflows beyond), got {t.max():g}")
    g = t if gain == "linear" else np.exp2(t) - 1.0
    disc = _discounts(n)
    disc[k:] = 0.0
    # DCG with tie-averaged gains: sort by score descending, average gains per tie group.
    order = np.argsort(-p, kind="stable")
    sp, sg = p[order], g[order]
    group, _ = _tie_groups(sp)
    group_gain = np.bincount(group, weights=sg) / np.bincount(group)
    dcg = float(group_gain[group] @ disc)
    idcg = float(np.sort(g)[::-1] @ disc)
    return dcg / idcg if idcg != 0 else 0.0


def _top(values: np.ndarray, m: int) -> np.ndarray:
    return np.argsort(-values, kind="stable")[:m]


def precision_at_t(y_true, y_score, t: float = 0.1) -> float:
    """Precision@T: the share of the predicted top T (a fraction of the list, rounded up,
    at least 1 item) that is also in the true top T."""
    a, p = _pair(y_true, y_score)
    check_number(t, "t", "a fraction in (0, 1]", low=0, high=1, low_open=True)
    if a.shape[0] == 0:
        raise ValueError("precision_at_t needs at least one item")
    m = max(1, math.ceil(t * a.shape[0] - 1e-9))
    return len(np.intersect1d(_top(a, m), _top(p, m))) / m


def n_at_k(y_true, y_score, k: int = 10) -> int:
    """N@K: the best true rank (1-based; tied targets share the best rank) among the K
    architectures the predictor ranks highest."""
    a, p = _pair(y_true, y_score)
    if a.shape[0] == 0:
        raise ValueError("n_at_k needs at least one item")
    k = _count(k, "k", a.shape[0])
    chosen = a[_top(p, k)]
    return int(1 + np.sum(a > chosen.max()))


def top_k_regret(y_true, y_score, k: int = 1) -> float:
    """max(y_true) minus the best true value among the predictor's top K."""
    a, p = _pair(y_true, y_score)
    if a.shape[0] == 0:
        raise ValueError("top_k_regret needs at least one item")
    k = _count(k, "k", a.shape[0])
    return float(a.max() - a[_top(p, k)].max())
