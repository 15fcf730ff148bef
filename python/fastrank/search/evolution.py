"""Predictor-guided evolution (NPENAS style): each round mutates the best architectures found
so far, the predictor ranks the children, and the best-predicted children are queried.

On a table that holds only a sample of its space (NB101, DARTS/NB301), a mutant is rarely in
the table, so the children that are in it are topped up with random unqueried table rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .candidates import CandidatePool
from .guided import GuidedOptions, best_labelled, fit_round, query_best, rounds
from .trace import Trace
from .._checks import check_int


@dataclass
class EvolutionOptions(GuidedOptions):
    """GuidedOptions plus: parents (the best ``parents`` architectures mutate, 10),
    mutations (neighbours drawn per parent, None = all of them), children (the least number
    of candidates per round, topped up with random ones, 100)."""

    parents: int = 10
    mutations: int = None
    children: int = 100

    def __post_init__(self):
        super().__post_init__()
        for name in ("parents", "children"):
            value = getattr(self, name)
            check_int(value, name)
        if self.mutations is not None and (isinstance(self.mutations, bool) or not isinstance(self.mutations, int)
                                           or self.mutations < 1):
            raise ValueError(f"mutations must be a positive int or None, got {self.mutations!r}")


def evolution_search(trace: Trace, pool: CandidatePool, rng: np.random.Generator, loss, seed: int,
                     options: EvolutionOptions, pretrained=None) -> None:
    for round_no in rounds(trace, pool, rng, options.n_init):
        parents = best_labelled(trace, options.parents)
        children = pool.mutants(parents, trace, rng, options.mutations)
        if len(children) < options.children:
            keys = {pool.space.identity(c) for c in children}
            extra = [a for a in pool.draw(trace, rng, options.children) if pool.space.identity(a) not in keys]
            children += extra[:options.children - len(children)]
        if not children:
            return
        predictor = fit_round(trace, pool.space, loss, seed, round_no, options, pretrained)
        query_best(trace, children, predictor.predict(children), options, rng)
