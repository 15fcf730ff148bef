"""Writes tests/data/search_queries.json: the queries each built-in strategy makes on NB201 for a
few seeds, single-threaded, with one worker. Run once against a known-good search (it was first
run on the loop-based strategies before the ask/tell engine replaced them); test_search_regression
checks that today's engine makes the same queries.

    python tests/regression_queries.py            # rewrites the file (only on purpose)
"""
from __future__ import annotations

import json
from pathlib import Path

PATH = Path(__file__).parent / "data" / "search_queries.json"
BENCHMARK, BUDGET, SEEDS = "nb201/cifar10", 30, (0, 1, 2)
# small predictors keep the check quick; the queries still depend on every fit
CASES = {
    "random": {},
    # as the loop code ran it: no pretraining, the GCN alone
    "predictor": {"loss": "pw", "predictor": {"epochs": 20}, "pretrain": None, "gp_member": False, "acquisition": "mean"},
    "evolution": {"loss": "HR", "predictor": {"epochs": 20}},
    "acenas": {"predictor": {"epochs": 20}, "pretrain_epochs": 3},
    "proxy-validation": {"gae_samples": 300, "gae_epochs": 5},
    "proxy-validation-ea": {"gae_samples": 300, "gae_epochs": 5},
}


def queries(strategy: str, seed: int) -> list:
    import torch

    import fastrank
    from fastrank import search

    torch.set_num_threads(1)
    fastrank.set_num_threads(1)
    result = search.run(BENCHMARK, strategy=strategy, budget=BUDGET, seed=seed, **CASES[strategy])
    return [result.space.to_string(q.arch) for q in result.queries]


def main() -> None:
    table = {s: {str(seed): queries(s, seed) for seed in SEEDS} for s in CASES}
    PATH.write_text(json.dumps({"benchmark": BENCHMARK, "budget": BUDGET, "queries": table}, indent=1) + "\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
