"""Iterative predictor-guided search (BRP-NAS / AceNAS style): a random start, then rounds of
fit -> score every candidate -> query the best new ones."""
from __future__ import annotations

from ..guided import GuidedOptions, GuidedStrategy
from ..strategy import register_strategy

# Candidates per round of an open pool: mutants of the best plus as many random samples.
OPEN_MUTANT_PARENTS = 10
OPEN_RANDOM = 500


class PredictorSearch(GuidedStrategy):
    """A fixed pool is scored whole after every fit; an open pool (a space too large to list)
    offers the mutants of the best results plus random samples."""

    Options = GuidedOptions
    summary = "iterative predictor-guided search (BRP-NAS / AceNAS style)"

    def candidates_and_scores(self):
        predictor = self.fit()
        if self.pool.fixed:
            free = self.pool.unlabelled(self.history)
            if free.shape[0] == 0:
                return None
            graphs = self.pool.graphs(predictor.dtype)
            return [self.pool.archs[i] for i in free], predictor.predict_graphs(tuple(t[free] for t in graphs),
                                                                                 members=True)
        parents = self.history.best(OPEN_MUTANT_PARENTS)
        candidates = (self.pool.mutants(parents, self.history, self.rng, None)
                      + self.pool.draw(self.history, self.rng, OPEN_RANDOM))
        if not candidates:
            return None
        return candidates, predictor.predict(candidates, members=True)


register_strategy("predictor", PredictorSearch)
