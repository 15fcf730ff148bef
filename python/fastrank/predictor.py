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
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .graph import GCNPredictor, GINEncoder
from .graph.gae import GAEEncoder
from .graph.encoding import encode_architectures, natively_encoded, whole_space_graphs
from .graph.predictor import torch_step
from .loss_spec import resolve_loss
from .nn import RankingLoss
from .optim import FusedAdam
from .spaces import InvalidArchitecture, SearchSpace, get_space
from ._checks import check_int

__all__ = ["Predictor", "ENCODERS"]

_LARGE = 1e150  # beyond this, a value's square overflows float64

ENCODERS = ("gcn", "gin", "mlp", "gae")
_FORMAT = "fastrank.Predictor/1"
_PRETRAIN_SALT = 7919  # pretraining's models start from other draws than fit's


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

    def __init__(self, encoder: torch.nn.Module, width: int, hidden: int, outputs: int = 1):
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, outputs))

    def forward(self, adj, ops, mask):
        return _squeeze(self.head(self.encoder(adj, ops, mask)))


class _MLP(torch.nn.Module):
    """The flat baseline: one-hot node operations and the adjacency's upper triangle, as in
    BANANAS' adjacency encoding, through ``layers`` ReLU layers."""

    def __init__(self, n_ops: int, nodes: int, width: int, layers: int, hidden: int, outputs: int = 1):
        super().__init__()
        self.n_ops = n_ops
        self.rows, self.cols = torch.triu_indices(nodes, nodes, 1)
        blocks, size = [], nodes * n_ops + self.rows.numel()
        for _ in range(layers):
            blocks += [torch.nn.Linear(size, width), torch.nn.ReLU()]
            size = width
        self.body = torch.nn.Sequential(*blocks)
        self.head = torch.nn.Sequential(torch.nn.Linear(width, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, outputs))

    def forward(self, adj, ops, mask):
        onehot = torch.nn.functional.one_hot(ops, self.n_ops).to(adj.dtype) * mask.unsqueeze(-1).to(adj.dtype)
        x = torch.cat([onehot.flatten(1), adj[:, self.rows, self.cols]], dim=1)
        return _squeeze(self.head(self.body(x)))


def _squeeze(out: torch.Tensor) -> torch.Tensor:
    """(batch, 1) -> (batch,): one score per graph; several heads stay (batch, heads)."""
    return out.squeeze(-1) if out.shape[-1] == 1 else out


