"""Shared by the test files: the native list ops against their dense references, from their
specs (LIST_OP_CASES, compare_op) and through the public functions (OPS, compare), the hypothesis
strategy of ragged lists, and the check of the kernels' vectorised logistic math."""
from __future__ import annotations

import importlib

import pytest
import torch
from hypothesis import strategies as st

import fastrank
import reference as ref
from fastrank.ops import LIST_OPS

RTOL64 = 1e-9

# The public functions' options: (name, native call, reference call) over scores s, targets y and
# the list layout kw.
OPS = {
    "hinge": (
        lambda s, y, p, **kw: fastrank.pairwise_hinge(s, y, p["margin"], pair_weight=p["weighted"], **kw),
        lambda s, y, p, **kw: ref.pairwise(s, y, "hinge", p["margin"], pair_weight=p["weighted"], **kw),
    ),
    "squared_hinge": (
        lambda s, y, p, **kw: fastrank.pairwise_squared_hinge(s, y, p["margin"], pair_weight=p["weighted"], **kw),
        lambda s, y, p, **kw: ref.pairwise(s, y, "squared_hinge", p["margin"], pair_weight=p["weighted"], **kw),
    ),
    "logistic": (
        lambda s, y, p, **kw: fastrank.pairwise_logistic(s, y, p["sigma"], **kw),
        lambda s, y, p, **kw: ref.pairwise(s, y, "logistic", sigma=p["sigma"], **kw),
    ),
    "lambdarank": (
        lambda s, y, p, **kw: fastrank.lambdarank(s, y, p["k"], p["sigma"], p["gain"], **kw),
        lambda s, y, p, **kw: ref.lambdarank(s, y, p["k"], p["sigma"], p["gain"], **kw),
    ),
    "lambdarank_hinge": (
        lambda s, y, p, **kw: fastrank.lambdarank(s, y, p["k"], gain=p["gain"], pair_loss="hinge", margin=p["margin"], **kw),
        lambda s, y, p, **kw: ref.lambdarank(s, y, p["k"], gain=p["gain"], pair="hinge", margin=p["margin"], **kw),
    ),
    "lambdarank_squared_hinge": (
        lambda s, y, p, **kw: fastrank.lambdarank(s, y, p["k"], gain=p["gain"], pair_loss="squared_hinge", margin=p["margin"], **kw),
        lambda s, y, p, **kw: ref.lambdarank(s, y, p["k"], gain=p["gain"], pair="squared_hinge", margin=p["margin"], **kw),
    ),
}
DEFAULT_PARAMS = {"margin": 1.0, "weighted": False, "sigma": 1.0, "k": None, "gain": "exp2"}


def assert_matches(ours, theirs, rtol):
    scale = 1.0 + float(theirs.detach().abs().max()) if theirs.numel() else 1.0
    torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=rtol, atol=rtol * scale)


def compare_calls(ours_fn, ref_fn, s, y, rtol=RTOL64, **layout):
    """ours_fn(scores, targets, reduction=..., **layout) against ref_fn: values and gradients
    (of a weighted sum, so per-list outputs are checked one by one) for every reduction."""
    for reduction in ("mean", "sum", "none"):
        a = s.detach().clone().requires_grad_(True)
        b = s.detach().clone().requires_grad_(True)
        ours = ours_fn(a, y, reduction=reduction, **layout)
        theirs = ref_fn(b, y, reduction=reduction, **layout)
        assert ours.shape == theirs.shape
        assert_matches(ours, theirs, rtol)
        weights = torch.linspace(0.5, 1.5, ours.numel(), dtype=ours.dtype).reshape(ours.shape)
        (ours * weights).sum().backward()
        (theirs * weights).sum().backward()
        grad_b = b.grad if b.grad is not None else torch.zeros_like(b)
        assert_matches(a.grad, grad_b, rtol)


def compare(op, s, y, params, rtol=RTOL64, **layout):
    native, dense = OPS[op]
    compare_calls(lambda a, b, **kw: native(a, b, params, **kw), lambda a, b, **kw: dense(a, b, params, **kw),
                  s, y, rtol, **layout)


