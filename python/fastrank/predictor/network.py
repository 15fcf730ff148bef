"""Model building: the encoder registry (encoder name -> the network it builds: an encoder of
the architecture's graph under an MLP head) and the seeded construction of ensemble members."""
from __future__ import annotations

from typing import Callable, Dict

import torch

from ..graph import GCNEncoder, GCNPredictor, GINEncoder
from ..graph.gae import GAEEncoder
from ..spaces import SearchSpace

__all__ = ["ENCODERS", "NETWORKS", "ModelBuilding", "copy_encoder"]


class GraphHead(torch.nn.Module):
    """Any graph encoder (adj, ops, mask) -> (B, width) followed by the MLP head."""

    def __init__(self, encoder: torch.nn.Module, width: int, hidden: int, outputs: int = 1):
        super().__init__()
        self.encoder = encoder
        self.head = _mlp_head(width, hidden, outputs)

    def forward(self, adj, ops, mask):
        return _squeeze(self.head(self.encoder(adj, ops, mask)))


class FlatEncoding(torch.nn.Module):
    """BANANAS' adjacency encoding, parameter-free: the one-hot operation of every node position
    and the adjacency's upper triangle, one flat vector per graph (``size`` long)."""

    def __init__(self, n_ops: int, nodes: int):
        super().__init__()
        self.n_ops = n_ops
        self.rows, self.cols = torch.triu_indices(nodes, nodes, 1)
        self.size = nodes * n_ops + self.rows.numel()

    def forward(self, adj, ops, mask):
        onehot = torch.nn.functional.one_hot(ops, self.n_ops).to(adj.dtype) * mask.unsqueeze(-1).to(adj.dtype)
        return torch.cat([onehot.flatten(1), adj[:, self.rows, self.cols]], dim=1)


class AdjacencyMLP(torch.nn.Module):
    """The flat baseline: :class:`FlatEncoding` through ``layers`` ReLU layers."""

    def __init__(self, n_ops: int, nodes: int, width: int, layers: int, hidden: int, outputs: int = 1):
        super().__init__()
        self.flat = FlatEncoding(n_ops, nodes)
        blocks, size = [], self.flat.size
        for _ in range(layers):
            blocks += [torch.nn.Linear(size, width), torch.nn.ReLU()]
            size = width
        self.body = torch.nn.Sequential(*blocks)
        self.head = _mlp_head(width, hidden, outputs)

    def forward(self, adj, ops, mask):
        return _squeeze(self.head(self.body(self.flat(adj, ops, mask))))


class GCNWithFlat(torch.nn.Module):
    """Both readings of an architecture under one head: the GCN's pooled embedding (the cell's
    wiring, operations shared across positions) beside one ReLU layer over the flat encoding
    (each position's choice on its own). The GCN alone ranks NB201-like cells well but its
    top picks on jigsaw and NAS-Bench-Graph are poor, where the flat encoding's are good.

    The flat layer belongs to the head: weak-label pretraining hands on the GCN only, and each
    fit learns the flat layer afresh from the labelled results."""

    def __init__(self, n_ops: int, nodes: int, width: int, layers: int, hidden: int, outputs: int = 1):
        super().__init__()
        self.encoder = GCNEncoder(n_ops, width, layers)
        self.flat = FlatEncoding(n_ops, nodes)
        self.head = FlatJoinHead(width, self.flat.size, hidden, outputs)

    def forward(self, adj, ops, mask):
        return _squeeze(self.head(self.encoder(adj, ops, mask), self.flat(adj, ops, mask)))


class FlatJoinHead(torch.nn.Module):
    """(graph embedding, flat encoding) -> scores: a ReLU layer over the flat encoding, joined to
    the embedding, through the MLP head."""

    def __init__(self, width: int, flat_size: int, hidden: int, outputs: int):
        super().__init__()
        self.flat_layer = torch.nn.Sequential(torch.nn.Linear(flat_size, width), torch.nn.ReLU())
        self.mlp = _mlp_head(2 * width, hidden, outputs)

    def forward(self, embedding, flat):
        return self.mlp(torch.cat([embedding, self.flat_layer(flat)], dim=1))


def _mlp_head(width: int, hidden: int, outputs: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, outputs))