class Predictor:
    """Predicts a metric of a search space's architectures from a few labelled ones.

    Args:
        space: the :class:`~fastrank.spaces.SearchSpace` (or its name, see ``spaces.SPACES``).
        encoder: "gcn" (default; directed GCN of NPENAS/BRP-NAS whose CPU training step runs
            natively), "gin" (GIN on the undirected graph), "mlp" (flat adjacency encoding) or
            "gae" (the graph autoencoder's encoder, :class:`fastrank.graph.GAEEncoder`).
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

    Weak supervision (AceNAS): :meth:`pretrain` fits the encoder to cheap labels of many
    architectures (one head per label); every later :meth:`fit` starts from that encoder with a
    fresh head. :meth:`save` keeps the pretrained encoder, so one pretraining serves many
    searches of the same space.

    Subclasses may override :meth:`build_model` to train and score another module of the
    same call signature ``(adj, ops, mask) -> (batch,)`` (it trains through torch); to be
    pretrained it takes ``outputs`` and returns ``(batch, outputs)`` for outputs > 1, and the
    parameters outside its ``head`` submodule are the encoder that fine-tuning keeps.
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
        check_int(seed, "seed", 0)
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
        # weak supervision: the pretrained models (encoder + one head per label) and the labels' scales
        self.pretrained_models = []
        self.weak_label_names: Tuple[str, ...] = ()
        self.weak_label_mean = self.weak_label_std = np.zeros(0)
        self.pretrain_history: List[float] = []

    # --- models ------------------------------------------------------------------------
    def _build(self, member: int, outputs: int = 1, salt: int = 0) -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1009 + member + salt)
            if outputs == 1:
                model = self.build_model()
            else:
                try:
                    model = self.build_model(outputs=outputs)
                except TypeError as err:
                    raise TypeError(f"{type(self).__name__}.build_model must take outputs= to be pretrained on "
                                    f"{outputs} weak labels ({err})") from None
        return model.to(device=self.device, dtype=self.dtype)

    def build_model(self, outputs: int = 1) -> torch.nn.Module:
        """A freshly initialised model (called under a seeded RNG, once per ensemble member);
        ``outputs`` heads for pretraining on that many weak labels."""
        n_ops = len(self.space.node_ops)
        if self.encoder == "gcn":
            return GCNPredictor(n_ops, self.width, self.layers, self.hidden, outputs=outputs)
        if self.encoder == "gin":
            return _GraphHead(GINEncoder(n_ops, self.width, self.layers), self.width, self.hidden, outputs)
        if self.encoder == "gae":
            encoder = GAEEncoder(n_ops, self.width, self.width, self.layers, self.space.max_nodes)
            return _GraphHead(encoder, self.width, self.hidden, outputs)
        return _MLP(n_ops, self.space.max_nodes, self.width, self.layers, self.hidden, outputs)

    @property
    def pretrained(self) -> bool:
        return bool(self.pretrained_models)

    @property
    def fitted(self) -> bool:
        return bool(self.models)

    # --- encoding -----------------------------------------------------------------------
    def _native(self) -> bool:
        return natively_encoded(self.space)

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
            batch_size: Optional[int] = None, lr: Optional[float] = None, progress: bool = False,
            from_pretrained: bool = True) -> "Predictor":
        """Trains fresh models on ``(archs, targets)`` (higher targets = better).

        ``loss``: a registered name (``fastrank.nn.LOSSES``: "MSE", "HR", "LambdaRank", ...), a
        spec string (``"pw:HR,MAPE@50"``, ``"sum:MSE=1,HR=0.5"``, ``"LambdaRank:k=10"``), a loss
        module, or a :class:`~fastrank.nn.PiecewiseLoss` (its active part for ``len(archs)``
        labelled architectures is used). LambdaRank without a ``relevance`` grades the targets as
        AceNAS does (``relevance="acenas"``). After :meth:`pretrain`, each model starts from the
        pretrained encoder with a fresh head (``from_pretrained=False``: from scratch). Returns self.
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
        loss_fn = _graded(resolve_loss(loss, n_labelled=len(archs), space=self.space.name))
        adj, ops, mask = self._graphs(archs)
        # values beyond 1e150 are standardised as y / max|y| first: their squares would overflow
        scale = float(np.abs(y).max())
        scale = scale if scale > _LARGE else 1.0
        unit = y / scale
        unit_std = float(unit.std()) or 1.0
        z = torch.as_tensor((unit - unit.mean()) / unit_std, dtype=self.dtype, device=self.device)
        self.target_mean, self.target_std = float(unit.mean()) * scale, unit_std * scale
        bar = _bar(progress, self.ensemble * epochs, "fit")
        models = []
        try:
            for member in range(self.ensemble):
                model = self._build(member)
                if from_pretrained and self.pretrained_models:
                    _copy_encoder(self.pretrained_models[member], model)
                self._train(model, (adj, ops, mask), z, loss_fn, epochs, batch_size, lr,
                            np.random.default_rng((self.seed, member, y.shape[0])), bar)
                models.append(model)
        finally:
            if bar is not None:
                bar.close()
        self.models = models
        return self

    def _train(self, model, graphs, targets, loss_fn, epochs: int, batch_size: int, lr: float,
               order: np.random.Generator, bar=None, cosine: bool = False) -> List[float]:
        """Adam over shuffled mini-batches (the native step where the model allows); returns
        each epoch's mean batch loss. ``cosine``: the learning rate anneals to 0 (AceNAS')."""
        adj, ops, mask = graphs
        n = targets.shape[0]
        native = self.native and type(model) is GCNPredictor and self.device.type == "cpu"
        optimizer = (FusedAdam if native else torch.optim.Adam)(model.parameters(), lr=lr,
                                                                weight_decay=self.weight_decay)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs) if cosine else None
        n_batches = max(1, math.ceil(n / batch_size))
        edges = np.cumsum([0] + [len(part) for part in np.array_split(np.arange(n), n_batches)])
        bounds = list(zip(edges[:-1].tolist(), edges[1:].tolist()))
        history = []
        model.train()
        for _ in range(epochs):
            # one gather per epoch; the batches are contiguous slices of it (np.array_split's)
            perm = torch.from_numpy(order.permutation(n)).to(self.device)
            a, o, m, t = adj[perm], ops[perm], mask[perm], targets[perm]
            total = 0.0
            for lo, hi in bounds:
                if native:
                    value = model.train_step(a[lo:hi], o[lo:hi], m[lo:hi], t[lo:hi], optimizer, loss_fn)
                else:
                    value = torch_step(model, (a[lo:hi], o[lo:hi], m[lo:hi]), t[lo:hi], optimizer, loss_fn)
                total += float(value)
            history.append(total / len(bounds))
            if schedule is not None:
                schedule.step()
            if bar is not None:
                bar.update()
        model.eval()
        return history

    # --- weak supervision -----------------------------------------------------------------
    def pretrain(self, archs: Sequence, weak_labels: Mapping[str, object], *, epochs: int = 20,
                 batch_size: int = 256, lr: Optional[float] = None, progress: bool = False) -> "Predictor":
        """Pretrains the encoder on weak labels (AceNAS): one head per label regresses
        that label's z-scores from the shared encoder (MSE per head, summed; NaN = missing,
        masked out), with Adam and a cosine learning rate over ``epochs``.

        archs: many architectures (all of an enumerable space, or a large sample).
        weak_labels: label name -> one value per architecture, e.g.
            ``fastrank.weak_labels.select_weak_labels(bench, "zen")`` or ``bench.weak_labels``.
        Later :meth:`fit` calls start from the pretrained encoder. Returns self.
        """
        from .weak_labels import masked_multihead_mse, standardise_weak_labels

        if isinstance(archs, (str, bytes)) or not hasattr(archs, "__len__"):
            raise TypeError("archs must be a sequence of architectures")
        names, z, mean, std = standardise_weak_labels(weak_labels, len(archs))
        epochs = _positive_int(epochs, "epochs")
        batch_size = _positive_int(batch_size, "batch_size")
        lr = self.lr if lr is None else _positive_real(lr, "lr")
        graphs = self._graphs(archs)
        targets = torch.as_tensor(z, dtype=self.dtype, device=self.device)
        if len(names) == 1:
            targets = targets[:, 0]
        bar = _bar(progress, self.ensemble * epochs, "pretrain")
        models, histories = [], []
        try:
            for member in range(self.ensemble):
                model = self._build(member, outputs=len(names), salt=_PRETRAIN_SALT)
                histories.append(self._train(model, graphs, targets, masked_multihead_mse, epochs, batch_size, lr,
                                             np.random.default_rng((self.seed, member, len(archs), 1)), bar,
                                             cosine=True))
                models.append(model)
        finally:
            if bar is not None:
                bar.close()
        self.pretrained_models = models
        self.weak_label_names, self.weak_label_mean, self.weak_label_std = names, mean, std
        self.pretrain_history = np.mean(histories, axis=0).tolist()
        return self

    def adopt_pretraining(self, other: "Predictor") -> "Predictor":
        """Starts later fits from ``other``'s pretrained encoder (shared, not copied: fitting
        never changes it): one pretraining serves every round of a search. Returns self."""
        if not isinstance(other, Predictor) or not other.pretrained_models:
            raise ValueError("adopt_pretraining needs a pretrained Predictor")
        mine, theirs = self.config(), other.config()
        keys = ("space", "encoder", "ensemble", "width", "layers", "hidden", "dtype")
        differ = [k for k in keys if mine[k] != theirs[k]]
        if differ or type(self).build_model is not type(other).build_model:
            what = ", ".join(f"{k} {theirs[k]!r} vs {mine[k]!r}" for k in differ) or "another build_model"
            raise ValueError(f"the pretrained predictor has another model: {what}")
        self.pretrained_models = other.pretrained_models
        self.weak_label_names, self.weak_label_mean = other.weak_label_names, other.weak_label_mean
        self.weak_label_std, self.pretrain_history = other.weak_label_std, other.pretrain_history
        return self

    def predict_weak(self, archs: Sequence) -> Dict[str, np.ndarray]:
        """The pretrained models' prediction of each weak label (on the label's own scale)."""
        if not self.pretrained_models:
            raise RuntimeError("the predictor is not pretrained: call pretrain first")
        adj, ops, mask = self._graphs(archs)
        with torch.no_grad():
            z = sum(model(adj, ops, mask) for model in self.pretrained_models) / len(self.pretrained_models)
        z = z.double().cpu().numpy().reshape(adj.shape[0], -1)
        return {name: z[:, k] * self.weak_label_std[k] + self.weak_label_mean[k]
                for k, name in enumerate(self.weak_label_names)}

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

    def predict_benchmark(self, bench) -> np.ndarray:
        """Predictions for every architecture of a benchmark table, in its row order: through
        their codes, in one native pass, where the space is natively encoded."""
        if bench.space.name != self.space.name:
            raise ValueError(f"the benchmark's architectures are of {bench.space.name}, the predictor's of "
                             f"{self.space.name}")
        if bench.space.size is not None and self._native():
            return self.predict_codes(bench.codes())
        return self.predict(bench.archs)

    # --- persistence --------------------------------------------------------------------
    def config(self) -> dict:
        return {"format": _FORMAT, "space": self.space.name, "encoder": self.encoder, "ensemble": self.ensemble,
                "seed": self.seed, "width": self.width, "layers": self.layers, "hidden": self.hidden, "lr": self.lr,
                "weight_decay": self.weight_decay, "epochs": self.epochs, "batch_size": self.batch_size,
                "dtype": "float64" if self.dtype == torch.float64 else "float32", "native": self.native,
                "target_mean": self.target_mean, "target_std": self.target_std,
                "weak_labels": list(self.weak_label_names), "weak_label_mean": list(map(float, self.weak_label_mean)),
                "weak_label_std": list(map(float, self.weak_label_std)), "pretrain_history": self.pretrain_history}

    def save(self, path: Union[str, Path]) -> None:
        """Writes the configuration and weights (fitted and pretrained models); :meth:`load`
        reads them back without unpickling arbitrary objects (tensors and plain values only).
        A pretrained, unfitted predictor saves its pretraining for later searches."""
        if not self.models and not self.pretrained_models:
            raise RuntimeError("nothing to save: the predictor is neither fitted nor pretrained")

        def weights(models):
            return [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in models]

        state = {"config": json.dumps(self.config()), "models": weights(self.models),
                 "pretrained": weights(self.pretrained_models)}
        state["checksum"] = _checksum(state)
        torch.save(state, str(path))

    @classmethod
    def load(cls, path: Union[str, Path], device: Union[str, torch.device] = "cpu") -> "Predictor":
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            config = json.loads(state["config"])
        except FileNotFoundError:
            raise
        except Exception as err:  # a foreign or corrupted file: say which
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise ValueError(f"{str(path)!r} is not a saved fastrank Predictor ({type(err).__name__}: {first})") from None
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            shown = config.get("format") if isinstance(config, dict) else type(config).__name__
            raise ValueError(f"{str(path)!r} is not a saved fastrank Predictor (format {shown!r})")
        if "checksum" in state and state["checksum"] != _checksum(state):  # (files before 0.1.0 carry none)
            raise ValueError(f"{str(path)!r}: the weights or configuration do not match their checksum (a damaged file)")
        try:
            return cls._from_state(path, state, config, device)
        except ValueError as err:
            if str(err).startswith(repr(str(path))):
                raise
            raise ValueError(f"{str(path)!r}: a damaged or mismatched saved Predictor ({err})") from None
        except (KeyError, TypeError, AttributeError, RuntimeError, IndexError) as err:
            # a missing key, a wrong type, weights of another shape: the file does not hold what it claims
            what = f"missing {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {str(err).splitlines()[0]}"
            raise ValueError(f"{str(path)!r}: a damaged or mismatched saved Predictor ({what})") from None

    @classmethod
    def _from_state(cls, path, state, config, device) -> "Predictor":
        space = _proteins_space() if config["space"] == "nasbench_graph_proteins" else get_space(config["space"])
        predictor = cls(space, config["encoder"], config["ensemble"], config["seed"], width=config["width"],
                        layers=config["layers"], hidden=config["hidden"], lr=config["lr"],
                        weight_decay=config["weight_decay"], epochs=config["epochs"], batch_size=config["batch_size"],
                        device=device, dtype=torch.float64 if config["dtype"] == "float64" else torch.float32,
                        native=bool(config.get("native", True)))
        predictor.target_mean, predictor.target_std = float(config["target_mean"]), float(config["target_std"])
        if not (math.isfinite(predictor.target_mean) and math.isfinite(predictor.target_std)
                and predictor.target_std > 0):
            raise ValueError(f"{str(path)!r}: target_std must be a positive finite number and target_mean finite, "
                             f"got {predictor.target_std!r} and {predictor.target_mean!r}")
        names = tuple(config.get("weak_labels", ()))
        for key, outputs in (("models", 1), ("pretrained", len(names))):
            models = state.get(key, [])
            if models and len(models) != predictor.ensemble:
                raise ValueError(f"{str(path)!r} holds {len(models)} {key} for an ensemble of {predictor.ensemble}")
            built = []
            for member, weights in enumerate(models):
                model = predictor._build(member, outputs=outputs)
                model.load_state_dict(weights)
                model.eval()
                built.append(model)
            if key == "models":
                predictor.models = built
            else:
                predictor.pretrained_models = built
        if names:
            predictor.weak_label_names = names
            predictor.weak_label_mean = np.array(config["weak_label_mean"], dtype=np.float64)
            predictor.weak_label_std = np.array(config["weak_label_std"], dtype=np.float64)
            if not (np.all(np.isfinite(predictor.weak_label_mean)) and np.all(np.isfinite(predictor.weak_label_std))
                    and np.all(predictor.weak_label_std > 0)):
                raise ValueError(f"{str(path)!r}: weak label statistics must be finite, with positive spreads")
            predictor.pretrain_history = list(config.get("pretrain_history", []))
        return predictor

    def __repr__(self) -> str:
        state = "fitted" if self.models else "not fitted"
        if self.pretrained_models:
            state += f", pretrained on {', '.join(self.weak_label_names)}"
        return f"Predictor({self.space.name}, encoder={self.encoder!r}, ensemble={self.ensemble}, {state})"


