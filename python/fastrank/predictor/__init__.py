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

:class:`Predictor` is assembled here from one part per concern: ``network`` (the encoder
registry and model building), ``graphs`` (architectures -> checked graph batches), ``training``
(fit and pretraining), ``scoring`` (the predict methods) and ``persistence`` (save and load).
"""
from __future__ import annotations

from typing import List, Optional, Tuple, Union

import numpy as np
import torch

from .._checks import check_int, check_number
from ..spaces import SearchSpace, get_space
from .graphs import GraphEncoding
from .network import ENCODERS, ModelBuilding, parse_encoders
from .persistence import Persistence
from .scoring import Scoring
from .training import Fitting, positive_int, positive_lr

__all__ = ["Predictor", "ENCODERS"]


class Predictor(ModelBuilding, GraphEncoding, Fitting, Scoring, Persistence):
    """Predicts a metric of a search space's architectures from a few labelled ones.

    Args:
        space: the :class:`~fastrank.spaces.SearchSpace` (or its name, see ``spaces.SPACES``).
        encoder: "gcn" (default; directed GCN of NPENAS/BRP-NAS whose CPU training step runs
            natively), "gin" (GIN on the undirected graph), "mlp" (flat adjacency encoding),
            "gae" (the graph autoencoder's encoder, :class:`fastrank.graph.GAEEncoder`) or
            "gcn_flat" (the GCN beside a layer over the flat encoding, under one head: it reads
            the wiring and each position's choice; trains through torch); or
            several joined by "+" ("gcn+mlp"): an ensemble of different encoders, whose
            inductive biases fail on different spaces (the GCN reads the cell's wiring, the MLP
            each position's choice on its own).
        ensemble: independently initialised models per encoder; predictions are their mean
            (``predict(..., members=True)``: each model's).
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
        encoders = parse_encoders(encoder)
        check_int(seed, "seed", 0)
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        check_number(weight_decay, "weight_decay", "a non-negative finite number", low=0)
        self.space = space
        self.encoder = encoder
        self.encoders = encoders
        self.ensemble = positive_int(ensemble, "ensemble")
        self.seed = int(seed)
        self.width = positive_int(width, "width")
        self.layers = positive_int(layers, "layers")
        self.hidden = self.width if hidden is None else positive_int(hidden, "hidden")
        self.lr = positive_lr(lr)
        self.weight_decay = float(weight_decay)
        self.epochs = positive_int(epochs, "epochs")
        self.batch_size = positive_int(batch_size, "batch_size")
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

    @property
    def members(self) -> int:
        """Models in the ensemble: ``ensemble`` per encoder."""
        return self.ensemble * len(self.encoders)

    @property
    def pretrained(self) -> bool:
        return bool(self.pretrained_models)

    @property
    def fitted(self) -> bool:
        return bool(self.models)

    def __repr__(self) -> str:
        state = "fitted" if self.models else "not fitted"
        if self.pretrained_models:
            state += f", pretrained on {', '.join(self.weak_label_names)}"
        return f"Predictor({self.space.name}, encoder={self.encoder!r}, ensemble={self.ensemble}, {state})"
