"""Training a small MLP on synthetic ranking data with each loss raises Kendall τ."""
from __future__ import annotations

import pytest
import torch

from fastrank import metrics
from fastrank.nn import LOSSES, make_loss

HYPER = {"HR": {"margin": 0.1}, "WARP": {"margin": 0.1}, "LambdaRank": {"k": 10}}


@pytest.mark.parametrize("name", list(LOSSES))
def test_training_improves_kendall_tau(name):
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    w = torch.randn(8)
    y = torch.tanh(x @ w / 3) + 0.05 * torch.randn(256)  # a smooth, monotone-ish ground truth
    y = (y - y.min()) / (y.max() - y.min())  # accuracies scaled to [0, 1]
    if name == "LambdaRank":
        y = y * 5  # graded relevance
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    loss_fn = make_loss(name, **HYPER.get(name, {}))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x_test, y_test = x[192:], y[192:]
    before = metrics.kendall_tau(model(x_test).squeeze(-1), y_test)
    for _ in range(150):
        idx = torch.randperm(192)[:64]
        opt.zero_grad()
        loss_fn(model(x[idx]).squeeze(-1), y[idx]).backward()
        opt.step()
    after = metrics.kendall_tau(model(x_test).squeeze(-1), y_test)
    assert after > before + 0.2 and after > 0.6, (before, after)
