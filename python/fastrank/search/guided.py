"""What the predictor-guided strategies share: their options, the random start, one fit per
round, and a queue of the round's picks handed out as workers free up."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, List, Mapping, Optional

import numpy as np
import torch

from ..graph.encoding import encode_architectures
from .._overflow import overflow_scale
from ..metrics import spearman
from ..nn import PiecewiseLoss
from ..predictor import ENCODERS, Predictor
from ..predictor.gaussian_process import FlatGP
from ..predictor.network import FlatEncoding, parse_encoders
from .options import FRACTION, Bool, Check, Choice, Float, Instance, Int, Keywords, OneOf, Optional_, Options, option
from .strategy import Context, RandomStart, Strategy

class EncoderNames(Check):
    what = f"one of {', '.join(ENCODERS)}, or several joined by '+' (gcn+mlp)"

    def check(self, value, name):
        try:
            parse_encoders(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be {self.what}, got {value!r}") from None
        return value


PREDICTOR_KEYWORDS = Keywords("fastrank.Predictor keyword arguments", Predictor, {
    "encoder": (EncoderNames(), f"the predictor's encoder ({', '.join(ENCODERS)}; several joined by '+', "
                                 "e.g. gcn+mlp, make an ensemble of different encoders)"),
    "ensemble": (Int(1), "predictors per encoder, averaged per fit"),
    "epochs": (Int(1), "training epochs per fit"),
})
PREDICTOR_CLASS = Instance(lambda v: isinstance(v, type) and issubclass(v, Predictor),
                           "fastrank.Predictor or a subclass")


class WeakLabelNames(Check):
    what = "weak label names (a comma list), 'all', 'auto' or 'none'"

    def check(self, value, name):
        if not isinstance(value, str) or not value.strip():
            raise TypeError(f"{name} must be {self.what}, got {value!r}")
        return value


WEAK_LABELS = OneOf(WeakLabelNames(), Instance(lambda v: isinstance(v, (Mapping, list, tuple)),
                                               "a mapping name -> one value per candidate"),
                    what="weak label names (a comma list), 'all', 'auto' or 'none'")


OPTIONAL_WEAK_LABELS = Optional_(WEAK_LABELS, "no pretraining")
# a strategy that pretrains by default declares its own default with the same words
PRETRAIN_HELP = ("pretrain the encoder once per run on these weak labels of the benchmark (a comma list, 'all', "
                 "'none', or 'auto': all where the benchmark has any, none with your own objective; `fastrank "
                 "benchmarks` lists them), or from Python a mapping name -> one value per candidate")
PRETRAIN_EPOCHS_HELP = "epochs of that pretraining"
ACQUISITIONS = ("mean", "ucb", "thompson", "bandit")
ACQUISITION_HELP = ("how a round picks from the ensemble's predictions: mean (the best mean prediction), ucb (the best "
                    "mean + kappa x spread of the members' standardised scores), thompson (each pick the best of one "
                    "member, members in turn), bandit (as thompson until each member has made per_round picks, then "
                    "each pick the best of one member drawn by its record: how often its picks came back among the 5 "
                    "best so far); with one ensemble member all four are the same")
GP_MEMBER_HELP = ("a Gaussian process over the flat encoding joins the predictor's ensemble as one more member, scoring "
                  "by expected improvement: acquisition and member_weights read it as they read the others")
GP_BATCHES = ("auto", "top", "believer", "sequential")
GP_BATCH_HELP = ("how the Gaussian process makes several picks of one round: top (its best expected improvements at "
                 "the round's fit), believer (each pick made as if the round's earlier picks and the results still "
                 "out had come back at the process's mean, so that the next pick goes where they do not already "
                 "look), sequential (each of its picks made when it is handed out, by the process refitted on every "
                 "result back by then and believing those still out: the process is cheap to refit, the predictor "
                 "is not), or auto (believer at a fit made while evaluations are out, as with several workers, "
                 "else top); believer and sequential act for the process alone (gp_until) or as a member under "
                 "thompson or bandit, where each pick is one member's")
MEMBER_WEIGHTS = ("equal", "tracked")
NOVEL_TOP = 10  # local_novel: a neighbour is novel when it has a feature that none of these best results has
TRACKED_MIN = 5  # results with a forecast before tracked weights replace equal ones


@dataclass
class PredictorOptions(Options):
    """The predictor every predictor-guided strategy fits, and its optional pretraining."""

    predictor: dict = option(None, "keyword arguments of fastrank.Predictor", PREDICTOR_KEYWORDS, factory=dict)
    predictor_class: type = option(Predictor, "fastrank.Predictor or a subclass (another model)", PREDICTOR_CLASS,
                                   cli=False)
    pretrain: object = option(None, PRETRAIN_HELP, OPTIONAL_WEAK_LABELS)
    pretrain_epochs: int = option(20, PRETRAIN_EPOCHS_HELP, Int(1))
    refit_epochs: Optional[int] = option(None, "training epochs of each fit after a search's first, which goes on "
                                               "training the last fit's models (a warm start) instead of fresh "
                                               "ones (none: every fit trains fresh models for the predictor's "
                                               "epochs)", Optional_(Int(1), "fresh fits"))


@dataclass
class GuidedOptions(PredictorOptions):
    """Options of the "predictor" strategy: a random start, then rounds of fit → score → pick."""

    n_init: int = option(10, "random architectures queried before the first fit", Int(1))
    per_round: int = option(5, "architectures picked after each fit (the most, with round_share)", Int(1))
    round_share: float = option(0.0, "picks per fit as this share of the results back, at least 1 and at most "
                                     "per_round (0: always per_round): small rounds while each result still "
                                     "moves the predictor, full ones later", FRACTION)
    exploration: float = option(0.0, "share of each round's picks drawn at random instead of by the predictor",
                                FRACTION)
    local: float = option(0.0, "share of each round's picks taken from the unqueried neighbours of the best "
                               "results (the best predicted first) instead of from the whole ranking", FRACTION)
    local_novel: bool = option(False, "local's picks only among the neighbours that bring an operation or edge "
                                      f"that none of the {NOVEL_TOP} best results has, where there are any: a "
                                      "choice seen only in poor cells gets tried next to the good ones, which "
                                      "a model fitted on those results ranks low", Bool())
    bootstrap: bool = option(False, "each fit trains the predictor on a resample, with replacement, of the results "
                                    "back, drawn anew each round (bootstrap Thompson sampling): a few results that "
                                    "mislead one fit are left out of others", Bool())
    sweep: int = option(0, "fits in a row without a new best after which a round's picks (sweep_share of "
                           "them) go to the unqueried neighbours of the best result, each at the place (an edge, "
                           "a layer) where the fewest of its neighbours were queried, the best predicted there, "
                           "until a new best comes back or none is left: a run stuck one change from a better "
                           "cell tries every change of its best (0: never)", Int(0))
    sweep_share: float = option(1.0, "share of a stale round's picks that sweep gives to the best result's "
                                     "neighbours (the rest as the round would pick them)", FRACTION)
    widen: int = option(0, "rounds in a row without a new best after which the picks move away from the best "
                           "results: their unqueried neighbours are left out until a new best comes back (0: never)",
                        Int(0))
    gp_until: int = option(0, "fits with fewer results back than this rank the candidates by a Gaussian process "
                              "over the flat encoding (expected improvement) instead of fitting the predictor "
                              "(0: never)", Int(0))
    gp_member: bool = option(False, GP_MEMBER_HELP, Bool())
    gp_batch: str = option("auto", GP_BATCH_HELP, Choice(GP_BATCHES))
    acquisition: str = option("mean", ACQUISITION_HELP, Choice(ACQUISITIONS))
    kappa: float = option(1.0, "ucb's weight on the members' spread", Float("a non-negative number", low=0))
    member_weights: str = option("equal", "how the mean and ucb weigh the ensemble's members: equal, or tracked (each "
                                          "by its rank correlation, when it last scored them, with the results that "
                                          "came back since: a member whose encoder ranks this space badly fades)",
                                 Choice(MEMBER_WEIGHTS))

    def __post_init__(self):
        super().__post_init__()
        if self.gp_batch in ("believer", "sequential") and not (self.gp_member or self.gp_until):
            raise ValueError(f"gp_batch={self.gp_batch!r} sets how the Gaussian process picks: it needs the process "
                             f"(gp_member=True or gp_until > 0)")
        if self.sweep_share != 1.0 and not self.sweep:
            raise ValueError("sweep_share sets how much of a stale round sweep gives to the best result's "
                             "neighbours: it needs sweep > 0")
        if self.local_novel and not self.local:
            raise ValueError("local_novel narrows the picks that local gives to the best results' neighbours: it "
                             "needs local > 0")
        if self.gp_batch in ("believer", "sequential") and self.gp_member and self.acquisition in ("mean", "ucb"):
            raise ValueError(f"gp_batch={self.gp_batch!r} needs picks that are one member's (acquisition thompson or "
                             f"bandit); acquisition={self.acquisition!r} blends the members' scores")


def standardised(members: np.ndarray) -> np.ndarray:
    """Each member's scores over the candidates at mean 0 and spread 1: a ranking loss leaves a
    member's scale arbitrary, and members of different encoders learn different scales. A member
    whose scores reach beyond 1e150 (a predictor of values near the float range) is divided by its
    largest magnitude first: their spread would overflow to inf and the scores turn to NaN."""
    members = np.atleast_2d(np.asarray(members, dtype=np.float64))
    members = members / overflow_scale(members, axis=1, keepdims=True)
    return (members - members.mean(axis=1, keepdims=True)) / (members.std(axis=1, keepdims=True) + 1e-12)


def acquisition_scores(members: np.ndarray, acquisition: str, kappa: float,
                       weights: Optional[np.ndarray] = None) -> np.ndarray:
    """One score per candidate from the members' predictions ``(ensemble, n)``: the mean of the
    members' standardised scores (a plain mean would follow the widest), ``weights`` (one per
    member) if given, plus for ucb ``kappa`` times their spread. One member: its scores as they
    are."""
    members = np.atleast_2d(members)
    if members.shape[0] == 1:
        return members[0]
    z = standardised(members)
    mean = z.mean(axis=0) if weights is None else np.average(z, axis=0, weights=weights)
    return mean + (kappa * z.std(axis=0) if acquisition == "ucb" else 0.0)


def tracked_weights(forecasts: np.ndarray, values: np.ndarray) -> Optional[np.ndarray]:
    """One weight per member from its forecasts ``(results, ensemble)``, each made by a fit before
    that result came back, and the values that came back: the member's rank correlation with
    them floored at 0, plus its standard error 1/sqrt(n - 1): a few results cannot silence a
    member, and the weights part as evidence grows. None (equal weights) with fewer than
    TRACKED_MIN results."""
    n = forecasts.shape[0]
    if n < TRACKED_MIN:
        return None
    rho = np.nan_to_num([spearman(f, values) for f in forecasts.T], nan=0.0)  # NaN: a constant side
    return np.maximum(rho, 0.0) + 1.0 / np.sqrt(n - 1)


Rescore = Callable[[List[int]], np.ndarray]  # the positions taken so far -> a member's new scores


def best_untaken(members: np.ndarray, k: int, next_member, rescore: Optional[Mapping[int, Rescore]] = None):
    """Positions of k distinct candidates (fewer when there are fewer) and the member that chose
    each: ``next_member(j)`` names the member of pick j, which takes the best candidate under its
    own scores that no earlier pick took. A member in ``rescore`` scores anew from the picks taken
    before each of its turns (a model that conditions on picks still out)."""
    members = np.atleast_2d(members)
    rescore = rescore or {}
    orders = [np.argsort(-m, kind="stable") for m in members]
    heads = [0] * len(orders)
    scored_at = [0] * len(orders)  # picks taken when each member's order was made
    taken, out, chooser = set(), [], []
    for j in range(min(k, members.shape[1])):
        m = next_member(j)
        if m in rescore and scored_at[m] < len(out):
            orders[m], heads[m], scored_at[m] = np.argsort(-rescore[m](list(out)), kind="stable"), 0, len(out)
        while orders[m][heads[m]] in taken:
            heads[m] += 1
        out.append(orders[m][heads[m]])
        chooser.append(m)
        taken.add(out[-1])
    return np.asarray(out, dtype=np.int64), np.asarray(chooser, dtype=np.int64)


def thompson_order(members: np.ndarray, k: int, rng: np.random.Generator,
                   rescore: Optional[Mapping[int, Rescore]] = None):
    """Positions of k distinct candidates and the member that chose each: each the best not yet
    taken under one ensemble member, the members in turn from a random first: each member is one
    draw of a plausible predictor, so the picks spread over what the ensemble disagrees on
    (BANANAS' independent Thompson sampling)."""
    n = np.atleast_2d(members).shape[0]
    first = int(rng.integers(n)) if n > 1 else 0
    return best_untaken(members, k, lambda j: (first + j) % n, rescore)


def bandit_order(members: np.ndarray, k: int, rng: np.random.Generator, wins: np.ndarray,
                 losses: np.ndarray, picked: Optional[np.ndarray] = None, warmup: int = 0,
                 rescore: Optional[Mapping[int, Rescore]] = None):
    """Positions of k distinct candidates and the member that chose each. While a member has
    made fewer than ``warmup`` picks (``picked``, this run's so far), the members take turns,
    the one with the fewest first (ties at random): a record of a pick or two says nothing yet,
    and a first round given to one member by chance can lose a small budget. Then for every
    pick one draw from each member's Beta(1 + wins, 1 + losses) posterior of how often its picks
    come back among the best results so far, and the member with the highest draw takes its best
    not yet taken: Thompson sampling over the members, so the picks drift to the member whose
    picks have done best in this run while every member keeps a chance in proportion to the
    evidence."""
    n = np.atleast_2d(members).shape[0]
    picked = np.zeros(n) if picked is None else np.asarray(picked, dtype=np.float64).copy()

    def next_member(_):
        if picked.min() < warmup:
            fewest = np.flatnonzero(picked == picked.min())
            m = int(fewest[rng.integers(fewest.size)])
        else:
            m = int(np.argmax(rng.beta(1.0 + wins, 1.0 + losses)))
        picked[m] += 1
        return m

    return best_untaken(members, k, next_member, rescore)


def random_share(k: int, exploration: float) -> int:
    """How many of a round's k picks ``exploration`` draws at random: they come last."""
    return int(round(k * exploration))


def pick(scores: np.ndarray, k: int, exploration: float, rng: np.random.Generator,
         first: Optional[np.ndarray] = None) -> np.ndarray:
    """Positions of the k chosen candidates: the best predicted (or ``first``, an acquisition's
    own order of at least k positions), plus a random share."""
    k = min(k, scores.shape[0])
    explore = random_share(k, exploration)
    order = np.argsort(-scores, kind="stable")
    chosen = order[:k - explore] if first is None else first[:k - explore]
    if explore:
        rest = order[~np.isin(order, chosen)]
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
    return ahead_of(order[near[order]][:n_local], chosen)


def ahead_of(first: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """A round of ``chosen``'s size: ``first``, then ``chosen``'s picks that are not among them."""
    first = np.asarray(first, dtype=chosen.dtype)
    return np.concatenate([first, chosen[~np.isin(chosen, first)]])[:chosen.shape[0]]


def changed_place(parent, child):
    """Where a neighbour changes its parent, as a path of positions. Architectures written as
    sequences of one length (tuples, strings) differ at some positions: one position that holds a
    sequence again is followed into it (a DARTS cell's (op, input) pair, NB101's adjacency
    string), so that the path ends at an edge's operation, a layer's block, an entry of an
    adjacency. A neighbour one longer or shorter (a layer added or taken out) is at the place of
    every such change, so that the sweep counts them together rather than trying each before any
    other change; a neighbour written otherwise is a place of its own."""
    if isinstance(parent, (tuple, str)) and type(child) is type(parent):
        if len(parent) != len(child):
            return ("length", len(child) - len(parent))
        diff = tuple(i for i, (a, b) in enumerate(zip(parent, child)) if a != b)
        if len(diff) == 1 and isinstance(parent, tuple):
            inner = changed_place(parent[diff[0]], child[diff[0]])
            if inner[:1] not in (("length",), ("arch",)):
                return diff + inner
        return diff
    return ("arch", child)


def neighbour_places(space, parent, neighbours, archs) -> list:
    """``changed_place`` of each of ``archs``, neighbours of ``parent``, read from the neighbour
    as ``neighbours`` (``space.neighbours(parent)``) writes it. A table can hold that neighbour
    in another, equivalent form (an NB101 cell whose pruned nodes carry other ops, or
    relabelled): read from that form, one change would look like changes at several positions,
    a place no other neighbour has."""
    written = {}
    for a in neighbours:
        written.setdefault(space.identity(a), a)
    return [changed_place(parent, written.get(space.identity(a), a)) for a in archs]


LOCAL_PARENTS = 3  # the best results whose neighbours ``local`` picks among
BOOTSTRAP_STREAM = 0xB007  # bootstrap: the seed stream of each fit's resample
BANDIT_TOP = 5  # a bandit pick wins when it beats the BANDIT_TOP-th best result back when it was picked
RANKED_KEPT = 64  # next-best candidates kept from a fit, for asks that come before any new result


class ProcessTurn:
    """A place in a round's queue that the Gaussian process fills when it is handed out
    (``gp_batch="sequential"``)."""


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
        self.forecasts = {}  # identity -> the members' standardised scores when it was picked
        self.chosen_by = {}  # identity -> (the member that picked it, the bar it had to beat): bandit
        self.best_value = -np.inf  # the best result back at the last fit
        self.stale_rounds = 0  # fits in a row that found no better result back than the one before
        self.pretrained = None
        self.last_fit = None  # the last fit's predictor: the warm start of the next (refit_epochs)
        self.rescore = {}  # member -> Rescore, set by the fit of the round (gp_batch="believer")
        self.gp_round = None  # (candidates, their graphs, the process's member) of the round: "sequential"
        never_fits = 0 < context.budget <= self.guided.gp_until  # the process takes every fit
        if self.guided.pretrain is not None and not never_fits:
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
                if isinstance(arch, ProcessTurn):
                    arch = self.process_pick()
                    if arch is None:
                        continue
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
            self.queue = [a for a in self.ranked if not self.history.seen(a)][:self.round_size(back)]
            self.ranked = [a for a in self.ranked if not self.history.seen(a) and a not in self.queue]
            return bool(self.queue)
        found = self.candidates_and_scores()
        if found is None:
            return False
        candidates, members = found
        self.fitted_at = back
        options = self.guided
        k = self.round_size(back)
        self.note_progress()
        if options.widen and self.stale_rounds >= options.widen:
            candidates, members = self.away_from_best(candidates, members, k)
        weights = self.member_weights() if options.member_weights == "tracked" else None
        scores = acquisition_scores(members, options.acquisition, options.kappa, weights)
        n_members = np.atleast_2d(members).shape[0]
        first, chooser = None, None
        if n_members == 1 and (self.rescore or self.gp_round is not None):
            first, chooser = best_untaken(members, k, lambda j: 0, self.rescore)
        elif options.acquisition == "thompson":
            first, chooser = thompson_order(members, k, self.rng, self.rescore)
        elif options.acquisition == "bandit":
            first, chooser = bandit_order(members, k, self.rng, *self.member_record(n_members), options.per_round,
                                          self.rescore)
        chosen = pick(scores, k, options.exploration, self.rng, first)
        if options.sweep and self.stale_rounds >= options.sweep:
            chosen = self.sweep_picks(candidates, np.asarray(scores), chosen)
        elif self.guided.local:
            near = self.near_best(candidates)
            if self.guided.local_novel:
                near = self.novel_among(candidates, near)
            chosen = pick_local(chosen, np.asarray(scores), near, self.guided.local)
        turns = self.process_turns(chosen, first, chooser)
        if options.acquisition == "bandit" and n_members > 1:
            self.charge_picks(candidates, chosen[~turns], first, chooser, min(k, len(candidates)))
        self.queue = [ProcessTurn() if turn else candidates[i] for i, turn in zip(chosen, turns)]
        order = np.argsort(-scores, kind="stable")
        if options.member_weights == "tracked" and n_members > 1:
            z = standardised(members)
            for i in np.concatenate([chosen, order[:RANKED_KEPT]]):
                self.forecasts.setdefault(self.space.identity(candidates[i]), z[:, i])
        rest = np.ones(len(candidates), dtype=bool)
        rest[chosen] = False
        self.ranked = [candidates[i] for i in order[rest[order]][:RANKED_KEPT]]
        return bool(self.queue)

    def process_turns(self, chosen, first, chooser) -> np.ndarray:
        """Which of the round's picks the process makes when they are handed out
        (``gp_batch="sequential"``): those it chose at the round's fit."""
        turns = np.zeros(len(chosen), dtype=bool)
        if self.gp_round is None or chooser is None:
            return turns
        made = dict(zip(first.tolist(), chooser.tolist()))
        return np.fromiter((made.get(int(i)) == self.gp_round[2] for i in chosen), bool, len(chosen))

    def process_pick(self):
        """The process's pick at its turn: the best expected improvement among the round's
        candidates not yet taken nor queued, under a process fitted on every result back now,
        believing those still out (this ask's earlier picks among them). None when none is left."""
        candidates, graphs, member = self.gp_round
        queued = {self.space.identity(a) for a in self.queue if not isinstance(a, ProcessTurn)}
        free = np.fromiter((not self.history.seen(a) and self.space.identity(a) not in queued for a in candidates),
                           bool, len(candidates))
        if not free.any():
            return None
        gp, best = self.fitted_process()
        scores = gp.batch_scorer(graphs, best, self.in_flight_graphs())([])
        scores[~free] = -np.inf
        arch = candidates[int(np.argmax(scores))]
        if self.guided.acquisition == "bandit":
            self.chosen_by.setdefault(self.space.identity(arch), (member, self.bandit_bar()))
        return arch

    def note_progress(self) -> None:
        """Count the fits in a row at which the best result back is no better than at the fit
        before (the first fit starts the count)."""
        _, values = self.history.labelled()
        best = float(values.max()) if values.size else -np.inf
        self.stale_rounds = 0 if best > self.best_value else self.stale_rounds + 1
        self.best_value = max(best, self.best_value)

    def away_from_best(self, candidates, members, k: int):
        """The candidates (and their columns of ``members``) that are not unqueried neighbours of
        the best results: a predictor that keeps picking around a best that stopped improving
        has learned a smooth trend to a local top, and its next best guesses lie elsewhere.
        Unchanged when fewer than ``k`` would be left."""
        keep = ~self.near_best(candidates)
        if keep.all() or keep.sum() < k:
            return candidates, members
        return [a for a, kept in zip(candidates, keep) if kept], np.asarray(members)[..., keep]

    def near_best(self, candidates, parents: int = LOCAL_PARENTS) -> np.ndarray:
        """Which candidates are unqueried neighbours of the ``parents`` best results."""
        near = {self.space.identity(a) for a in
                self.pool.mutants(self.history.best(parents), self.history, self.rng, None)}
        return np.fromiter((self.space.identity(a) in near for a in candidates), bool, len(candidates))

    def sweep_picks(self, candidates, scores: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """A stale round's picks: the unqueried neighbours of the best result, each pick at the
        place (an edge, a layer) where the fewest of the best's neighbours have been queried so
        far, the best-scored there; ties of places go to the best-scored change. In score order
        alone the picks pile onto the places the models favour, and a change at a place that
        looked poor in the results so far (the one a stuck run needs) waits behind every other
        change of the best. ``chosen`` where the best has no unqueried neighbour left. In a stale
        round the sweep takes the place of ``local``'s share."""
        near = np.flatnonzero(self.near_best(candidates, 1))
        n_sweep = int(round(chosen.shape[0] * self.guided.sweep_share))
        if near.size == 0 or n_sweep == 0:
            return chosen
        parent = self.history.best(1)[0]
        neighbours = self.space.neighbours(parent)
        tried = Counter(changed_place(parent, a) for a in neighbours if self.history.seen(a))
        order = near[np.argsort(-scores[near], kind="stable")]
        waiting = list(zip(order, neighbour_places(self.space, parent, neighbours, [candidates[i] for i in order])))
        picks = []
        while waiting and len(picks) < n_sweep:
            at = min(range(len(waiting)), key=lambda j: tried[waiting[j][1]])  # the first such: the best scored
            i, place = waiting.pop(at)
            picks.append(i)
            tried[place] += 1
        return ahead_of(picks, chosen)

    def novel_among(self, candidates, near: np.ndarray) -> np.ndarray:
        """``near`` narrowed to the candidates whose flat encoding (each node's operation, each
        edge) has a feature on that is off in all of the NOVEL_TOP best results; ``near`` itself
        when none has. The fitted models rank such a candidate by the results that had that
        feature, and when those were poor for other reasons, they never try it beside the best."""
        at = np.flatnonzero(near)
        if at.size == 0:
            return near
        flat = FlatEncoding(len(self.space.node_ops), self.space.max_nodes)

        def features(archs):
            adj, ops, mask = encode_architectures(self.space, archs)
            return flat(adj.to(torch.float64), ops, mask) > 0

        seen = features(self.history.best(NOVEL_TOP)).any(0)
        novel = (features([candidates[i] for i in at]) & ~seen).any(1).numpy()
        if not novel.any():
            return near
        out = np.zeros_like(near)
        out[at[novel]] = True
        return out

    def member_weights(self) -> Optional[np.ndarray]:
        """The tracked weights over the results back that a fit had forecast before they came."""
        archs, values = self.history.labelled()
        known = [(self.forecasts[i], v) for a, v in zip(archs, values)
                 if (i := self.space.identity(a)) in self.forecasts]
        if not known:
            return None
        return tracked_weights(np.array([f for f, _ in known]), np.array([v for _, v in known]))

    def charge_picks(self, candidates, chosen, first, chooser, k: int) -> None:
        """Notes which member made each of the round's picks that the bandit made (not the random
        share of ``exploration``, nor ``local``'s), with the bar its result must beat to win: the
        BANDIT_TOP-th best result back now."""
        made = dict(zip(first[:k - random_share(k, self.guided.exploration)].tolist(), chooser.tolist()))
        bar = self.bandit_bar()
        for i in chosen.tolist():
            if i in made:
                self.chosen_by.setdefault(self.space.identity(candidates[i]), (made[i], bar))

    def bandit_bar(self) -> float:
        """What a pick made now must beat to win: the BANDIT_TOP-th best result back."""
        values = np.sort(self.history.labelled()[1])
        return float(values[-min(BANDIT_TOP, values.size)])

    def member_record(self, n_members: int):
        """Per member: how many of the results back that it picked came back among the
        BANDIT_TOP best (beat the BANDIT_TOP-th best result back when it picked them: wins), how
        many did not (losses, failed trainings included), and how many picks it has made in all
        (those still out too)."""
        wins, losses = np.zeros(n_members), np.zeros(n_members)
        picked = np.bincount([m for m, _ in self.chosen_by.values() if m < n_members], minlength=n_members)
        for query in self.history.queries:
            known = self.chosen_by.get(self.space.identity(query.arch))
            if known is None or known[0] >= n_members:
                continue
            member, bar = known
            if query.value is not None and query.value > bar:
                wins[member] += 1
            else:
                losses[member] += 1
        return wins, losses, picked

    def round_size(self, back: int) -> int:
        """Picks of the round that starts with ``back`` results: ``per_round``, or with
        ``round_share`` that share of ``back`` within [1, per_round]."""
        options = self.guided
        if not options.round_share:
            return options.per_round
        return int(min(options.per_round, max(1, round(options.round_share * back))))

    def fit(self) -> Predictor:
        """A predictor fitted on every result back (seeded by run and round, so runs are
        reproducible), from the run's pretrained encoder if any; with ``refit_epochs``, every fit
        after the first goes on training the last fit's models for that many epochs."""
        self.round_no += 1
        archs, values = self.history.labelled(with_failures=True)
        options = self.guided
        predictor = options.predictor_class(self.space, seed=self.seed * 1000 + self.round_no, **options.predictor)
        if self.pretrained is not None:
            predictor.adopt_pretraining(self.pretrained)
        loss = self.context.loss
        active = loss.active(len(archs)) if isinstance(loss, PiecewiseLoss) else loss
        if options.bootstrap:
            # its own stream (run, round), so the run's other draws stay as they are
            resample = np.random.default_rng((self.seed, self.round_no, BOOTSTRAP_STREAM)).integers(0, len(archs),
                                                                                                     len(archs))
            archs, values = [archs[i] for i in resample], np.asarray(values)[resample]
        warm = self.last_fit  # kept only with refit_epochs
        predictor.fit(archs, values, loss=active, warm_start=warm,
                      epochs=options.refit_epochs if warm is not None else None)
        if options.refit_epochs is not None:
            self.last_fit = predictor
        return predictor

    def score(self, candidates, rows: Optional[np.ndarray] = None) -> np.ndarray:
        """The scores of the candidates, one row per member (``rows``: their positions in the
        fixed pool, whose graphs are encoded once): a predictor fitted on every result back,
        with a Gaussian process over the flat encoding as one more member (``gp_member``), or
        the process alone while fewer results than ``gp_until`` are back."""
        options = self.guided
        self.rescore, self.gp_round = {}, None
        if len(self.history.queries) < options.gp_until:
            return self.gp_scores(candidates, rows, member=0)[None, :]
        predictor = self.fit()
        if rows is None:
            members = predictor.predict(candidates, members=True)
        else:
            members = predictor.predict_graphs(tuple(t[rows] for t in self.pool.graphs(predictor.dtype)), members=True)
        if options.gp_member:
            members = np.vstack([members, self.gp_scores(candidates, rows, member=members.shape[0])])
        return members

    def gp_scores(self, candidates, rows: Optional[np.ndarray] = None, member: int = 0) -> np.ndarray:
        """log expected improvement of each candidate under a Gaussian process over the flat
        encoding (:class:`~fastrank.predictor.gaussian_process.FlatGP`), fitted on every result
        back, failures at the value they are learned as. With ``gp_batch="believer"`` (or "auto"
        while evaluations are out) the process, as ensemble row ``member``, also leaves a
        rescoring for the round's later picks in ``self.rescore``; results still out count from
        the first pick."""
        graphs = (encode_architectures(self.space, candidates) if rows is None
                  else tuple(t[rows] for t in self.pool.graphs()))  # the predictor's cached batch
        gp, best = self.fitted_process()
        batch = self.guided.gp_batch
        if batch == "auto":  # one worker: nothing is out at a fit, and the picks are the top ones
            batch = "believer" if self.history.in_flight else "top"
        if batch == "sequential":
            self.gp_round = (candidates, graphs, member)
        if batch != "believer":
            return gp.expected_improvement(graphs, best)
        self.rescore[member] = gp.batch_scorer(graphs, best, self.in_flight_graphs())
        return self.rescore[member]([])

    def fitted_process(self):
        """(a Gaussian process fitted on every result back, failures at the value they are
        learned as; the best result back)."""
        archs, values = self.history.labelled(with_failures=True)
        gp = FlatGP(len(self.space.node_ops), self.space.max_nodes)
        return gp.fit(encode_architectures(self.space, archs), values), float(values.max())

    def in_flight_graphs(self):
        """The graphs of the architectures still out (this ask's picks among them), or None."""
        out = self.history.in_flight
        return encode_architectures(self.space, out) if out else None

    def candidates_and_scores(self):
        """(candidates, predicted scores) of a new round, or None when nothing is left; the
        scores may be one row per ensemble member (:meth:`score`), which the ``acquisition``
        option reads."""
        raise NotImplementedError
