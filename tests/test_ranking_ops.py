"""Native ranking ops against the dense plain-torch references (values and gradients)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
import reference as ref
from helpers import DEFAULT_PARAMS, OPS, check_logistic_math, compare, lists, margins

@given(data=lists(), margin=margins, weighted=st.booleans())
@pytest.mark.parametrize("op", ["hinge", "squared_hinge"])
def test_pairwise_hinge_matches_dense(op, data, margin, weighted):
    s, y, sizes = data
    compare(op, s, y, {**DEFAULT_PARAMS, "margin": margin, "weighted": weighted}, group_sizes=sizes)


@given(data=lists(max_size=200), sigma=st.sampled_from([0.5, 1.0, 3.0]))
def test_pairwise_logistic_matches_dense(data, sigma):
    s, y, sizes = data
    compare("logistic", s, y, {**DEFAULT_PARAMS, "sigma": sigma}, group_sizes=sizes)


@given(data=lists(max_size=200), k=st.one_of(st.none(), st.integers(1, 40)), sigma=st.sampled_from([0.5, 2.0]),
       gain=st.sampled_from(["exp2", "linear"]))
def test_lambdarank_logistic_matches_dense(data, k, sigma, gain):
    s, y, sizes = data
    compare("lambdarank", s, y, {**DEFAULT_PARAMS, "k": k, "sigma": sigma, "gain": gain}, group_sizes=sizes)


@given(data=lists(max_size=200), k=st.one_of(st.none(), st.integers(1, 40)), margin=margins,
       gain=st.sampled_from(["exp2", "linear"]), pair=st.sampled_from(["lambdarank_hinge", "lambdarank_squared_hinge"]))
def test_lambdarank_hinge_matches_dense(data, k, margin, gain, pair):
    s, y, sizes = data
    compare(pair, s, y, {**DEFAULT_PARAMS, "k": k, "margin": margin, "gain": gain}, group_sizes=sizes)


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


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("n", [0, 1, 2, 39, 40, 41, 600])
def test_edge_sizes_and_all_equal_targets(op, n):
    gen = torch.Generator().manual_seed(n)
    s = torch.randn(n, generator=gen, dtype=torch.float64)
    params = {**DEFAULT_PARAMS, "k": 10}
    compare(op, s, torch.randint(0, 4, (n,), generator=gen).double(), params)
    compare(op, s, torch.full((n,), 2.0, dtype=torch.float64), params)  # no pairs at all
    compare(op, s, torch.randn(n, generator=gen, dtype=torch.float64).abs(), params)  # all distinct


@pytest.mark.parametrize("op", list(OPS))
def test_batch_with_mask_and_empty_rows(op):
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(6, 70, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 5, (6, 70), generator=gen).double()
    mask = torch.rand(6, 70, generator=gen) < 0.7
    mask[2] = False  # an empty list
    mask[4, 1:] = False  # a one-item list
    params = {**DEFAULT_PARAMS, "k": 5}
    compare(op, s, y, params, mask=mask)
    compare(op, s, y, params)  # 2-D without mask: every row is a full list


@pytest.mark.parametrize("op", list(OPS))
def test_float32_close_to_float64_reference(op):
    gen = torch.Generator().manual_seed(1)
    s = torch.randn(4, 300, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 6, (4, 300), generator=gen).double()
    params = {**DEFAULT_PARAMS, "k": 20}
    native, dense = OPS[op]
    a = s.float().requires_grad_(True)
    b = s.clone().requires_grad_(True)
    ours = native(a, y.float(), params)
    theirs = dense(b, y, params)
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
    for f in (fastrank.pairwise_hinge, fastrank.pairwise_logistic, fastrank.lambdarank):
        loss = f(s, y)
        loss.backward()
        assert loss.item() == 0.0 and torch.count_nonzero(s.grad) == 0
        s.grad = None


GRADCHECK_CALLS = {
    "hinge": lambda s, y: fastrank.pairwise_hinge(s, y, 0.7, pair_weight=True, group_sizes=[5, 9], reduction="none"),
    "squared_hinge": lambda s, y: fastrank.pairwise_squared_hinge(s, y, 0.7, group_sizes=[5, 9], reduction="none"),
    "logistic": lambda s, y: fastrank.pairwise_logistic(s, y, 1.3, group_sizes=[5, 9]),
    "lambdarank": lambda s, y: fastrank.lambdarank(s, y, 3, group_sizes=[5, 9], reduction="none"),
    "lambdarank_hinge": lambda s, y: fastrank.lambdarank(s, y, 4, pair_loss="squared_hinge", group_sizes=[5, 9]),
}


@pytest.mark.parametrize("op", list(GRADCHECK_CALLS))
def test_gradcheck(op):
    gen = torch.Generator().manual_seed(11)
    s = (torch.randn(14, generator=gen, dtype=torch.float64) * 0.8).requires_grad_(True)
    y = torch.randint(0, 4, (14,), generator=gen).double()
    # LambdaRank holds ranks constant: finite differences must not cross a rank swap,
    # so the check runs where scores are well separated relative to eps.
    assert torch.autograd.gradcheck(lambda x: GRADCHECK_CALLS[op](x, y), (s,), eps=1e-6, atol=1e-7)


def _opcheck_samples():
    gen = torch.Generator().manual_seed(5)
    s = torch.randn(20, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (20,), generator=gen).double()
    offsets = torch.tensor([0, 6, 6, 20])
    yield torch.ops.fastrank.pairwise_hinge.default, (s, y, offsets, 2, 1.0, False, True, 0)
    yield torch.ops.fastrank.pairwise_hinge.default, (s.float().detach().requires_grad_(True), y.float(), offsets, 0, 0.5, True, False, 1)
    yield torch.ops.fastrank.pairwise_logistic.default, (s, y, offsets, 1, 1.0)
    yield torch.ops.fastrank.lambdarank.default, (s, y, offsets, 0, 5, 0, 0, 1.0, 1.0)
    yield torch.ops.fastrank.lambdarank.default, (s, y, offsets, 2, -1, 1, 2, 1.0, 0.5)


@pytest.mark.parametrize("sample", list(range(5)))
def test_opcheck(sample):
    op, args = list(_opcheck_samples())[sample]
    torch.library.opcheck(op, args)


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


@pytest.mark.parametrize("op", ["hinge", "logistic", "lambdarank"])
def test_backward_of_the_loss_itself_is_the_kernel_gradient_and_never_aliased(op):
    """loss.backward() returns the kernel's gradient without a multiply; repeated backward passes
    through a retained graph must still accumulate exactly (no aliasing of the saved gradient)."""
    gen = torch.Generator().manual_seed(5)
    s = torch.randn(60, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 4, (60,), generator=gen).double()
    loss = OPS[op][0](s, y, DEFAULT_PARAMS)
    loss.backward(retain_graph=True)
    once = s.grad.clone()
    loss.backward(retain_graph=True)
    loss.backward()
    torch.testing.assert_close(s.grad, 3 * once, rtol=1e-15, atol=0)
    scaled = s.detach().clone().requires_grad_(True)
    (OPS[op][0](scaled, y, DEFAULT_PARAMS) * 2.5).backward()
    torch.testing.assert_close(scaled.grad, 2.5 * once, rtol=1e-15, atol=0)
