"""A user's own strategy, in its own file: registered by name, it runs from search.run and
from `fastrank search --import user_strategy --strategy greedy-mutation`."""
from __future__ import annotations

from dataclasses import dataclass

from fastrank import search


@dataclass
class GreedyMutationOptions(search.Options):
    n_init: int = search.option(4, "random architectures before mutating", search.Int(1))
    keep: int = search.option(2, "best architectures whose neighbours are proposed", search.Int(1))


class GreedyMutation(search.Strategy):
    """Random starts, then unqueried neighbours of the best so far (random when none is left)."""

    Options = GreedyMutationOptions

    def ask(self, n):
        if len(self.history.queries) + len(self.history.in_flight) < self.options.n_init:
            return self.pool.draw(self.history, self.rng, n)
        children = self.pool.mutants(self.history.best(self.options.keep), self.history, self.rng, None)
        if len(children) < n:
            children += self.pool.draw(self.history, self.rng, n - len(children))
        return children[:n]


search.register_strategy("greedy-mutation", GreedyMutation)
