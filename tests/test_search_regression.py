"""The ask/tell engine with one worker makes the queries the loop-based strategies made
(tests/data/search_queries.json, written by tests/regression_queries.py before the rewrite)."""
from __future__ import annotations

import json

import pytest

import regression_queries as recorded

WANT = json.loads(recorded.PATH.read_text())


@pytest.mark.parametrize("strategy", list(recorded.CASES))
@pytest.mark.parametrize("seed", recorded.SEEDS)
def test_one_worker_makes_the_recorded_queries(strategy, seed):
    assert WANT["budget"] == recorded.BUDGET and WANT["benchmark"] == recorded.BENCHMARK
    assert recorded.queries(strategy, seed) == WANT["queries"][strategy][str(seed)]
