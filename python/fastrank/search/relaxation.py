"""A space's architectures as independent categorical decisions, and the expected graph of a
distribution over them: what proxy-validation search moves by gradient descent.

Supported: the cell spaces whose decisions each set one node's operation on a fixed wiring
(NB201, TransNAS-Bench-101 micro) and NAS-Bench-Graph (one decision picks the wiring, four pick
the nodes' operations). For both, every entry of the graph (node-operation one-hots, edges)
depends on one decision only, so the expected graph under independent decisions is the
probability-weighted sum of the per-decision parts: exact, and differentiable in the
probabilities.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import torch

from ..spaces import InvalidArchitecture, NASBenchGraph
from ..spaces.cell import EdgeOpCell

__all__ = ["Relaxation", "supports"]


def supports(space) -> bool:
    return isinstance(space, (EdgeOpCell, NASBenchGraph))


class Relaxation:
    """``dims``: the choices of each decision; ``soft_graph(probs)``: the expected (adjacency,
    node features) of per-decision probabilities; ``graph(arch)``: the same for one architecture
    (one-hot probabilities); ``sample(logits, noise_scale, rng)``: an architecture drawn by
    perturbing each decision's logits with Gumbel noise times its scale."""

    def __init__(self, space):
        self.space = space
        self.n_ops = len(space.node_ops)
        if isinstance(space, EdgeOpCell):
            base = space.graph(space.decode(0))
            self.nodes = len(base.ops)
            self.dims = [len(space.ops)] * (self.nodes - 2)
            self.adjacency = torch.as_tensor(base.adjacency, dtype=torch.float32).unsqueeze(0)  # one wiring
            self.wiring_decision = None
            node_decision = [-1] + list(range(self.nodes - 2)) + [-1]
        elif isinstance(space, NASBenchGraph):
            from ..spaces.nasbench_graph import LINKS, wiring

            self.nodes = 6
            self.dims = [len(LINKS)] + [len(space.ops)] * 4
            self.adjacency = torch.stack([torch.as_tensor(wiring(link), dtype=torch.float32)
                                          for link in range(len(LINKS))])
            self.wiring_decision = 0
            node_decision = [-1, 1, 2, 3, 4, -1]
        else:
            raise ValueError(f"proxy-validation search relaxes nb201, tnb101_micro and nasbench-graph cells, not "
                             f"{space.name}")
        self.node_decision = node_decision
        # both families: input is op id 0, output 1, and a decision's value v is op id 2 + v
        self.fixed_op = {0: 0, self.nodes - 1: 1}
        self._check()

    def _check(self) -> None:
        """The per-decision parts rebuild the space's own graph (a guard against a layout change)."""
        rng = np.random.default_rng(0)
        for arch in self.space.sample_many(min(20, self.space.size or 20), rng):
            adj, x = self.graph(arch)
            g = self.space.graph(arch)
            if not (np.array_equal(adj.numpy(), g.adjacency) and np.array_equal(x.argmax(-1).numpy(), g.ops)):
                raise RuntimeError(f"the relaxation of {self.space.name} does not match its graphs (a fastrank bug)")

    def one_hot(self, arch) -> List[torch.Tensor]:
        return [torch.nn.functional.one_hot(torch.tensor(int(v)), d).float() for v, d in zip(arch, self.dims)]

    def soft_graph(self, probs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Expected adjacency (N, N) and node features (N, n_ops) under per-decision probabilities."""
        if self.wiring_decision is None:
            adj = self.adjacency[0]
        else:
            adj = torch.einsum("l,lij->ij", probs[self.wiring_decision], self.adjacency)
        rows = []
        for node, decision in enumerate(self.node_decision):
            if decision < 0:
                rows.append(torch.nn.functional.one_hot(torch.tensor(self.fixed_op[node]), self.n_ops).to(adj.dtype))
            else:
                p = probs[decision]
                rows.append(torch.cat([p.new_zeros(2), p, p.new_zeros(self.n_ops - 2 - p.shape[0])]))
        return adj, torch.stack(rows)

    def graph(self, arch) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.soft_graph(self.one_hot(arch))

    def perturb(self, logits: Sequence[torch.Tensor], noise_scale: Sequence[torch.Tensor],
                rng: np.random.Generator) -> List[np.ndarray]:
        """Each decision's logits plus its scale times Gumbel noise."""
        out = []
        for a, scale in zip(logits, noise_scale):
            gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=a.shape[0])))
            out.append(a.detach().numpy() + scale.detach().numpy() * gumbel)
        return out

    def sample(self, logits: Sequence[torch.Tensor], noise_scale: Sequence[torch.Tensor],
               rng: np.random.Generator) -> tuple:
        return tuple(int(np.argmax(p)) for p in self.perturb(logits, noise_scale, rng))

    @staticmethod
    def best_of(perturbed: Sequence[np.ndarray], choices: np.ndarray) -> int:
        """The row of ``choices`` (architectures as decision values, one per column) whose
        decisions' perturbed logits sum highest. Over every architecture it is the sample's
        argmax, since the decisions are independent; over a subset, the member the same noisy
        α ranks first."""
        score = np.zeros(choices.shape[0])
        for d, p in enumerate(perturbed):
            score += p[choices[:, d]]
        return int(np.argmax(score))

    def is_member(self, arch) -> bool:
        try:
            self.space.check(arch)
            return True
        except (InvalidArchitecture, ValueError):
            return False
