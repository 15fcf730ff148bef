"""Plain-torch dense references for the native ranking ops (O(n²) pair matrices).

They follow the definitions literally and differentiate with autograd; the tests
compare the native ops against them in float64.
"""
from __future__ import annotations


import torch
import torch.nn.functional as F


def _split(scores, targets, group_sizes=None, mask=None):
    """The lists of (scores, targets) in the order the ops see them."""
    if scores.dim() == 2:
        if mask is None:
            return [(scores[b], targets[b]) for b in range(scores.shape[0])]
        return [(scores[b][mask[b]], targets[b][mask[b]]) for b in range(scores.shape[0])]
    if group_sizes is None:
        return [(scores, targets)]
    out, start = [], 0
    for size in group_sizes:
        out.append((scores[start:start + size], targets[start:start + size]))
        start += size
    return out


def _reduce(per_list, pairs, reduction):
    per_list = torch.stack(per_list) if per_list else torch.zeros(0, dtype=torch.float64)
    if reduction == "none":
        return per_list
    if reduction == "sum":
        return per_list.sum()
    means = [l / p for l, p in zip(per_list, pairs) if p > 0]
    return torch.stack(means).mean() if means else per_list.sum() * 0


def _pair_terms(s, y, pair, margin, sigma):
    """Pair matrix [a, b] of the pair loss for 'a better than b' (masked by the caller)."""
    if pair == "logistic":
        return F.softplus(-sigma * (s[:, None] - s[None, :]))
    z = (s[None, :] + margin) - s[:, None]  # the key s_b + m against s_a, as the kernels compare
    active = z > 0
    zero = torch.zeros_like(z)
    return torch.where(active, z, zero) if pair == "hinge" else torch.where(active, z * z, zero)


def _rank_weights(s, y, margin, rank_weight):
    """WARP's weight of each item a as the better one of its pairs, from v_a, its number of
    active lower partners (y_b < y_a, s_b + m > s_a): L(v)/v ("warp") or L(v) ("warp_sum"),
    L(v) = Σ_{j<=v} 1/j, 0 when v = 0; a constant for the gradient."""
    better = y[:, None] > y[None, :]
    v = (better & ((s[None, :] + margin) - s[:, None] > 0)).sum(1)
    harmonic = torch.tensor([sum(1.0 / j for j in range(1, int(c) + 1)) for c in v], dtype=s.dtype)
    return harmonic / v.clamp_min(1) if rank_weight == "warp" else harmonic


def pairwise_list(s, y, pair, margin=1.0, sigma=1.0, pair_weight=False, rank_weight="none"):
    better = y[:, None] > y[None, :]
    weight = (y[:, None] - y[None, :]) if pair_weight else torch.ones_like(s)[:, None].expand(-1, s.shape[0])
    if rank_weight != "none":
        weight = weight * _rank_weights(s.detach(), y, margin, rank_weight)[:, None]
    terms = _pair_terms(s, y, pair, margin, sigma)
    return (torch.where(better, weight * terms, torch.zeros_like(terms))).sum(), int(better.sum())


def pairwise(scores, targets, pair, margin=1.0, sigma=1.0, pair_weight=False, rank_weight="none", *,
             group_sizes=None, mask=None, reduction="mean"):
    per_list, pairs = [], []
    for s, y in _split(scores, targets.to(scores.dtype), group_sizes, mask):
        loss, count = pairwise_list(s, y, pair, margin, sigma, pair_weight, rank_weight)
        per_list.append(loss)
        pairs.append(count)
    return _reduce(per_list, pairs, reduction)


def lambdarank_list(s, y, k=None, sigma=1.0, gain="exp2", pair="logistic", margin=1.0):
    n = s.shape[0]
    better = y[:, None] > y[None, :]
    pairs = int(better.sum())
    if n == 0:
        return s.sum(), pairs
    # rank by score descending, ties by position: a stable ascending sort of -s
    order = torch.sort(-s.detach(), stable=True).indices
    rank = torch.empty(n, dtype=torch.float64)
    rank[order] = torch.arange(1, n + 1, dtype=torch.float64)
    kk = n if k is None else min(k, n)
    g = (2.0 ** y.double() - 1.0) if gain == "exp2" else y.double()
    disc = torch.where(rank <= kk, 1.0 / torch.log2(1.0 + rank), torch.zeros_like(rank))
    ideal = torch.sort(g, descending=True).values[:kk]
    idcg = float((ideal / torch.log2(torch.arange(2, kk + 2, dtype=torch.float64))).sum())
    if idcg <= 0:
        return s.sum() * 0, pairs
    weight = ((g[:, None] - g[None, :]).abs() * (disc[:, None] - disc[None, :]).abs() / idcg).to(s.dtype)
    terms = _pair_terms(s, y, pair, margin, sigma)
    return torch.where(better, weight * terms, torch.zeros_like(terms)).sum(), pairs


def lambdarank(scores, targets, k=None, sigma=1.0, gain="exp2", pair="logistic", margin=1.0, *,
               group_sizes=None, mask=None, reduction="mean"):
    per_list, pairs = [], []
    for s, y in _split(scores, targets.to(scores.dtype), group_sizes, mask):
        loss, count = lambdarank_list(s, y, k, sigma, gain, pair, margin)
        per_list.append(loss)
        pairs.append(count)
    return _reduce(per_list, pairs, reduction)


