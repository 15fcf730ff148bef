"""The device algorithms (src/cuda) against the CPU kernels, on two backends:

- "twin": the host build of the same item functions the CUDA kernels run (always runs,
  so every machine executes the GPU algorithms' arithmetic and indexing);
- "cuda": the CUDA kernels through the public API (skipped without a usable GPU).

The CPU kernels are themselves tested against dense references (test_ranking_ops.py).
"""
from __future__ import annotations

import contextlib
import importlib
import math
from unittest import mock

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import fastrank
from fastrank import _C
from fastrank import _native
from fastrank.ops import _custom_ops
from fastrank.ops._custom_ops import _run
from fastrank.spaces import NASBench201, NASBenchMacro, TransNASMacro, TransNASMicro
from test_ranking_ops import lists

# The modules, not the functions fastrank.graph re-exports under the same names.
graph_encode = importlib.import_module("fastrank.graph.encoding")
gcn = importlib.import_module("fastrank.graph.gcn")

HAS_CUDA = fastrank.cuda_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no usable CUDA device (fastrank.cuda_available() is False)")
BACKENDS = ["twin", pytest.param("cuda", marks=needs_cuda)]

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


def assert_close(ours, theirs, dtype):
    rtol = 1e-9 if dtype == torch.float64 else 1e-5
    scale = 1.0 + (float(theirs.abs().max()) if theirs.numel() else 0.0)
    torch.testing.assert_close(ours, theirs, rtol=rtol, atol=rtol * scale)


def check_list_op(backend, name, hyper, s, y, offsets, dtype=torch.float64):
    s, y = s.to(dtype), y.to(dtype)
    for reduction in (0, 1, 2):
        expected = _run(name, "cpu", s, y, offsets, reduction, *hyper)
        got = on_device(backend, name, s, y, offsets, reduction, *hyper)
        assert_close(got[0], expected[0], dtype)
        assert_close(got[1], expected[1], dtype)


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


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("space", [NASBench201(), TransNASMicro(), NASBenchMacro(), TransNASMacro()],
                         ids=lambda sp: type(sp).__name__)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_graph_encoding_matches_cpu(backend, space, dtype):
    codes = torch.arange(space.size)
    expected = graph_encode.encode_codes(space, codes, dtype)
    if backend == "twin":
        got = graph_encode._encode(space, graph_encode._NATIVE_TAGS[type(space)], codes, dtype, "device")
    else:
        got = [t.cpu() for t in graph_encode.encode_codes(space, codes.cuda(), dtype)]
    for a, b in zip(got, expected):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="codes must lie"):
        bad = torch.tensor([0, space.size])
        if backend == "twin":
            graph_encode._encode(space, graph_encode._NATIVE_TAGS[type(space)], bad, dtype, "device")
        else:
            graph_encode.encode_codes(space, bad.cuda(), dtype)


def random_graphs(batch, nodes, features, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    adj = (torch.rand(batch, nodes, nodes, generator=gen) < 0.3).to(dtype).triu(1)
    adj = adj * torch.rand(batch, nodes, nodes, generator=gen, dtype=torch.float64).to(dtype).add(0.5)
    h = torch.randn(batch, nodes, features, generator=gen, dtype=torch.float64).to(dtype)
    return h, adj


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(5, 8, 16), (3, 1, 4), (2, 33, 7), (0, 8, 4)])
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gcn_propagation_matches_cpu(backend, shape, relu, dtype):
    h, adj = random_graphs(*shape, dtype, seed=sum(shape))
    d_out = torch.randn_like(h)
    out = gcn._propagate("cpu", h, adj, relu)
    d_h = gcn._propagate_backward("cpu", d_out, adj, out, relu)
    if backend == "twin":
        got_out = gcn._propagate("device", h, adj, relu)
        got_d_h = gcn._propagate_backward("device", d_out, adj, got_out, relu)
    else:
        hc = h.cuda().requires_grad_(True)
        oc = fastrank.graph.gcn_propagate(hc, adj.cuda(), "relu" if relu else None)
        oc.backward(d_out.cuda())
        got_out, got_d_h = oc.detach().cpu(), hc.grad.cpu()
    assert_close(got_out, out, dtype)
    assert_close(got_d_h, d_h, dtype)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gcn_propagation_reports_bad_values(backend):
    h, adj = random_graphs(2, 4, 3, torch.float64, seed=1)
    run = ((lambda a, b, r: gcn._propagate("device", a, b, r)) if backend == "twin"
           else (lambda a, b, r: gcn._propagate("device", a.cuda(), b.cuda(), r)))
    bad = adj.clone()
    bad[1, 0, 2] = -1.0
    with pytest.raises(ValueError, match="adj must be finite and non-negative"):
        run(h, bad, True)
    h[0, 1, 1] = float("inf")
    with pytest.raises(ValueError, match="h contains NaN"):
        run(h, adj, True)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n,levels", [(0, 3), (1, 3), (2, 2), (50, 3), (300, 1000), (257, 1), (2000, 40)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("algorithm", ["item_parallel", "sweep"])
