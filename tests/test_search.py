"""Search strategies through the driver: budget and cache rules, reproducibility, interrupts, protocols, pools."""
from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import FAST_SEARCH

from fastrank import benchmarks, search
from fastrank.search import BenchmarkTask, Search
from fastrank.spaces import DARTS, NASBench201

FAST = FAST_SEARCH


def fast_options(strategy: str, candidates: int = 15625) -> dict:
    """Quick settings of each strategy; acenas pretrains on a random weak label of the candidates."""
    if strategy == "random":
        return {}
    if strategy == "regularized-evolution":
        return {"population": 6, "sample": 3}
    if strategy.startswith("proxy-validation"):  # no loss: it fits its landscape by MSE
        return {"n_init": 5, "gae_samples": 300, "gae_epochs": 5, "predictor_epochs": 20, "population": 5}
    if strategy == "acenas":
        noise = np.random.default_rng(0).normal(size=candidates)
        return {"rounds": 4, "pretrain": {"noise": noise}, "pretrain_epochs": 1, "predictor": FAST["predictor"],
                "loss": "HR"}
    return dict(FAST, loss="HR")


def conv_count(arch) -> float:
    """A cheap objective on NB201 cells: convolutions help, 'none' hurts."""
    return float(sum(op in (2, 3) for op in arch) - sum(op == 0 for op in arch) + 0.01 * arch[0])


class Counter:
    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, arch):
        self.calls.append(arch)
        return self.fn(arch)


@pytest.mark.parametrize("strategy", search.BUILT_IN_STRATEGIES)
def test_budget_is_spent_exactly_and_nothing_is_paid_twice(strategy):
    evaluate = Counter(conv_count)
    options = fast_options(strategy)
    result = search.run(evaluate, strategy, budget=23, seed=1, space="nb201", **options)
    assert len(evaluate.calls) == 23 == len(result.queries)
    assert len(set(evaluate.calls)) == 23
    assert [q.number for q in result.queries] == list(range(1, 24))
    assert result.query_value == max(conv_count(a) for a in evaluate.calls)
    assert result.test_value is None and result.rank is None


def test_the_driver_never_hands_out_a_paid_or_running_architecture():
    s = Search(space="nb201", strategy="random", budget=3, seed=0)
    first = s.ask(2)
    assert len(first) == 2 and len(s.in_flight) == 2 and s.remaining == 1
    s.tell(first[0], 1.0)
    with pytest.raises(ValueError, match="told already"):
        s.tell(first[0], 2.0)
    with pytest.raises(ValueError, match="not asked for"):
        s.tell((3, 3, 3, 3, 3, 3) if (3, 3, 3, 3, 3, 3) not in first else (0, 0, 0, 0, 0, 0), 1.0)
    more = s.ask(5)
    assert len(more) == 1 and not set(more) & set(first)  # the budget less the paid and those in flight
    assert s.ask(1) == [] and not s.done
    s.tell(first[1], 3.0)
    s.tell_failure(more[0], "diverged")
    assert s.done and s.paid == 3
    result = s.result()
    assert result.query_value == 3.0 and [q.error for q in result.queries] == [None, None, "diverged"]


@pytest.mark.parametrize("strategy", ["predictor", "evolution"])
def test_runs_are_reproducible_from_the_seed(strategy):
    a = search.run(conv_count, strategy, budget=20, seed=5, space="nb201", loss="MSE", **FAST)
    b = search.run(conv_count, strategy, budget=20, seed=5, space="nb201", loss="MSE", **FAST)
    c = search.run(conv_count, strategy, budget=20, seed=6, space="nb201", loss="MSE", **FAST)
    assert [q.arch for q in a.queries] == [q.arch for q in b.queries]
    assert [q.arch for q in a.queries] != [q.arch for q in c.queries]


def test_predictor_search_beats_its_random_start():
    result = search.run(conv_count, "predictor", budget=25, seed=0, space="nb201", loss="HR", **FAST)
    curve = result.best_so_far()
    assert curve[-1] > curve[FAST["n_init"] - 1]
    assert result.query_value >= 6.0  # six convolutions: the optimum up to the first-edge tiebreak


