"""The search benchmark's baseline: fastrank's GCN predictor written in plain torch ops.

``PlainGCNPredictor`` has GCNPredictor's architecture *and* parameter layout (same module
names, same construction order), so a ``state_dict`` moves between the two and, under the
same seed, both start from the same weights. ``PlainTorchPredictor`` is a
:class:`fastrank.Predictor` that builds it with ``native=False``: fit runs torch autograd and
``torch.optim.Adam``, scoring runs this module's forward under ``no_grad``. Everything else
(encoding, target scaling, batch order, the loss module) is the Predictor's own, so a
search with it differs from the default only in the model's arithmetic.

    python bench/plain_gcn.py     # checks the outputs and gradients against GCNPredictor
"""
from __future__ import annotations

import torch

import fastrank


def propagation_matrix(adj: torch.Tensor) -> torch.Tensor:
    """½(D_f⁻¹(A+I) + D_b⁻¹(Aᵀ+I)) for a batch (B, N, N).

    Built once per forward and reused by every layer: the adjacency is data, so a careful
    torch user would not renormalise it per layer, and the baseline should be that user.
    """
    eye = torch.eye(adj.shape[-1], dtype=adj.dtype, device=adj.device)
    forward = adj + eye
    backward = adj.transpose(1, 2) + eye
    return 0.5 * (forward / forward.sum(2, keepdim=True) + backward / backward.sum(2, keepdim=True))


class PlainGCNEncoder(torch.nn.Module):
    """GCNEncoder in dense torch ops (mean pooling): embedding → first linear on the op
    table → ``layers`` × (propagate, ReLU), the later layers each after their linear."""

    def __init__(self, n_ops: int, width: int = 64, layers: int = 4):
        super().__init__()
        # Same attribute names and creation order as GCNEncoder: identical state_dict keys and
        # identical initial weights under the same torch seed.
        self.embed = torch.nn.Embedding(n_ops, width)
        self.linears = torch.nn.ModuleList(torch.nn.Linear(width, width) for _ in range(layers))

    def forward(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        adj = adj.to(self.embed.weight.dtype)
        prop = propagation_matrix(adj)
        first, *rest = self.linears
        # GCNEncoder applies the first linear to the n_ops-row table, then gathers; doing the
        # same keeps the rounding order close and is the cheaper way in torch too.
        h = torch.relu(torch.bmm(prop, first(self.embed.weight)[ops]))
        for linear in rest:
            h = torch.relu(torch.bmm(prop, linear(h)))
        weights = mask.to(h.dtype).unsqueeze(-1)
        return (h * weights).sum(1) / weights.sum(1).clamp_min(1)


class PlainGCNPredictor(torch.nn.Module):
    """PlainGCNEncoder → Linear(width, hidden) → ReLU → Linear(hidden, 1), as GCNPredictor."""

    def __init__(self, n_ops: int, width: int = 64, layers: int = 4, hidden: int = None):
        super().__init__()
        self.encoder = PlainGCNEncoder(n_ops, width, layers)
        hidden = width if hidden is None else hidden
        self.head = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def forward(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(adj, ops, mask)).squeeze(-1)


class PlainTorchPredictor(fastrank.Predictor):
    """fastrank.Predictor over PlainGCNPredictor, trained with torch autograd + torch Adam."""

    def __init__(self, space, encoder: str = "gcn", *args, **kwargs):
        if encoder != "gcn":
            raise ValueError("PlainTorchPredictor is the GCN baseline; encoder must be 'gcn'")
        kwargs["native"] = False  # fit then takes the torch.optim.Adam + autograd path
        super().__init__(space, encoder, *args, **kwargs)

    def build_model(self) -> torch.nn.Module:
        return PlainGCNPredictor(len(self.space.node_ops), self.width, self.layers, self.hidden)


def _check() -> None:
    """Same weights → same scores and gradients as GCNPredictor, on all of NB201 (float32)."""
    from fastrank.graph import GCNPredictor, encode_codes
    from fastrank.spaces import get_space

    space = get_space("nb201")
    adj, ops, mask = encode_codes(space, torch.arange(space.size))
    torch.manual_seed(0)
    native = GCNPredictor(len(space.node_ops))
    torch.manual_seed(0)
    plain = PlainGCNPredictor(len(space.node_ops))
    init_equal = all(torch.equal(a, b) for a, b in zip(native.state_dict().values(), plain.state_dict().values()))
    # Perturb the weights so that the check does not rest on the initialisation alone.
    with torch.no_grad():
        for p in native.parameters():
            p.add_(0.1 * torch.randn_like(p))
    plain.load_state_dict(native.state_dict())
    with torch.no_grad():
        a, b = native(adj, ops, mask), plain(adj, ops, mask)  # native: the fused inference kernel
    print(f"same initial weights under one seed: {init_equal}")
    print(f"scores, all {space.size} cells: max |diff| {float((a - b).abs().max()):.2e}, "
          f"max |score| {float(a.abs().max()):.3f}")
    idx = torch.arange(0, space.size, 97)
    target = torch.randn(idx.numel())
    grads = []
    for model in (native, plain):
        model.zero_grad()
        torch.nn.functional.mse_loss(model(adj[idx], ops[idx], mask[idx]), target).backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    worst = max(float((g - h).abs().max() / h.abs().max().clamp_min(1e-12)) for g, h in zip(*grads))
    print(f"gradients (autograd through both, MSE, {idx.numel()} cells): max relative diff {worst:.2e}")
    assert init_equal
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert worst < 1e-4


if __name__ == "__main__":
    _check()
