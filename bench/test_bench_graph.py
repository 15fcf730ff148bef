"""The graph predictor: a 4-layer width-64 GCN + MLP head on NB201 cells. Adam training
step at batch 32 (MSE) and scoring all 15,625 cells: fastrank against the same model in
plain torch ops and a torch_geometric DenseGCNConv model, in the same run; plus batched
graph encoding, native against Python.

Training rows: "fastrank" is GCNPredictor.train_step with FusedAdam (native forward,
backward and update); "fastrank_autograd" the same predictor in an ordinary torch step
(fused propagation op, torch Adam); plain torch with torch's default Adam and with
Adam(fused=True), the fastest torch optimizer on CPU."""
from __future__ import annotations

import importlib.util

import pytest
import torch

import reference as ref
from bench_utils import base_impl, run, with_cpu_targets
from fastrank.graph import GCNEncoder, GCNPredictor, encode_architectures, encode_codes
from fastrank.optim import FusedAdam
from fastrank.spaces import get_space

SPACE = get_space("nb201")
ADJ, OPS, MASK = encode_codes(SPACE, torch.arange(SPACE.size))
WIDTH, LAYERS = 64, 4
HAS_PYG = importlib.util.find_spec("torch_geometric") is not None


class PlainGCN(torch.nn.Module):
    """The same model as GCNEncoder with the propagation in plain torch ops."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(len(SPACE.node_ops), WIDTH)
        self.linears = torch.nn.ModuleList(torch.nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS))

    def forward(self, adj, ops, mask):
        h = self.embed(ops)
        for linear in self.linears:
            h = ref.gcn_propagate(linear(h), adj)
        w = mask.to(h.dtype).unsqueeze(-1)
        return (h * w).sum(1) / w.sum(1)


class PygGCN(torch.nn.Module):
    """torch_geometric's dense GCN layers (symmetric normalisation, one direction)."""

    def __init__(self):
        super().__init__()
        from torch_geometric.nn import DenseGCNConv

        self.embed = torch.nn.Embedding(len(SPACE.node_ops), WIDTH)
        self.convs = torch.nn.ModuleList(DenseGCNConv(WIDTH, WIDTH) for _ in range(LAYERS))

    def forward(self, adj, ops, mask):
        h = self.embed(ops)
        for conv in self.convs:
            h = torch.relu(conv(h, adj, mask))
        w = mask.to(h.dtype).unsqueeze(-1)
        return (h * w).sum(1) / w.sum(1)


def predictor(impl):
    torch.manual_seed(0)
    if impl == "torch_geometric" and not HAS_PYG:
        pytest.skip("torch_geometric is not installed")
    encoder = {"fastrank": lambda: GCNEncoder(len(SPACE.node_ops), WIDTH, LAYERS), "plain_torch": PlainGCN,
               "torch_geometric": PygGCN}[impl]()
    head = torch.nn.Sequential(torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, 1))
    return encoder, head


IMPLS = ["fastrank", "plain_torch", "torch_geometric"]
TRAIN_IMPLS = with_cpu_targets(["fastrank", "fastrank_autograd", "plain_torch", "plain_torch_fused_adam",
                                 "torch_geometric"])


def training_step(impl):
    """One Adam training step (MSE, batch 32 of NB201) of implementation `impl`, as a closure."""
    gen = torch.Generator().manual_seed(1)
    idx = torch.randint(0, SPACE.size, (32,), generator=gen)
    adj, ops, mask, y = ADJ[idx], OPS[idx], MASK[idx], torch.rand(32, generator=gen)
    mse = torch.nn.functional.mse_loss
    if base_impl(impl) == "fastrank":
        torch.manual_seed(0)
        model = GCNPredictor(len(SPACE.node_ops), WIDTH, LAYERS)
        opt = FusedAdam(model.parameters(), lr=1e-3)
        return lambda: model.train_step(adj, ops, mask, y, opt, mse)
    if impl == "fastrank_autograd":
        torch.manual_seed(0)
        model = GCNPredictor(len(SPACE.node_ops), WIDTH, LAYERS)
        forward = model
    else:
        encoder, head = predictor(impl.removesuffix("_fused_adam"))
        model = torch.nn.ModuleList([encoder, head])
        forward = lambda a, o, m: head(encoder(a, o, m)).squeeze(-1)  # noqa: E731
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, **({"fused": True} if "fused" in impl else {}))

    def step():
        opt.zero_grad()
        loss = mse(forward(adj, ops, mask), y)
        loss.backward()
        opt.step()

    return step


@pytest.mark.parametrize("impl", TRAIN_IMPLS)
def test_training_step(benchmark, impl):
    run(benchmark, "GCN predictor: Adam training step, batch 32 (NB201)", impl, 32, training_step(impl))


@pytest.mark.parametrize("impl", with_cpu_targets(IMPLS))
def test_score_all_nb201(benchmark, impl):
    encoder, head = predictor(base_impl(impl))

    def score():
        with torch.no_grad():
            return head(encoder(ADJ, OPS, MASK)).squeeze(-1)

    run(benchmark, "GCN predictor: score all 15,625 NB201 cells", impl, SPACE.size, score, slow=True, rounds=5)


@pytest.mark.parametrize("impl", ["fastrank", "python"])
def test_encode_all_nb201(benchmark, impl):
    codes = torch.arange(SPACE.size)
    if impl == "fastrank":
        fn = lambda: encode_codes(SPACE, codes)  # noqa: E731
    else:
        archs = [SPACE.decode(int(c)) for c in codes]
        fn = lambda: encode_architectures(SPACE, archs)  # noqa: E731
    run(benchmark, "graph encoding of all 15,625 NB201 cells", impl, SPACE.size, fn, slow=impl != "fastrank")