# --- the native list ops from their specs (fastrank.ops.LIST_OPS): a new op is tested by these
# tables once it has a spec and a reference; hyperparameters by name, option tags by their names.

def reference_of(spec):
    """The dense float64 reference that the spec names ("module:function")."""
    module, function = spec.reference.split(":")
    return getattr(importlib.import_module(module), function)


def spec_cases(spec) -> list:
    """Hyperparameter sets that try every sample value of every hyperparameter: set i takes
    each one's sample i (cycling through the shorter lists), so set 0 holds the defaults."""
    count = max(len(h.samples) for h in spec.hypers)
    return [{h.name: h.samples[i % len(h.samples)] for h in spec.hypers} for i in range(count)]


# (spec, hyperparameters) of every list op, with ids like "lambdarank-1"
LIST_OP_CASES = [pytest.param(spec, hyper, id=f"{name}-{i}")
                 for name, spec in LIST_OPS.items() for i, hyper in enumerate(spec_cases(spec))]


def compare_op(spec, hyper, s, y, rtol=RTOL64, **layout):
    """The op (through OpSpec.loss) against its reference: values and gradients for every reduction."""
    reference = reference_of(spec)
    compare_calls(lambda a, b, **kw: spec.loss(a, b, **kw, **hyper), lambda a, b, **kw: reference(a, b, **kw, **hyper),
                  s, y, rtol, **layout)


@st.composite
def lists(draw, max_size=300):
    """Ragged lists with few target levels, heavy ties and exact-boundary scores."""
    n_lists = draw(st.integers(1, 3))
    sizes = [draw(st.integers(0, max_size)) for _ in range(n_lists)]
    n = sum(sizes)
    levels = draw(st.integers(1, 10))
    seed = draw(st.integers(0, 2**31 - 1))
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, levels, (n,), generator=gen).double()
    if draw(st.booleans()):
        y = y * 0.37 + 0.1  # non-integer target values
    if draw(st.booleans()):
        s = torch.randint(-8, 9, (n,), generator=gen).double() / 4  # ties and s_b + m == s_a exactly
    else:
        s = torch.randn(n, generator=gen, dtype=torch.float64) * draw(st.sampled_from([0.1, 1.0, 5.0]))
    return s, y, sizes


margins = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.0, 2.0))


def check_logistic_math(dtype, rtol):
    """The kernels' own branch-free exp/log1p against libm over the whole useful range."""
    x = torch.cat([torch.linspace(-80, 80, 100001, dtype=torch.float64),
                   torch.tensor([-700.0, -100.0, 1e-12, -1e-12, 0.0, 100.0, 700.0], dtype=torch.float64)])
    x = x.to(dtype).double()  # representable in the tested precision
    pair = torch.stack([x, torch.zeros_like(x)], 1).to(dtype).requires_grad_(True)  # one list per x: better item first
    loss = fastrank.pairwise_logistic(pair, torch.tensor([[1.0, 0.0]]).expand_as(pair), reduction="none")
    loss.sum().backward()
    want_loss = torch.log1p(torch.exp(-x.abs())) + (-x).clamp_min(0)  # log(1 + e^{-x})
    want_grad = -torch.sigmoid(-x)
    floor = 1e-300 if dtype == torch.float64 else 1e-30  # below, results flush to zero
    torch.testing.assert_close(loss.double(), want_loss, rtol=rtol, atol=floor)
    torch.testing.assert_close(pair.grad[:, 0].double(), want_grad, rtol=rtol, atol=floor)


WEIGHTED_SUM = fastrank.nn.WeightedSum({"MSE": 1.0, "HR": 0.5, "ListMLE": 0.25})

def _called(fn):
    return lambda s, y: fn(s, y)


