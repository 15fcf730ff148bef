"""The device list algorithms (src/cuda) against the CPU kernels, on two backends:

- "twin": the host build of the same item functions the CUDA kernels run (always runs,
  so every machine executes the GPU algorithms' arithmetic and indexing);
- "cuda": the CUDA kernels through the public API (skipped without a usable GPU).

The CPU kernels are themselves tested against dense references (test_ranking_ops.py).
Graph encoding and propagation: test_device_graph.py; Kendall τ: test_device_kendall.py;
CUDA-only checks (autograd, opcheck, CUDA graphs): test_device_cuda.py.
"""
from __future__ import annotations

import contextlib
from unittest import mock

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
from fastrank import _C, _native
from fastrank.ops import _custom_ops
from fastrank.ops._custom_ops import _run
from helpers import BACKENDS, assert_close_in, lists


# (op name, hyperparameters after the reduction tag) covering every kernel variant.
LIST_CASES = [
    ("pairwise_hinge", (1.0, False, False, 0)),
    ("pairwise_hinge", (0.5, True, False, 0)),
    ("pairwise_hinge", (1.0, False, True, 0)),
    ("pairwise_hinge", (0.0, True, True, 0)),
    ("pairwise_hinge", (1.0, False, False, 1)),
    ("pairwise_hinge", (2.0, True, True, 2)),
    ("pairwise_logistic", (1.0,)),
    ("pairwise_logistic", (3.0,)),
    ("lambdarank", (-1, 0, 0, 1.0, 1.0)),
    ("lambdarank", (5, 1, 0, 2.0, 1.0)),
    ("lambdarank", (3, 0, 1, 1.0, 0.5)),
    ("lambdarank", (-1, 1, 2, 1.0, 1.0)),
    ("lambdarank", (10, 0, 2, 1.0, 0.0)),
]


def on_device(backend, name, s, y, offsets, reduction, *hyper):
    if backend == "twin":
        return _run(name, "device", s, y, offsets, reduction, *hyper)
    loss, grad = getattr(torch.ops.fastrank, name)(s.cuda(), y.cuda(), offsets.cuda(), reduction, *hyper)
    return loss.cpu(), grad.cpu()


def check_list_op(backend, name, hyper, s, y, offsets, dtype=torch.float64):
    s, y = s.to(dtype), y.to(dtype)
    for reduction in (0, 1, 2):
        expected = _run(name, "cpu", s, y, offsets, reduction, *hyper)
        got = on_device(backend, name, s, y, offsets, reduction, *hyper)
        assert_close_in(got[0], expected[0], dtype)
        assert_close_in(got[1], expected[1], dtype)


def offsets_of(sizes):
    return torch.tensor([0] + sizes).cumsum(0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(LIST_CASES)))
@given(data=lists(max_size=120), single=st.booleans())
def test_list_ops_match_cpu(backend, case, data, single):
    name, hyper = LIST_CASES[case]
    s, y, sizes = data
    check_list_op(backend, name, hyper, s, y, offsets_of(sizes), torch.float32 if single else torch.float64)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(LIST_CASES)))
def test_list_ops_edge_shapes(backend, case):
    name, hyper = LIST_CASES[case]
    gen = torch.Generator().manual_seed(case)
    for sizes in ([0], [1], [2, 0, 1], [33], [0, 0], [700], [32] * 50):
        n = sum(sizes)
        s = torch.randn(n, generator=gen, dtype=torch.float64)
        for y in (torch.randint(0, 4, (n,), generator=gen).double(), torch.ones(n, dtype=torch.float64)):
            check_list_op(backend, name, hyper, s, y, offsets_of(sizes))
    empty = torch.zeros(0, dtype=torch.float64)
    check_list_op(backend, name, hyper, empty, empty, torch.zeros(1, dtype=torch.int64))


