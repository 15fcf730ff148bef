"""Loss modules, the registry of losses by name, and the piecewise (PW) loss.

    >>> loss_fn = fastrank.nn.make_loss("HR", margin=0.1)
    >>> loss = loss_fn(model(x).squeeze(-1), accuracy)
"""
from __future__ import annotations

import inspect
from typing import Callable, Dict, Mapping, Sequence, Tuple, Union

import torch

from . import losses as F
from ._checks import check_int, check_number

__all__ = [
    "RankingLoss",
    "PiecewiseLoss",
    "WeightedSum",
    "LOSSES",
    "register_loss",
    "FAMILIES",
    "make_loss",
    "canonical_loss_name",
    "SEED_PIECEWISE",
]

# name -> (function, family). Paper names (Ji et al. 2025) first, then what users expect.
LOSSES: Dict[str, Tuple[Callable, str]] = {
    "MSE": (F.mse, "regression"),
    "HR": (F.hinge_ranking, "pairwise ranking"),
    "LR": (F.logistic_ranking, "pairwise ranking"),
    "MSE+SR": (F.mse_sequence_ranking, "pairwise ranking"),
    "ListMLE": (F.listmle, "listwise ranking"),
    "ListNet": (F.listnet, "listwise ranking"),
    "EW": (F.exp_weighted_mse, "weighted"),
    "MAPE": (F.mape, "weighted"),
    "WARP": (F.warp, "weighted"),
    "LambdaRank": (F.lambdarank, "listwise ranking"),
}
_ALIASES = {
    "hinge": "HR", "hinge_ranking": "HR", "logistic": "LR", "ranknet": "LR", "logistic_ranking": "LR",
    "mse_sr": "MSE+SR", "mse_sequence_ranking": "MSE+SR", "exp_weighted_mse": "EW",
}
FAMILIES = {name: family for name, (_, family) in LOSSES.items()}
_LAYOUT = ("group_sizes", "mask", "reduction")


def register_loss(name: str, fn: Callable, family: str = "user") -> None:
    """Adds a loss to the registry under ``name``: then ``make_loss(name)``, spec strings, the
    predictor, ``fastrank search --loss`` and ``fastrank study --losses`` accept it.

    ``fn(scores, targets, *, group_sizes=None, mask=None, reduction="mean", **hyperparameters)``
    returns a scalar tensor (for the reductions "mean" and "sum"); higher targets are better.
    Worker processes find it where they import the module that registers it (spawned workers
    re-import a script's top level; Ray pickles the function)."""
    if not isinstance(name, str) or not name.strip() or any(c in name for c in ":,=@;"):
        raise ValueError(f"a loss name must be a non-empty string without ':,=@;', got {name!r}")
    if name.lower() in {k.lower() for k in LOSSES} or name.lower() in _ALIASES or name.lower() in ("pw", "sum"):
        raise ValueError(f"{name!r} is already a loss name")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    params = inspect.signature(fn).parameters
    missing = [p for p in _LAYOUT if p not in params and not any(
        v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())]
    if len([p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) < 2 or missing:
        raise TypeError(f"fn must take (scores, targets, *, group_sizes, mask, reduction, ...); missing {missing}")
    if not isinstance(family, str) or not family:
        raise TypeError("family must be a non-empty string")
    LOSSES[name] = (fn, family)
    FAMILIES[name] = family


def canonical_loss_name(name: str) -> str:
    """The registered name of a loss written in any case, or by an alias (``"hinge"`` -> ``"HR"``)."""
    if not isinstance(name, str):
        raise TypeError(f"a loss name must be a string, got {type(name).__name__}")
    by_lower = {k.lower(): k for k in LOSSES}
    key = name.lower()
    if key in by_lower:
        return by_lower[key]
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)} (and aliases {', '.join(_ALIASES)})")


