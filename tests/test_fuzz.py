"""Every public function under a wide input fuzz: weird dtypes, shapes, strides (transposed,
sliced, expanded), sizes (empty, 2**62), values (NaN, ±inf, 1e300, -0.0, denormals) and
hyperparameters. Each call either returns a sound value or refuses with TypeError / ValueError
that says why; no other exception, no crash, no hang, and no NaN from moderate finite input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastrank
from fastrank import losses, metrics
from fastrank.graph import GCNEncoder, GCNPredictor, GINEncoder, encode_codes, gcn_propagate
from fastrank.spaces import get_space

REFUSALS = (TypeError, ValueError)
fuzz = settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", 80)), deadline=None, suppress_health_check=list(HealthCheck))

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.bool,
          torch.complex64]
SPECIAL = [math.nan, math.inf, -math.inf, 1e300, -1e300, 5e-324, -0.0, 1e38, 2.0**62]
MODERATE = 1e3  # inputs within ±MODERATE that are accepted must give finite results


@st.composite
def values(draw, shape, special=True):
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    base = torch.randn(shape, generator=gen, dtype=torch.float64) * draw(st.sampled_from([0.01, 1.0, 100.0]))
    if draw(st.booleans()):
        base = base.round()  # ties
    if special and base.numel() and draw(st.booleans()):
        flat = base.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            flat[draw(st.integers(0, flat.numel() - 1))] = draw(st.sampled_from(SPECIAL))
    return base


@st.composite
def weird_tensor(draw, shape, special=True):
    """A tensor of `shape` in any dtype and memory layout."""
    dtype = draw(st.sampled_from(DTYPES)) if draw(st.integers(0, 3)) == 0 else draw(
        st.sampled_from([torch.float32, torch.float64]))
    layout = draw(st.sampled_from(["contiguous", "transposed", "sliced", "expanded"]))
    if layout == "transposed" and len(shape) >= 2:
        t = draw(values(tuple(reversed(shape)), special)).transpose(0, -1) if len(shape) == 2 else None
        t = t if t is not None else draw(values(shape, special))
    elif layout == "sliced" and len(shape) >= 1:
        wide = (*shape[:-1], 2 * shape[-1])
        t = draw(values(wide, special))[..., ::2]
    elif layout == "expanded" and len(shape) >= 1 and shape[-1] > 0:
        t = draw(values((*shape[:-1], 1), special)).expand(shape)
    else:
        t = draw(values(shape, special))
    if dtype == torch.bool:
        return t > 0
    if not dtype.is_floating_point and not dtype.is_complex:
        return torch.nan_to_num(t, posinf=1e9, neginf=-1e9).clamp(-1e9, 1e9).to(dtype)
    return t.to(dtype)


@st.composite
def shapes(draw, max_dims=3):
    return tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=max_dims)))


@st.composite
def group_sizes_for(draw, n):
    kind = draw(st.sampled_from(["none", "exact", "wrong", "huge", "negative", "tensor", "float"]))
    if kind == "none" or n == 0:
        return None
    cut = sorted(draw(st.lists(st.integers(0, n), max_size=4)))
    exact = [b - a for a, b in zip([0, *cut], [*cut, n])]
    return {"exact": exact, "wrong": exact + [1], "huge": [2**62] * 4 + [n], "negative": [-1, n + 1],
            "tensor": torch.tensor(exact), "float": [float(v) for v in exact]}[kind]


@st.composite
def list_inputs(draw):
    """(scores, targets, layout kwargs, finite_and_moderate)."""
    shape = draw(shapes(max_dims=3))
    scores = draw(weird_tensor(shape))
    tshape = shape if draw(st.integers(0, 5)) else draw(shapes(max_dims=2))
    targets = draw(weird_tensor(tshape))
    if draw(st.booleans()) and targets.dtype != torch.bool:
        targets = targets.abs()  # relevance grades for LambdaRank
    layout = {}
    if scores.dim() == 1 and draw(st.booleans()):
        layout["group_sizes"] = draw(group_sizes_for(scores.shape[0]))
    elif scores.dim() == 2 and draw(st.booleans()):
        layout["mask"] = (draw(weird_tensor(scores.shape, special=False)).real > 0 if draw(st.integers(0, 4))
                          else torch.ones(scores.shape[0] + 1, dtype=torch.bool))
    return scores, targets, layout


def moderate(*tensors) -> bool:
    """Finite float inputs in ±MODERATE (where a returned loss must be finite)."""
    for t in tensors:
        if not isinstance(t, torch.Tensor) or t.is_complex() or t.dtype in (torch.float16, torch.bfloat16):
            return False
        if t.numel() and not bool((t.double().abs() <= MODERATE).all()):
            return False
    return True


def refuses_or_returns(fn, *args, **kwargs):
    """The call's result, or None when it refused with a message; any other exception fails."""
    try:
        return fn(*args, **kwargs)
    except REFUSALS as err:
        assert str(err), f"{type(err).__name__} without a message"
        return None


