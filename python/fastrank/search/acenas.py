"""AceNAS (Zhang et al., 2021): pretrain the encoder on weak labels once, then split the query
budget over rounds; each round fine-tunes the encoder with a fresh head by LambdaRank (AceNAS'
relevance grades, NDCG@k) on every labelled architecture and queries the top predicted new ones.

AceNAS' weak labels are a weight-sharing super-net's accuracies; fastrank has no super-net and
uses the cheap labels the benchmark tables hold instead (see :mod:`fastrank.weak_labels`).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping, Optional


from ..nn import make_loss
from ..predictor import Predictor
from ..weak_labels import select_weak_labels
from .guided import GuidedOptions
from .._checks import check_int, check_number

_PRETRAINED: "OrderedDict[tuple, Predictor]" = OrderedDict()  # a grid of runs pretrains each (table, seed) once
_CACHE_SIZE = 8


@dataclass
class AceNASOptions:
    """Options of the "acenas" strategy (``fastrank.search.run(..., strategy="acenas", **options)``).

    rounds: the budget is split over this many rounds (10): the first queries a random sample,
        each later one the top predicted unlabelled architectures. (10 rather than 5 on
        development seeds 100..109 of NB201: no worse on any dataset's test protocol, better on
        two of three under the valid protocol, and half the fits' cost per query.)
    top_share: share of a later round taken from the predicted top (1.0); the rest is random
        (AceNAS' own script takes half, 0.5).
    ndcg_k: LambdaRank's NDCG@k truncation during fine-tuning (None: the whole labelled list).
    pretrain: the weak labels (see :class:`GuidedOptions`; default "all" of the benchmark's).
    pretrain_epochs, predictor, predictor_class: as in :class:`GuidedOptions`.
    """

    rounds: int = 10
    top_share: float = 1.0
    ndcg_k: Optional[int] = None
    pretrain: object = "all"
    pretrain_epochs: int = 20
    predictor: dict = field(default_factory=dict)
    predictor_class: type = Predictor

    def __post_init__(self):
        check_int(self.rounds, "rounds")
        check_number(self.top_share, "top_share", "a fraction in [0, 1]", low=0, high=1)
        if self.ndcg_k is not None:
            check_int(self.ndcg_k, "ndcg_k")
        if self.pretrain is None:
            raise ValueError("acenas pretrains on weak labels: name them (pretrain='all' takes every one)")

    def guided(self, budget: int) -> GuidedOptions:
        """The round schedule as the predictor-guided loop's options for a budget."""
        size = max(1, budget // self.rounds)
        return GuidedOptions(n_init=size, per_round=size, exploration=1.0 - float(self.top_share),
                             predictor=dict(self.predictor), predictor_class=self.predictor_class,
                             pretrain=self.pretrain, pretrain_epochs=self.pretrain_epochs)

    def loss(self):
        """LambdaRank with AceNAS' relevance grades, NDCG@ndcg_k."""
        return make_loss("LambdaRank", relevance="acenas", k=self.ndcg_k)


def pretrained_for_run(space, options: GuidedOptions, seed: int, table=None, candidates=None) -> Predictor:
    """The run's pretrained predictor: on every row of the benchmark ``table`` with its named
    weak labels, or on the run's fixed ``candidates`` (``candidates=``, else every architecture
    of an enumerable space in code order) with a mapping of weak labels aligned to them. Pretrainings
    on a table are kept per process (a grid's runs share them), keyed by everything they depend on."""
    labels = options.pretrain
    if isinstance(labels, Mapping):
        if candidates is None:
            raise ValueError("weak labels given as a mapping need a fixed list of candidates to be aligned with: "
                             "pass candidates= (the space is too large to list)")
        archs, key = list(candidates), None
    else:
        if table is None:
            raise ValueError("weak labels given by name need a benchmark; with your own evaluate, pass "
                             "pretrain={name: values} aligned with candidates= (or with the whole enumerable space)")
        labels = select_weak_labels(table, labels)
        archs = table.archs
        key = (table.name, tuple(labels), int(seed), options.predictor_class,
               tuple(sorted((k, repr(v)) for k, v in options.predictor.items())), options.pretrain_epochs)
    if key is not None and key in _PRETRAINED:
        _PRETRAINED.move_to_end(key)
        return _PRETRAINED[key]
    predictor = options.predictor_class(space, seed=int(seed), **options.predictor)
    predictor.pretrain(archs, labels, epochs=options.pretrain_epochs)
    if key is not None:
        _PRETRAINED[key] = predictor
        while len(_PRETRAINED) > _CACHE_SIZE:
            _PRETRAINED.popitem(last=False)
    return predictor
