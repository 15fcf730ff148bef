"""The NAS-Bench-Graph GNN (Qin et al., "NAS-Bench-Graph: Benchmarking Graph Neural
Architecture Search", NeurIPS 2022 Datasets and Benchmarks), built with torch_geometric (the
``[graph]`` extra: ``pip install 'fastrank[graph]'``).

Structure, following the benchmark authors' training code (the file that defines
``gnn_map``, ``Cell`` and ``Net``, headed "Source code from: Yijian Qin, ... NAS-Bench-Graph";
neither THUMNLab/NAS-Bench-Graph nor the PyPI package ``nas-bench-graph`` ships it, they only
hold the look-up tables and ``architecture.py``), with per-dataset sizes (``PRESETS``):

- dropout on the node features, then ``pre_layers`` linear layers to ``hidden`` (an ELU only
  before the last of them, as in the original);
- four op nodes: node i + 1 reads ``link[i]`` (0 is the pre-processed input). Before an op
  whose input has ``hidden`` features: BatchNorm1d → ReLU → dropout. An op that reads the raw
  input (no pre layer), or a chain of skips from it, gets the raw features as they are;
- the ops, all to ``hidden`` features: ``gat`` GATConv with 4 heads of hidden/4 concatenated
  (the package's comment says 2 heads; the code builds 4, with the same parameter count),
  ``gcn`` GCNConv, ``gin`` GINConv around one linear layer, ``cheb`` ChebConv K = 2,
  ``sage`` SAGEConv, ``arma`` ARMAConv (1 stack, 1 layer), ``graph`` GraphConv (k-GNN),
  ``fc`` a linear layer on each node, ``skip`` the identity;
- the nodes nobody reads are concatenated → ReLU → linear to ``hidden`` (to the classes
  when there is no post layer), then ``post_layers`` linear layers (an ELU only before the
  last), so logits are ``(nodes, num_classes)``.

Every op node owns a BatchNorm1d(hidden), used or not, because the original builds one per
op: the benchmark's ``para`` column (millions of parameters, a mean over its 3 seeds) counts
them. ``count_parameters`` of this module equals it on every row of 8 tables and on 24,639 of
26,206 physics rows; on 1,478 of the other physics rows ``para`` is the mean of two physics
networks and one built with PubMed's settings (one seed ran with another dataset's
hyper-parameters), the last 89 mix in something else (``tests/test_models_nasbench_graph.py``).
The table has no FLOP column; ``count_flops`` sees only ``nn.Linear`` layers, not the linear
maps inside PyG convolutions.

``PRESETS`` holds each dataset's network (input features, hidden size, pre/post layers,
dropout); ``NUM_CLASSES`` its classes. The default is Cora's network; ``num_classes`` comes
from the call (7 for Cora's table). Not reproduced: for ogbn-proteins the benchmark gave
GCNConv a pre-normalised sparse adjacency (``normalize=False``) and GATConv no added self
loops; here every dataset gets PyG's defaults (the sizes, hence parameters, are the same).

Every op exports with ``torch.export.export`` (static shapes, and also with the node and
edge counts as dynamic dimensions) on torch_geometric 2.8 / torch 2.13.
"""
from __future__ import annotations

import numbers
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .network import Network, positive_int

OPS = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
GAT_HEADS = 4
INSTALL_HINT = "pip install 'fastrank[graph]'"

#: dataset → sizes of the network the benchmark trained on it. Hidden size and pre/post layers
#: are the only values (0–2 layers; 64, 128 or 256 wide) that fit the table's ``para`` column; dropout
#: is the paper's hyper-parameter table as transcribed in third-party code (no column checks
#: it); the input widths are the datasets' feature counts, ogbn-proteins' 8 its mean edge features.
PRESETS: Dict[str, Dict[str, object]] = {
    "cora": dict(num_features=1433, hidden=256, pre_layers=0, post_layers=1, dropout=0.7),
    "citeseer": dict(num_features=3703, hidden=256, pre_layers=0, post_layers=1, dropout=0.7),
    "pubmed": dict(num_features=500, hidden=128, pre_layers=0, post_layers=0, dropout=0.3),
    "cs": dict(num_features=6805, hidden=128, pre_layers=1, post_layers=0, dropout=0.6),
    "physics": dict(num_features=8415, hidden=256, pre_layers=1, post_layers=0, dropout=0.4),
    "photo": dict(num_features=745, hidden=128, pre_layers=0, post_layers=0, dropout=0.7),
    "computers": dict(num_features=767, hidden=64, pre_layers=1, post_layers=1, dropout=0.1),
    "arxiv": dict(num_features=128, hidden=128, pre_layers=0, post_layers=1, dropout=0.2),
    "proteins": dict(num_features=8, hidden=256, pre_layers=1, post_layers=1, dropout=0.0),
}
#: dataset → classes (ogbn-proteins: 112 binary tasks)
NUM_CLASSES = {"cora": 7, "citeseer": 6, "pubmed": 3, "cs": 15, "physics": 5, "photo": 8, "computers": 10,
               "arxiv": 40, "proteins": 112}


