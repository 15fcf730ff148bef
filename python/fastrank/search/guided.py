"""What the predictor-guided strategies share: the random start and one fit per round."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..nn import PiecewiseLoss
from ..predictor import Predictor
from .candidates import CandidatePool
from .trace import Trace
from .._checks import check_int, check_number


@dataclass
class GuidedOptions:
    """Options of the predictor-guided strategies (``fastrank.search.run(..., **options)``).

    n_init: random architectures queried before the first fit (10).
    per_round: architectures queried after each fit (5).
    exploration: share of each round's queries drawn at random instead of by the predictor (0).
    predictor: keyword arguments of :class:`fastrank.Predictor` (encoder, ensemble, epochs, ...).
    predictor_class: :class:`fastrank.Predictor` or a subclass (another model, see its docs).
    pretrain: weak labels to pretrain the encoder on once per run before the first fit
        (AceNAS): names of the benchmark's weak labels (a comma list, a sequence or "all"),
        or a mapping name -> one value per candidate architecture (NaN = missing). None: no
        pretraining.
    pretrain_epochs: epochs of that pretraining (20).
    """

    n_init: int = 10
    per_round: int = 5
    exploration: float = 0.0
    predictor: dict = field(default_factory=dict)
    predictor_class: type = Predictor
    pretrain: object = None
    pretrain_epochs: int = 20

    def __post_init__(self):
        for name in ("n_init", "per_round", "pretrain_epochs"):
            value = getattr(self, name)
            check_int(value, name)
        check_number(self.exploration, "exploration", "a fraction in [0, 1]", low=0, high=1)
        if not isinstance(self.predictor, dict):
            raise TypeError("predictor must be a dict of Predictor keyword arguments")
        if not (isinstance(self.predictor_class, type) and issubclass(self.predictor_class, Predictor)):
            raise TypeError("predictor_class must be fastrank.Predictor or a subclass")


def rounds(trace: Trace, pool: CandidatePool, rng: np.random.Generator, n_init: int):
    """The random start, then round numbers 1, 2, ... while the budget lasts."""
    for arch in pool.draw(trace, rng, min(n_init, trace.remaining)):
        trace(arch)
    round_no = 0
    while trace.remaining > 0:
        round_no += 1
        yield round_no


def best_labelled(trace: Trace, n: int) -> list:
    """The n best queried architectures by value (the first queried on ties)."""
    archs, values = trace.labelled()
    return [archs[i] for i in np.argsort(-values, kind="stable")[:n]]


def fit_round(trace: Trace, space, loss, seed: int, round_no: int, options: GuidedOptions,
              pretrained: Optional[Predictor] = None) -> Predictor:
    """A fresh predictor fitted on every labelled architecture (seeded by run and round, so
    runs are reproducible and rounds independent), from the run's pretrained encoder if any."""
    archs, values = trace.labelled()
    predictor = options.predictor_class(space, seed=seed * 1000 + round_no, **options.predictor)
    if pretrained is not None:
        predictor.adopt_pretraining(pretrained)
    active = loss.active(len(archs)) if isinstance(loss, PiecewiseLoss) else loss
    return predictor.fit(archs, values, loss=active)


def query_best(trace: Trace, candidates, scores: np.ndarray, options: GuidedOptions, rng: np.random.Generator) -> None:
    """Queries the round's picks among the scored candidates."""
    for i in pick(scores, min(options.per_round, trace.remaining), options.exploration, rng):
        trace(candidates[i])


def pick(scores: np.ndarray, k: int, exploration: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of the k chosen candidates: the best predicted, plus a random share."""
    k = min(k, scores.shape[0])
    explore = int(round(k * exploration))
    order = np.argsort(-scores, kind="stable")
    chosen = order[:k - explore]
    if explore:
        rest = order[k - explore:]
        chosen = np.concatenate([chosen, rng.choice(rest, min(explore, rest.shape[0]), replace=False)])
    return chosen
