"""torch.func transforms over every public op and loss: grad equals eager autograd, vmap equals
a loop over the rows, and derivatives of derivatives are refused instead of coming out zero."""
from __future__ import annotations

import pytest
import torch
from torch.func import grad, jacrev, vmap

import fastrank
from helpers import EVERY_OP_AND_LOSS


def _inputs(batch=None):
    gen = torch.Generator().manual_seed(3)
    shape = (4, 12) if batch is None else (batch, 4, 12)
    s = torch.randn(*shape, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, shape, generator=gen).double() + 0.5  # positive: MAPE divides by it
    return s, y


@pytest.mark.parametrize("fn", list(EVERY_OP_AND_LOSS.values()), ids=list(EVERY_OP_AND_LOSS))
def test_func_grad_matches_autograd(fn):
    s, y = _inputs()
    a = s.clone().requires_grad_(True)
    fn(a, y).backward()
    torch.testing.assert_close(grad(fn)(s, y), a.grad)


@pytest.mark.parametrize("fn", list(EVERY_OP_AND_LOSS.values()), ids=list(EVERY_OP_AND_LOSS))
def test_vmap_and_per_row_grads_match_a_loop(fn):
    s, y = _inputs(batch=3)
    torch.testing.assert_close(vmap(fn)(s, y), torch.stack([fn(a, b) for a, b in zip(s, y)]))
    loops = []
    for a, b in zip(s, y):
        a = a.clone().requires_grad_(True)
        fn(a, b).backward()
        loops.append(a.grad)
    torch.testing.assert_close(vmap(grad(fn))(s, y), torch.stack(loops))


def test_jacobian_of_per_list_losses():
    s, y = _inputs()
    jac = jacrev(lambda t: fastrank.pairwise_logistic(t, y, reduction="none"))(s)
    assert jac.shape == (4, 4, 12)
    for row in range(4):
        a = s.clone().requires_grad_(True)
        fastrank.pairwise_logistic(a, y, reduction="none")[row].backward()
        torch.testing.assert_close(jac[row], a.grad)


def test_gcn_propagation_under_grad_and_vmap():
    gen = torch.Generator().manual_seed(1)
    h = torch.randn(2, 5, 3, generator=gen, dtype=torch.float64)
    adj = (torch.rand(2, 5, 5, generator=gen) < 0.4).double().triu(1)
    a = h.clone().requires_grad_(True)
    (fastrank.graph.gcn_propagate(a, adj) ** 2).sum().backward()
    torch.testing.assert_close(grad(lambda t: (fastrank.graph.gcn_propagate(t, adj) ** 2).sum())(h), a.grad)
    batched = torch.stack([h, 2 * h])
    torch.testing.assert_close(vmap(lambda t: fastrank.graph.gcn_propagate(t, adj))(batched),
                               torch.stack([fastrank.graph.gcn_propagate(t, adj) for t in batched]))


@pytest.mark.parametrize("name", ["op:pairwise_logistic", "op:lambdarank", "loss:hinge_ranking"])
def test_nested_derivatives_are_refused(name):
    fn = EVERY_OP_AND_LOSS[name]
    s, y = _inputs()
    with pytest.raises(RuntimeError, match="first derivatives only"):
        grad(lambda t: grad(fn)(t, y).sum())(s)


def test_bad_values_are_refused_under_transforms():
    s, y = _inputs(batch=2)
    s[1, 2, 3] = float("nan")
    for fn in (fastrank.losses.mse, fastrank.pairwise_hinge):
        with pytest.raises(ValueError, match="scores contain NaN"):
            vmap(fn)(s, y)
        with pytest.raises(ValueError, match="scores contain NaN"):
            grad(fn)(s[1], y[1])