def test_a_pool_smaller_than_the_budget_ends_the_run():
    pool = [NASBench201().decode(c) for c in range(0, 15625, 1000)]  # 16 cells
    for strategy in search.BUILT_IN_STRATEGIES:
        options = fast_options(strategy, len(pool))
        result = search.run(conv_count, strategy, budget=40, seed=0, space="nb201", candidates=pool, **options)
        assert sorted(q.arch for q in result.queries) == sorted(pool)


def test_interrupt_keeps_the_partial_trace(tmp_path):
    calls = []

    def evaluate(arch):
        if len(calls) == 6:
            raise KeyboardInterrupt
        calls.append(arch)
        return conv_count(arch)

    path = tmp_path / "journal.jsonl"
    result = search.run(evaluate, "predictor", budget=30, seed=0, space="nb201", loss="HR", journal=path, **FAST)
    assert result.interrupted and len(result.queries) == 6
    rows = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert [r["n"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["value"] for r in rows] == [q.value for q in result.queries]


def test_protocols_on_nb201():
    valid = BenchmarkTask.load("nb201/cifar100", "valid")
    test = BenchmarkTask.load("nb201/cifar100", "test")
    assert valid.query.metric == "cifar100_valid" and valid.report.metric == "cifar100_test"
    assert test.query.metric == test.report.metric == "cifar100_test"
    for protocol, task in (("valid", valid), ("test", test)):
        r = search.run("nb201/cifar100", "random", budget=30, seed=2, protocol=protocol)
        assert all(q.value == task.query.query(q.arch) for q in r.queries)
        assert r.query_value == max(q.value for q in r.queries)
        assert r.test_value == test.query.query(r.arch)
        assert r.rank == 1 + int(np.sum(test.query.values > r.test_value))
        assert r.regret == pytest.approx(test.query.optimum()[1] - r.test_value)
        assert (r.rank == 1) == (r.regret == 0)


def test_evolution_on_a_sample_table_queries_only_its_rows():
    bench = benchmarks.load("nb301")
    result = search.run(bench, "evolution", budget=20, seed=0, loss="pw", **FAST)
    assert all(q.arch in bench for q in result.queries) and len(result.queries) == 20


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["evolution", "regularized-evolution"])
def test_mutations_on_nb101_query_the_tables_own_rows(strategy):
    """A mutation can write a cell the table holds in another, isomorphic form: the pool hands
    out its own row. (It handed out the mutation, which the table could not answer: 19 % of
    evolution's queries on NB101 were recorded as failures, and regularized evolution stopped
    on 10 in a row.)"""
    bench = benchmarks.load("nb101")
    options = {"population": 10, "sample": 3} if strategy == "regularized-evolution" else dict(FAST, loss="HR")
    for seed in (0, 12):
        result = search.run(bench, strategy, budget=60, seed=seed, **options)
        assert not result.failed and all(q.arch in bench for q in result.queries)


def test_predictor_search_on_an_open_space():
    """DARTS cannot be listed: candidates are mutants of the best plus random samples."""
    space = DARTS()

    def evaluate(arch):  # separable convolutions in the normal cell
        return float(sum(op in (3, 4) for op, _ in arch[0]))

    result = search.run(evaluate, "predictor", budget=15, seed=0, space=space, loss="HR", **FAST)
    assert len(result.queries) == 15 and len({space.identity(q.arch) for q in result.queries}) == 15


def test_evolution_on_an_open_space():
    """Evolution where the space cannot be listed: children are mutants of the best parents."""
    space = DARTS()

    def evaluate(arch):
        return float(sum(op in (3, 4) for op, _ in arch[0]) + sum(op == 2 for op, _ in arch[1]))

    result = search.run(evaluate, "evolution", budget=20, seed=2, space=space, loss="pw:HR,MAPE@12",
                        children=30, **FAST)
    assert len(result.queries) == 20 and len({space.identity(q.arch) for q in result.queries}) == 20
    assert result.best_so_far()[-1] >= result.best_so_far()[FAST["n_init"] - 1]


def test_pick_local_gives_its_share_to_the_best_scored_neighbours():
    from fastrank.search.guided import pick_local

    scores = np.array([9.0, 8.0, 7.0, 6.0, 5.0, 4.0])
    chosen = np.array([0, 1, 2, 3])
    near = np.array([False, True, False, False, True, True])
    assert pick_local(chosen, scores, near, 0.5).tolist() == [1, 4, 0, 2]  # 1 is top-4 and near: kept once
    assert pick_local(chosen, scores, near, 0.0).tolist() == chosen.tolist()
    assert pick_local(chosen, scores, np.zeros(6, bool), 1.0).tolist() == chosen.tolist()  # no neighbour free


