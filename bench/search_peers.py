"""Searchers users already have, as fastrank strategies so that they run through the same driver
(budget, cache, the rule that a repeated architecture is free): Optuna's TPE (multivariate) and
GP (Bayesian optimisation) samplers. Importing this module registers "optuna-tpe" and
"optuna-gp". Optuna is a bench extra (pip install '.[bench]'), never a dependency of fastrank.

A space whose architectures are tuples of small ints (NB201, TransNAS-Bench-101 micro and macro,
NAS-Bench-Macro) is given to Optuna as one categorical parameter per position, with the values
that position takes in the pool. Other spaces (NB101, DARTS) are not handled here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

from fastrank import search


@dataclass
class TPEOptions(search.Options):
    n_startup_trials: int = search.option(10, "random trials before TPE models the results", search.Int(1))


@dataclass
class GPOptions(search.Options):
    n_startup_trials: int = search.option(10, "random trials before the GP models the results", search.Int(1))


MAX_REPEATS = 1000  # proposals answered from the cache in a row before the pool counts as exhausted


class OptunaStrategy(search.Strategy):
    """An Optuna sampler behind ask/tell. A proposal already paid for is told its value for free
    and the sampler asked again; one in flight is told as failed (the sampler skips it)."""

    def __init__(self, context, options=None):
        import optuna

        super().__init__(context, options)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if not self.pool.fixed or not all(isinstance(a, tuple) and all(isinstance(x, int) for x in a)
                                          for a in self.pool.archs[:50]):
            raise ValueError(f"{self.name}: needs a table of a space whose architectures are tuples of ints")
        width = len(self.pool.archs[0])
        self.choices = [sorted({a[i] for a in self.pool.archs}) for i in range(width)]
        self.study = optuna.create_study(direction="maximize", sampler=self.sampler())
        self.trials: Dict[tuple, object] = {}

    def sampler(self):
        raise NotImplementedError

    def ask(self, n: int) -> List:
        from optuna.trial import TrialState

        out, repeats = [], 0
        while len(out) < n and repeats < MAX_REPEATS:
            trial = self.study.ask()
            arch = tuple(trial.suggest_categorical(f"d{i}", c) for i, c in enumerate(self.choices))
            paid, value = self.history.cached(arch)
            if paid:
                repeats += 1
                value = self.history.failure_value_now() if value is None else value
                self.study.tell(trial, value)
            elif not self.pool.contains(arch) or arch in out or self.history.seen(arch):
                repeats += 1
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.trials[arch] = trial
                out.append(arch)
        return out

    def tell(self, arch, value: float) -> None:
        trial = self.trials.pop(arch, None)
        if trial is not None:
            self.study.tell(trial, value)

    def tell_failure(self, arch, error: str) -> None:
        from optuna.trial import TrialState

        trial = self.trials.pop(arch, None)
        if trial is not None:
            self.study.tell(trial, state=TrialState.FAIL)


class OptunaTPE(OptunaStrategy):
    Options = TPEOptions
    summary = "Optuna TPESampler(multivariate=True)"

    def sampler(self):
        import optuna

        return optuna.samplers.TPESampler(multivariate=True, n_startup_trials=self.options.n_startup_trials,
                                          seed=self.seed)


class OptunaGP(OptunaStrategy):
    Options = GPOptions
    summary = "Optuna GPSampler (Bayesian optimisation)"

    def sampler(self):
        import optuna

        return optuna.samplers.GPSampler(n_startup_trials=self.options.n_startup_trials, seed=self.seed)


search.register_strategy("optuna-tpe", OptunaTPE, replace=True)
search.register_strategy("optuna-gp", OptunaGP, replace=True)
