"""The predictor loss zoo against direct plain-torch formulas, the PW loss and the registry."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
import reference as ref
from fastrank import losses as L
from fastrank.nn import FAMILIES, LOSSES, PiecewiseLoss, RankingLoss, WeightedSum, make_loss
from helpers import assert_matches, compare_calls, lists

# (native loss call, reference call) for each loss with a plain formula.
CASES = {
    "mse": (L.mse, lambda s, y, **kw: ref.zoo("mse", s, y, **kw)),
    "mse+sr": (lambda s, y, **kw: L.mse_sequence_ranking(s, y, 0.3, **kw),
               lambda s, y, **kw: ref.zoo("mse", s, y, **kw) + 0.3 * ref.zoo("sr", s, y, **kw)),
    "listmle": (L.listmle, lambda s, y, **kw: ref.zoo("listmle", s, y, **kw)),
    "listnet": (L.listnet, lambda s, y, **kw: ref.zoo("listnet", s, y, **kw)),
    "ew": (L.exp_weighted_mse, lambda s, y, **kw: ref.zoo("ew", s, y, **kw)),
    "mape": (L.mape, lambda s, y, **kw: ref.zoo("mape", s, y, **kw)),
    "mape_bound": (lambda s, y, **kw: L.mape(s, y, 12.0, **kw), lambda s, y, **kw: ref.zoo("mape", s, y, bound=12.0, **kw)),
    "warp": (lambda s, y, **kw: L.warp(s, y, 0.6, **kw), lambda s, y, **kw: ref.zoo("warp", s, y, margin=0.6, **kw)),
    "warp_sum": (lambda s, y, **kw: L.warp(s, y, 1.2, normalize=False, **kw),
                 lambda s, y, **kw: ref.zoo("warp", s, y, margin=1.2, normalize=False, **kw)),
    "hr": (lambda s, y, **kw: L.hinge_ranking(s, y, 0.3, **kw), lambda s, y, **kw: ref.pairwise(s, y, "hinge", 0.3, **kw)),
    "lr": (L.logistic_ranking, lambda s, y, **kw: ref.pairwise(s, y, "logistic", **kw)),
}


def compare(name, s, y, rtol=1e-9, **layout):
    compare_calls(*CASES[name], s, y, rtol, **layout)


@given(data=lists(max_size=120))
@pytest.mark.parametrize("name", list(CASES))
def test_loss_matches_formula(name, data):
    s, y, sizes = data
    compare(name, s, y, group_sizes=sizes)


@pytest.mark.parametrize("name", list(CASES))
def test_loss_on_masked_batch(name):
    gen = torch.Generator().manual_seed(2)
    s = torch.randn(5, 50, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 6, (5, 50), generator=gen).double()
    mask = torch.rand(5, 50, generator=gen) < 0.6
    mask[1] = False
    mask[3, 1:] = False
    compare(name, s, y, mask=mask)


@given(data=lists(max_size=300), margin=st.floats(0.0, 2.0), normalize=st.booleans())
def test_warp_exact_ranks_property(data, margin, normalize):
    s, y, sizes = data
    a = s.clone().requires_grad_(True)
    b = s.clone().requires_grad_(True)
    ours = L.warp(a, y, margin, normalize, group_sizes=sizes, reduction="sum")
    theirs = ref.zoo("warp", b, y, margin=margin, normalize=normalize, group_sizes=sizes, reduction="sum")
    assert_matches(ours, theirs, 1e-9)
    ours.backward()
    theirs.backward()
    assert_matches(a.grad, b.grad if b.grad is not None else torch.zeros_like(b), 1e-9)


def test_listmle_never_overflows():
    s = torch.tensor([1e4, -1e4, 3e3, 0.0], dtype=torch.float32, requires_grad=True)
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    loss = L.listmle(s, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()
    # true order (s = 0, 3e3, -1e4, 1e4): terms 1e4 - 0, 1e4 - 3e3, 1e4 - (-1e4), 0 up to log terms
    assert loss.item() == pytest.approx(3.7e4, rel=1e-6)


def test_acenas_relevance():
    y = torch.tensor([50.0, 60.0, 70.0, 80.0, 90.0, 91.0])
    q20 = torch.quantile(y, 0.2)
    rel = L.acenas_relevance(y)
    expected = ((y - q20) / (y.max() - q20)).clamp(0, 1) * 20
    torch.testing.assert_close(rel, expected)
    batch = torch.stack([y, y.flip(0)])
    torch.testing.assert_close(L.acenas_relevance(batch), torch.stack([expected, expected.flip(0)]))
    assert L.acenas_relevance(torch.full((4,), 3.0)).tolist() == [20.0] * 4
    s = torch.randn(6, dtype=torch.float64)
    assert_matches(L.lambdarank(s, y, k=3, relevance="acenas"), fastrank.lambdarank(s, expected.double(), k=3), 1e-9)


def test_registry_and_modules():
    assert set(FAMILIES.values()) == {"regression", "pairwise ranking", "listwise ranking", "weighted"}
    assert {"MSE", "HR", "LR", "MSE+SR", "ListMLE", "EW", "MAPE", "WARP", "ListNet", "LambdaRank"} <= set(LOSSES)
    s, y = torch.randn(30, dtype=torch.float64), torch.randint(0, 4, (30,)).double()
    assert make_loss("hr", margin=0.3)(s, y).item() == pytest.approx(L.hinge_ranking(s, y, 0.3).item())
    assert make_loss("ranknet")(s, y).item() == pytest.approx(L.logistic_ranking(s, y).item())
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("nope")
    with pytest.raises(TypeError, match="takes hyperparameters"):
        RankingLoss("MSE", margin=1.0)
    both = WeightedSum({"MSE": 1.0, "HR": 0.5})
    assert both(s, y).item() == pytest.approx(L.mse(s, y).item() + 0.5 * L.hinge_ranking(s, y).item())
    with pytest.raises(ValueError, match="finite"):
        WeightedSum({"MSE": math.nan})


def test_piecewise_switches_at_threshold():
    s, y = torch.randn(40, dtype=torch.float64), torch.randn(40, dtype=torch.float64) + 5
    pw = PiecewiseLoss.seed("nb201", switch_at=20)
    assert pw(s, y, n_labelled=19).item() == pytest.approx(L.hinge_ranking(s, y).item())
    assert pw(s, y, n_labelled=20).item() == pytest.approx(L.mape(s, y).item())
    nb101 = PiecewiseLoss.seed("nb101", switch_at=5)
    assert nb101(s, y, n_labelled=0).item() == pytest.approx(L.listmle(s, y).item())
    assert nb101(s, y, n_labelled=500).item() == pytest.approx(L.warp(s, y).item())
    with pytest.raises(ValueError, match="n_labelled"):
        pw(s, y, n_labelled=-1)
    with pytest.raises(ValueError, match="unknown task"):
        PiecewiseLoss.seed("imagenet")


def test_loss_input_errors():
    s, y = torch.randn(8), torch.arange(8.0)
    for fn in (L.mse, L.listmle, L.listnet, L.exp_weighted_mse, L.mape, L.warp, L.mse_sequence_ranking):
        with pytest.raises(ValueError, match="targets has shape"):
            fn(s, y[:-1])
        with pytest.raises(TypeError, match="floating-point"):
            fn(torch.arange(8), y)
        with pytest.raises(ValueError, match="reduction"):
            fn(s, y, reduction="avg")
        with pytest.raises(ValueError, match="group_sizes add up"):
            fn(s, y, group_sizes=[3, 3])
    with pytest.raises(ValueError, match="scores contain NaN"):
        L.warp(torch.full((8,), math.nan), y)
    with pytest.raises(ValueError, match="must exceed every target"):
        L.mape(s, y, bound=5.0)
    with pytest.raises(ValueError, match="weight must be"):
        L.mse_sequence_ranking(s, y, weight=-1.0)
    with pytest.raises(ValueError, match="relevance"):
        L.lambdarank(s, y, relevance="ndcg")
