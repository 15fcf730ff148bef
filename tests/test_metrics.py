"""Metrics against scipy and scikit-learn on random inputs with ties."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from fastrank import metrics as M


@st.composite
def scored(draw, min_size=2):
    n = draw(st.integers(min_size, 400))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    levels = draw(st.integers(1, 12))
    truth = rng.integers(0, levels, n).astype(float)
    if draw(st.booleans()):
        pred = np.round(truth + rng.normal(0, draw(st.sampled_from([0.3, 2.0])), n), draw(st.integers(0, 2)))
    else:
        pred = rng.integers(0, draw(st.integers(1, 6)), n).astype(float)  # heavy ties
    return truth, pred


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


@given(data=scored())
def test_kendall_tau_matches_scipy(data):
    t, p = data
    assert same(M.kendall_tau(t, p), scipy.stats.kendalltau(t, p)[0])


@given(data=scored())
def test_dense_kendall_reference_matches_scipy(data):
    """The O(n²) torch baseline the CUDA benchmark times Kendall τ against."""
    from reference import kendall_tau_b

    t, p = data
    assert same(float(kendall_tau_b(torch.from_numpy(t), torch.from_numpy(p))), scipy.stats.kendalltau(t, p)[0])


@given(data=scored())
def test_spearman_matches_scipy(data):
    t, p = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input, then returns NaN as we do
        want = scipy.stats.spearmanr(t, p)[0]
    assert same(M.spearman(t, p), want)


@given(data=scored(), k=st.one_of(st.none(), st.integers(1, 50)))
def test_ndcg_matches_sklearn(data, k):
    t, p = data
    assert same(M.ndcg(t, p, k), ndcg_score([t], [p], k=k))


def test_metrics_accept_tensors_and_known_values():
    truth = torch.tensor([10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    pred = torch.tensor([1.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 10.0])  # best and worst swapped
    assert M.kendall_tau(truth, truth) == pytest.approx(1.0)
    assert M.spearman(truth, -truth) == pytest.approx(-1.0)
    assert M.n_at_k(truth, pred, k=1) == 10  # the predicted best is the true worst
    assert M.n_at_k(truth, pred, k=2) == 2
    assert M.top_k_regret(truth, pred, k=1) == pytest.approx(9.0)
    assert M.top_k_regret(truth, pred, k=2) == pytest.approx(1.0)
    assert M.precision_at_t(truth, pred, 0.2) == pytest.approx(0.5)  # top 2: {9,10} vs {10,9} -> {9} shared
    assert M.precision_at_t(truth, truth, 0.35) == 1.0
    assert M.ndcg(truth, truth, k=3) == pytest.approx(1.0)


def test_n_at_k_ties_share_the_best_rank():
    truth = np.array([5.0, 5.0, 1.0])
    assert M.n_at_k(truth, np.array([0.0, 1.0, 0.5]), k=1) == 1


def test_nan_when_undefined():
    assert math.isnan(M.kendall_tau([1.0], [2.0]))
    assert math.isnan(M.kendall_tau([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    assert math.isnan(M.spearman([1.0, 1.0], [1.0, 2.0]))


@pytest.mark.parametrize("fn", [M.kendall_tau, M.spearman, M.ndcg, M.precision_at_t, M.n_at_k, M.top_k_regret])
def test_metric_input_errors(fn):
    with pytest.raises(ValueError, match="NaN or infinity"):
        fn([1.0, math.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="items but"):
        fn([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        fn([[1.0, 2.0]], [[1.0, 2.0]])
    with pytest.raises(TypeError, match="numbers"):
        fn(["a", "b"], [1.0, 2.0])


def test_metric_argument_errors():
    with pytest.raises(ValueError, match="k must be a positive int"):
        M.n_at_k([1.0, 2.0], [1.0, 2.0], k=0)
    with pytest.raises(ValueError, match="t must be a fraction"):
        M.precision_at_t([1.0, 2.0], [1.0, 2.0], t=1.5)
    with pytest.raises(ValueError, match="gain"):
        M.ndcg([1.0, 2.0], [1.0, 2.0], gain="log")


def test_ndcg_refuses_what_has_no_meaning():
    with pytest.raises(ValueError, match="non-negative relevance"):
        M.ndcg([-5.0, 1.0], [1.0, 0.0])  # sklearn refuses it too; it used to return 2.03
    with pytest.raises(ValueError, match="2\\^y overflows"):
        M.ndcg([2000.0, 1.0], [1.0, 0.0], gain="exp2")
    assert M.ndcg([1000.0, 1.0], [1.0, 0.0], gain="exp2") == pytest.approx(1.0)


@pytest.mark.parametrize("fn", [M.kendall_tau, M.spearman, M.ndcg, M.precision_at_t, M.n_at_k, M.top_k_regret])
def test_complex_inputs_are_refused(fn):
    with pytest.raises(TypeError, match="real numbers"):
        fn(np.array([1 + 1j, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="real numbers"):
        fn(torch.tensor([1.0, 2.0]), torch.tensor([1 + 2j, 2.0]))