def test_acquisitions_read_the_ensemble_members():
    from fastrank.search.guided import acquisition_scores, pick, thompson_order

    members = np.array([[5.0, 4.0, 3.0, 0.0],
                        [0.0, 4.0, 3.0, 5.0],
                        [5.0, 4.0, 3.0, 0.0]])
    z = (members - members.mean(axis=1, keepdims=True)) / members.std(axis=1, keepdims=True)
    np.testing.assert_allclose(acquisition_scores(members, "mean", 1.0), z.mean(axis=0))
    assert np.argmax(acquisition_scores(members, "mean", 1.0)) == 1
    # ucb rewards disagreement: candidate 0 (members 5, 0, 5) beats 1 (4, 4, 4) once the spread counts
    ucb = acquisition_scores(members, "ucb", 1.0)
    assert np.argmax(ucb) == 0 and np.argmax(acquisition_scores(members, "ucb", 0.0)) == 1
    # a member's scale is arbitrary under a ranking loss: scaling one member changes nothing
    scaled = members * np.array([[1.0], [100.0], [1.0]])
    np.testing.assert_allclose(acquisition_scores(scaled, "ucb", 1.0), ucb)
    # one member: every acquisition is its scores
    np.testing.assert_array_equal(acquisition_scores(members[:1], "ucb", 2.0), members[0])
    # thompson: the members take turns, each picks its best not yet taken
    rng = np.random.default_rng(0)
    order = thompson_order(members[:2], 4, rng)[0].tolist()  # two members that disagree on the best
    assert sorted(order) == [0, 1, 2, 3] and set(order[:2]) == {0, 3}
    assert thompson_order(members[:1], 3, rng)[0].tolist() == [0, 1, 2]
    chosen = pick(members.mean(axis=0), 3, 0.0, rng, first=np.array([3, 0, 2, 1]))
    assert chosen.tolist() == [3, 0, 2]


def test_bandit_picks_follow_the_members_records():
    from fastrank.search.guided import bandit_order

    members = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0],
                        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]])
    rng = np.random.default_rng(0)
    # a record this lopsided leaves the other member no chance: its ranking gives every pick
    order, chooser = bandit_order(members, 4, rng, np.array([0.0, 1000.0]), np.array([1000.0, 0.0]))
    assert order.tolist() == [5, 4, 3, 2] and chooser.tolist() == [1, 1, 1, 1]
    order, chooser = bandit_order(members, 6, rng, np.array([1000.0, 0.0]), np.array([0.0, 1000.0]))
    assert order.tolist() == [0, 1, 2, 3, 4, 5] and set(chooser.tolist()) == {0}
    # the warm-up: members take turns until each has made `warmup` picks, whatever the record says
    order, chooser = bandit_order(members, 4, rng, np.array([0.0, 1000.0]), np.array([1000.0, 0.0]),
                                  picked=np.array([0, 0]), warmup=2)
    assert sorted(chooser.tolist()) == [0, 0, 1, 1] and chooser[0] != chooser[1]
    order, chooser = bandit_order(members, 4, rng, np.zeros(2), np.zeros(2), picked=np.array([5, 2]), warmup=5)
    assert chooser[:3].tolist() == [1, 1, 1]  # then the 4th by the (empty) record
    # no record: every member is drawn, and the picks stay distinct
    counts = np.zeros(2)
    for _ in range(200):
        order, chooser = bandit_order(members, 6, rng, np.zeros(2), np.zeros(2))
        assert sorted(order.tolist()) == list(range(6))
        for j, m in enumerate(chooser):  # each pick is its member's best not taken before it
            best = next(i for i in np.argsort(-members[m], kind="stable") if i not in order[:j])
            assert order[j] == best
        counts += np.bincount(chooser, minlength=2)
    assert 0.4 < counts[0] / counts.sum() < 0.6


