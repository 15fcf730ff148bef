"""Search strategies: random, iterative predictor-guided search, predictor-guided
evolution, AceNAS (weak-label pretraining, LambdaRank fine-tuning) and proxy-validation search
(a differentiable loss landscape over relaxed architectures), against real benchmarks or a user's ``evaluate(arch) -> float``.

    >>> from fastrank import search
    >>> result = search.run("nb201/cifar10", strategy="random", budget=20, seed=0)
    >>> len(result.queries), result.rank >= 1
    (20, True)
"""
from .acenas import AceNASOptions
from .candidates import CandidatePool
from .evolution import EvolutionOptions
from .guided import GuidedOptions
from .parallel import run_many
from .proxy_validation import ProxyValidationOptions
from .runner import RUN_COLUMNS, STRATEGIES, SearchResult, run
from .task import PROTOCOLS, BenchmarkTask
from .trace import TRACE_COLUMNS, BudgetSpent, Query, Trace

__all__ = ["run", "run_many", "SearchResult", "STRATEGIES", "PROTOCOLS", "RUN_COLUMNS", "TRACE_COLUMNS", "BenchmarkTask",
           "CandidatePool", "GuidedOptions", "EvolutionOptions", "AceNASOptions", "ProxyValidationOptions", "Query", "Trace", "BudgetSpent"]