@pytest.mark.parametrize("backend", BACKENDS)
def test_list_ops_report_bad_values(backend):
    s = torch.tensor([0.1, float("nan"), 0.3], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    off = torch.tensor([0, 3])
    with pytest.raises(ValueError, match="scores contain NaN"):
        on_device(backend, "pairwise_hinge", s, y, off, 2, 1.0, False, False, 0)
    with pytest.raises(ValueError, match="targets contain NaN"):
        on_device(backend, "pairwise_logistic", y, s, off, 2, 1.0)
    with pytest.raises(ValueError, match="overflow"):
        on_device(backend, "lambdarank", y, y * 600, off, 2, -1, 0, 0, 1.0, 1.0)
    with pytest.raises(ValueError, match="offsets"):
        on_device(backend, "pairwise_hinge", y, y, torch.tensor([0, 2, 1, 3]), 2, 1.0, False, False, 0)
    with pytest.raises(ValueError, match="offsets"):
        on_device(backend, "pairwise_hinge", y, y, torch.tensor([0, 2]), 2, 1.0, False, False, 0)


HINGE_CASES = [case for case in LIST_CASES if case[0] == "pairwise_hinge"] + [
    ("pairwise_hinge", (0.3, False, True, 1)),
    ("pairwise_hinge", (1.5, True, False, 2)),
]


@contextlib.contextmanager
def long_list_algorithms():
    """Lowers the length past which the device ops take their long-list algorithms (the
    hinge sweep, truncated LambdaRank's top-k units) to 0, so that every list goes through
    them (on the twin as on CUDA)."""
    with mock.patch.object(_custom_ops, "DEVICE_LIST_MAX", 0):
        yield


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(HINGE_CASES)))
@given(data=lists(max_size=150), single=st.booleans(), many_levels=st.booleans())
def test_hinge_sweep_matches_cpu(backend, case, data, single, many_levels):
    _, hyper = HINGE_CASES[case]
    s, y, sizes = data
    if many_levels:  # up to one level per item: every level bit of the sweep is used
        y = torch.randperm(len(y), generator=torch.Generator().manual_seed(len(y))).double() * 0.5
    with long_list_algorithms():
        check_list_op(backend, "pairwise_hinge", hyper, s, y, offsets_of(sizes),
                      torch.float32 if single else torch.float64)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(HINGE_CASES)))
def test_hinge_sweep_edge_shapes_and_long_lists(backend, case):
    _, hyper = HINGE_CASES[case]
    gen = torch.Generator().manual_seed(case)
    with long_list_algorithms():
        for sizes in ([0], [1], [2, 0, 1], [0, 0], [1, 1, 1], [0, 5, 0], [32] * 50, [3000], [1500, 0, 2000]):
            n = sum(sizes)
            s = torch.randn(n, generator=gen, dtype=torch.float64)
            for y in (torch.randint(0, 4, (n,), generator=gen).double(), torch.ones(n, dtype=torch.float64),
                      torch.randn(n, generator=gen, dtype=torch.float64), -torch.arange(n, dtype=torch.float64)):
                check_list_op(backend, "pairwise_hinge", hyper, s, y, offsets_of(sizes))
        # Equal keys across the two roles (s_b + m == s_a) and both zeros.
        s = torch.tensor([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.0, 1.0] * 20, dtype=torch.float64)
        y = torch.tensor([0.0, -0.0, 1.0, 2.0, 1.0, 0.0, 3.0, 3.0] * 20, dtype=torch.float64)
        check_list_op(backend, "pairwise_hinge", hyper, s, y, offsets_of([60, 100]))


def test_hinge_sweep_rejects_bad_values_and_a_short_longest():
    s = torch.tensor([0.1, float("inf"), 0.3, 0.2], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 2.0, 1.0], dtype=torch.float64)
    off = torch.tensor([0, 4])
    with long_list_algorithms():
        with pytest.raises(ValueError, match="scores contain NaN"):
            _run("pairwise_hinge", "device", s, y, off, 2, 1.0, False, False, 0)
        with pytest.raises(ValueError, match="targets contain NaN"):
            _run("pairwise_hinge", "device", y, s, off, 2, 1.0, False, False, 0)
    loss, grad = torch.empty(()), torch.empty_like(y)
    args = (1, y.data_ptr(), y.data_ptr(), off.data_ptr(), 1, 4, 2, 1.0, False, False, 0, loss.data_ptr(),
            grad.data_ptr())
    status = _native.device_call("pairwise_hinge_sweep", y.device, *args, 3)  # the list has 4 items
    assert status & _C.STATUS_BAD_OFFSETS
    assert _native.device_call("pairwise_hinge_sweep", y.device, *args, 4) == 0
    with pytest.raises(ValueError, match="longest"):
        _C.pairwise_hinge_sweep_device(_native.TWIN, *args, -1, 0, 0, 0, 0)


