"""Searchers users already have, as fastrank strategies so that they run through the same driver
(budget, cache, the rule that a repeated architecture is free): Optuna's TPE (multivariate) and
GP (Bayesian optimisation) samplers, and SMAC3's HPO facade (a random forest). Importing this
module registers "optuna-tpe", "optuna-gp" and "smac". Optuna and SMAC are bench extras (pip
install '.[bench]'), never dependencies of fastrank.

Optuna (and SMAC, over the indices of the same values) sees an architecture as one categorical parameter per position of its flat encoding
(:func:`flat_encoding`): the ints of a tuple space (NB201, TransNAS-Bench-101 micro and macro,
NAS-Bench-Graph, NAS-Bench-Macro; a shorter macro network is padded with 0, "no layer"), the
(input, op) pairs of both DARTS cells, and NB101's upper-triangular adjacency bits plus its five
interior ops. Each position takes the values it takes in the table.

Only table rows are queried. A proposal that is a row is queried as it is. NAS-Bench-Graph lists
each GNN once up to its equivalences (26,206 rows for 59,040 (link, ops) tuples): a proposal
there is the row the benchmark's own lookup, ``Arch(link, ops).valid_hash()``, gives it, as in a
user's objective, and the peer learns that row's result under its own parameters. A proposal
that is no row (a sampled table such as NB101 or DARTS holds a tiny share of its space) is told
to Optuna as failed, and the free row nearest to it in Hamming distance over the encoding is
queried instead (the lowest row index on ties); that row's result is added to the study as a
finished trial with the row's own parameters, so the sampler learns only from what was measured.
SMAC is told nothing of such a proposal (it does not wait for an answer) and learns the row under
the row's own configuration.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import numpy as np

from fastrank import search


@dataclass
class TPEOptions(search.Options):
    n_startup_trials: int = search.option(10, "random trials before TPE models the results", search.Int(1))


@dataclass
class GPOptions(search.Options):
    n_startup_trials: int = search.option(10, "random trials before the GP models the results", search.Int(1))


MAX_REPEATS = 1000  # proposals answered from the cache in a row before the pool counts as exhausted


def _leaves(value):
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str) and len(value) > 1 and set(value) <= {"0", "1"} \
            and round(len(value) ** 0.5) ** 2 == len(value):
        side = round(len(value) ** 0.5)  # an adjacency matrix written row by row: its upper triangle
        yield from (int(value[i * side + j]) for i in range(side) for j in range(i + 1, side))
    else:
        yield value


def flat_encoding(arch, width: int = 0) -> tuple:
    """An architecture as a flat tuple of categorical values (ints or strs), padded to ``width``
    with 0. NB101's ops tuple drops its fixed first and last entries (input, output)."""
    if isinstance(arch, tuple) and len(arch) == 2 and isinstance(arch[0], str) and isinstance(arch[1], tuple) \
            and arch[1] and arch[1][0] == "input":
        arch = (arch[0], arch[1][1:-1])
    flat = tuple(_leaves(arch))
    return flat + (0,) * (width - len(flat))


def equivalent_listing(space):
    """On NAS-Bench-Graph, ``proposal -> the flat encoding of the listed architecture equivalent
    to it``: the benchmark lists each GNN once up to reorderings of interchangeable branches and
    moved skip operations, and a user who searches (link, 4 ops) looks a proposal up by its
    ``Arch(link, ops).valid_hash()`` (the nas-bench-graph package's own mapping), so a proposal
    that is no row's tuple is that equivalent row's architecture. None on every other space."""
    from fastrank.spaces.nasbench_graph import LINKS, NASBenchGraph

    if not isinstance(space, NASBenchGraph):
        return None
    try:
        from nas_bench_graph.architecture import Arch
    except ImportError as err:  # a nearest-row fallback would quietly give the peers another prior
        raise ImportError("the peers look NAS-Bench-Graph proposals up with the nas-bench-graph package's "
                          "Arch.valid_hash: pip install nas-bench-graph") from err

    by_key = {space.hash(arch): arch for arch in map(space.decode, range(space.size))}

    def listed(proposal: tuple):
        link, *ops = proposal
        if all(space.ops[o] == "skip" for o in ops):
            return None  # no GNN at all: the benchmark has no such architecture
        return by_key.get(Arch(list(LINKS[link]), [space.ops[o] for o in ops]).valid_hash())

    return listed