LIST_FUNCTIONS = {
    **{name: getattr(fastrank.ops, name) for name in fastrank.ops.__all__},  # every public list op, its defaults
    "lambdarank_k3": lambda s, y, **kw: fastrank.lambdarank(s, y, 3, **kw),
    "lambdarank_linear": lambda s, y, **kw: fastrank.lambdarank(s, y, gain="linear", pair_loss="hinge", **kw),
    **{f"losses.{name}": getattr(losses, name) for name in losses.__all__ if name != "acenas_relevance"},
}


@pytest.mark.parametrize("name", list(LIST_FUNCTIONS))
@fuzz
@given(data=list_inputs(), reduction=st.sampled_from(["mean", "sum", "none", "avg", None]),
       grad=st.booleans())
def test_list_functions_return_or_refuse(name, data, reduction, grad):
    scores, targets, layout = data
    if grad and scores.is_floating_point():
        scores = scores.detach().requires_grad_(True)
    out = refuses_or_returns(LIST_FUNCTIONS[name], scores, targets, reduction=reduction, **layout)
    if out is None:
        return
    assert isinstance(out, torch.Tensor) and out.is_floating_point()
    if reduction != "none":
        assert out.dim() == 0
    finite_input = moderate(scores, targets)
    if finite_input:
        assert bool(torch.isfinite(out).all()), f"{name} returned {out} for moderate finite input"
    if scores.requires_grad and out.requires_grad:
        out.sum().backward()
        assert scores.grad is not None and scores.grad.shape == scores.shape
        if finite_input:
            assert bool(torch.isfinite(scores.grad).all())


@fuzz
@given(data=list_inputs())
def test_acenas_relevance_returns_or_refuses(data):
    _, targets, layout = data
    out = refuses_or_returns(losses.acenas_relevance, targets, **layout)
    if out is not None and moderate(targets):
        assert out.shape == targets.shape and bool(((out >= 0) & (out <= 20)).all())


METRICS = {
    "kendall_tau": lambda t, p, k: metrics.kendall_tau(t, p),
    "spearman": lambda t, p, k: metrics.spearman(t, p),
    "ndcg": lambda t, p, k: metrics.ndcg(t, p, k),
    "ndcg_exp2": lambda t, p, k: metrics.ndcg(t, p, k, gain="exp2"),
    "precision_at_t": lambda t, p, k: metrics.precision_at_t(t, p, k),
    "n_at_k": lambda t, p, k: metrics.n_at_k(t, p, k),
    "top_k_regret": lambda t, p, k: metrics.top_k_regret(t, p, k),
}


@pytest.mark.parametrize("name", list(METRICS))
@fuzz
@given(shape=shapes(max_dims=2), other=st.booleans(), as_numpy=st.booleans(), data=st.data(),
       k=st.one_of(st.none(), st.integers(-2, 8), st.floats(-1, 2), st.just(True), st.just(2**70)))
def test_metrics_return_or_refuse(name, shape, other, as_numpy, data, k):
    truth = data.draw(weird_tensor(shape))
    pred = data.draw(weird_tensor(data.draw(shapes(max_dims=1)) if other else shape))
    if as_numpy and not truth.is_complex() and truth.dtype != torch.bfloat16:
        truth = truth.numpy()
    out = refuses_or_returns(METRICS[name], truth, pred, k)
    if out is None:
        return
    assert isinstance(out, (int, float))
    if name == "n_at_k":
        assert out >= 1
    elif not math.isnan(out):
        assert -1 - 1e-9 <= out <= 1 + 1e-9 or name == "top_k_regret"