def test_kendall_tau_matches_cpu(backend, n, levels, dtype, algorithm, monkeypatch):
    # The sweep takes every input when the item-parallel limit is 0.
    monkeypatch.setattr(fastrank.metrics, "KENDALL_ITEM_PARALLEL_MAX", 1 << 16 if algorithm == "item_parallel" else 0)
    gen = torch.Generator().manual_seed(n + levels)
    x = torch.randint(0, levels, (n,), generator=gen).to(dtype)
    y = (x + torch.randint(0, 3, (n,), generator=gen)).to(dtype)
    if levels > 100:  # mostly distinct values, some negative zeros among the zeros
        x, y = x - levels / 2, y.flip(0) - levels / 2
        x[x == 0] = -0.0
    expected = fastrank.metrics.kendall_tau(x.numpy(), y.numpy())
    if backend == "twin":
        got = fastrank.metrics._kendall_on_device(x, y)
    else:
        got = fastrank.metrics.kendall_tau(x.cuda(), y.cuda())
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@given(n=st.integers(0, 400), x_levels=st.integers(1, 500), y_levels=st.integers(1, 500),
       seed=st.integers(0, 2**31 - 1))
def test_kendall_tau_sweep_matches_cpu_on_random_ties(backend, n, x_levels, y_levels, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, x_levels, (n,), generator=gen).double() / 7
    y = torch.randint(0, y_levels, (n,), generator=gen).double() - x * (seed % 3)
    expected = fastrank.metrics.kendall_tau(x.numpy(), y.numpy())
    with mock.patch.object(fastrank.metrics, "KENDALL_ITEM_PARALLEL_MAX", 0):
        got = fastrank.metrics._kendall_on_device(x if backend == "twin" else x.cuda(),
                                                  y if backend == "twin" else y.cuda())
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, rel=1e-12, abs=1e-12)


# --- CUDA only: autograd, torch.library checks, CUDA graphs, device errors ---------------

@needs_cuda
@pytest.mark.parametrize("call", [
    lambda s, y: fastrank.pairwise_hinge(s, y, group_sizes=[6, 8]),
    lambda s, y: fastrank.pairwise_squared_hinge(s, y, 0.5, pair_weight=True),
    lambda s, y: fastrank.pairwise_logistic(s, y, 2.0, reduction="sum"),
    lambda s, y: fastrank.lambdarank(s, y, 5, group_sizes=[9, 5]),
    lambda s, y: fastrank.lambdarank(s, y, 4, pair_loss="squared_hinge", reduction="none", group_sizes=[5, 9]),
])
def test_cuda_gradcheck(call):
    gen = torch.Generator().manual_seed(11)
    s = (torch.randn(14, generator=gen, dtype=torch.float64) * 0.8).cuda().requires_grad_(True)
    y = torch.randint(0, 4, (14,), generator=gen).double().cuda()
    assert torch.autograd.gradcheck(lambda x: call(x, y), (s,), eps=1e-6, atol=1e-7)


@needs_cuda
def test_cuda_opcheck():
    gen = torch.Generator().manual_seed(5)
    s = torch.randn(20, generator=gen, dtype=torch.float64).cuda().requires_grad_(True)
    y = torch.randint(0, 4, (20,), generator=gen).double().cuda()
    offsets = torch.tensor([0, 6, 6, 20]).cuda()
    torch.library.opcheck(torch.ops.fastrank.pairwise_hinge.default, (s, y, offsets, 2, 1.0, False, True, 0))
    torch.library.opcheck(torch.ops.fastrank.pairwise_logistic.default, (s, y, offsets, 1, 1.0))
    torch.library.opcheck(torch.ops.fastrank.lambdarank.default, (s, y, offsets, 0, 5, 0, 0, 1.0, 1.0))
    h, adj = random_graphs(3, 6, 5, torch.float64, seed=2)
    torch.library.opcheck(torch.ops.fastrank.gcn_propagate.default, (h.cuda().requires_grad_(True), adj.cuda(), True))


@needs_cuda
def test_cuda_graph_captures_a_training_step():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.randn(64, 32, 8, device="cuda")
    y = torch.randint(0, 5, (64, 32), device="cuda").float()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = fastrank.pairwise_hinge(model(x).squeeze(-1), y)
        loss.backward()
        opt.step()
        return loss

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = step()
    for _ in range(3):
        with torch.no_grad():
            expected = fastrank.pairwise_hinge(model(x).squeeze(-1), y).item()
        graph.replay()
        torch.cuda.synchronize()
        assert captured.item() == pytest.approx(expected, rel=1e-5)


@needs_cuda
def test_cuda_rejects_mixed_devices():
    s = torch.randn(5, device="cuda")
    with pytest.raises(ValueError, match="on cpu but scores is on cuda"):
        fastrank.pairwise_hinge(s, torch.arange(5.0))
    with pytest.raises(ValueError, match="adj is on"):
        fastrank.graph.gcn_propagate(torch.randn(1, 3, 2, device="cuda"), torch.zeros(1, 3, 3))


def test_cuda_available_is_a_bool_and_import_needs_no_driver():
    assert isinstance(fastrank.cuda_available(), bool)
    if not torch.cuda.is_available():
        assert fastrank.cuda_available() is False
