"""Regularized evolution (Real et al., "Regularized Evolution for Image Classifier Architecture
Search", AAAI 2019): a population of the latest results; each child is a mutation of the best of
a random sample of the population, and the oldest member leaves as each child joins (aging).
No predictor: the baseline NAS users run most. The defaults are NASLib's (population 30,
sample 10)."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import List

from ..options import Int, Options, option
from ..strategy import RandomStart, Strategy, register_strategy

MAX_TRIES = 100  # mutations tried for a fresh child before a random architecture is drawn instead


@dataclass
class RegularizedEvolutionOptions(Options):
    population: int = option(30, "regularized-evolution: results kept (the oldest leaves as each child joins); "
                                     "the first are random",
                             Int(1))
    sample: int = option(10, "population members drawn per child; the best of them is mutated", Int(1))


class RegularizedEvolution(Strategy):
    """Random architectures until ``population`` results are back, then children. A mutation
    is one ``space.neighbours`` step to an architecture neither queried nor in flight; on a
    fixed pool (a table) only the neighbours it holds count (a table that samples its space,
    NB101 or DARTS, rarely holds one: then the child is a random row)."""

    Options = RegularizedEvolutionOptions
    summary = "regularized evolution (aging evolution, Real et al. 2019)"

    def __init__(self, context, options=None):
        super().__init__(context, options)
        self.members = deque(maxlen=self.options.population)  # (arch, value), oldest first
        self.start = RandomStart(self.options.population)
        self.starting: List = []

    def ask(self, n: int) -> List:
        out = []
        if not self.start.started:
            self.starting = self.start.draw(self)
        with self.history.holding() as hold:  # children of this ask must not repeat each other
            while len(out) < n:
                if self.starting:
                    drawn = [self.starting.pop(0)]
                elif not self.members:
                    break  # the random start is still out (or all of it failed and is not back yet)
                else:
                    drawn = self._child()
                if not drawn:
                    break
                if not self.history.seen(drawn[0]):
                    out.append(drawn[0])
                    hold(drawn[0])
        return out

    def _child(self) -> List:
        members = list(self.members)
        picks = self.rng.choice(len(members), min(self.options.sample, len(members)), replace=False)
        parent = max((members[i] for i in picks), key=lambda m: m[1])[0]
        if self.pool.fixed:  # a uniform mutation among the neighbours the pool holds and that are free
            options = self.pool.mutants([parent], self.history, self.rng, None)
            if options:
                return [options[int(self.rng.integers(len(options)))]]
        else:
            for _ in range(MAX_TRIES):
                child = self.space.mutate(parent, self.rng)
                if not self.history.seen(child):
                    return [child]
        return self.pool.draw(self.history, self.rng, 1)

    def tell(self, arch, value: float) -> None:
        self.members.append((arch, value))

    def tell_failure(self, arch, error: str) -> None:
        self.members.append((arch, self.history.failure_value_now()))


register_strategy("regularized-evolution", RegularizedEvolution)
