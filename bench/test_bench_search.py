"""End to end: predictor-guided search on NB201/cifar10 (test protocol, budget 100, seed 0)
with fastrank's Predictor against the same search with a plain-torch predictor, in one run.

"fastrank" is the default Predictor: GCNPredictor trained by its native step + FusedAdam,
the whole space scored by the native batched inference. "plain_torch" is
bench/plain_gcn.PlainTorchPredictor: the same architecture, parameter layout, initial weights,
hyperparameters (4 layers, width 64, 100 epochs, batch 32, Adam lr 1e-3), batch order and
loss module, in dense torch ops trained by autograd + torch.optim.Adam. The loss ("pw":
HR, then MAPE from 50 labelled) is fastrank's in both, so the rows differ only in the model.

Besides the whole search: one Predictor.fit at n=100, one scoring of all 15,625 cells, and one
weak-label pretraining (AceNAS: zen on all 15,625 cells, the defaults of Predictor.pretrain),
where "torch_autograd" is fastrank's own model trained through torch autograd (native=False).
Threads: FASTRANK_BENCH_THREADS (default 1) for both torch and fastrank, which is what
``fastrank search`` workers run with (search/parallel.py), and the setting least disturbed
by other load on a small machine.

    PYTHONPATH=python python -m pytest bench/test_bench_search.py --benchmark-json=/tmp/search_bench.json
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import fastrank
from bench_utils import run
from fastrank import benchmarks, search
from plain_gcn import PlainTorchPredictor
from published import PUBLISHED_PREDICTOR

THREADS = int(os.environ.get("FASTRANK_BENCH_THREADS", "1"))
BENCH = "nb201/cifar10"
SEED = 0
BUDGET = 100
N_FIT = 100
CLASSES = {"fastrank": fastrank.Predictor, "plain_torch": PlainTorchPredictor}
PRETRAINERS = {"fastrank": (fastrank.Predictor, {}), "torch_autograd": (fastrank.Predictor, {"native": False}),
               "plain_torch": (PlainTorchPredictor, {})}  # impl -> (class, its options)
SUFFIX = f"{THREADS} thread{'s' if THREADS > 1 else ''}"


@pytest.fixture(autouse=True, scope="module")
def threads():
    before = torch.get_num_threads(), fastrank.num_threads()
    torch.set_num_threads(THREADS)
    fastrank.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before[0])
    fastrank.set_num_threads(before[1])


@pytest.fixture(scope="module")
def table():
    return benchmarks.load(BENCH)


def fit_sample(table):
    """A fixed random sample of N_FIT labelled cells (the table's first rows are not random)."""
    idx = np.random.default_rng(0).choice(len(table.archs), N_FIT, replace=False)
    return [table.archs[i] for i in idx], np.asarray(table.values)[idx]


@pytest.mark.parametrize("impl", list(CLASSES))
def test_search_run(benchmark, impl):
    results = []

    def one_run():
        results.append(search.run(BENCH, strategy="predictor", budget=BUDGET, seed=SEED, protocol="test",
                                  predictor_class=CLASSES[impl], **PUBLISHED_PREDICTOR))

    # The warm-up round takes the once-per-process costs (table parse, pool encoding, torch's
    # lazy optimizer imports) out of the timed rounds, for both rows alike.
    run(benchmark, f"predictor-guided search, {BENCH} test protocol, budget {BUDGET}, seed {SEED}, {SUFFIX}",
        impl, BUDGET, one_run, slow=True, rounds=3)
    result = results[-1]
    # Same seed, same process: every round must find the same thing, or the rows time different work.
    assert len({r.arch_string for r in results}) == 1
    benchmark.extra_info.update({"threads": THREADS, "arch": result.arch_string, "test_value": result.test_value,
                                 "rank": result.rank, "queries": len(result.queries)})


def strategy_alone() -> list:
    """The default search without the driver: its strategy asked and told in a bare loop (no
    budget accounting, cache, journal or evaluator). Against search.run, this is the driver's
    cost on a table search."""
    from fastrank.loss_spec import parse_loss
    from fastrank.search import BenchmarkTask, CandidatePool, Context, History, Query

    task = BenchmarkTask.load(BENCH, "test")
    history = History(task.space)
    pool = CandidatePool.of_table(task.space, task.query.archs)
    loss = parse_loss("pw", task=BENCH, switch_at=BUDGET // 2)
    cls = search.get_strategy("predictor")
    strategy = cls(Context(task.space, pool, history, SEED, BUDGET, loss, task.query), cls.Options(**PUBLISHED_PREDICTOR))
    while len(history.queries) < BUDGET:
        for arch in strategy.ask(1):
            history.start(arch)
            value = task.query.query(arch)
            history.record(Query(len(history.queries) + 1, arch, value, 0.0))
            strategy.tell(arch, value)
    return [q.arch for q in history.queries]


@pytest.mark.parametrize("impl", ["driver", "strategy_alone"])
def test_search_driver_cost(benchmark, impl):
    found = []

    def driver():
        found.append([q.arch for q in search.run(BENCH, strategy="predictor", budget=BUDGET, seed=SEED,
                                                 protocol="test", **PUBLISHED_PREDICTOR).queries])

    def alone():
        found.append(strategy_alone())

    run(benchmark, f"the driver's cost: predictor-guided search, {BENCH} test protocol, budget {BUDGET}, {SUFFIX}",
        impl, BUDGET, driver if impl == "driver" else alone, slow=True, rounds=3)
    assert all(f == found[0] for f in found)  # every round made the same queries


@pytest.mark.parametrize("impl", list(CLASSES))
def test_predictor_fit(benchmark, impl, table):
    archs, values = fit_sample(table)
    predictor = CLASSES[impl](table.space, seed=SEED)
    # MAPE: the loss the search trains with in its second half (pw switches from HR at 50).
    run(benchmark, f"Predictor.fit, n={N_FIT}, 100 epochs, batch 32, MAPE (NB201), {SUFFIX}", impl, N_FIT,
        lambda: predictor.fit(archs, values, loss="MAPE"), slow=True, rounds=5)
    benchmark.extra_info["threads"] = THREADS


@pytest.mark.parametrize("impl", list(CLASSES))
def test_predictor_score_space(benchmark, impl, table):
    archs, values = fit_sample(table)
    predictor = CLASSES[impl](table.space, seed=SEED).fit(archs, values, loss="MAPE", epochs=5)
    graphs = predictor.graphs_of_codes(np.arange(table.space.size))
    # predict_graphs on the encoded pool is the search's scoring call (minus dropping queried rows).
    run(benchmark, f"Predictor: score all {table.space.size:,} NB201 cells, {SUFFIX}", impl, table.space.size,
        lambda: predictor.predict_graphs(graphs), slow=True, rounds=10)
    benchmark.extra_info["threads"] = THREADS


@pytest.mark.parametrize("impl", list(PRETRAINERS))
def test_predictor_pretrain(benchmark, impl, table):
    from fastrank.weak_labels import select_weak_labels

    cls, options = PRETRAINERS[impl]
    labels = select_weak_labels(table, "zen")
    predictor = cls(table.space, seed=SEED, **options)
    run(benchmark, f"Predictor.pretrain on all {len(table.archs):,} NB201 cells (zen), 20 epochs, batch 256, {SUFFIX}",
        impl, len(table.archs), lambda: predictor.pretrain(table.archs, labels), slow=True, rounds=3)
    benchmark.extra_info["threads"] = THREADS