def test_bandit_records_who_picked_what_through_the_driver():
    """gp_member with the bandit: each pick after the random start is charged to the member that
    made it, and wins are the picks that beat the 5th best result back when they were made."""
    from fastrank.search.guided import BANDIT_TOP

    space = NASBench201()
    options = dict(fast_options("predictor"), predictor={"epochs": 3, "width": 16, "layers": 2})
    run = search.Search(conv_count, "predictor", budget=30, seed=3, space=space, gp_member=True,
                        acquisition="bandit", **options)
    while not run.done:
        for arch in run.ask(1):
            run.tell(arch, conv_count(arch))
    strategy = run.strategy
    guided = [q for q in strategy.history.queries if space.identity(q.arch) in strategy.chosen_by]
    assert len(guided) == 30 - options["n_init"]
    wins, losses, picked = strategy.member_record(2)
    assert wins.sum() + losses.sum() == len(guided) == picked.sum()
    for q in guided:
        member, bar = strategy.chosen_by[space.identity(q.arch)]
        earlier = sorted((p.value for p in strategy.history.queries if p.number < q.number), reverse=True)
        assert member in (0, 1) and bar <= earlier[min(BANDIT_TOP, len(earlier)) - 1]
    again = search.run(conv_count, "predictor", budget=30, seed=3, space=space, gp_member=True,
                       acquisition="bandit", **options)
    assert [q.arch for q in again.queries] == [q.arch for q in strategy.history.queries]
    # the random share of each round (exploration) is no member's pick: 2 of each 5 go uncharged
    run = search.Search(conv_count, "predictor", budget=30, seed=3, space=space, gp_member=True,
                        acquisition="bandit", exploration=0.4, **options)
    while not run.done:
        for arch in run.ask(1):
            run.tell(arch, conv_count(arch))
    assert len(run.strategy.chosen_by) == 3 * (30 - options["n_init"]) // 5


def test_tracked_weights_follow_the_member_that_ranked_the_results():
    from fastrank.search.guided import TRACKED_MIN, acquisition_scores, tracked_weights

    values = np.arange(9.0)
    forecasts = np.stack([values, -values, np.zeros(9)], axis=1)  # right, reversed, no opinion
    np.testing.assert_allclose(tracked_weights(forecasts, values), [1.0 + 1 / np.sqrt(8), 1 / np.sqrt(8),
                                                                    1 / np.sqrt(8)])
    assert tracked_weights(forecasts[:TRACKED_MIN - 1], values[:TRACKED_MIN - 1]) is None
    members = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])
    assert np.argmax(acquisition_scores(members, "mean", 1.0, np.array([0.9, 0.1]))) == 0
    assert np.argmax(acquisition_scores(members, "mean", 1.0, np.array([0.1, 0.9]))) == 2


def test_tracked_weights_through_the_driver():
    """A GCN + MLP ensemble with tracked weights: reproducible, and as equal weights until a fit
    has forecasts to weigh by (the first round after the random start)."""
    space = NASBench201()
    options = dict(fast_options("predictor"), predictor={"encoder": "gcn+mlp", "epochs": 3, "width": 16},
                   member_weights="tracked")
    first = search.run(conv_count, "predictor", budget=25, seed=5, space=space, **options)
    again = search.run(conv_count, "predictor", budget=25, seed=5, space=space, **options)
    assert [q.arch for q in first.queries] == [q.arch for q in again.queries]
    equal = search.run(conv_count, "predictor", budget=25, seed=5, space=space,
                       **dict(options, member_weights="equal"))
    assert [q.arch for q in equal.queries[:10]] == [q.arch for q in first.queries[:10]]  # 5 forecasts: equal
    with pytest.raises(ValueError, match="member_weights"):
        search.run(conv_count, "predictor", space="nb201", member_weights="best")


@pytest.mark.parametrize("acquisition", ["ucb", "thompson"])
def test_acquisition_runs_through_the_driver(acquisition):
    space = NASBench201()
    options = dict(fast_options("predictor"), predictor={"epochs": 3, "width": 16, "layers": 2, "ensemble": 3})
    first = search.run(conv_count, "predictor", budget=15, seed=4, space=space, acquisition=acquisition, **options)
    again = search.run(conv_count, "predictor", budget=15, seed=4, space=space, acquisition=acquisition, **options)
    assert [q.arch for q in first.queries] == [q.arch for q in again.queries]
    assert len({q.arch for q in first.queries}) == 15
    mean = search.run(conv_count, "predictor", budget=15, seed=4, space=space, **options)
    assert [q.arch for q in mean.queries[:5]] == [q.arch for q in first.queries[:5]]  # the same random start
    with pytest.raises(ValueError, match="acquisition"):
        search.run(conv_count, "predictor", space="nb201", acquisition="ei")
    with pytest.raises(ValueError, match="kappa"):
        search.run(conv_count, "predictor", space="nb201", kappa=-1.0)