class TableRowsPeer(search.Strategy):
    """A peer over a table's rows (see the module's docstring): each position of the flat
    encoding and the values it takes, each row's codes for Hamming distances, and the row a
    proposal is answered with."""

    def __init__(self, context, options=None):
        super().__init__(context, options)
        if not self.pool.fixed:
            raise ValueError(f"{self.name}: needs a table (a fixed pool of architectures)")
        flat = [flat_encoding(a) for a in self.pool.archs]
        width = max(map(len, flat))
        flat = [f + (0,) * (width - len(f)) for f in flat]
        self.width = width
        self.choices = [sorted({f[i] for f in flat}) for i in range(width)]
        # each row's values as indices into its position's choices, for Hamming distances
        index = [{v: k for k, v in enumerate(c)} for c in self.choices]
        self.codes = np.array([[index[i][v] for i, v in enumerate(f)] for f in flat], dtype=np.int16)
        self.rows: Dict[tuple, int] = {}  # an encoding -> its first row
        for i, f in enumerate(flat):
            self.rows.setdefault(f, i)
        self.index = index
        self.equivalent = equivalent_listing(self.space)
        self.trials: Dict[object, object] = {}  # identity -> (what the peer tells at its result, row)

    def _row(self, proposal: tuple):
        """The table row to query for a proposal: the one holding it or, on a benchmark that
        lists each architecture once up to its equivalences, the one listing its equivalent, else
        the nearest free one (the lowest row on ties). What this ask proposed already is held, so
        it is not free."""
        if proposal in self.rows:
            return self.pool.archs[self.rows[proposal]], True
        listed = self.equivalent(proposal) if self.equivalent is not None else None
        if listed is not None and listed in self.rows:
            return self.pool.archs[self.rows[listed]], True
        free = self.pool.unlabelled(self.history)
        if free.shape[0] == 0:
            return None, False
        target = np.array([self.index[i][v] for i, v in enumerate(proposal)], dtype=np.int16)
        distance = (self.codes[free] != target).sum(axis=1)
        return self.pool.archs[int(free[np.argmin(distance)])], False

    def ask(self, n: int) -> List:
        """The peer's proposals as free table rows. A paid row is told its value for free and the
        peer asked again; one in flight or proposed in this ask already is dropped."""
        out, repeats = [], 0
        with self.history.holding() as hold:  # this ask's proposals must not be proposed again
            while len(out) < n and repeats < MAX_REPEATS:
                token, proposal = self._propose()
                arch, exact = self._row(proposal)
                if arch is None:
                    self._drop(token)
                    break
                paid, value = self.history.cached(arch)
                if exact and paid:
                    repeats += 1
                    self._tell_paid(token, self.history.failure_value_now() if value is None else value)
                elif self.history.seen(arch):
                    repeats += 1
                    self._drop(token)
                else:
                    self.trials[self.space.identity(arch)] = (self._pending(token, arch, exact), arch)
                    hold(arch)
                    out.append(arch)
        return out

    def _propose(self):
        """(the peer's handle on its next proposal, the proposal as a flat encoding)."""
        raise NotImplementedError

    def _tell_paid(self, token, value: float) -> None:
        raise NotImplementedError

    def _drop(self, token) -> None:
        """A proposal that is not queried."""
        raise NotImplementedError

    def _pending(self, token, row, exact: bool):
        """What to tell the peer when ``row``'s result comes back (``exact``: it is the proposal)."""
        raise NotImplementedError

    def tell(self, arch, value: float) -> None:
        self._finish(arch, value)

    def tell_failure(self, arch, error: str) -> None:
        self._finish(arch, None)

    def _finish(self, arch, value) -> None:
        """Tell the peer's model what came back for ``arch`` (None: it failed)."""
        raise NotImplementedError


