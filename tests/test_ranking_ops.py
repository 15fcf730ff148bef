"""Native ranking ops against the dense plain-torch references (values and gradients).

The tables read the op specs (fastrank.ops.LIST_OPS, through helpers.LIST_OP_CASES): an op is tested
here by its spec and the reference it names; the public functions' own options through helpers.OPS.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
import reference as ref
from fastrank.ops import LIST_OPS
from helpers import (DEFAULT_PARAMS, LIST_OP_CASES, OPS, check_logistic_math, compare, compare_op, lists, margins,
                     reference_of, spec_cases)


@given(data=lists(max_size=200), choice=st.data())
@pytest.mark.parametrize("name", list(LIST_OPS))
def test_list_op_matches_dense(name, data, choice):
    """Every combination of the op's hyperparameter samples on ragged lists."""
    spec = LIST_OPS[name]
    s, y, sizes = data
    hyper = {h.name: choice.draw(st.sampled_from(h.samples), label=h.name) for h in spec.hypers}
    compare_op(spec, hyper, s, y, group_sizes=sizes)


@given(data=lists(max_size=200), margin=margins, weighted=st.booleans(), sigma=st.sampled_from([0.5, 1.0, 3.0]),
       k=st.one_of(st.none(), st.integers(1, 40)), gain=st.sampled_from(["exp2", "linear"]))
@pytest.mark.parametrize("op", list(OPS))
def test_public_functions_match_dense(op, data, margin, weighted, sigma, k, gain):
    s, y, sizes = data
    params = {"margin": margin, "weighted": weighted, "sigma": sigma, "k": k, "gain": gain}
    compare(op, s, y, params, group_sizes=sizes)


@pytest.mark.parametrize("pair", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("scale", [1e120, 1e150, 1e307])
def test_lambdarank_hinge_with_huge_margins_or_scores(pair, scale):
    """The sweeps' moment sums overflowed past ~1e154 (loss -inf or NaN); the hinge's
    homogeneity lets them run at a smaller scale and come back exact."""
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(50, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (50,), generator=gen).double()
    for scores, margin in ((s, scale), (s * scale / 10, 1.0)):
        scores = scores.clone().requires_grad_(True)
        ours = fastrank.losses.lambdarank(scores, y, pair_loss=pair, margin=margin)
        (grad,) = torch.autograd.grad(ours, scores)
        dense = scores.detach().clone().requires_grad_(True)
        theirs = ref.lambdarank(dense, y, pair=f"{pair}", margin=margin)
        (expected,) = torch.autograd.grad(theirs, dense)
        if pair == "squared_hinge" and scale > 1e154:  # the true loss is beyond a double: both overflow
            assert ours.item() == theirs.item() == float("inf")
            continue
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=0)
        torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("spec,hyper", LIST_OP_CASES)
@pytest.mark.parametrize("n", [0, 1, 2, 39, 40, 41, 600])
def test_edge_sizes_and_all_equal_targets(spec, hyper, n):
    gen = torch.Generator().manual_seed(n)
    s = torch.randn(n, generator=gen, dtype=torch.float64)
    compare_op(spec, hyper, s, torch.randint(0, 4, (n,), generator=gen).double())
    compare_op(spec, hyper, s, torch.full((n,), 2.0, dtype=torch.float64))  # no pairs at all
    compare_op(spec, hyper, s, torch.randn(n, generator=gen, dtype=torch.float64).abs())  # all distinct


@pytest.mark.parametrize("spec,hyper", LIST_OP_CASES)
def test_batch_with_mask_and_empty_rows(spec, hyper):
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(6, 70, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 5, (6, 70), generator=gen).double()
    mask = torch.rand(6, 70, generator=gen) < 0.7
    mask[2] = False  # an empty list
    mask[4, 1:] = False  # a one-item list
    compare_op(spec, hyper, s, y, mask=mask)
    compare_op(spec, hyper, s, y)  # 2-D without mask: every row is a full list


@pytest.mark.parametrize("spec,hyper", LIST_OP_CASES)
def test_float32_close_to_float64_reference(spec, hyper):
    gen = torch.Generator().manual_seed(1)
    s = torch.randn(4, 300, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 6, (4, 300), generator=gen).double()
    a = s.float().requires_grad_(True)
    b = s.clone().requires_grad_(True)
    ours = spec.loss(a, y.float(), **hyper)
    theirs = reference_of(spec)(b, y, **hyper)
    ours.backward()
    theirs.backward()
    assert ours.dtype == torch.float32
    torch.testing.assert_close(ours.double(), theirs.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.grad.double(), b.grad, rtol=1e-5, atol=1e-6)


def test_half_scores_are_computed_in_float32():
    s = torch.randn(50, dtype=torch.float16, requires_grad=True)
    y = torch.randint(0, 3, (50,))
    loss = fastrank.pairwise_hinge(s, y)
    expected = fastrank.pairwise_hinge(s.detach().float(), y)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.detach(), expected)
    loss.backward()
    assert s.grad.dtype == torch.float16


@pytest.mark.slow
def test_large_list_sweep_matches_dense():
    """n = 3000 with 5 levels: the O(n log n) sweep path on a list the dense form still fits."""
    gen = torch.Generator().manual_seed(7)
    s = torch.randn(3000, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 5, (3000,), generator=gen).double()
    for op in ("hinge", "squared_hinge", "lambdarank_hinge"):
        compare(op, s, y, {**DEFAULT_PARAMS, "k": 50, "weighted": op == "hinge"})