def test_local_picks_are_neighbours_of_the_best_results():
    """With local=1.0 every pick after the random start is one edge away from one of the 3 best
    results back at its fit."""
    space = NASBench201()
    result = search.run(conv_count, "predictor", budget=15, seed=3, space=space, local=1.0, **fast_options("predictor"))
    assert len({q.arch for q in result.queries}) == 15
    for i in range(FAST["n_init"], 15, FAST["per_round"]):
        back = result.queries[:i]
        best = [q.arch for q in sorted(back, key=lambda q: -q.value)[:3]]
        near = {n for b in best for n in space.neighbours(b)}
        assert all(q.arch in near for q in result.queries[i:i + FAST["per_round"]])
    with pytest.raises(ValueError, match="local"):
        search.run(conv_count, "predictor", space="nb201", local=1.5)


def test_novel_local_picks_bring_a_choice_none_of_the_best_results_has():
    """local_novel: the first pick of each round (local's share comes first) is a neighbour of
    the 3 best results that puts on some edge an operation none of the 10 best results has
    there, whenever such a neighbour is free; without local_novel the picks differ."""
    space = NASBench201()
    options = dict(fast_options("predictor"), local=0.2)
    result = search.run(conv_count, "predictor", budget=25, seed=3, space=space, local_novel=True, **options)
    assert len({q.arch for q in result.queries}) == 25
    checked = 0
    for i in range(FAST["n_init"], 25, FAST["per_round"]):
        back = sorted(result.queries[:i], key=lambda q: -q.value)
        seen = [{q.arch[e] for q in back[:10]} for e in range(6)]
        asked = {q.arch for q in result.queries[:i]}
        near = {n for q in back[:3] for n in space.neighbours(q.arch)} - asked
        novel = {n for n in near if any(op not in seen[e] for e, op in enumerate(n))}
        if novel:
            assert result.queries[i].arch in novel
            checked += 1
    assert checked >= 2
    plain = search.run(conv_count, "predictor", budget=25, seed=3, space=space, **options)
    assert [q.arch for q in plain.queries] != [q.arch for q in result.queries]
    with pytest.raises(ValueError, match="local_novel .* needs local > 0"):
        search.run(conv_count, "predictor", space="nb201", local_novel=True)


def test_round_share_makes_small_rounds_first():
    """round_share=0.2 from a start of 5: one pick per fit while fewer than 8 results are back,
    then a fifth of them, never more than per_round: rounds of 1, 1, 1, 2, 2, 2, 3, 3, 4, 1 (the
    budget's last) make 10 fits for 25 queries, where fixed rounds of 5 make 4."""
    from fastrank import Predictor

    fits = []

    class Counting(Predictor):
        def fit(self, archs, values, **kw):
            fits.append(len(archs))
            return super().fit(archs, values, **kw)

    space = NASBench201()
    options = dict(fast_options("predictor"), predictor_class=Counting)
    result = search.run(conv_count, "predictor", budget=25, seed=2, space=space, round_share=0.2, **options)
    assert fits == [5, 6, 7, 8, 10, 12, 14, 17, 20, 24]
    assert len({q.arch for q in result.queries}) == 25
    fixed = search.run(conv_count, "predictor", budget=25, seed=2, space=space, **options)
    assert fits[10:] == [5, 10, 15, 20]
    assert [q.arch for q in fixed.queries[:5]] == [q.arch for q in result.queries[:5]]
    with pytest.raises(ValueError, match="round_share"):
        search.run(conv_count, "predictor", space="nb201", round_share=1.5)


PLATEAU_TARGET = (3, 3, 2, 3, 1, 3)
PLATEAU_PREDICTOR = {"epochs": 30, "width": 32, "layers": 2}


