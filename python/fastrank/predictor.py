"""A space-aware performance predictor: architectures in, predicted scores out.

    >>> from fastrank import Predictor, benchmarks
    >>> bench = benchmarks.load("nb201/cifar10")
    >>> archs = bench.archs[:50]
    >>> predictor = Predictor(bench.space, seed=0).fit(archs, bench.values[:50], loss="HR", epochs=5)
    >>> predictor.predict(bench.archs[50:53]).shape
    (3,)

The encoder turns each architecture's graph (``space.graph``) into an embedding and an MLP
head maps it to one score. Targets are standardised inside (z-scores of the training
targets); predictions come back on the targets' scale, so a regression loss predicts the
metric itself and a ranking loss predicts something that orders like it.
"""
from __future__ import annotations

import json
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch

from .graph import GCNPredictor, GINEncoder
from .graph.encode import _NATIVE_TAGS, encode_architectures, whole_space_graphs
from .graph.predictor import torch_step
from .loss_spec import resolve_loss
from .optim import FusedAdam
from .spaces import InvalidArchitecture, SearchSpace, get_space

__all__ = ["Predictor", "ENCODERS"]

ENCODERS = ("gcn", "gin", "mlp")
_FORMAT = "fastrank.Predictor/1"


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be positive, got {value}")
    return int(value)


def _positive_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


class _GraphHead(torch.nn.Module):
    """Any graph encoder (adj, ops, mask) -> (B, width) followed by the MLP head."""

    def __init__(self, encoder: torch.nn.Module, width: int, hidden: int):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def forward(self, adj, ops, mask):
        return self.head(self.encoder(adj, ops, mask)).squeeze(-1)


class _MLP(torch.nn.Module):
    """The flat baseline: one-hot node operations and the adjacency's upper triangle, as in
    BANANAS' adjacency encoding, through ``layers`` ReLU layers."""

    def __init__(self, n_ops: int, nodes: int, width: int, layers: int, hidden: int):
        super().__init__()
        self.n_ops = n_ops
        self.rows, self.cols = torch.triu_indices(nodes, nodes, 1)
        blocks, size = [], nodes * n_ops + self.rows.numel()
        for _ in range(layers):
            blocks += [torch.nn.Linear(size, width), torch.nn.ReLU()]
            size = width
        self.body = torch.nn.Sequential(*blocks)
        self.head = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def forward(self, adj, ops, mask):
        onehot = torch.nn.functional.one_hot(ops, self.n_ops).to(adj.dtype) * mask.unsqueeze(-1).to(adj.dtype)
        x = torch.cat([onehot.flatten(1), adj[:, self.rows, self.cols]], dim=1)
        return self.head(self.body(x)).squeeze(-1)