def _checksum(state: dict) -> str:
    """SHA-256 of a saved predictor's configuration and every weight (names, shapes, bytes):
    torch's zip format does not check its records, and a flipped bit in a weight still loads."""
    import hashlib

    digest = hashlib.sha256(str(state.get("config")).encode())
    for key in ("models", "pretrained"):
        for member in state.get(key) or []:
            for name in sorted(member):
                tensor = member[name].detach().cpu().contiguous()
                digest.update(f"{key}/{name}/{tuple(tensor.shape)}/{tensor.dtype}".encode())
                digest.update(tensor.numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def _bar(progress: bool, total: int, desc: str):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="epoch", leave=False)


def _copy_encoder(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """Every parameter and buffer outside the ``head`` submodule: the encoder fine-tuning keeps."""
    encoder = {k: v for k, v in source.state_dict().items() if not k.startswith("head.")}
    missing, _ = target.load_state_dict(encoder, strict=False)
    if any(not k.startswith("head.") for k in missing):
        raise ValueError(f"the pretrained encoder does not fit this model: missing {missing}")


def _graded(loss_fn):
    """LambdaRank reads relevance grades (>= 0), not the z-scored targets fit trains on: grade
    them as AceNAS does unless the loss names its own relevance."""
    if isinstance(loss_fn, RankingLoss) and loss_fn.name == "LambdaRank" and "relevance" not in loss_fn.hyper:
        return RankingLoss("LambdaRank", reduction=loss_fn.reduction, relevance="acenas", **loss_fn.hyper)
    return loss_fn


def _proteins_space():
    from .spaces import NASBenchGraph
    return NASBenchGraph(proteins=True)