def plateau(arch):
    """Every NB201 cell within Hamming distance 3 of PLATEAU_TARGET scores the same: a search's
    best soon stops improving there."""
    return -float(max(sum(x != y for x, y in zip(arch, PLATEAU_TARGET)), 3))


def test_widen_moves_the_picks_away_from_a_best_that_stopped_improving():
    """A plateau: every cell within Hamming distance 3 of a target scores the same, so the best
    soon stops improving while the predictor goes on picking around it. With widen=1 a round
    after a fit that found no better best leaves out the best results' neighbours; without it,
    such rounds pick them."""
    space = NASBench201()
    options = dict(fast_options("predictor"), predictor=PLATEAU_PREDICTOR)

    def rounds(widen):
        run, out = Search(plateau, "predictor", budget=40, seed=1, space=space, widen=widen, **options), []
        while not run.done:
            best = {space.identity(a) for a in run.history.best(3)}
            picks = run.ask(5)  # every result is back: one fit, one round
            near = sum(any(space.identity(n) in best for n in space.neighbours(a)) for a in picks)
            out.append((run.strategy.stale_rounds, near))
            for arch in picks:
                run.tell(arch, plateau(arch))
        return out

    widened, plain = rounds(1), rounds(0)
    assert sum(stale >= 1 for stale, _ in widened) >= 3
    assert all(near == 0 for stale, near in widened if stale >= 1)
    assert sum(near for stale, near in plain if stale >= 1) > 0
    assert rounds(1) == widened
    with pytest.raises(ValueError, match="widen"):
        search.run(conv_count, "predictor", space="nb201", widen=-1)


def test_sweep_gives_a_stale_round_to_the_best_results_neighbours():
    """sweep=1 on the plateau: every round after a fit that found no better best picks only
    unqueried neighbours of the single best result (while it has enough of them), the first at
    an edge where the fewest of the best's neighbours have been queried; without it, such rounds
    also pick elsewhere. With sweep_share=0.4 the sweep leads such rounds with 2 of their 5."""
    from collections import Counter

    from fastrank.search.guided import changed_place

    space = NASBench201()
    options = dict(fast_options("predictor"), predictor=PLATEAU_PREDICTOR)

    def rounds(sweep, **more):
        run, out = Search(plateau, "predictor", budget=40, seed=1, space=space, sweep=sweep, **options, **more), []
        while not run.done:
            best = run.history.best(1)[0] if run.history.queries else None
            free = [] if best is None else [n for n in space.neighbours(best) if not run.history.seen(n)]
            tried = Counter(changed_place(best, n) for n in space.neighbours(best) if run.history.seen(n)) \
                if best else Counter()
            picks = run.ask(5)  # every result is back: one fit, one round
            stale = run.strategy.stale_rounds
            least = min((tried[changed_place(best, n)] for n in free), default=None)
            first_at_least = bool(picks) and picks[0] in free and tried[changed_place(best, picks[0])] == least
            lead = next((j for j, a in enumerate(picks) if a not in free), len(picks))
            out.append((stale, len(free), sum(a in free for a in picks), len(picks), first_at_least, lead))
            for arch in picks:
                run.tell(arch, plateau(arch))
        return out

    swept, plain = rounds(1), rounds(0)
    stale_rounds = [r for r in swept if r[0] >= 1 and r[1] >= r[3]]
    assert len(stale_rounds) >= 2
    assert all(near == n and first for _, _, near, n, first, _ in stale_rounds)  # the first at a least-tried place
    assert any(near < n for stale, free, near, n, *_ in plain if stale >= 1 and free >= n)
    assert rounds(1) == swept
    shared = [r for r in rounds(1, sweep_share=0.4) if r[0] >= 1 and r[1] >= r[3]]
    assert shared and all(first and lead >= 2 for *_, first, lead in shared)  # 2 of 5 picks lead the round
    with pytest.raises(ValueError, match="sweep"):
        search.run(conv_count, "predictor", space="nb201", sweep=-1)
    with pytest.raises(ValueError, match="sweep_share .* needs sweep > 0"):
        search.run(conv_count, "predictor", space="nb201", sweep_share=0.5)


