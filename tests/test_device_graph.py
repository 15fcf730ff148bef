"""Graph encoding and GCN propagation: the device algorithms (CUDA, or their host twin)
against the CPU kernels."""
from __future__ import annotations

import pytest
import torch

import fastrank
from fastrank.graph import encoding as graph_encode
from fastrank.graph import gcn
from fastrank.spaces import NASBench201, NASBenchMacro, TransNASMacro, TransNASMicro
from helpers import BACKENDS, assert_close_in, random_graphs


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
    assert_close_in(got_out, out, dtype)
    assert_close_in(got_d_h, d_h, dtype)


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