class OptunaStrategy(TableRowsPeer):
    """An Optuna sampler behind ask/tell, over a table's rows (see the module's docstring). A
    proposal already paid for is told its value for free and the sampler asked again; one in
    flight, or already proposed in this ask, is told as failed (the sampler skips it)."""

    def __init__(self, context, options=None):
        import optuna

        super().__init__(context, options)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.distributions = {f"d{i}": optuna.distributions.CategoricalDistribution(c)
                              for i, c in enumerate(self.choices)}
        self.study = optuna.create_study(direction="maximize", sampler=self.sampler())

    def sampler(self):
        raise NotImplementedError

    def _propose(self):
        trial = self.study.ask()
        return trial, tuple(trial.suggest_categorical(f"d{i}", c) for i, c in enumerate(self.choices))

    def _tell_paid(self, trial, value: float) -> None:
        self.study.tell(trial, value)

    def _drop(self, trial) -> None:
        from optuna.trial import TrialState

        self.study.tell(trial, state=TrialState.FAIL)  # the sampler skips a failed trial

    def _pending(self, trial, row, exact: bool):
        if exact:
            return trial
        self._drop(trial)
        return None  # the row is added at its result as a finished trial of its own

    def _finish(self, arch, value) -> None:
        import optuna
        from optuna.trial import TrialState

        trial, row = self.trials.pop(self.space.identity(arch), (False, None))
        if trial is False:
            return
        if trial is not None:
            if value is None:
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, value)
        elif value is not None:
            params = {f"d{i}": v for i, v in enumerate(flat_encoding(row, self.width))}
            self.study.add_trial(optuna.trial.create_trial(params=params, distributions=self.distributions,
                                                           value=value))


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


@dataclass
class SMACOptions(search.Options):
    n_initial: int = search.option(10, "configurations of SMAC's Sobol initial design (as the Optuna peers' "
                                       "random start)", search.Int(1))


class SMACStrategy(TableRowsPeer):
    """SMAC3's HyperparameterOptimizationFacade (a random forest, log-scaled expected improvement,
    its interleaved random configurations: SMAC's defaults for HPO) behind ask/tell, over a
    table's rows, each position a categorical of the indices of its values. Deterministic, one
    call per configuration. As with Optuna: a paid proposal is told its value for free and SMAC
    asked again; a proposal that is no row is left untold (SMAC does not wait on it), and the
    nearest free row is queried and told under its own configuration."""

    Options = SMACOptions
    summary = "SMAC3 HyperparameterOptimizationFacade (random forest + EI)"

    def __init__(self, context, options=None):
        import tempfile

        from ConfigSpace import Categorical, ConfigurationSpace
        from smac import HyperparameterOptimizationFacade as HPO
        from smac import Scenario

        super().__init__(context, options)
        self.configspace = ConfigurationSpace(seed=self.seed)
        self.configspace.add([Categorical(f"d{i}", [str(k) for k in range(len(c))]) for i, c in enumerate(self.choices)])
        self._output = tempfile.TemporaryDirectory(prefix="fastrank-smac-")  # SMAC writes its run there
        scenario = Scenario(self.configspace, deterministic=True, n_trials=max(context.budget, 1) * 10,
                            seed=self.seed, output_directory=Path(self._output.name))
        self.smac = HPO(scenario, _never_called, overwrite=True, logging_level=40,
                        initial_design=HPO.get_initial_design(scenario, n_configs=self.options.n_initial),
                        intensifier=HPO.get_intensifier(scenario, max_config_calls=1))

    def _propose(self):
        info = self.smac.ask()
        return info, tuple(c[int(info.config[f"d{i}"])] for i, c in enumerate(self.choices))

    def _trial_of(self, row, seed):
        from ConfigSpace import Configuration
        from smac.runhistory.dataclasses import TrialInfo

        codes = {f"d{i}": str(self.index[i][v]) for i, v in enumerate(flat_encoding(row, self.width))}
        return TrialInfo(Configuration(self.configspace, values=codes), seed=seed)

    def _tell_paid(self, info, value: float) -> None:
        from smac.runhistory.dataclasses import TrialValue

        self.smac.tell(info, TrialValue(cost=-float(value)))

    def _drop(self, info) -> None:
        pass  # left untold: SMAC does not wait for an answer

    def _pending(self, info, row, exact: bool):
        return info if exact else self._trial_of(row, info.seed)

    def _finish(self, arch, value) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        info, _ = self.trials.pop(self.space.identity(arch), (None, None))
        if info is None:
            return
        if value is None:  # SMAC learns a crash at the worst value seen
            self.smac.tell(info, TrialValue(cost=-float(self.history.failure_value_now()), status=StatusType.CRASHED))
        else:
            self.smac.tell(info, TrialValue(cost=-float(value)))


def _never_called(config, seed: int = 0) -> float:
    raise RuntimeError("the search's driver evaluates; SMAC only proposes through ask/tell")


search.register_strategy("optuna-tpe", OptunaTPE, replace=True)
search.register_strategy("optuna-gp", OptunaGP, replace=True)
search.register_strategy("smac", SMACStrategy, replace=True)