class Predictor:
    """Predicts a metric of a search space's architectures from a few labelled ones.

    Args:
        space: the :class:`~fastrank.spaces.SearchSpace` (or its name, see ``spaces.SPACES``).
        encoder: "gcn" (default; directed GCN of NPENAS/BRP-NAS whose CPU training step runs
            natively), "gin" (GIN on the undirected graph) or "mlp" (flat adjacency encoding).
        ensemble: number of independently initialised models; predictions are their mean.
        seed: seeds initialisation and batch order; same seed, same data → same predictions.
        width, layers, hidden: encoder width (64), layers (4), head hidden size (= width).
        lr, weight_decay: Adam's (1e-3, 0); epochs (100) and batch_size (32): the defaults
            of :meth:`fit`, one setting for every loss.
        device: where the models live ("cpu" default; the native training step is CPU-only,
            other devices train through torch).
        native: train the GCN through its native step and :class:`~fastrank.optim.FusedAdam`
            (default, on the CPU); False trains any encoder with torch autograd and
            ``torch.optim.Adam`` (same model, same arithmetic up to rounding).

    Subclasses may override :meth:`build_model` to train and score another module of the
    same call signature ``(adj, ops, mask) -> (batch,)`` (it trains through torch).
    """

    def __init__(self, space: Union[SearchSpace, str], encoder: str = "gcn", ensemble: int = 1, seed: int = 0, *,
                 width: int = 64, layers: int = 4, hidden: Optional[int] = None, lr: float = 1e-3,
                 weight_decay: float = 0.0, epochs: int = 100, batch_size: int = 32,
                 device: Union[str, torch.device] = "cpu", dtype: torch.dtype = torch.float32, native: bool = True):
        if isinstance(space, str):
            space = get_space(space)
        if not isinstance(space, SearchSpace):
            raise TypeError(f"space must be a SearchSpace or its name, got {type(space).__name__}")
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        if not isinstance(weight_decay, Real) or isinstance(weight_decay, bool) or not (
                math.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a non-negative finite number, got {weight_decay!r}")
        self.space = space
        self.encoder = encoder
        self.ensemble = _positive_int(ensemble, "ensemble")
        self.seed = int(seed)
        self.width = _positive_int(width, "width")
        self.layers = _positive_int(layers, "layers")
        self.hidden = self.width if hidden is None else _positive_int(hidden, "hidden")
        self.lr = _positive_real(lr, "lr")
        self.weight_decay = float(weight_decay)
        self.epochs = _positive_int(epochs, "epochs")
        self.batch_size = _positive_int(batch_size, "batch_size")
        self.device = torch.device(device)
        self.dtype = dtype
        if not isinstance(native, bool):
            raise TypeError(f"native must be a bool, got {type(native).__name__}")
        self.native = native
        self.models = []
        self.target_mean, self.target_std = 0.0, 1.0
        self._space_graphs = None  # the whole enumerable space, encoded once

    # --- models ------------------------------------------------------------------------
    def _build(self, member: int) -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1009 + member)
            model = self.build_model()
        return model.to(device=self.device, dtype=self.dtype)

    def build_model(self) -> torch.nn.Module:
        """A freshly initialised model (called under a seeded RNG, once per ensemble member)."""
        n_ops = len(self.space.node_ops)
        if self.encoder == "gcn":
            return GCNPredictor(n_ops, self.width, self.layers, self.hidden)
        if self.encoder == "gin":
            return _GraphHead(GINEncoder(n_ops, self.width, self.layers), self.width, self.hidden)
        return _MLP(n_ops, self.space.max_nodes, self.width, self.layers, self.hidden)

    @property
    def fitted(self) -> bool:
        return bool(self.models)

    # --- encoding -----------------------------------------------------------------------
    def _native(self) -> bool:
        return type(self.space) in _NATIVE_TAGS

    def _arch(self, arch):
        """Architectures may also be given as their canonical strings."""
        return self.space.parse(arch) if isinstance(arch, str) else arch

    def _codes(self, archs) -> np.ndarray:
        try:
            return np.fromiter((self.space.encode(self._arch(a)) for a in archs), dtype=np.int64, count=len(archs))
        except (InvalidArchitecture, KeyError, TypeError) as err:
            raise ValueError(f"not an architecture of {self.space.name}: {err}") from None  # KeyError: listed spaces

    def _graphs(self, archs: Sequence):
        """Graph batch of the architectures on the models' device, after checking each."""
        if isinstance(archs, (str, bytes)) or not hasattr(archs, "__len__"):
            raise TypeError("archs must be a sequence of architectures")
        if self._native():
            return self.graphs_of_codes(self._codes(archs))
        checked = []
        for a in archs:
            try:
                checked.append(self.space.check(self._arch(a)))
            except (InvalidArchitecture, TypeError) as err:
                raise ValueError(f"not an architecture of {self.space.name}: {err}") from None
        adj, ops, mask = encode_architectures(self.space, checked, self.dtype)
        return adj.to(self.device), ops.to(self.device), mask.to(self.device)

    def graphs_of_codes(self, codes):
        """Graph batch of integer codes of an enumerable space with a native encoder: rows of
        the whole space's encoding, made once (all of NB201 in a few milliseconds)."""
        if not self._native():
            raise TypeError(f"{self.space.name} has no native encoder; pass architectures")
        if self._space_graphs is None:
            adj, ops, mask = whole_space_graphs(type(self.space), self.dtype)
            self._space_graphs = (adj.to(self.device), ops.to(self.device), mask.to(self.device))
        codes = torch.as_tensor(np.asarray(codes, dtype=np.int64))
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.space.size):
            raise ValueError(f"codes must lie in 0..{self.space.size - 1} for {self.space.name}")
        codes = codes.to(self.device)
        adj, ops, mask = self._space_graphs
        return adj[codes], ops[codes], mask[codes]

    # --- training -----------------------------------------------------------------------
    def fit(self, archs: Sequence, targets, loss="MSE", *, epochs: Optional[int] = None,
            batch_size: Optional[int] = None, lr: Optional[float] = None, progress: bool = False) -> "Predictor":
        """Trains fresh models on ``(archs, targets)`` (higher targets = better).

        ``loss``: a registered name (``fastrank.nn.LOSSES``: "MSE", "HR", "LambdaRank", ...), a
        spec string (``"pw:HR,MAPE@50"``, ``"sum:MSE=1,HR=0.5"``), a loss module, or a
        :class:`~fastrank.nn.PiecewiseLoss` (its active part for ``len(archs)`` labelled
        architectures is used). Returns self.
        """
        y = np.asarray(targets, dtype=np.float64)
        if y.ndim != 1 or y.shape[0] != len(archs):
            raise ValueError(f"targets must be 1-D with one value per architecture: {len(archs)} architectures, "
                             f"targets of shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("targets contain NaN or infinity")
        if y.shape[0] < 2:
            raise ValueError(f"fit needs at least 2 labelled architectures, got {y.shape[0]}")
        epochs = self.epochs if epochs is None else _positive_int(epochs, "epochs")
        batch_size = self.batch_size if batch_size is None else _positive_int(batch_size, "batch_size")
        lr = self.lr if lr is None else _positive_real(lr, "lr")
        loss_fn = resolve_loss(loss, n_labelled=len(archs), space=self.space.name)
        adj, ops, mask = self._graphs(archs)
        mean, std = float(y.mean()), float(y.std())
        std = std if std > 0 else 1.0
        z = torch.as_tensor((y - mean) / std, dtype=self.dtype, device=self.device)
        self.target_mean, self.target_std = mean, std
        models = []
        n_batches = max(1, math.ceil(y.shape[0] / batch_size))
        edges = np.cumsum([0] + [len(part) for part in np.array_split(np.arange(y.shape[0]), n_batches)])
        bounds = list(zip(edges[:-1].tolist(), edges[1:].tolist()))
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=self.ensemble * epochs, desc="fit", unit="epoch", leave=False)
        try:
            for member in range(self.ensemble):
                model = self._build(member)
                native = self.native and type(model) is GCNPredictor and self.device.type == "cpu"
                adam = FusedAdam if native else torch.optim.Adam
                optimizer = adam(model.parameters(), lr=lr, weight_decay=self.weight_decay)
                order = np.random.default_rng((self.seed, member, y.shape[0]))
                model.train()
                for _ in range(epochs):
                    # one gather per epoch; the batches are contiguous slices of it (np.array_split's)
                    perm = torch.from_numpy(order.permutation(y.shape[0])).to(self.device)
                    a, o, m, t = adj[perm], ops[perm], mask[perm], z[perm]
                    for lo, hi in bounds:
                        if native:
                            model.train_step(a[lo:hi], o[lo:hi], m[lo:hi], t[lo:hi], optimizer, loss_fn)
                        else:
                            torch_step(model, (a[lo:hi], o[lo:hi], m[lo:hi]), t[lo:hi], optimizer, loss_fn)
                    if bar is not None:
                        bar.update()
                model.eval()
                models.append(model)
        finally:
            if bar is not None:
                bar.close()
        self.models = models
        return self

    # --- prediction ---------------------------------------------------------------------
    def _score(self, adj, ops, mask, chunk: int = 65536) -> np.ndarray:
        if not self.models:
            raise RuntimeError("the predictor is not fitted: call fit (or Predictor.load) first")
        total = None
        with torch.no_grad():
            for model in self.models:
                parts = [model(adj[i:i + chunk], ops[i:i + chunk], mask[i:i + chunk])
                         for i in range(0, adj.shape[0], chunk)]
                out = torch.cat(parts) if parts else adj.new_zeros(0)
                total = out if total is None else total + out
        z = (total / len(self.models)).double().cpu().numpy()
        return z * self.target_std + self.target_mean

    def predict(self, archs: Sequence) -> np.ndarray:
        """Predicted metric of each architecture (float64 array)."""
        return self._score(*self._graphs(archs))

    def encode(self, archs: Sequence):
        """The graph batch ``(adj, ops, mask)`` of checked architectures: encode a fixed pool
        of candidates once and score it with :meth:`predict_graphs` after every fit."""
        return self._graphs(archs)

    def predict_graphs(self, graphs) -> np.ndarray:
        """Predictions for a graph batch from :meth:`encode` or :meth:`graphs_of_codes`."""
        return self._score(*graphs)

    def predict_codes(self, codes) -> np.ndarray:
        """Predictions for integer codes of an enumerable space, in one batched native pass
        per model (``predict_codes(range(space.size))`` scores the whole space)."""
        return self._score(*self.graphs_of_codes(codes))

    # --- persistence --------------------------------------------------------------------
    def config(self) -> dict:
        return {"format": _FORMAT, "space": self.space.name, "encoder": self.encoder, "ensemble": self.ensemble,
                "seed": self.seed, "width": self.width, "layers": self.layers, "hidden": self.hidden, "lr": self.lr,
                "weight_decay": self.weight_decay, "epochs": self.epochs, "batch_size": self.batch_size,
                "dtype": "float64" if self.dtype == torch.float64 else "float32", "native": self.native,
                "target_mean": self.target_mean, "target_std": self.target_std}

    def save(self, path: Union[str, Path]) -> None:
        """Writes the configuration and weights; :meth:`load` reads them back without
        unpickling arbitrary objects (tensors and plain values only)."""
        if not self.models:
            raise RuntimeError("nothing to save: the predictor is not fitted")
        state = {"config": json.dumps(self.config()),
                 "models": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in self.models]}
        torch.save(state, str(path))

    @classmethod
    def load(cls, path: Union[str, Path], device: Union[str, torch.device] = "cpu") -> "Predictor":
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            config = json.loads(state["config"])
        except FileNotFoundError:
            raise
        except Exception as err:  # a foreign or corrupted file: say which
            raise ValueError(f"{str(path)!r} is not a saved fastrank Predictor ({type(err).__name__}: {err})") from None
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            raise ValueError(f"{str(path)!r} is not a saved fastrank Predictor (format {config.get('format')!r})")
        space = _proteins_space() if config["space"] == "nasbench_graph_proteins" else get_space(config["space"])
        predictor = cls(space, config["encoder"], config["ensemble"], config["seed"], width=config["width"],
                        layers=config["layers"], hidden=config["hidden"], lr=config["lr"],
                        weight_decay=config["weight_decay"], epochs=config["epochs"], batch_size=config["batch_size"],
                        device=device, dtype=torch.float64 if config["dtype"] == "float64" else torch.float32,
                        native=bool(config.get("native", True)))
        predictor.target_mean, predictor.target_std = float(config["target_mean"]), float(config["target_std"])
        models = state["models"]
        if len(models) != predictor.ensemble:
            raise ValueError(f"{str(path)!r} holds {len(models)} models for an ensemble of {predictor.ensemble}")
        for member, weights in enumerate(models):
            model = predictor._build(member)
            model.load_state_dict(weights)
            model.eval()
            predictor.models.append(model)
        return predictor

    def __repr__(self) -> str:
        state = "fitted" if self.models else "not fitted"
        return f"Predictor({self.space.name}, encoder={self.encoder!r}, ensemble={self.ensemble}, {state})"


def _proteins_space():
    from .spaces import NASBenchGraph
    return NASBenchGraph(proteins=True)