@fuzz
@given(shape=st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 4)), data=st.data(),
       activation=st.sampled_from(["relu", None, "tanh", 1]))
def test_gcn_propagate_returns_or_refuses(shape, data, activation):
    h = data.draw(weird_tensor(shape))
    adj_shape = (shape[0], shape[1], shape[1]) if data.draw(st.integers(0, 4)) else data.draw(shapes())
    adj = data.draw(weird_tensor(adj_shape))
    if data.draw(st.booleans()) and adj.dtype != torch.bool:
        adj = adj.abs()
    out = refuses_or_returns(gcn_propagate, h, adj, activation)
    if out is not None:
        assert out.shape == h.shape
        if moderate(h, adj):
            assert bool(torch.isfinite(out).all())


@fuzz
@given(space=st.sampled_from(["nb201", "tnb101_micro", "nasbench_macro", "tnb101_macro"]), data=st.data(),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64]))
def test_encode_codes_returns_or_refuses(space, data, dtype):
    sp = get_space(space)
    codes = data.draw(st.one_of(
        st.lists(st.integers(-3, sp.size + 3), max_size=6).map(torch.tensor),
        st.lists(st.integers(0, sp.size - 1), max_size=6).map(np.array),
        st.just(torch.tensor([0.5, 1.0])), st.just(torch.tensor([2**62])), st.just(torch.zeros(2, 3, dtype=torch.int64))))
    out = refuses_or_returns(encode_codes, sp, codes, dtype)
    if out is not None:
        adj, ops, mask = out
        assert adj.shape[0] == ops.shape[0] == mask.shape[0] == codes.reshape(-1).shape[0]


@pytest.mark.parametrize("model", ["gcn", "gin", "predictor"])
@fuzz
@given(batch=st.integers(0, 3), nodes=st.integers(0, 5), data=st.data(), no_grad=st.booleans())
def test_graph_models_return_or_refuse(model, batch, nodes, data, no_grad):
    n_ops = 4
    net = {"gcn": lambda: GCNEncoder(n_ops, 8, 2), "gin": lambda: GINEncoder(n_ops, 8, 2),
           "predictor": lambda: GCNPredictor(n_ops, 8, 2)}[model]()
    adj = data.draw(weird_tensor((batch, nodes, nodes)))
    ops = data.draw(st.one_of(
        st.integers(0, 2**31 - 1).map(lambda seed: torch.randint(-1, n_ops + 1, (batch, nodes),
                                                                 generator=torch.Generator().manual_seed(seed))),
        weird_tensor((batch, nodes), special=False)))
    mask = data.draw(st.one_of(st.just(torch.ones(batch, nodes, dtype=torch.bool)),
                               weird_tensor((batch, nodes), special=False)))
    if data.draw(st.booleans()) and adj.dtype != torch.bool:
        adj = adj.abs()
    with torch.set_grad_enabled(not no_grad):
        out = refuses_or_returns(net, adj, ops, mask)
    if out is not None:
        assert out.shape[0] == batch
        if moderate(adj):
            assert bool(torch.isfinite(out).all())


@given(n=st.one_of(st.integers(-5, 10**6), st.floats(), st.booleans(), st.text(max_size=3), st.none()))
def test_set_num_threads_returns_or_refuses(n):
    before = fastrank.num_threads()
    try:
        refuses_or_returns(fastrank.set_num_threads, n)
        assert 1 <= fastrank.num_threads() <= fastrank._native.max_threads()
    finally:
        fastrank.set_num_threads(0 if before == fastrank.num_threads() else before)
        fastrank.set_num_threads(0)


@given(name=st.one_of(st.sampled_from(["avx512", "avx2", "baseline", "AVX2", "", "sse"]), st.integers(), st.none()))
def test_set_cpu_target_returns_or_refuses(name):
    before = fastrank.cpu_target()
    try:
        if refuses_or_returns(fastrank.set_cpu_target, name) is None and fastrank.cpu_target() != before:
            assert fastrank.cpu_target() == name
    finally:
        fastrank.set_cpu_target(before)
