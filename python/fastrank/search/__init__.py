"""Search: ask/tell strategies driven against real benchmarks or a user's ``evaluate(arch) ->
float``, with parallel and distributed evaluation, failures and a journal to resume from.

    >>> from fastrank import search
    >>> result = search.run("nb201/cifar10", strategy="random", budget=20, seed=0)
    >>> len(result.queries), result.rank >= 1
    (20, True)

The built-in strategies (:mod:`fastrank.search.strategies`): random, predictor, evolution,
acenas, proxy-validation, proxy-validation-ea. :func:`register_strategy` adds your own.
"""
from .candidates import CandidatePool
from .driver import EvaluationOptions, Search, TooManyFailures
from .guided import GuidedOptions, GuidedStrategy, PredictorOptions
from .history import History, Query
from .journal import Journal, JournalError
from .options import FRACTION, POSITIVE, Bool, Check, Choice, Float, Int, Options, option
from .parallel import run_many
from .proxy_validation import ProxyValidationOptions
from .result import RUN_COLUMNS, SearchResult
from .runner import run
from .strategy import STRATEGIES, Context, Strategy, get_strategy, register_strategy
from .task import PROTOCOLS, BenchmarkTask
from . import strategies  # noqa: E402, F401  (registers the built-ins)
from .strategies import BUILT_IN as BUILT_IN_STRATEGIES
from .strategies.acenas import AceNASOptions
from .strategies.evolution import EvolutionOptions


__all__ = ["run", "run_many", "Search", "SearchResult", "Strategy", "Context", "register_strategy", "get_strategy",
           "STRATEGIES", "BUILT_IN_STRATEGIES", "PROTOCOLS", "RUN_COLUMNS", "BenchmarkTask", "CandidatePool", "History",
           "Query", "Journal", "JournalError", "TooManyFailures", "Options", "option", "Check", "Int", "Float",
           "Bool", "Choice", "FRACTION", "POSITIVE", "EvaluationOptions", "GuidedOptions", "GuidedStrategy",
           "PredictorOptions", "EvolutionOptions", "AceNASOptions", "ProxyValidationOptions"]
