"""A graph autoencoder (GAE) of architectures, as proxy-validation search learns its
representation: a GIN encoder maps each node to a latent vector, a decoder reconstructs the
node operations (softmax over the vocabulary) and the edges (sigmoid of latent inner products).

Node features are operation *distributions* (one-hot for an architecture, a softmax for a
relaxed one) and the adjacency may hold edge probabilities, so the embedding is differentiable
with respect to both: what proxy-validation search needs to move its relaxed architecture.
The layers are dense batched products on graphs of ≤ 16 nodes; fastrank's native graph kernels
(directed GCN propagation with its normalisation) do not compute GIN's sum aggregation, so
the GAE runs in torch ops.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import torch
from .._checks import check_int

__all__ = ["GAE", "GAEEncoder"]


class GAE(torch.nn.Module):
    """``GAE(n_ops, hidden=64, latent=16, layers=3, max_nodes=0)``.

    ``max_nodes > 0`` adds a learned embedding of each node's position (the topological order of
    the cell): without it, nodes with the same operation and neighbourhood get the same latent
    and inner products cannot tell which of them an edge joins.

    ``encode(adj, x, mask) -> (B, N, latent)`` node latents from adjacency (B, N, N) and node
    features (B, N, n_ops); ``embed(adj, x, mask) -> (B, latent)`` their mean over valid nodes
    (the architecture's representation); ``decode(z) -> (op logits, edge logits)``;
    ``reconstruction_loss(adj, ops, mask)`` the training objective on integer op ids.
    """

    def __init__(self, n_ops: int, hidden: int = 64, latent: int = 16, layers: int = 3, max_nodes: int = 0):
        super().__init__()
        for name, value in (("n_ops", n_ops), ("hidden", hidden), ("latent", latent), ("layers", layers)):
            check_int(value, name)
        check_int(max_nodes, "max_nodes", 0)
        self.n_ops = n_ops
        self.inputs = torch.nn.Linear(n_ops, hidden)
        self.positions = torch.nn.Embedding(max_nodes, hidden) if max_nodes else None
        self.mlps = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden))
            for _ in range(layers))
        self.eps = torch.nn.Parameter(torch.zeros(layers))
        # every layer's output reaches the latent (jumping knowledge): a node's own operation
        # is not washed out by its neighbours' sums
        self.to_latent = torch.nn.Linear(hidden * (layers + 1), latent)
        self.op_decoder = torch.nn.Linear(latent, n_ops)

    @staticmethod
    def features(ops: torch.Tensor, n_ops: int, dtype=torch.float32) -> torch.Tensor:
        """One-hot node features of integer op ids (B, N) -> (B, N, n_ops)."""
        return torch.nn.functional.one_hot(ops.long(), n_ops).to(dtype)

    def encode(self, adj: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.n_ops or adj.shape[-1] != x.shape[-2] or mask.shape != x.shape[:-1]:
            raise ValueError(f"expected adj (B, N, N), x (B, N, {self.n_ops}) and mask (B, N); got "
                             f"{tuple(adj.shape)}, {tuple(x.shape)}, {tuple(mask.shape)}")
        valid = mask.to(x.dtype).unsqueeze(-1)
        undirected = adj + adj.transpose(-1, -2)  # GIN aggregates over the undirected view of the DAG
        h = self.inputs(x)
        if self.positions is not None:
            if x.shape[-2] > self.positions.num_embeddings:
                raise ValueError(f"graphs of {x.shape[-2]} nodes, but this GAE knows {self.positions.num_embeddings}")
            h = h + self.positions.weight[:x.shape[-2]]
        h = h * valid
        outputs = [h]
        for eps, mlp in zip(self.eps, self.mlps):
            h = torch.relu(mlp((1 + eps) * h + undirected @ h)) * valid
            outputs.append(h)
        return self.to_latent(torch.cat(outputs, -1)) * valid

    def embed(self, adj: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        z = self.encode(adj, x, mask)
        count = mask.to(z.dtype).sum(-1, keepdim=True).clamp_min(1)
        return z.sum(-2) / count

    def decode(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.op_decoder(z), z @ z.transpose(-1, -2)

    def reconstruction_loss(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the valid nodes' ops plus binary cross-entropy of the edges i → j
        (i < j, both valid: the DAG's upper triangle in topological order)."""
        x = self.features(ops, self.n_ops, adj.dtype)
        op_logits, edge_logits = self.decode(self.encode(adj, x, mask))
        op_loss = torch.nn.functional.cross_entropy(op_logits[mask], ops[mask].long())
        pairs = _upper_pairs(mask)
        edge_loss = torch.nn.functional.binary_cross_entropy_with_logits(edge_logits[pairs], adj[pairs])
        return op_loss + edge_loss

    @torch.no_grad()
    def reconstruct(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor):
        """The decoded architectures: (op ids (B, N), adjacency (B, N, N) of 0/1 above the diagonal)."""
        x = self.features(ops, self.n_ops, adj.dtype)
        op_logits, edge_logits = self.decode(self.encode(adj, x, mask))
        edges = (edge_logits > 0) & _upper_pairs(mask)
        return op_logits.argmax(-1) * mask, edges.to(adj.dtype)

    def reconstruction_accuracy(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> Tuple[float, float]:
        """(share of valid nodes whose op is recovered, share of upper-triangle pairs recovered)."""
        rec_ops, rec_adj = self.reconstruct(adj, ops, mask)
        pairs = _upper_pairs(mask)
        return (float((rec_ops[mask] == ops[mask]).double().mean()),
                float((rec_adj[pairs] == (adj[pairs] > 0.5).to(adj.dtype)).double().mean()))

    def fit(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor, *, epochs: int = 30,
            batch_size: int = 128, lr: float = 3e-3, seed: int = 0) -> List[float]:
        """Unsupervised training on a graph batch; returns the mean loss of each epoch."""
        generator = np.random.default_rng(seed)
        optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        n = adj.shape[0]
        history = []
        self.train()
        for _ in range(epochs):
            order = torch.from_numpy(generator.permutation(n))
            total, batches = 0.0, 0
            for start in range(0, n, batch_size):
                rows = order[start:start + batch_size]
                optimizer.zero_grad()
                loss = self.reconstruction_loss(adj[rows], ops[rows], mask[rows])
                loss.backward()
                optimizer.step()
                total, batches = total + float(loss.detach()), batches + 1
            history.append(total / max(1, batches))
        self.eval()
        return history


class GAEEncoder(torch.nn.Module):
    """A GAE's embedding as a graph encoder of integer op ids, ``forward(adj, ops, mask) ->
    (batch, latent)``: what ``fastrank.Predictor(encoder="gae")`` puts under its head (its
    decoder is unused there; pretrain it with :meth:`GAE.fit` and copy it into ``.gae``)."""

    def __init__(self, n_ops: int, hidden: int = 64, latent: int = 64, layers: int = 3, max_nodes: int = 0):
        super().__init__()
        self.gae = GAE(n_ops, hidden, latent, layers, max_nodes)

    def forward(self, adj: torch.Tensor, ops: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if ops.dtype.is_floating_point or ops.dtype == torch.bool:
            raise TypeError(f"ops must be integer op ids, got {ops.dtype}")
        if ops.numel() and (int(ops.min()) < 0 or int(ops.max()) >= self.gae.n_ops):
            raise ValueError(f"ops must be op ids in 0..{self.gae.n_ops - 1}")
        return self.gae.embed(adj, GAE.features(ops, self.gae.n_ops, adj.dtype), mask)


def _upper_pairs(mask: torch.Tensor) -> torch.Tensor:
    n = mask.shape[-1]
    upper = torch.ones(n, n, dtype=torch.bool, device=mask.device).triu(1)
    return upper & mask.unsqueeze(-1) & mask.unsqueeze(-2)


def pretrained_gae(space, n_ops: int, samples: int = 2000, epochs: int = 30, seed: int = 0,
                   extra: Optional[list] = None, **sizes) -> GAE:
    """A GAE trained on ``samples`` random architectures of ``space`` (plus ``extra`` ones)."""
    from .encoding import encode_architectures

    rng = np.random.default_rng(seed)
    count = samples if space.size is None else min(samples, space.size)
    archs = space.sample_many(count, rng) + list(extra or [])
    adj, ops, mask = encode_architectures(space, archs, torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GAE(n_ops, max_nodes=space.max_nodes, **sizes)
    model.fit(adj, ops, mask, epochs=epochs, seed=seed)
    return model

