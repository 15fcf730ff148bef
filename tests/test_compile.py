"""torch.compile of a small model trained with each loss runs and matches eager."""
from __future__ import annotations

import pytest
import torch

import fastrank
from helpers import EVERY_OP_AND_LOSS

# The public ops (the "op:" entries without a list layout of their own).
LOSSES = {name[3:]: fn for name, fn in EVERY_OP_AND_LOSS.items() if name.startswith("op:") and "," not in name}


class Scorer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


@pytest.mark.parametrize("name", list(LOSSES))
def test_compiled_training_step_matches_eager(name):
    torch.manual_seed(0)
    x = torch.randn(4, 12, 6)  # 4 lists of 12 items
    y = torch.randint(0, 4, (4, 12)).float()
    model = Scorer()
    loss_fn = LOSSES[name]

    def step(m):
        m.zero_grad()
        loss = loss_fn(m(x), y)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in m.parameters()]

    eager_loss, eager_grads = step(model)
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="aot_eager")
    compiled_loss_fn = torch.compile(lambda s, t: loss_fn(s, t), backend="aot_eager")

    def compiled_step():
        model.zero_grad()
        loss = compiled_loss_fn(compiled(x), y)
        loss.backward()
        return loss.detach(), [p.grad.clone() for p in model.parameters()]

    loss, grads = compiled_step()
    torch.testing.assert_close(loss, eager_loss)
    for g, e in zip(grads, eager_grads):
        torch.testing.assert_close(g, e)


def test_inductor_compiles_the_ops():
    torch.manual_seed(1)
    model = Scorer()
    x, y = torch.randn(3, 20, 6), torch.randint(0, 3, (3, 20)).float()
    fn = torch.compile(lambda inp: fastrank.pairwise_hinge(model(inp), y) + fastrank.lambdarank(model(inp), y, k=3))
    torch.testing.assert_close(fn(x), fastrank.pairwise_hinge(model(x), y) + fastrank.lambdarank(model(x), y, k=3))


# Every public op and predictor loss, with and without ragged lists, under fullgraph=True: the whole
# call (input checks included) must trace into one graph, with static and dynamic shapes.
FULLGRAPH = EVERY_OP_AND_LOSS


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
@pytest.mark.parametrize("fn", list(FULLGRAPH.values()), ids=list(FULLGRAPH))
def test_fullgraph_compile_matches_eager(fn, dynamic):
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(4, 12, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (4, 12), generator=gen).double() + 0.5  # positive: MAPE divides by it
    a, b = s.clone().requires_grad_(True), s.clone().requires_grad_(True)
    fn(a, y).backward()
    torch._dynamo.reset()
    compiled = torch.compile(fn, fullgraph=True, dynamic=dynamic, backend="aot_eager")
    loss = compiled(b, y)
    loss.backward()
    torch.testing.assert_close(loss, fn(s, y))
    torch.testing.assert_close(b.grad, a.grad)


def test_compiled_checks_still_refuse_bad_values():
    """Inside a compiled graph the data checks run as asserts: the same message, as RuntimeError."""
    torch._dynamo.reset()
    mse = torch.compile(fastrank.losses.mse, fullgraph=True, backend="aot_eager")
    s, y = torch.randn(6), torch.rand(6)
    mse(s, y)
    with pytest.raises(RuntimeError, match="scores contain NaN or infinity"):
        mse(torch.tensor([0.0, float("nan"), 1.0, 2.0, 3.0, 4.0]), y)
    torch._dynamo.reset()
    hinge = torch.compile(lambda a, b, g: fastrank.pairwise_hinge(a, b, group_sizes=g), fullgraph=True,
                          backend="aot_eager")
    hinge(s, y, torch.tensor([2, 4]))
    with pytest.raises(RuntimeError, match="group_sizes must be non-negative and add up to the 6 items"):
        hinge(s, y, torch.tensor([3, 4]))