# Every public op and predictor loss on (4, 12) scores and targets, with and without ragged lists
# (test_compile.py, test_func.py): each public list op (fastrank.ops.__all__) with its defaults, then
# options that take other kernel paths.
EVERY_OP_AND_LOSS = {
    **{f"op:{name}": _called(getattr(fastrank.ops, name)) for name in fastrank.ops.__all__},
    "op:pairwise_squared_hinge_weighted": lambda s, y: fastrank.pairwise_squared_hinge(s, y, 0.5, pair_weight=True),
    "op:lambdarank_k5": lambda s, y: fastrank.lambdarank(s, y, k=5, sigma=2.0),
    "op:lambdarank_hinge": lambda s, y: fastrank.lambdarank(s, y, k=5, pair_loss="hinge"),
    "op:hinge, group_sizes list": lambda s, y: fastrank.pairwise_hinge(s.flatten(), y.flatten(), group_sizes=[20, 28]),
    "op:logistic, group_sizes tensor": lambda s, y: fastrank.pairwise_logistic(
        s.flatten(), y.flatten(), group_sizes=torch.tensor([12, 36])),
    "op:lambdarank, mask": lambda s, y: fastrank.lambdarank(s, y, k=3, mask=torch.arange(12).expand(4, 12) < 10),
    **{f"loss:{name}": _called(getattr(fastrank.losses, name))
       for name in ("mse", "hinge_ranking", "logistic_ranking", "mse_sequence_ranking", "listmle", "listnet",
                    "exp_weighted_mse", "mape", "warp", "lambdarank")},
    "loss:listnet, mask": lambda s, y: fastrank.losses.listnet(s, y, mask=torch.arange(12).expand(4, 12) < 10),
    "loss:warp, group_sizes": lambda s, y: fastrank.losses.warp(s.flatten(), y.flatten(), group_sizes=[5, 43]),
}
# Ragged lists padded to rows: the width is the largest int group size, or a bound (the mask's
# row length, all the items) when the sizes are in a tensor.
EVERY_OP_AND_LOSS.update({
    "loss:listmle, group_sizes": lambda s, y: fastrank.losses.listmle(s.flatten(), y.flatten(), group_sizes=[5, 43]),
    "loss:exp_weighted_mse, mask": lambda s, y: fastrank.losses.exp_weighted_mse(
        s, y, mask=torch.arange(12).expand(4, 12) < 10),
    "loss:mape, group_sizes": lambda s, y: fastrank.losses.mape(s.flatten(), y.flatten(), group_sizes=[5, 43]),
    "loss:listmle, group_sizes tensor": lambda s, y: fastrank.losses.listmle(
        s.flatten(), y.flatten(), group_sizes=torch.tensor([30, 0, 18])),
    "loss:mse_sequence_ranking, mask": lambda s, y: fastrank.losses.mse_sequence_ranking(
        s, y, mask=torch.arange(12).expand(4, 12) % 3 > 0),
})


EVERY_OP_AND_LOSS.update({
    "loss:lambdarank, acenas relevance, group_sizes": lambda s, y: fastrank.losses.lambdarank(
        s.flatten(), y.flatten(), 5, relevance="acenas", group_sizes=[20, 28]),
    "loss:weighted sum (nn)": lambda s, y: WEIGHTED_SUM(s, y),  # a module built once, as training code does
})


# --- devices: the "twin" backend (host build of the device algorithms) always runs, "cuda" needs a GPU

HAS_CUDA = fastrank.cuda_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no usable CUDA device (fastrank.cuda_available() is False)")
BACKENDS = ["twin", pytest.param("cuda", marks=needs_cuda)]


def assert_close_in(ours, theirs, dtype):
    """Equal to the precision of dtype, relative to the larger magnitudes of theirs."""
    rtol = 1e-9 if dtype == torch.float64 else 1e-5
    scale = 1.0 + (float(theirs.abs().max()) if theirs.numel() else 0.0)
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=rtol * scale)


def random_graphs(batch, nodes, features, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    adj = (torch.rand(batch, nodes, nodes, generator=gen) < 0.3).to(dtype).triu(1)
    adj = adj * torch.rand(batch, nodes, nodes, generator=gen, dtype=torch.float64).to(dtype).add(0.5)
    h = torch.randn(batch, nodes, features, generator=gen, dtype=torch.float64).to(dtype)
    return h, adj


# quick settings of the guided search strategies: a small random start and a small, briefly trained GCN
FAST_SEARCH = {"n_init": 5, "per_round": 5, "predictor": {"epochs": 3, "width": 16, "layers": 2}}
