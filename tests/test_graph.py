"""Fused GCN propagation against plain torch and torch_geometric; the graph encoders."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

import reference as ref
from fastrank import metrics
from fastrank.graph import GCNEncoder, GINEncoder, encode_codes, gcn_propagate
from fastrank.spaces import get_space


def random_dags(batch, nodes, features, dtype=torch.float64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    adj = (torch.rand(batch, nodes, nodes, generator=gen) < 0.35).to(dtype).triu(1)
    h = torch.randn(batch, nodes, features, generator=gen, dtype=dtype)
    return h, adj


@pytest.mark.parametrize("activation", ["relu", None])
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 8, 16), (3, 32, 5), (2, 64, 3), (0, 8, 4)])
def test_matches_plain_torch(shape, activation):
    h, adj = random_dags(*shape)
    a, b = h.clone().requires_grad_(True), h.clone().requires_grad_(True)
    ours = gcn_propagate(a, adj, activation)
    theirs = ref.gcn_propagate(b, adj, activation == "relu")
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    w = torch.randn_like(ours)
    (ours * w).sum().backward()
    (theirs * w).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-12, atol=1e-12)


def test_float32_and_weighted_edges():
    h, adj = random_dags(4, 10, 6, dtype=torch.float32)
    adj = adj * torch.rand_like(adj) * 3  # non-negative edge weights
    torch.testing.assert_close(gcn_propagate(h, adj), ref.gcn_propagate(h.double(), adj.double()).float(),
                               rtol=1e-5, atol=1e-6)


def test_gradcheck_and_opcheck():
    h, adj = random_dags(3, 6, 4)
    h.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: gcn_propagate(x, adj, None), (h,))
    torch.library.opcheck(torch.ops.fastrank.gcn_propagate.default, (h, adj, True))
    torch.library.opcheck(torch.ops.fastrank.gcn_propagate.default, (h.float().detach().requires_grad_(True),
                                                                     adj.float(), False))


def test_compiled_encoder_matches_eager():
    torch.manual_seed(0)
    space = get_space("nb201")
    adj, ops, mask = encode_codes(space, torch.arange(0, 15625, 997))
    enc = GCNEncoder(len(space.node_ops), width=16, layers=2)
    eager = enc(adj, ops, mask)
    compiled = torch.compile(enc, backend="aot_eager")(adj, ops, mask)
    torch.testing.assert_close(compiled, eager)
    compiled.sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_gcn_encoder_equals_its_plain_torch_formula():
    torch.manual_seed(3)
    space = get_space("tnb101_macro")
    adj, ops, mask = encode_codes(space, torch.arange(0, space.size, 37), torch.float64)
    enc = GCNEncoder(len(space.node_ops), width=12, layers=3).double()
    h = enc.embed(ops)
    for linear in enc.linears:
        h = ref.gcn_propagate(linear(h), adj)
    w = mask.double().unsqueeze(-1)
    torch.testing.assert_close(enc(adj, ops, mask), (h * w).sum(1) / w.sum(1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("width,layers,pooling,dtype", [(64, 4, "mean", torch.float32), (48, 1, "sum", torch.float64),
                                                        (32, 3, "sum", torch.float32), (7, 2, "mean", torch.float64)])
def test_native_inference_equals_the_autograd_path(width, layers, pooling, dtype):
    torch.manual_seed(4)
    space = get_space("nasbench_macro")  # chain graphs with padded nodes exercise the mask
    adj, ops, mask = encode_codes(space, torch.arange(0, space.size, 13), dtype)
    enc = GCNEncoder(len(space.node_ops), width=width, layers=layers, pooling=pooling).to(dtype)
    with torch.no_grad():
        fast = enc(adj, ops, mask)  # one native call per batch
    slow = enc(adj, ops, mask)  # grad enabled: the op-by-op path
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(fast, slow.detach(), rtol=tol, atol=tol)
    with torch.no_grad(), pytest.raises(ValueError, match="ops must be op ids"):
        enc(adj, ops + 100, mask)
    with torch.no_grad(), pytest.raises(ValueError, match="finite and non-negative"):
        enc(-adj, ops, mask)


@pytest.mark.skipif(importlib.util.find_spec("torch_geometric") is None, reason="torch_geometric not installed")
def test_equals_dense_gcn_conv_on_regular_undirected_graphs():
    # On an undirected regular graph D^-1/2 (A+I) D^-1/2 = D^-1 (A+I) and both directions agree,
    # so PyG's DenseGCNConv (without bias) equals our propagation of X W.
    from torch_geometric.nn import DenseGCNConv

    n = 9
    ring = torch.zeros(n, n, dtype=torch.float64)
    idx = torch.arange(n)
    ring[idx, (idx + 1) % n] = ring[(idx + 1) % n, idx] = 1
    adj = ring.expand(4, n, n).contiguous()
    x = torch.randn(4, n, 5, dtype=torch.float64)
    conv = DenseGCNConv(5, 3, bias=False).double()
    theirs = conv(x, adj)
    ours = gcn_propagate(conv.lin(x), adj, None)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_errors():
    h, adj = random_dags(2, 5, 3)
    with pytest.raises(ValueError, match="must not require grad"):
        gcn_propagate(h, adj.clone().requires_grad_(True))
    with pytest.raises(ValueError, match="finite and non-negative"):
        gcn_propagate(h, -adj)
    bad = h.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="h contains NaN"):
        gcn_propagate(bad, adj)
    with pytest.raises(ValueError, match="\\(batch, nodes, features\\)"):
        gcn_propagate(h, adj[:, :4, :4])
    with pytest.raises(ValueError, match="at most 64 nodes"):
        gcn_propagate(torch.zeros(1, 65, 2), torch.zeros(1, 65, 65))
    with pytest.raises(TypeError, match="floating-point"):
        gcn_propagate(h.long(), adj)
    with pytest.raises(ValueError, match="activation"):
        gcn_propagate(h, adj, "tanh")
    with pytest.raises(RuntimeError, match="double backward"):
        x = h.clone().requires_grad_(True)
        torch.autograd.grad(gcn_propagate(x, adj).sum(), x, create_graph=True)


@pytest.mark.parametrize("encoder", [GCNEncoder, GINEncoder])
def test_encoder_learns_nb201_ranking(encoder):
    """A predictor on 200 random NB201 cells, with cell labels from a fixed random op-value
    table (a learnable, structure-dependent target), ranks held-out cells well."""
    torch.manual_seed(0)
    space = get_space("nb201")
    rng = np.random.default_rng(0)
    codes = torch.from_numpy(rng.choice(space.size, 400, replace=False))
    adj, ops, mask = encode_codes(space, codes)
    value = torch.randn(len(space.node_ops))
    y = torch.tanh((value[ops] * (adj.sum(1) + 1)).sum(1) / 4)  # depends on ops and on wiring
    model = torch.nn.ModuleDict({"enc": encoder(len(space.node_ops), width=32, layers=3),
                                 "head": torch.nn.Linear(32, 1)})
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    predict = lambda sl: model["head"](model["enc"](adj[sl], ops[sl], mask[sl])).squeeze(-1)  # noqa: E731
    before = metrics.kendall_tau(predict(slice(200, 400)), y[200:])
    for _ in range(300):
        idx = torch.randint(0, 200, (32,))
        opt.zero_grad()
        torch.nn.functional.mse_loss(model["head"](model["enc"](adj[idx], ops[idx], mask[idx])).squeeze(-1),
                                     y[idx]).backward()
        opt.step()
    after = metrics.kendall_tau(predict(slice(200, 400)), y[200:])
    assert after > 0.6 and after > before + 0.2, (before, after)


def test_op_ids_out_of_range_are_refused_with_and_without_grad():
    from fastrank.graph import GCNEncoder, GCNPredictor, GINEncoder

    adj = torch.zeros(2, 3, 3)
    mask = torch.ones(2, 3, dtype=torch.bool)
    for bad in (-1, 4):
        ops = torch.tensor([[0, 1, 2], [0, bad, 1]])
        for model in (GCNEncoder(4, 8, 2), GINEncoder(4, 8, 2), GCNPredictor(4, 8, 2)):
            with pytest.raises(ValueError, match="op ids in 0..3"):
                model(adj, ops, mask)  # grad mode: the torch path
            with torch.no_grad(), pytest.raises(ValueError, match="op ids in 0..3"):
                model(adj, ops, mask)