TOPK_CASES = [case for case in LIST_CASES if case[0] == "lambdarank" and case[1][0] > 0] + [
    ("lambdarank", (1, 0, 0, 1.0, 1.0)),
    ("lambdarank", (40, 1, 1, 0.5, 1.0)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(TOPK_CASES)))
@given(data=lists(max_size=150), single=st.booleans())
def test_lambdarank_topk_matches_cpu(backend, case, data, single):
    _, hyper = TOPK_CASES[case]
    s, y, sizes = data
    with long_list_algorithms():
        check_list_op(backend, "lambdarank", hyper, s, y, offsets_of(sizes), torch.float32 if single else torch.float64)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(TOPK_CASES)))
def test_lambdarank_topk_edge_shapes_and_long_lists(backend, case):
    _, hyper = TOPK_CASES[case]
    gen = torch.Generator().manual_seed(case)
    with long_list_algorithms():
        # 5000 items: three partner chunks for each of the first k items.
        for sizes in ([0], [1], [2, 0, 1], [0, 0], [3, 3], [32] * 50, [5000], [2100, 0, 1900]):
            n = sum(sizes)
            s = torch.randn(n, generator=gen, dtype=torch.float64)
            for y in (torch.randint(0, 4, (n,), generator=gen).double(), torch.zeros(n, dtype=torch.float64),
                      torch.rand(n, generator=gen, dtype=torch.float64) * 3):
                check_list_op(backend, "lambdarank", hyper, s, y, offsets_of(sizes))
        s = torch.tensor([0.0, -0.0, 1.0, 1.0, 0.5] * 30, dtype=torch.float64)  # tied scores: ranks by index
        check_list_op(backend, "lambdarank", hyper, s, torch.arange(150.0) % 7, offsets_of([150]))


def test_long_lists_take_their_device_algorithms(monkeypatch):
    """Through the op runner: a list longer than DEVICE_LIST_MAX takes the long-list device
    algorithm of its op (or stays), shorter ones the item-parallel kernel; all agree with the CPU."""
    monkeypatch.setattr(_custom_ops, "DEVICE_LIST_MAX", 100)
    calls = []
    real_call = _native.device_call
    monkeypatch.setattr(_native, "device_call", lambda name, *args: calls.append(name) or real_call(name, *args))
    gen = torch.Generator().manual_seed(3)
    for name, hyper, long_op in (("pairwise_hinge", (1.0, True, True, 1), "pairwise_hinge_sweep"),
                                 ("lambdarank", (10, 0, 0, 1.0, 1.0), "lambdarank_topk"),
                                 ("lambdarank", (-1, 0, 0, 1.0, 1.0), "lambdarank"),
                                 ("pairwise_logistic", (1.0,), "pairwise_logistic")):
        for sizes, expected in (([101, 7], long_op), ([100, 90], name)):
            n = sum(sizes)
            s, y = torch.randn(n, generator=gen, dtype=torch.float64), torch.rand(n, generator=gen, dtype=torch.float64)
            check_list_op("twin", name, hyper, s, y, offsets_of(sizes))
            assert set(calls) == {expected}
            calls.clear()


def test_lambdarank_topk_rejects_bad_values():
    s = torch.tensor([0.1, float("nan"), 0.3, 0.2], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 2.0, 1.0], dtype=torch.float64)
    off = torch.tensor([0, 4])
    with long_list_algorithms():
        with pytest.raises(ValueError, match="scores contain NaN"):
            _run("lambdarank", "device", s, y, off, 2, 2, 0, 0, 1.0, 1.0)
        with pytest.raises(ValueError, match="overflow"):
            _run("lambdarank", "device", y, y * 600, off, 2, 2, 0, 0, 1.0, 1.0)
    loss, grad = torch.empty(()), torch.empty_like(y)
    args = (1, y.data_ptr(), y.data_ptr(), off.data_ptr(), 1, 4, 2, 2, 0, 0, 1.0, 1.0, loss.data_ptr(),
            grad.data_ptr())
    assert _native.device_call("lambdarank_topk", y.device, *args, 3) & _C.STATUS_BAD_OFFSETS  # the list has 4 items
    with pytest.raises(ValueError, match="k >= 1"):
        _C.lambdarank_topk_device(_native.TWIN, *args[:7], -1, *args[8:], 4, 0, 0, 0, 0)