class NodeLinear(nn.Linear):
    """The ``fc`` op: one linear map per node, called like a graph convolution."""

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return super().forward(x)


class Skip(nn.Module):
    """The ``skip`` op: its input, called like a graph convolution."""

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return x


def _geometric_convs():
    try:
        import torch_geometric  # noqa: F401  (a None in sys.modules, i.e. blocked, raises here too)
        from torch_geometric import nn as geometric_nn
    except ImportError as err:
        raise ImportError(f"the NAS-Bench-Graph network needs torch_geometric: {INSTALL_HINT}") from err
    return geometric_nn


def graph_op(name: str, c_in: int, c_out: int) -> nn.Module:
    """Op ``name`` from ``c_in`` to ``c_out`` node features, as the benchmark built it."""
    g = _geometric_convs()
    if name == "gat":
        return g.GATConv(c_in, c_out // GAT_HEADS, heads=GAT_HEADS, concat=True)
    if name == "gcn":
        return g.GCNConv(c_in, c_out)
    if name == "gin":
        return g.GINConv(nn.Linear(c_in, c_out))
    if name == "cheb":
        return g.ChebConv(c_in, c_out, K=2)
    if name == "sage":
        return g.SAGEConv(c_in, c_out)
    if name == "arma":
        return g.ARMAConv(c_in, c_out)
    if name == "graph":
        return g.GraphConv(c_in, c_out)
    if name == "fc":
        return NodeLinear(c_in, c_out)
    if name == "skip":
        return Skip()
    raise ValueError(f"unknown NAS-Bench-Graph op {name!r}; known: {OPS}")


def check_architecture(link: Sequence[int], ops: Sequence[str]) -> Tuple[Tuple[int, ...], Tuple[str, ...]]:
    """``link`` and ``ops`` as tuples, or a ValueError: as many parents as ops, parent of node
    i + 1 in 0..i, op names from ``OPS``."""
    if not isinstance(link, (tuple, list)) or not isinstance(ops, (tuple, list)) or not ops or len(link) != len(ops):
        raise ValueError(f"NAS-Bench-Graph wants one parent per op (e.g. link (0, 1, 1, 2), 4 ops), "
                         f"got link {link!r} and ops {ops!r}")
    for i, parent in enumerate(link):
        if not isinstance(parent, numbers.Integral) or isinstance(parent, bool) or not 0 <= parent <= i:
            raise ValueError(f"node {i + 1} must read the input (0) or an earlier node (1..{i}), "
                             f"got link {tuple(link)!r}")
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise ValueError(f"unknown NAS-Bench-Graph op(s) {bad}; known: {OPS}")
    return tuple(int(p) for p in link), tuple(ops)


class NASBenchGraphNetwork(Network):
    """One NAS-Bench-Graph architecture as the GNN the benchmark trained (see the module
    docstring): ``forward(x, edge_index)`` maps node features ``(nodes, num_features)`` and a
    COO ``edge_index`` ``(2, edges)`` to per-node logits ``(nodes, num_classes)``.

    ``link[i]`` is the node op i + 1 reads (0 the input), ``ops[i]`` its op name; nodes nobody
    reads form the output. ``preset`` names the dataset whose sizes are the defaults (Cora);
    ``num_features``, ``hidden`` (a multiple of 4, GAT's heads), ``pre_layers``,
    ``post_layers`` and ``dropout`` override them."""

    def __init__(self, link: Sequence[int], ops: Sequence[str], num_classes: int = 10, preset: str = "cora",
                 num_features: Optional[int] = None, hidden: Optional[int] = None,
                 pre_layers: Optional[int] = None, post_layers: Optional[int] = None,
                 dropout: Optional[float] = None):
        super().__init__()
        self.link, self.ops = check_architecture(link, ops)
        if preset not in PRESETS:
            raise ValueError(f"unknown NAS-Bench-Graph preset {preset!r}; known: {tuple(PRESETS)}")
        given = dict(num_features=num_features, hidden=hidden, pre_layers=pre_layers, post_layers=post_layers,
                     dropout=dropout)
        sizes = {k: (PRESETS[preset][k] if v is None else v) for k, v in given.items()}
        num_classes = positive_int("num_classes", num_classes)
        num_features = positive_int("num_features", sizes["num_features"])
        hidden = positive_int("hidden", sizes["hidden"], minimum=GAT_HEADS)
        if hidden % GAT_HEADS:
            raise ValueError(f"hidden must be a multiple of {GAT_HEADS} (GAT's heads split it), got {hidden}")
        pre_layers = positive_int("pre_layers", sizes["pre_layers"], minimum=0)
        post_layers = positive_int("post_layers", sizes["post_layers"], minimum=0)
        dropout = sizes["dropout"]
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        _geometric_convs()  # even a network of fc/skip ops only: the same install hint everywhere
        self.input_shape = (num_features,)
        self.dropout = nn.Dropout(float(dropout))

        self.pre = nn.ModuleList(nn.Linear(num_features if i == 0 else hidden, hidden) for i in range(pre_layers))
        # raw[j]: node j carries the unprocessed features (the input without pre layers, or a
        # skip of such a node); ops reading it take num_features and skip its BN/ReLU/dropout
        raw = [pre_layers == 0]
        for parent, op in zip(self.link, self.ops):
            raw.append(raw[parent] and op == "skip")
        self.reads_raw: List[bool] = [raw[parent] for parent in self.link]
        self.node_ops = nn.ModuleList(graph_op(op, num_features if r else hidden, hidden)
                                      for op, r in zip(self.ops, self.reads_raw))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in self.ops)
        self.leaves: List[int] = [j for j in range(1, len(self.ops) + 1) if j not in self.link]
        width = sum(num_features if raw[j] else hidden for j in self.leaves)
        self.combine = nn.Linear(width, hidden if post_layers else num_classes)
        self.post = nn.ModuleList(nn.Linear(hidden, num_classes if i == post_layers - 1 else hidden)
                                  for i in range(post_layers))

    @staticmethod
    def _layers(x: torch.Tensor, layers: nn.ModuleList) -> torch.Tensor:
        for i, layer in enumerate(layers):
            if i == len(layers) - 1 and i > 0:  # the original activates only before a stack's last layer
                x = torch.nn.functional.elu(x)
            x = layer(x)
        return x

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        states = [self._layers(self.dropout(x), self.pre)]
        for parent, op, norm, raw in zip(self.link, self.node_ops, self.norms, self.reads_raw):
            h = states[parent]
            if not raw:
                h = self.dropout(torch.relu(norm(h)))
            states.append(op(h, edge_index))
        out = self.combine(torch.relu(torch.cat([states[j] for j in self.leaves], dim=1)))
        return self._layers(out, self.post)

    def example_inputs(self, batch: int = 8) -> Tuple[torch.Tensor, torch.Tensor]:
        """A random graph of ``batch`` nodes: features ``(batch, num_features)`` and an
        undirected ``edge_index`` ``(2, 4·batch)``, a ring (every node has neighbours) plus
        one random partner per node, both directions listed. A program exported from it with
        static shapes takes graphs of ``batch`` nodes and ``4·batch`` edges; declare the node
        and edge counts dynamic (``torch.export.Dim``) for other graphs."""
        nodes = positive_int("batch", batch)
        device = next((p.device for p in self.parameters()), torch.device("cpu"))
        source = torch.arange(nodes, device=device)
        target = torch.cat([(source + 1) % nodes, torch.randint(nodes, (nodes,), device=device)])
        source = source.repeat(2)
        edge_index = torch.stack([torch.cat([source, target]), torch.cat([target, source])])
        return torch.randn(nodes, *self.input_shape, device=device), edge_index
