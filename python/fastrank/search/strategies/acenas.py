"""AceNAS (Zhang et al., 2021): pretrain the encoder on weak labels once, then split the query
budget over rounds; each round fine-tunes the encoder with a fresh head by LambdaRank (AceNAS'
relevance grades, NDCG@k) on every labelled architecture and queries the top predicted new ones.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..guided import PRETRAIN_HELP, GuidedOptions, PredictorOptions, OPTIONAL_WEAK_LABELS
from ..options import FRACTION, Int, Optional_, option
from .predictor import PredictorSearch
from ..strategy import register_strategy


@dataclass
class AceNASOptions(PredictorOptions):
    """(rounds: 10 rather than 5 on development seeds 100..109 of NB201: no worse on any
    dataset's test protocol, better on two of three under the valid protocol, and half the
    fits' cost per query.)"""

    pretrain: object = option("all", PRETRAIN_HELP, OPTIONAL_WEAK_LABELS)
    rounds: int = option(10, "rounds the budget is split over: the first random, each later one the top "
                             "predicted", Int(1))
    top_share: float = option(1.0, "share of a later round taken from the predicted top, the rest random "
                                   "(AceNAS' script: 0.5)", FRACTION)
    ndcg_k: int = option(None, "LambdaRank's NDCG@k while fine-tuning (none: the whole labelled list)",
                         Optional_(Int(1), "the whole list"))

    def __post_init__(self):
        super().__post_init__()
        if self.pretrain is None:
            raise ValueError("acenas pretrains on weak labels: name them (pretrain='all' takes every one)")

    def guided(self, budget: int) -> GuidedOptions:
        """The round schedule as the predictor-guided loop's options for a budget."""
        size = max(1, budget // self.rounds)
        return GuidedOptions(n_init=size, per_round=size, exploration=1.0 - float(self.top_share),
                             predictor=dict(self.predictor), predictor_class=self.predictor_class,
                             pretrain=self.pretrain, pretrain_epochs=self.pretrain_epochs,
                             refit_epochs=self.refit_epochs)


class AceNASSearch(PredictorSearch):
    Options = AceNASOptions
    summary = "weak-label pretraining, then rounds of LambdaRank fine-tuning (AceNAS)"

    needs_pretraining = True  # the command line checks it before a run starts

    def __init__(self, context, options=None):
        super().__init__(context, options)
        if self.pretrained is None:  # pretrain="auto" where the benchmark has no weak label, or no benchmark
            raise ValueError("acenas pretrains on weak labels, and pretrain='auto' found none here: name them, or "
                             "pass pretrain={name: values} aligned with candidates=")

    @property
    def guided(self) -> GuidedOptions:
        if not hasattr(self, "_guided"):
            self._guided = self.options.guided(self.context.budget)
        return self._guided

    @classmethod
    def default_loss(cls, options: AceNASOptions):
        from ...nn import make_loss

        return make_loss("LambdaRank", relevance="acenas", k=options.ndcg_k)


register_strategy("acenas", AceNASSearch)
