"""The zoo's losses written directly in plain torch for one list (dense pair matrices for
the pairwise ones): the baseline each fastrank loss is timed against."""
from __future__ import annotations

import torch
import torch.nn.functional as F

import reference as ref


def _pairs(s, y):
    better = y[:, None] > y[None, :]
    return better, s[:, None] - s[None, :]


def mse(s, y):
    return ((s - y) ** 2).mean()


def hinge_ranking(s, y, margin=0.1):
    better, diff = _pairs(s, y)
    return torch.where(better, F.relu(margin - diff), torch.zeros_like(diff)).sum() / better.sum()


def logistic_ranking(s, y):
    better, diff = _pairs(s, y)
    return torch.where(better, F.softplus(-diff), torch.zeros_like(diff)).sum() / better.sum()


def mse_sequence_ranking(s, y, weight=0.2):
    return mse(s, y) + weight * ((s[1:] - s[:-1]) - (y[1:] - y[:-1])).abs().mean()


def listmle(s, y):
    ss = s[torch.sort(y, descending=True, stable=True).indices]
    return (torch.flip(torch.logcumsumexp(torch.flip(ss, [0]), 0), [0]) - ss).sum()


def listnet(s, y):
    return -(torch.softmax(y, 0) * torch.log_softmax(s, 0)).sum()


def exp_weighted_mse(s, y):
    scaled = (y - y.min()) / (y.max() - y.min())
    return (torch.exp(scaled - 1) * (s - y) ** 2).mean()


def mape(s, y):
    bound = y.max() + 0.1 * (y.max() - y.min())
    return ((s - y).abs() / (bound - y)).mean()


def warp(s, y, margin=1.0):
    better, diff = _pairs(s, y)
    z = margin - diff
    active = better & (z > 0)
    v = active.sum(1)
    harmonic = torch.cumsum(1.0 / torch.arange(1, s.shape[0] + 1, dtype=s.dtype), 0)
    weight = torch.where(v > 0, harmonic[(v - 1).clamp_min(0)] / v.clamp_min(1), torch.zeros_like(s))
    return (weight * torch.where(active, z, torch.zeros_like(z)).sum(1)).sum() / better.sum()


def lambdarank(s, y, k=10):
    return ref.lambdarank(s, y, k=k)


PLAIN = {
    "MSE": mse, "HR": hinge_ranking, "LR": logistic_ranking, "MSE+SR": mse_sequence_ranking, "ListMLE": listmle,
    "ListNet": listnet, "EW": exp_weighted_mse, "MAPE": mape, "WARP": warp, "LambdaRank": lambdarank,
}
