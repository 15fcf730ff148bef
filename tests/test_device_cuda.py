"""CUDA only (skipped without a usable GPU): autograd, torch.library checks, CUDA graphs,
device errors; and that importing fastrank needs no GPU driver."""
from __future__ import annotations

import pytest
import torch

import fastrank
from helpers import needs_cuda, random_graphs


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