def test_sweep_reads_a_neighbours_place_as_the_space_writes_it():
    """A table can hold a neighbour of the best in another, equivalent form: here an NB101 cell
    whose pruned node carries another op. Read from that form, a change of one node's op looks
    like changes at two nodes, a place of its own; neighbour_places reads the place from the
    neighbour as the space writes it."""
    import numpy as np

    from fastrank.search.guided import changed_place, neighbour_places
    from fastrank.spaces import NASBench101

    space = NASBench101()
    m = np.zeros((7, 7), dtype=int)
    m[0, 1] = m[1, 2] = m[2, 6] = m[0, 5] = 1  # node 5 reaches no output: pruned, its op is not the cell's
    conv, other, pool = space.ops
    parent = space.make(m, ("input", conv, conv, conv, conv, conv, "output"))
    neighbour = space.make(m, ("input", other, conv, conv, conv, conv, "output"))
    as_held = space.make(m, ("input", other, conv, conv, conv, pool, "output"))
    assert space.identity(as_held) == space.identity(neighbour) and neighbour in space.neighbours(parent)
    assert changed_place(parent, as_held) != changed_place(parent, neighbour)
    assert (neighbour_places(space, parent, space.neighbours(parent), [as_held, neighbour])
            == [changed_place(parent, neighbour)] * 2)


def test_changed_place_counts_a_chain_change_of_length_as_one_place():
    """The sweep's places: the position of a one-change neighbour of a cell; every insertion into
    a TransNAS macro chain one place, every removal another (else each would be a fresh place,
    tried before any change of a block); inside a DARTS architecture's cells, the (op, input)
    pair and which of the two changed."""
    import numpy as np

    from fastrank.search.guided import changed_place
    from fastrank.spaces import DARTS, TransNASMacro

    darts = DARTS()
    arch = darts.sample(np.random.default_rng(0))
    for n in darts.neighbours(arch):
        cell, pair, field = changed_place(arch, n)
        assert arch[cell][pair][field] != n[cell][pair][field]
        assert arch[1 - cell] == n[1 - cell] and arch[cell][pair][1 - field] == n[cell][pair][1 - field]

    space = NASBench201()
    cell = (3, 3, 3, 3, 3, 3)
    assert sorted({changed_place(cell, n) for n in space.neighbours(cell)}) == [(e,) for e in range(6)]
    chain = (1, 2, 3, 4, 1)
    places = {changed_place(chain, n) for n in TransNASMacro().neighbours(chain)}
    assert places == {(0,), (1,), (2,), (3,), (4,), ("length", 1), ("length", -1)}


def test_stale_rounds_count_fits_without_a_better_result():
    from fastrank.search.guided import GuidedStrategy

    class Stub:
        def __init__(self):
            self.values = []

        def labelled(self):
            return [], np.array(self.values, dtype=np.float64)

    strategy = GuidedStrategy.__new__(GuidedStrategy)
    strategy.history, strategy.best_value, strategy.stale_rounds = Stub(), -np.inf, 0
    counts = []
    for values in ([1.0, 2.0], [1.0, 2.0, 2.0], [1.0, 2.0, 2.0, 1.5], [1.0, 2.0, 2.0, 1.5, 3.0], [3.0] * 6):
        strategy.history.values = values
        strategy.note_progress()
        counts.append(strategy.stale_rounds)
    assert counts == [0, 1, 2, 0, 1]


def test_pw_switches_at_a_share_of_the_budget():
    """loss="pw:HR,MAPE@60%" at budget 25 switches at 15 labelled: the fits on 5 and 10 results
    train HR, those on 15 and 20 MAPE; a bad share is refused before the run."""
    from fastrank import Predictor

    trained = []

    class Recording(Predictor):
        def fit(self, archs, values, loss=None, **kw):
            trained.append((len(archs), loss.name))
            return super().fit(archs, values, loss=loss, **kw)

    options = dict(fast_options("predictor"), predictor_class=Recording, loss="pw:HR,MAPE@60%")
    search.run(conv_count, "predictor", budget=25, seed=0, space=NASBench201(), **options)
    assert trained == [(5, "HR"), (10, "HR"), (15, "MAPE"), (20, "MAPE")]
    with pytest.raises(ValueError, match="at most 100%"):
        search.run(conv_count, "predictor", budget=25, space=NASBench201(), loss="pw@120%")


