"""One cell of the study: what is trained, what is scored, which numbers come out."""
from __future__ import annotations

import time
import zlib
from functools import lru_cache
from typing import List, Tuple

import numpy as np
import torch

from .. import benchmarks, metrics
from ..losses import acenas_relevance
from ..predictor import Predictor
from .grid import Cell

RANK_METRICS = ("kendall_tau", "spearman", "precision@0.5%", "precision@1%", "precision@5%", "n@10", "ndcg@10",
                "regret@1", "regret@10", "fit_seconds", "score_seconds")
SEARCH_CHECKPOINT = 10  # the search cells record the best value found every this many queries


@lru_cache(maxsize=8)
def load_task(task: str):
    """A task's table (cached per process), its targets oriented higher-is-better, and AceNAS'
    relevance grades of them for NDCG."""
    bench = benchmarks.load(task)
    values = bench.values if bench.higher_is_better else -bench.values
    grades = acenas_relevance(torch.as_tensor(values)).numpy()
    return bench, values, grades


def training_rows(task: str, size: int, seed: int, n: int) -> np.ndarray:
    """The labelled rows of a ranking cell: the same for every loss (paired comparisons)."""
    return np.random.default_rng((seed, size, zlib.crc32(task.encode()))).choice(n, size, replace=False)


def evaluate_cell(cell: Cell, loss=None, predictor_class=Predictor) -> List[Tuple[str, float]]:
    """(metric, value) pairs of one cell; ``loss`` replaces the cell's loss spec (a module a
    user built, shipped to the worker with the cell); ``predictor_class``: another model (a
    :class:`~fastrank.Predictor` subclass, e.g. a user's encoder)."""
    loss = cell.loss if loss is None else loss
    if cell.kind == "rank":
        return _rank_cell(cell, loss, predictor_class)
    if cell.kind == "search":
        return _search_cell(cell, loss, predictor_class)
    raise ValueError(f"unknown cell kind {cell.kind!r}")


def _rank_cell(cell: Cell, loss, predictor_class) -> List[Tuple[str, float]]:
    bench, values, grades = load_task(cell.task)
    if not 2 <= cell.size < len(bench):
        raise ValueError(f"{cell.task} has {len(bench)} architectures: a training set of {cell.size} leaves "
                         "nothing to rank")
    rows = training_rows(cell.task, cell.size, cell.seed, len(bench))
    predictor = predictor_class(bench.space, seed=cell.seed)
    start = time.perf_counter()
    predictor.fit([bench.archs[i] for i in rows], values[rows], loss=loss)
    fitted = time.perf_counter()
    scores = predictor.predict_benchmark(bench)
    scored = time.perf_counter()
    return [("kendall_tau", metrics.kendall_tau(scores, values)), ("spearman", metrics.spearman(scores, values)),
            ("precision@0.5%", metrics.precision_at_t(values, scores, 0.005)),
            ("precision@1%", metrics.precision_at_t(values, scores, 0.01)),
            ("precision@5%", metrics.precision_at_t(values, scores, 0.05)),
            ("n@10", float(metrics.n_at_k(values, scores, 10))),
            ("ndcg@10", metrics.ndcg(grades, scores, k=10, gain="exp2")),
            ("regret@1", metrics.top_k_regret(values, scores, 1)),
            ("regret@10", metrics.top_k_regret(values, scores, 10)),
            ("fit_seconds", fitted - start), ("score_seconds", scored - fitted)]


def _search_cell(cell: Cell, loss, predictor_class) -> List[Tuple[str, float]]:
    from ..search import run

    result = run(cell.task, "predictor", budget=cell.size, seed=cell.seed, loss=loss, protocol="test",
                 predictor_class=predictor_class)
    best = result.best_so_far()
    out = [("final_value", float(best[-1])), ("regret", float(result.regret)), ("rank", float(result.rank)),
           ("seconds", result.seconds)]
    out += [(f"best@{q}", float(best[min(q, best.shape[0]) - 1]))
            for q in range(SEARCH_CHECKPOINT, cell.size + 1, SEARCH_CHECKPOINT)]
    return out