# --- the native list ops by their own hyperparameters (each op's OpSpec.reference names one;
# option tags by their names, k = -1 for the whole list) --------------------------------------

def pairwise_hinge_op(scores, targets, margin, squared, weighted, rank_weight, **layout):
    return pairwise(scores, targets, "squared_hinge" if squared else "hinge", margin, pair_weight=weighted,
                    rank_weight=rank_weight, **layout)


def pairwise_logistic_op(scores, targets, sigma, **layout):
    return pairwise(scores, targets, "logistic", sigma=sigma, **layout)


def lambdarank_op(scores, targets, k, gain, pair_loss, sigma, margin, **layout):
    return lambdarank(scores, targets, None if k == -1 else k, sigma, gain, pair_loss, margin, **layout)


def dense_batched_hinge(scores, targets, margin=1.0):
    """The dense batched (B, L, L) hinge used as the speed baseline for many small lists."""
    better = targets[:, :, None] > targets[:, None, :]
    z = (scores[:, None, :] + margin) - scores[:, :, None]
    terms = torch.where(better & (z > 0), z, torch.zeros_like(z))
    pairs = better.sum((1, 2)).to(scores.dtype)
    return (terms.sum((1, 2)) / pairs.clamp_min(1)).sum() / (pairs > 0).sum().clamp_min(1)




def kendall_tau_b(x, y):
    """Kendall's τ-b from the dense (n, n) sign matrices: the O(n²) torch baseline."""
    dx = torch.sign(x[:, None] - x[None, :])
    dy = torch.sign(y[:, None] - y[None, :])
    n = x.shape[0]
    n0 = n * (n - 1) / 2
    n1 = ((dx == 0).sum().to(x.dtype) - n) / 2  # counts in x's dtype (an int tensor would go float32)
    n2 = ((dy == 0).sum().to(x.dtype) - n) / 2
    return (dx * dy).sum() / 2 / torch.sqrt((n0 - n1) * (n0 - n2))


# --- the predictor loss zoo, one list at a time (value, number of terms) -------------

def _zoo(scores, targets, per_list, group_sizes=None, mask=None, reduction="mean", **kw):
    values, counts = [], []
    for s, y in _split(scores, targets.to(scores.dtype), group_sizes, mask):
        value, count = per_list(s, y, **kw)
        values.append(value)
        counts.append(count)
    return _reduce(values, counts, reduction)


def mse_list(s, y):
    return ((s - y) ** 2).sum(), s.shape[0]


def sequence_ranking_list(s, y):
    if s.shape[0] < 2:
        return s.sum() * 0, 0
    return ((s[1:] - s[:-1]) - (y[1:] - y[:-1])).abs().sum(), s.shape[0] - 1


def listmle_list(s, y):
    if s.shape[0] == 0:
        return s.sum(), 0
    order = torch.sort(-y, stable=True).indices
    ss = s[order]
    total = sum(torch.logsumexp(ss[i:], 0) - ss[i] for i in range(ss.shape[0]))
    return total, 1


def listnet_list(s, y):
    if s.shape[0] == 0:
        return s.sum(), 0
    return -(torch.softmax(y, 0) * torch.log_softmax(s, 0)).sum(), 1


def exp_weighted_list(s, y):
    if s.shape[0] == 0:
        return s.sum(), 0
    span = y.max() - y.min()
    scaled = (y - y.min()) / span if span > 0 else torch.ones_like(y)
    return (torch.exp(scaled - 1) * (s - y) ** 2).sum(), s.shape[0]


def mape_list(s, y, bound=None):
    if s.shape[0] == 0:
        return s.sum(), 0
    if bound is None:
        span = y.max() - y.min()
        span = span if span > 0 else y.max().abs().clamp_min(1)
        bound = y.max() + 0.1 * span
    return ((s - y).abs() / (bound - y)).sum(), s.shape[0]


def warp_list(s, y, margin=1.0, normalize=True):
    return pairwise_list(s, y, "hinge", margin, rank_weight="warp" if normalize else "warp_sum")


def zoo(name, scores, targets, **kw):
    per_list = {
        "mse": mse_list, "sr": sequence_ranking_list, "listmle": listmle_list, "listnet": listnet_list,
        "ew": exp_weighted_list, "mape": mape_list, "warp": warp_list,
    }[name]
    return _zoo(scores, targets, per_list, **kw)


# --- directed GCN propagation ---------------------------------------------------------

def gcn_propagate(h, adj, relu=True):
    """½(D_f⁻¹(A+I) + D_b⁻¹(Aᵀ+I)) H, then ReLU: the NPENAS/NASLib layer in torch ops."""
    eye = torch.eye(adj.shape[-1], dtype=adj.dtype)
    forward = adj + eye
    backward = adj.transpose(1, 2) + eye
    out = 0.5 * (forward / forward.sum(2, keepdim=True) @ h + backward / backward.sum(2, keepdim=True) @ h)
    return torch.relu(out) if relu else out