@pytest.mark.parametrize("strategy", ["predictor", "acenas"])
def test_refit_epochs_warm_starts_every_fit_after_the_first(strategy):
    """refit_epochs=N: the first fit trains fresh models, each later one goes on from the fit
    before it for N epochs; without it every fit is fresh."""
    from fastrank import Predictor

    fits = []

    class Recording(Predictor):
        def fit(self, archs, values, loss=None, warm_start=None, epochs=None, **kw):
            fits.append((warm_start, epochs))
            return super().fit(archs, values, loss=loss, warm_start=warm_start, epochs=epochs, **kw)

    options = dict(fast_options(strategy), predictor_class=Recording, refit_epochs=2)
    search.run(conv_count, strategy, budget=25, seed=0, space=NASBench201(), **options)
    assert len(fits) >= 3 and fits[0] == (None, None)
    assert all(isinstance(w, Recording) and e == 2 for w, e in fits[1:])
    fits.clear()
    search.run(conv_count, strategy, budget=25, seed=0, space=NASBench201(), **dict(options, refit_epochs=None))
    assert all(f == (None, None) for f in fits)
    with pytest.raises(ValueError, match="refit_epochs"):
        search.run(conv_count, strategy, space="nb201", refit_epochs=0)


def test_bootstrap_fits_each_round_on_a_fresh_resample_of_the_results():
    """bootstrap=True: each fit gets as many results as are back, drawn with replacement from
    them (so some twice, some left out), a new draw each round, the same on a rerun; the pw loss
    still switches by the number of results back."""
    from fastrank import Predictor

    trained = []

    class Recording(Predictor):
        def fit(self, archs, values, loss=None, **kw):
            trained.append((list(archs), np.asarray(values).copy(), loss.name))
            return super().fit(archs, values, loss=loss, **kw)

    options = dict(fast_options("predictor"), predictor_class=Recording, loss="pw:HR,MAPE@60%", bootstrap=True)
    result = search.run(conv_count, "predictor", budget=25, seed=0, space=NASBench201(), **options)
    first = list(trained)
    assert [(len(a), name) for a, _, name in first] == [(5, "HR"), (10, "HR"), (15, "MAPE"), (20, "MAPE")]
    for archs, values, _ in first:
        back = {q.arch: q.value for q in result.queries[:len(archs)]}
        assert all(a in back and v == back[a] for a, v in zip(archs, values))  # drawn from the results back
    assert any(len(set(a)) < len(a) for a, _, _ in first)  # with replacement
    trained.clear()
    search.run(conv_count, "predictor", budget=25, seed=0, space=NASBench201(), **options)
    assert [a for a, _, _ in trained] == [a for a, _, _ in first]
    trained.clear()
    search.run(conv_count, "predictor", budget=25, seed=0, space=NASBench201(), **dict(options, bootstrap=False))
    assert all(len(set(a)) == len(a) for a, _, _ in trained)


def test_bad_arguments():
    with pytest.raises(ValueError, match="strategy"):
        search.run(conv_count, "annealing", space="nb201")
    with pytest.raises(ValueError, match="space="):
        search.run(conv_count, "random")
    with pytest.raises(ValueError, match="budget"):
        search.run(conv_count, "random", budget=0, space="nb201")
    with pytest.raises(ValueError, match="protocol"):
        search.run("nb201/cifar10", "random", protocol="train")
    with pytest.raises(ValueError, match="unknown benchmark"):
        search.run("nb999", "random")
    with pytest.raises(ValueError, match="exploration"):
        search.run(conv_count, "predictor", space="nb201", exploration=2.0)
    with pytest.raises(search.TooManyFailures, match="returned nan"):  # NaN is a failed evaluation
        search.run(lambda a: float("nan"), "random", budget=3, space="nb201")


def test_isomorphic_rows_of_a_table_are_labelled_together():
    """The NB101 table lists 500 rows of 292 distinct cells: a queried cell's twin rows must
    leave the pool with it, or the predictor keeps picking a twin the cache answers for free
    and the run never ends (it hung with HR on NB101)."""
    bench = benchmarks.load("nb101")
    result = search.run("nb101", "predictor", budget=30, seed=0, loss="HR", **{k: v for k, v in FAST.items()})
    identities = [bench.space.identity(q.arch) for q in result.queries]
    assert len(result.queries) == 30 == len(set(identities))
