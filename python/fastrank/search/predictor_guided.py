"""Iterative predictor-guided search (BRP-NAS / AceNAS style): a random start, then rounds of
fit -> score every candidate -> query the best new ones."""
from __future__ import annotations

import numpy as np

from .candidates import CandidatePool
from .guided import GuidedOptions, best_labelled, fit_round, query_best, rounds
from .trace import Trace

# Candidates per round of an open pool: mutants of the best plus as many random samples.
OPEN_MUTANT_PARENTS = 10
OPEN_RANDOM = 500


def predictor_search(trace: Trace, pool: CandidatePool, rng: np.random.Generator, loss, seed: int,
                     options: GuidedOptions, pretrained=None) -> None:
    for round_no in rounds(trace, pool, rng, options.n_init):
        predictor = fit_round(trace, pool.space, loss, seed, round_no, options, pretrained)
        if pool.fixed:
            free = pool.unlabelled(trace)
            if free.shape[0] == 0:
                return
            graphs = pool.graphs(predictor.dtype)
            scores = predictor.predict_graphs(tuple(t[free] for t in graphs))
            candidates = [pool.archs[i] for i in free]
        else:
            parents = best_labelled(trace, OPEN_MUTANT_PARENTS)
            candidates = pool.mutants(parents, trace, rng, None) + pool.draw(trace, rng, OPEN_RANDOM)
            if not candidates:
                return
            scores = predictor.predict(candidates)
        query_best(trace, candidates, scores, options, rng)
