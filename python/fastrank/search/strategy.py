"""The ask/tell interface every search strategy implements, and the registry of strategies.

A strategy proposes architectures (:meth:`Strategy.ask`) and learns from their results
(:meth:`Strategy.tell`, :meth:`Strategy.tell_failure`). It never calls the objective and never
counts the budget: the driver (:mod:`fastrank.search.driver`) does both, keeps the cache and the
journal, and fills the strategy's :class:`~fastrank.search.history.History` before telling it.

Adding a strategy is one declaration in one file::

    from fastrank import search

    @dataclass
    class MyOptions(search.Options):
        width: int = search.option(8, "proposals per round", search.Int(1))

    class Mine(search.Strategy):
        Options = MyOptions
        def ask(self, n):
            return self.pool.draw(self.history, self.rng, n)

    search.register_strategy("mine", Mine)     # now search.run(..., strategy="mine") and
                                               # `fastrank search --strategy mine --width 4`
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Dict, List, Optional

import numpy as np

from .._registry import register
from ..spaces import SearchSpace
from .candidates import CandidatePool
from .history import History
from .options import Options


@dataclass
class Context:
    """What a strategy is built with. ``budget`` is the run's planned number of paid queries:
    strategies may schedule by it (AceNAS' rounds, the PW loss's switch), never enforce it.
    ``table``: the benchmark behind the objective, if any (weak labels for pretraining)."""

    space: SearchSpace
    pool: CandidatePool
    history: History
    seed: int
    budget: int
    loss: Any = None  # the predictor's loss module, for strategies that take one
    table: Any = None


class Strategy:
    """Base of every strategy.

    Subclasses set ``Options`` (an :class:`~fastrank.search.options.Options` dataclass, or
    leave the empty one) and ``takes_loss`` (whether ``loss=`` means anything to them), and
    implement :meth:`ask`; :meth:`tell` and :meth:`tell_failure` default to nothing, since the
    history already holds every result.

    ``ask(n)`` returns up to n architectures that are neither queried nor in flight. Fewer
    than n, or none, while evaluations are in flight means "wait for results" (the driver asks
    again after the next one comes back); none with nothing in flight ends the run (the pool
    is exhausted).
    """

    Options: ClassVar[type] = Options
    takes_loss: ClassVar[bool] = False
    loss_label: ClassVar[str] = "-"  # what runs.csv says in its loss column when it takes none
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def __init__(self, context: Context, options: Optional[Options] = None):
        self.context = context
        self.space, self.pool, self.history = context.space, context.pool, context.history
        self.seed = int(context.seed)
        self.rng = np.random.default_rng(self.seed)
        self.options = self.Options() if options is None else options

    @classmethod
    def check_space(cls, space: SearchSpace) -> None:
        """Raises ValueError if the strategy cannot search this space."""

    @classmethod
    def default_loss(cls, options) -> Any:
        """The loss used when the caller gives none (strategies with ``takes_loss``)."""
        return "pw"

    def ask(self, n: int) -> List:
        raise NotImplementedError

    def tell(self, arch, value: float) -> None:
        """``arch`` came back with ``value`` (already in ``self.history``)."""

    def tell_failure(self, arch, error: str) -> None:
        """``arch``'s evaluation failed (already in ``self.history``, value None)."""


class RandomStart:
    """A run's first ``size`` architectures, drawn from the pool at random in one draw when first
    asked for (so that the random stream does not depend on how many workers ask at a time).
    ``back(history)``: every one of them has come back (a strategy fits on them only then)."""

    def __init__(self, size: int):
        self.size, self.drawn = size, None

    def draw(self, strategy: "Strategy") -> List:
        self.drawn = strategy.pool.draw(strategy.history, strategy.rng, self.size)
        return list(self.drawn)

    @property
    def started(self) -> bool:
        return self.drawn is not None

    def back(self, history: History) -> bool:
        return self.started and len(history.queries) >= len(self.drawn)


STRATEGIES: Dict[str, type] = {}


def register_strategy(name: str, cls: type, *, replace: bool = False) -> type:
    """Makes ``cls`` (a :class:`Strategy` subclass) searchable as ``strategy=name`` from
    ``search.run``, :class:`~fastrank.search.Search` and ``fastrank search --strategy``. Its
    ``Options`` fields become command-line flags."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"a strategy must be a fastrank.search.Strategy subclass, got {cls!r}")
    if not (isinstance(cls.Options, type) and issubclass(cls.Options, Options)):
        raise TypeError(f"{cls.__name__}.Options must be a fastrank.search.Options dataclass")
    register(STRATEGIES, "strategy", name, cls, replace=replace,
             valid_name=lambda n: bool(n) and n == n.strip() and " " not in n, name_rule="a non-empty word")
    cls.name = name
    return cls


def get_strategy(name: str) -> type:
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {name!r}") from None
