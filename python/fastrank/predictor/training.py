"""Fitting and pretraining: standardised targets, the ensemble's training loop (the native GCN
step with FusedAdam where it applies, torch autograd otherwise), and weak-label pretraining
(AceNAS) whose encoder later fits start from."""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from .._checks import check_int, check_number
from .._overflow import overflow_scale
from ..graph import GCNPredictor
from ..graph.predictor import torch_step
from ..loss_spec import resolve_loss
from ..nn import RankingLoss
from ..optim import FusedAdam
from ..weak_labels import masked_multihead_mse, standardise_weak_labels
from .graphs import check_archs
from .network import copy_encoder

if TYPE_CHECKING:
    from . import Predictor

__all__ = ["Fitting", "positive_int", "positive_lr"]

_PRETRAIN_SALT = 7919  # pretraining's models start from other draws than fit's


def positive_int(value, name: str) -> int:
    """check_int's positive int, as a plain int: config() writes it to JSON, which takes no numpy ints."""
    return int(check_int(value, name))


def positive_lr(value) -> float:
    return float(check_number(value, "lr", "a positive finite number", low=0, low_open=True))


class Fitting:
    """:meth:`fit`, :meth:`pretrain` and :meth:`adopt_pretraining` of :class:`~fastrank.Predictor`."""

    def fit(self, archs: Sequence, targets, loss="MSE", *, epochs: Optional[int] = None,
            batch_size: Optional[int] = None, lr: Optional[float] = None, progress: bool = False,
            from_pretrained: bool = True, warm_start: Optional[Predictor] = None) -> Predictor:
        """Trains fresh models on ``(archs, targets)`` (higher targets = better).

        ``loss``: a registered name (``fastrank.nn.LOSSES``: "MSE", "HR", "LambdaRank", ...), a
        spec string (``"pw:HR,MAPE@50"``, ``"sum:MSE=1,HR=0.5"``, ``"LambdaRank:k=10"``), a loss
        module, or a :class:`~fastrank.nn.PiecewiseLoss` (its active part for ``len(archs)``
        labelled architectures is used). LambdaRank without a ``relevance`` grades the targets as
        AceNAS does (``relevance="acenas"``). After :meth:`pretrain`, each model starts from the
        pretrained encoder with a fresh head (``from_pretrained=False``: from scratch).
        ``warm_start``: a fitted predictor of the same model whose models (copies, heads included)
        this fit goes on training instead: a search's later rounds refit on a few more results
        than the round before, and need fewer epochs from where the last fit ended. Returns self.
        """
        y = np.asarray(targets, dtype=np.float64)
        if y.ndim != 1 or y.shape[0] != len(archs):
            raise ValueError(f"targets must be 1-D with one value per architecture: {len(archs)} architectures, "
                             f"targets of shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("targets contain NaN or infinity")
        if y.shape[0] < 2:
            raise ValueError(f"fit needs at least 2 labelled architectures, got {y.shape[0]}")
        epochs = self.epochs if epochs is None else positive_int(epochs, "epochs")
        batch_size = self.batch_size if batch_size is None else positive_int(batch_size, "batch_size")
        lr = self.lr if lr is None else positive_lr(lr)
        loss_fn = _graded(resolve_loss(loss, n_labelled=len(archs), space=self.space.name))
        if warm_start is not None:
            self._check_same_model(warm_start, "warm_start")
            if not warm_start.fitted:
                raise ValueError("warm_start must be a fitted Predictor")
        graphs = self._graphs(archs)
        z, self.target_mean, self.target_std = _standardise(y)
        targets = torch.as_tensor(z, dtype=self.dtype, device=self.device)

        def build(member: int) -> torch.nn.Module:
            if warm_start is not None:
                return copy.deepcopy(warm_start.models[member])
            model = self._build(member)
            if from_pretrained and self.pretrained_models:
                copy_encoder(self.pretrained_models[member], model)
            return model

        self.models, _ = self._train_ensemble(build, graphs, targets, loss_fn, epochs, batch_size, lr,
                                              order=(y.shape[0],), progress=progress, desc="fit")
        return self

    def pretrain(self, archs: Sequence, weak_labels: Mapping[str, object], *, epochs: int = 20,
                 batch_size: int = 256, lr: Optional[float] = None, progress: bool = False) -> Predictor:
        """Pretrains the encoder on weak labels (AceNAS): one head per label regresses
        that label's z-scores from the shared encoder (MSE per head, summed; NaN = missing,
        masked out), with Adam and a cosine learning rate over ``epochs``.

        archs: many architectures (all of an enumerable space, or a large sample).
        weak_labels: label name -> one value per architecture, e.g.
            ``fastrank.weak_labels.select_weak_labels(bench, "zen")`` or ``bench.weak_labels``.
        Later :meth:`fit` calls start from the pretrained encoder. Returns self.
        """
        check_archs(archs)  # before standardise_weak_labels takes its length
        names, z, mean, std = standardise_weak_labels(weak_labels, len(archs))
        epochs = positive_int(epochs, "epochs")
        batch_size = positive_int(batch_size, "batch_size")
        lr = self.lr if lr is None else positive_lr(lr)
        graphs = self._graphs(archs)
        targets = torch.as_tensor(z, dtype=self.dtype, device=self.device)
        if len(names) == 1:
            targets = targets[:, 0]

        def build(member: int) -> torch.nn.Module:
            return self._build(member, outputs=len(names), salt=_PRETRAIN_SALT)

        self.pretrained_models, histories = self._train_ensemble(build, graphs, targets, masked_multihead_mse, epochs,
                                                                 batch_size, lr, order=(len(archs), 1),
                                                                 progress=progress, desc="pretrain", cosine=True)
        self.weak_label_names, self.weak_label_mean, self.weak_label_std = names, mean, std
        self.pretrain_history = np.mean(histories, axis=0).tolist()
        return self

    def adopt_pretraining(self, other: Predictor) -> Predictor:
        """Starts later fits from ``other``'s pretrained encoder (shared, not copied: fitting
        never changes it): one pretraining serves every round of a search. Returns self."""
        if not isinstance(other, Fitting) or not other.pretrained_models:  # Fitting: a part of every Predictor
            raise ValueError("adopt_pretraining needs a pretrained Predictor")
        self._check_same_model(other, "the pretrained predictor")
        self.pretrained_models = other.pretrained_models
        self.weak_label_names, self.weak_label_mean = other.weak_label_names, other.weak_label_mean
        self.weak_label_std, self.pretrain_history = other.weak_label_std, other.pretrain_history
        return self

    def _check_same_model(self, other, what: str) -> None:
        """Raises unless ``other`` is a Predictor building the same models as this one."""
        if not isinstance(other, Fitting):
            raise TypeError(f"{what} must be a fastrank.Predictor, got {type(other).__name__}")
        mine, theirs = self.config(), other.config()
        keys = ("space", "encoder", "ensemble", "width", "layers", "hidden", "dtype")
        differ = [k for k in keys if mine[k] != theirs[k]]
        if differ or type(self).build_model is not type(other).build_model:
            detail = ", ".join(f"{k} {theirs[k]!r} vs {mine[k]!r}" for k in differ) or "another build_model"
            raise ValueError(f"{what} has another model: {detail}")

    def _train_ensemble(self, build: Callable[[int], torch.nn.Module], graphs, targets, loss_fn, epochs: int,
                        batch_size: int, lr: float, *, order: Tuple[int, ...], progress: bool, desc: str,
                        cosine: bool = False) -> Tuple[List[torch.nn.Module], List[List[float]]]:
        """Each member's model, ``build(member)``, trained; its batch order is drawn from
        ``(seed, member, *order)``. Returns the models and each one's loss per epoch."""
        models, histories = [], []
        with _progress_bar(progress, self.members * epochs, desc) as bar:
            for member in range(self.members):
                model = build(member)
                histories.append(self._train(model, graphs, targets, loss_fn, epochs, batch_size, lr,
                                             np.random.default_rng((self.seed, member, *order)), bar, cosine))
                models.append(model)
        return models, histories

    def _train(self, model, graphs, targets, loss_fn, epochs: int, batch_size: int, lr: float,
               order: np.random.Generator, bar, cosine: bool) -> List[float]:
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


def _standardise(y: np.ndarray) -> Tuple[np.ndarray, float, float]:
    """The targets' z-scores, their mean and spread (1 for constant targets). Values beyond
    1e150 are standardised as y / max|y| first: their squares would overflow."""
    scale = float(overflow_scale(y))
    unit = y / scale
    unit_std = float(unit.std()) or 1.0
    return (unit - unit.mean()) / unit_std, float(unit.mean()) * scale, unit_std * scale


@contextmanager
def _progress_bar(progress: bool, total: int, desc: str):
    """A tqdm bar of ``total`` epochs, closed however training ends; None without ``progress``."""
    if not progress:
        yield None
        return
    from tqdm.auto import tqdm
    bar = tqdm(total=total, desc=desc, unit="epoch", leave=False)
    try:
        yield bar
    finally:
        bar.close()


def _graded(loss_fn):
    """LambdaRank reads relevance grades (>= 0), not the z-scored targets fit trains on: grade
    them as AceNAS does unless the loss names its own relevance."""
    if isinstance(loss_fn, RankingLoss) and loss_fn.name == "LambdaRank" and "relevance" not in loss_fn.hyper:
        return RankingLoss("LambdaRank", reduction=loss_fn.reduction, relevance="acenas", **loss_fn.hyper)
    return loss_fn
