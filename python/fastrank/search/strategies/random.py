"""Random search: uniform draws, without repeats, from the pool (or the space)."""
from __future__ import annotations

from typing import List

from ..strategy import Strategy, register_strategy


class RandomSearch(Strategy):
    """A fixed pool is shuffled once and handed out in that order (skipping what is taken);
    an open pool is sampled as asked."""

    summary = "uniform draws without repeats"

    def __init__(self, context, options=None):
        super().__init__(context, options)
        self.order = None
        self.next = 0

    def ask(self, n: int) -> List:
        if not self.pool.fixed:
            return self.pool.draw(self.history, self.rng, n)
        if self.order is None:
            self.order = self.rng.permutation(self.pool.unlabelled(self.history))
        out, keys = [], set()
        while len(out) < n and self.next < len(self.order):
            arch = self.pool.archs[self.order[self.next]]
            self.next += 1
            key = self.space.identity(arch)
            if key not in keys and not self.history.seen(arch):
                keys.add(key)
                out.append(arch)
        return out


register_strategy("random", RandomSearch)