def test_results_do_not_depend_on_thread_count():
    gen = torch.Generator().manual_seed(3)
    s = torch.randn(1500, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 8, (1500,), generator=gen).double()
    outs = []
    for threads in (1, 2, 3):
        fastrank.set_num_threads(threads)
        try:
            s.grad = None
            loss = fastrank.lambdarank(s, y) + fastrank.pairwise_logistic(s, y, group_sizes=[700, 800])
            loss.backward()
            outs.append((loss.detach(), s.grad.clone()))
        finally:
            fastrank.set_num_threads(0)
    for loss, grad in outs[1:]:
        assert torch.equal(loss, outs[0][0]) and torch.equal(grad, outs[0][1])


def test_mean_reduction_counts_all_pairs_not_only_active_ones():
    # scores already well ordered with margin 0: no active pair, loss 0, and 3 pairs.
    s = torch.tensor([3.0, 2.0, 1.0], dtype=torch.float64)
    y = torch.tensor([2.0, 1.0, 0.0], dtype=torch.float64)
    assert fastrank.pairwise_hinge(s, y, 0.0).item() == 0.0
    # margin 1.5: pairs (0,1) and (1,2) active with z = 0.5, pair (0,2) inactive: (0.5+0.5)/3.
    assert fastrank.pairwise_hinge(s, y, 1.5).item() == pytest.approx(1.0 / 3.0, rel=1e-12)


def test_no_pairs_anywhere_gives_zero_mean_with_zero_grad():
    s = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    y = torch.ones(2, 5)
    for spec in LIST_OPS.values():
        loss = spec.loss(s, y, **spec_cases(spec)[0])
        loss.backward()
        assert loss.item() == 0.0 and torch.count_nonzero(s.grad) == 0, spec.name
        s.grad = None


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("spec,hyper", LIST_OP_CASES)
def test_gradcheck(spec, hyper, reduction):
    gen = torch.Generator().manual_seed(11)
    s = (torch.randn(14, generator=gen, dtype=torch.float64) * 0.8).requires_grad_(True)
    y = torch.randint(0, 4, (14,), generator=gen).double()
    # LambdaRank holds ranks constant (and WARP its rank weights): finite differences must not
    # cross a rank swap, so the check runs where scores are well separated relative to eps.
    assert torch.autograd.gradcheck(lambda x: spec.loss(x, y, [5, 9], reduction=reduction, **hyper), (s,), eps=1e-6,
                                    atol=1e-7)


def _opcheck_samples():
    """Per op: its defaults on float64 with the mean, and its last hyperparameter set on float32
    per list, over an empty list among two others."""
    for name, spec in LIST_OPS.items():
        cases = spec_cases(spec)
        for label, hyper, dtype, reduction in (("defaults", cases[0], torch.float64, "mean"),
                                               ("others", cases[-1], torch.float32, "none")):
            yield pytest.param(spec, hyper, dtype, reduction, id=f"{name}-{label}")


@pytest.mark.parametrize("spec,hyper,dtype,reduction", list(_opcheck_samples()))
def test_opcheck(spec, hyper, dtype, reduction):
    gen = torch.Generator().manual_seed(5)
    s = torch.randn(20, generator=gen, dtype=dtype, requires_grad=True)
    y = torch.randint(0, 4, (20,), generator=gen).to(dtype)
    offsets = torch.tensor([0, 6, 6, 20])
    tag = fastrank._native.tag("reduction", reduction)
    torch.library.opcheck(spec.op, (s, y, offsets, tag, *spec.arguments(**hyper)))


def test_double_backward_is_refused():
    s = torch.randn(10, dtype=torch.float64, requires_grad=True)
    y = torch.arange(10.0)
    (g,) = torch.autograd.grad(fastrank.pairwise_squared_hinge(s, y), s, create_graph=False)
    assert g.shape == s.shape
    with pytest.raises(RuntimeError, match="double backward"):
        torch.autograd.grad(fastrank.pairwise_squared_hinge(s, y), s, create_graph=True)


@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 2e-15), (torch.float32, 1e-6)])
def test_vectorised_logistic_math_is_accurate(dtype, rtol):
    check_logistic_math(dtype, rtol)


@pytest.mark.parametrize("name", list(LIST_OPS))
def test_backward_of_the_loss_itself_is_the_kernel_gradient_and_never_aliased(name):
    """loss.backward() returns the kernel's gradient without a multiply; repeated backward passes
    through a retained graph must still accumulate exactly (no aliasing of the saved gradient)."""
    spec = LIST_OPS[name]
    defaults = spec_cases(spec)[0]
    gen = torch.Generator().manual_seed(5)
    s = torch.randn(60, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (60,), generator=gen).double()
    loss = spec.loss(s, y, **defaults)
    loss.backward(retain_graph=True)
    once = s.grad.clone()
    loss.backward(retain_graph=True)
    loss.backward()
    torch.testing.assert_close(s.grad, 3 * once, rtol=1e-15, atol=0)
    scaled = s.detach().clone().requires_grad_(True)
    (spec.loss(scaled, y, **defaults) * 2.5).backward()
    torch.testing.assert_close(scaled.grad, 2.5 * once, rtol=1e-15, atol=0)
