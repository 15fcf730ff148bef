"""Predictor-guided evolution (NPENAS style): each round mutates the best architectures found
so far, the predictor ranks the children, and the best-predicted children are queried.

On a table that holds only a sample of its space (NB101, DARTS/NB301), a mutant is rarely in
the table, so the children that are in it are topped up with random unqueried table rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..guided import GuidedOptions, GuidedStrategy
from ..options import Int, Optional_, option
from ..strategy import register_strategy


@dataclass
class EvolutionOptions(GuidedOptions):
    parents: int = option(10, "the best architectures so far that mutate each round", Int(1))
    mutations: int = option(None, "neighbours drawn per parent (none: all of them)", Optional_(Int(1), "all"))
    children: int = option(100, "the least number of candidates per round, topped up with random ones", Int(1))


class EvolutionSearch(GuidedStrategy):
    Options = EvolutionOptions
    summary = "predictor-guided evolution (NPENAS style)"

    def candidates_and_scores(self):
        options = self.options
        parents = self.history.best(options.parents)
        children = self.pool.mutants(parents, self.history, self.rng, options.mutations)
        if len(children) < options.children:
            keys = {self.space.identity(c) for c in children}
            extra = [a for a in self.pool.draw(self.history, self.rng, options.children)
                     if self.space.identity(a) not in keys]
            children += extra[:options.children - len(children)]
        if not children:
            return None
        return children, self.score(children)


register_strategy("evolution", EvolutionSearch)