@pytest.mark.parametrize("case", range(len(HINGE_CASES + TOPK_CASES)))
def test_long_list_algorithms_without_reading_back(case, monkeypatch):
    """Inside a CUDA graph capture the sweep cannot read the level count back (it makes
    log2(longest) passes) nor the top-k algorithm its unit count (it launches its bound):
    the twin takes those paths when asked to, and the results are the same."""
    monkeypatch.setattr(_native, "TWIN_STREAM", _C.TWIN_AS_IF_CAPTURED)
    name, hyper = (HINGE_CASES + TOPK_CASES)[case]
    gen = torch.Generator().manual_seed(case)
    with long_list_algorithms():
        for sizes in ([3000], [5, 0, 700, 64]):
            n = sum(sizes)
            s = torch.randn(n, generator=gen, dtype=torch.float64)
            check_list_op("twin", name, hyper, s, torch.randint(0, 3, (n,), generator=gen).double(), offsets_of(sizes))
    x = torch.randint(0, 50, (3000,), generator=gen).double()
    y = x.flip(0) + torch.randint(0, 4, (3000,), generator=gen)
    with mock.patch.object(fastrank.metrics, "KENDALL_ITEM_PARALLEL_MAX", 0):
        assert fastrank.metrics._kendall_on_device(x, y) == pytest.approx(fastrank.metrics.kendall_tau(x.numpy(), y.numpy()),
                                                                          rel=1e-12)


BAD_OFFSETS = [[0, 5, 3, 8], [0, 3, 9], [0, -2, 8], [1, 4, 8], [0, 4, 7], [0, 8, 8, 4, 8], [0, 12, 8]]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", range(len(LIST_CASES)))
@pytest.mark.parametrize("long_lists", [False, True], ids=["item_parallel", "long_list_algorithms"])
def test_bad_offsets_are_reported_by_every_device_algorithm(backend, case, long_lists):
    """The device algorithms check the offsets themselves (no sync in the caller) and clamp
    them before indexing, so every bad set is reported as an error, never read past."""
    name, hyper = LIST_CASES[case]
    s = torch.linspace(-1, 1, 8, dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 2.0, 1.0, 0.0, 3.0, 2.0, 1.0], dtype=torch.float64)
    for bad in BAD_OFFSETS + [[0], [8]]:
        with contextlib.ExitStack() as stack:
            if long_lists:
                stack.enter_context(long_list_algorithms())
            with pytest.raises(ValueError, match="offsets"):
                on_device(backend, name, s, y, torch.tensor(bad), 2, *hyper)


def test_workspace_query_and_too_small_workspace():
    s = torch.randn(10, dtype=torch.float64)
    off = torch.tensor([0, 4, 10])
    loss, grad = torch.empty(()), torch.empty_like(s)
    args = (1, s.data_ptr(), s.data_ptr(), off.data_ptr(), 2, 10, 2, 5, 0, 1, 1.0, 1.0, loss.data_ptr(),
            grad.data_ptr())
    need = _C.lambdarank_device(_native.TWIN, *args, 0, 0, 0, 0)
    assert need >= 10 * 8 * 6  # per-item arrays of doubles
    small = torch.empty(need - 1, dtype=torch.uint8)
    status = torch.zeros(1, dtype=torch.int32)
    assert _C.lambdarank_device(_native.TWIN, *args, small.data_ptr(), need - 1, status.data_ptr(), 0) == \
        _C.DEVICE_WORKSPACE_TOO_SMALL
    if not _C.has_cuda:
        assert _C.lambdarank_device(_native.CUDA, *args, 0, 0, 0, 0) == _C.DEVICE_BUILT_WITHOUT_CUDA