class RankingLoss(torch.nn.Module):
    """A registered loss with its hyperparameters bound: ``RankingLoss("WARP", margin=0.5)``.

    ``forward(scores, targets, *, group_sizes=None, mask=None)``; the reduction is fixed at
    construction (default "mean").
    """

    def __init__(self, name: str, reduction: str = "mean", **hyper):
        super().__init__()
        self.name = canonical_loss_name(name)
        self.fn = LOSSES[self.name][0]
        accepted = set(inspect.signature(self.fn).parameters) - {"scores", "targets", "group_sizes", "mask", "reduction"}
        unknown = set(hyper) - accepted
        if unknown:
            raise TypeError(f"{self.name} takes hyperparameters {sorted(accepted)}, not {sorted(unknown)}")
        self.reduction = reduction
        self.hyper = dict(hyper)
        if hyper:  # a bad value (LambdaRank:k=abc) is refused here, by the loss's own checks, not mid-search
            probe = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
            self.fn(probe, probe.flip(0), reduction=reduction, **self.hyper)

    def forward(self, scores, targets, *, group_sizes=None, mask=None):
        return self.fn(scores, targets, group_sizes=group_sizes, mask=mask, reduction=self.reduction, **self.hyper)

    def extra_repr(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{self.name!r}" + (f", {items}" if items else "")


LossSpec = Union[str, torch.nn.Module]


def make_loss(spec: LossSpec, **hyper) -> torch.nn.Module:
    """A loss module from a name (with hyperparameters) or a module (returned as is)."""
    if isinstance(spec, torch.nn.Module):
        if hyper:
            raise TypeError("hyperparameters go with a loss name, not with a module")
        return spec
    return RankingLoss(spec, **hyper)


class WeightedSum(torch.nn.Module):
    """Σ_i w_i · loss_i(scores, targets), e.g. ``WeightedSum({"MSE": 1.0, "HR": 0.5})``."""

    def __init__(self, terms: Union[Mapping[str, float], Sequence[Tuple[float, LossSpec]]]):
        super().__init__()
        pairs = [(w, make_loss(n)) for n, w in terms.items()] if isinstance(terms, Mapping) else [
            (w, make_loss(l)) for w, l in terms]
        if not pairs:
            raise ValueError("WeightedSum needs at least one term")
        for w, _ in pairs:
            check_number(w, "weights", "finite numbers")
        self.weights = [float(w) for w, _ in pairs]
        self.terms = torch.nn.ModuleList(l for _, l in pairs)

    def forward(self, scores, targets, **layout):
        total = None
        for w, loss in zip(self.weights, self.terms):
            value = w * loss(scores, targets, **layout)
            total = value if total is None else total + value
        return total


# The seed study's PW pairs (warm-up loss -> focus loss) per search space / task.
SEED_PIECEWISE: Dict[str, Tuple[str, str]] = {
    "nb201": ("HR", "MAPE"),
    "darts": ("HR", "MAPE"),
    "nb101": ("ListMLE", "WARP"),
    "tnb101_micro_jigsaw": ("MSE", "EW"),
    "tnb101_micro": ("HR", "WARP"),
}


class PiecewiseLoss(torch.nn.Module):
    """PW loss: a warm-up loss while few architectures are labelled, then a focus loss.

    ``forward(scores, targets, *, n_labelled, group_sizes=None, mask=None)`` uses
    ``warmup`` while ``n_labelled < switch_at`` and ``focus`` from then on (a ranking loss
    learns the global order from little data; a weighted loss then sharpens the top).
    ``PiecewiseLoss.seed("nb201", switch_at=...)`` builds the seed study's pair for a task.
    """

    def __init__(self, warmup: LossSpec, focus: LossSpec, switch_at: int):
        super().__init__()
        check_int(switch_at, "switch_at", 0)
        self.warmup = make_loss(warmup)
        self.focus = make_loss(focus)
        self.switch_at = switch_at

    @classmethod
    def seed(cls, task: str, switch_at: int = 100) -> "PiecewiseLoss":
        """The seed study's pair for ``task`` (a key of :data:`SEED_PIECEWISE`; other
        TransNAS micro tasks use "tnb101_micro"). ``switch_at`` defaults to 100 labelled
        architectures, our choice: pick it from the search budget."""
        if task not in SEED_PIECEWISE:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(SEED_PIECEWISE)}")
        warmup, focus = SEED_PIECEWISE[task]
        return cls(warmup, focus, switch_at)

    def active(self, n_labelled: int) -> torch.nn.Module:
        check_int(n_labelled, "n_labelled", 0)
        return self.warmup if n_labelled < self.switch_at else self.focus

    def forward(self, scores, targets, *, n_labelled: int, **layout):
        return self.active(n_labelled)(scores, targets, **layout)

    def extra_repr(self) -> str:
        return f"switch_at={self.switch_at}"