def _squeeze(out: torch.Tensor) -> torch.Tensor:
    """(batch, 1) -> (batch,): one score per graph; several heads stay (batch, heads)."""
    return out.squeeze(-1) if out.shape[-1] == 1 else out


def _gcn(space: SearchSpace, width: int, layers: int, hidden: int, outputs: int) -> torch.nn.Module:
    return GCNPredictor(len(space.node_ops), width, layers, hidden, outputs=outputs)


def _gin(space: SearchSpace, width: int, layers: int, hidden: int, outputs: int) -> torch.nn.Module:
    return GraphHead(GINEncoder(len(space.node_ops), width, layers), width, hidden, outputs)


def _mlp(space: SearchSpace, width: int, layers: int, hidden: int, outputs: int) -> torch.nn.Module:
    return AdjacencyMLP(len(space.node_ops), space.max_nodes, width, layers, hidden, outputs)


def _gcn_flat(space: SearchSpace, width: int, layers: int, hidden: int, outputs: int) -> torch.nn.Module:
    return GCNWithFlat(len(space.node_ops), space.max_nodes, width, layers, hidden, outputs)


def _gae(space: SearchSpace, width: int, layers: int, hidden: int, outputs: int) -> torch.nn.Module:
    encoder = GAEEncoder(len(space.node_ops), width, width, layers, space.max_nodes)  # hidden = latent = width
    return GraphHead(encoder, width, hidden, outputs)


#: encoder name -> builder(space, width, layers, hidden, outputs) of a freshly initialised network.
#: Its order is ENCODERS' (shown in error messages and as the search's encoder choices).
NETWORKS: Dict[str, Callable[[SearchSpace, int, int, int, int], torch.nn.Module]] = {
    "gcn": _gcn, "gin": _gin, "mlp": _mlp, "gae": _gae, "gcn_flat": _gcn_flat}
ENCODERS = tuple(NETWORKS)


def parse_encoders(encoder) -> tuple:
    """The encoder names of ``encoder``: one name of ENCODERS, or several joined by "+"."""
    if not isinstance(encoder, str):
        raise TypeError(f"encoder must be a str, one of {ENCODERS} or several joined by '+', "
                        f"got {type(encoder).__name__}")
    names = tuple(part.strip() for part in encoder.split("+"))
    bad = [n for n in names if n not in ENCODERS]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"encoder must be one of {ENCODERS} or several different ones joined by '+' "
                         f"(e.g. 'gcn+mlp'), got {encoder!r}")
    return names


class ModelBuilding:
    """The :class:`~fastrank.Predictor`'s networks: :meth:`build_model` (what a subclass
    overrides) and the seeded construction of each ensemble member on the predictor's device."""

    #: the encoder of the member being built (``_build`` sets it: members take the encoders in turn)
    member_encoder: str = "gcn"

    def build_model(self, outputs: int = 1) -> torch.nn.Module:
        """A freshly initialised model (called under a seeded RNG, once per ensemble member) of
        the encoder :attr:`member_encoder`; ``outputs`` heads for pretraining on that many weak labels."""
        return NETWORKS[self.member_encoder](self.space, self.width, self.layers, self.hidden, outputs)

    def _build(self, member: int, outputs: int = 1, salt: int = 0) -> torch.nn.Module:
        """Member ``member``'s fresh model on the predictor's device and dtype, its draws seeded
        by (seed, member, salt) and kept off the global RNG."""
        self.member_encoder = self.encoders[member % len(self.encoders)]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1009 + member + salt)
            if outputs == 1:  # subclasses' build_model need not take outputs= unless they are pretrained
                model = self.build_model()
            else:
                try:
                    model = self.build_model(outputs=outputs)
                except TypeError as err:
                    raise TypeError(f"{type(self).__name__}.build_model must take outputs= to be pretrained on "
                                    f"{outputs} weak labels ({err})") from None
        return model.to(device=self.device, dtype=self.dtype)


def copy_encoder(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """Every parameter and buffer outside the ``head`` submodule: the encoder fine-tuning keeps."""
    encoder = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    missing, _ = target.load_state_dict(encoder, strict=False)
    if any(not k.startswith("head.") for k in missing):
        raise ValueError(f"the pretrained encoder does not fit this model: missing {missing}")
