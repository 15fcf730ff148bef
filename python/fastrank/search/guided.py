"""What the predictor-guided strategies share: their options, the random start, one fit per
round, and a queue of the round's picks handed out as workers free up."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Mapping, Optional

import numpy as np

from ..nn import PiecewiseLoss
from ..predictor import ENCODERS, Predictor
from .options import FRACTION, Check, Choice, Instance, Int, Keywords, OneOf, Optional_, Options, option
from .strategy import Context, RandomStart, Strategy

PREDICTOR_KEYWORDS = Keywords("fastrank.Predictor keyword arguments", Predictor, {
    "encoder": (Choice(ENCODERS), "the predictor's encoder"),
    "ensemble": (Int(1), "predictors averaged per fit"),
    "epochs": (Int(1), "training epochs per fit"),
})
PREDICTOR_CLASS = Instance(lambda v: isinstance(v, type) and issubclass(v, Predictor),
                           "fastrank.Predictor or a subclass")


class WeakLabelNames(Check):
    what = "weak label names (a comma list) or 'all'"

    def check(self, value, name):
        if not isinstance(value, str) or not value.strip():
            raise TypeError(f"{name} must be {self.what}, got {value!r}")
        return value


WEAK_LABELS = OneOf(WeakLabelNames(), Instance(lambda v: isinstance(v, (Mapping, list, tuple)),
                                               "a mapping name -> one value per candidate"),
                    what="weak label names (a comma list) or 'all'")


OPTIONAL_WEAK_LABELS = Optional_(WEAK_LABELS, "no pretraining")


@dataclass
class PredictorOptions(Options):
    """The predictor every predictor-guided strategy fits, and its optional pretraining."""

    predictor: dict = option(None, "keyword arguments of fastrank.Predictor", PREDICTOR_KEYWORDS, factory=dict)
    predictor_class: type = option(Predictor, "fastrank.Predictor or a subclass (another model)", PREDICTOR_CLASS,
                                   cli=False)
    pretrain: object = option(None, "pretrain the encoder once per run on these weak labels of the benchmark "
                                    "(a comma list or 'all'; `fastrank benchmarks` lists them), or from Python a "
                                    "mapping name -> one value per candidate", OPTIONAL_WEAK_LABELS)
    pretrain_epochs: int = option(20, "epochs of that pretraining", Int(1))


@dataclass
class GuidedOptions(PredictorOptions):
    """Options of the "predictor" strategy: a random start, then rounds of fit → score → pick."""

    n_init: int = option(10, "random architectures queried before the first fit", Int(1))
    per_round: int = option(5, "architectures picked after each fit", Int(1))
    exploration: float = option(0.0, "share of each round's picks drawn at random instead of by the predictor",
                                FRACTION)
    local: float = option(0.0, "share of each round's picks taken from the unqueried neighbours of the best "
                               "results (the best predicted first) instead of from the whole ranking", FRACTION)


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


def pick_local(chosen: np.ndarray, scores: np.ndarray, near: np.ndarray, share: float) -> np.ndarray:
    """``chosen`` with a ``share`` of its places given to the best-scored candidates that ``near``
    marks (neighbours of the best results), ahead of the rest of the picks."""
    k = chosen.shape[0]
    n_local = min(int(round(k * share)), int(near.sum()))
    if n_local == 0:
        return chosen
    order = np.argsort(-scores, kind="stable")
    local = order[near[order]][:n_local]
    rest = chosen[~np.isin(chosen, local)][:k - n_local]
    return np.concatenate([local, rest])


LOCAL_PARENTS = 3  # the best results whose neighbours ``local`` picks among
RANKED_KEPT = 64  # next-best candidates kept from a fit, for asks that come before any new result


class GuidedStrategy(Strategy):
    """A random start of ``n_init``, then rounds: :meth:`candidates_and_scores` fits a predictor
    on every result back so far and scores candidates, and the best ``per_round`` go to a queue.
    ``ask`` hands the queue out; a new round starts when it is empty. The first fit waits until
    the whole random start is back (with several workers, asks meanwhile get nothing)."""

    takes_loss = True

    def __init__(self, context: Context, options: Optional[GuidedOptions] = None):
        super().__init__(context, options)
        self.queue: List = []
        self.start = RandomStart(self.guided.n_init)
        self.round_no = 0
        self.fitted_at = -1  # results back at the last fit
        self.ranked: List = []  # the last fit's next-best candidates
        self.pretrained = None
        if self.guided.pretrain is not None:
            from .pretraining import pretrained_for_run

            self.pretrained = pretrained_for_run(self.space, self.guided, self.seed, context.table,
                                                 self.pool.archs if self.pool.fixed else None)

    @property
    def guided(self) -> GuidedOptions:
        return self.options

    def ask(self, n: int) -> List:
        out = []
        with self.history.holding() as hold:  # a refill within this ask must not pick these again
            while len(out) < n:
                if not self.queue and not self._refill():
                    break
                arch = self.queue.pop(0)
                if self.history.seen(arch):
                    continue
                out.append(arch)
                hold(arch)
        return out

    def _refill(self) -> bool:
        if not self.start.started:
            self.queue = self.start.draw(self)
            return bool(self.queue)
        back = len(self.history.queries)
        if not self.start.back(self.history) or back < 2:
            if self.history.in_flight:
                return False  # the random start is still out: wait for it
            self.queue = self.pool.draw(self.history, self.rng, 1)  # a fit needs two results
            return bool(self.queue)
        if back == self.fitted_at and self.ranked:
            # no result came back since the last fit (several workers asked at once): go on down
            # its ranking rather than refit on the same data
            self.queue = [a for a in self.ranked if not self.history.seen(a)][:self.guided.per_round]
            self.ranked = [a for a in self.ranked if not self.history.seen(a) and a not in self.queue]
            return bool(self.queue)
        found = self.candidates_and_scores()
        if found is None:
            return False
        candidates, scores = found
        self.fitted_at = back
        chosen = pick(scores, self.guided.per_round, self.guided.exploration, self.rng)
        if self.guided.local:
            near = {self.space.identity(a) for a in
                    self.pool.mutants(self.history.best(LOCAL_PARENTS), self.history, self.rng, None)}
            marks = np.fromiter((self.space.identity(a) in near for a in candidates), bool, len(candidates))
            chosen = pick_local(chosen, np.asarray(scores), marks, self.guided.local)
        self.queue = [candidates[i] for i in chosen]
        rest = np.ones(len(candidates), dtype=bool)
        rest[chosen] = False
        order = np.argsort(-scores, kind="stable")
        self.ranked = [candidates[i] for i in order[rest[order]][:RANKED_KEPT]]
        return bool(self.queue)

    def fit(self) -> Predictor:
        """A fresh predictor fitted on every result back (seeded by run and round, so runs are
        reproducible and rounds independent), from the run's pretrained encoder if any."""
        self.round_no += 1
        archs, values = self.history.labelled(with_failures=True)
        options = self.guided
        predictor = options.predictor_class(self.space, seed=self.seed * 1000 + self.round_no, **options.predictor)
        if self.pretrained is not None:
            predictor.adopt_pretraining(self.pretrained)
        loss = self.context.loss
        active = loss.active(len(archs)) if isinstance(loss, PiecewiseLoss) else loss
        return predictor.fit(archs, values, loss=active)

    def candidates_and_scores(self):
        """(candidates, predicted scores) of a new round, or None when nothing is left."""
        raise NotImplementedError
