"""The Gaussian process over the flat encoding (``gp_until``): its posterior, its expected
improvement against a plain float64 formula, its input checks, and the search's first fits."""
from __future__ import annotations


import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import FAST_SEARCH

from fastrank import search
from fastrank.graph.encoding import encode_architectures
from fastrank.predictor.gaussian_process import FlatGP, expected_improvement
from fastrank.search import Search
from fastrank.spaces import DARTS, NASBench201

SPACE = NASBench201()


def graphs(archs):
    return encode_architectures(SPACE, archs, torch.float64)


def additive(arch) -> float:
    """Each edge's operation adds its own amount: what a kernel over positions learns fast."""
    return float(sum((op - 2) ** 2 * (-1) ** edge for edge, op in enumerate(arch)))


def fitted(n=40, seed=0):
    rng = np.random.default_rng(seed)
    archs = [SPACE.decode(int(c)) for c in rng.choice(SPACE.size, n, replace=False)]
    gp = FlatGP(len(SPACE.node_ops), SPACE.max_nodes).fit(graphs(archs), [additive(a) for a in archs])
    return gp, archs


def test_the_posterior_follows_the_results_and_is_sure_only_near_them():
    gp, archs = fitted()
    mean, std = gp.posterior(graphs(archs))
    values = np.array([additive(a) for a in archs])
    assert np.corrcoef(mean, values)[0, 1] > 0.95
    far = [SPACE.decode(c) for c in range(0, SPACE.size, 97) if SPACE.decode(c) not in archs]
    _, far_std = gp.posterior(graphs(far))
    assert np.median(std) < np.median(far_std)
    assert gp.length_scale > 0 and gp.noise > 0 and gp.variance > 0


def test_it_ranks_unseen_cells_of_an_additive_objective():
    gp, archs = fitted(60)
    rest = [SPACE.decode(c) for c in range(0, SPACE.size, 7)]
    mean, _ = gp.posterior(graphs(rest))
    truth = np.array([additive(a) for a in rest])
    assert np.corrcoef(mean, truth)[0, 1] > 0.6


def test_the_posterior_in_chunks_is_the_posterior_whole(monkeypatch):
    from fastrank.predictor import gaussian_process

    gp, _ = fitted()
    batch = graphs([SPACE.decode(c) for c in range(0, SPACE.size, 311)])
    whole = gp.posterior(batch)
    monkeypatch.setattr(gaussian_process, "_CHUNK", 7)
    chunked = gp.posterior(batch)
    np.testing.assert_allclose(chunked[0], whole[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chunked[1], whole[1], rtol=1e-12, atol=1e-12)


def log_ei_exact(mean, std, best):
    mpmath = pytest.importorskip("mpmath")  # comes with torch (through sympy)
    mpmath.mp.dps = 60
    z = (mpmath.mpf(mean) - best) / std
    return float(mpmath.log(std * (z * mpmath.ncdf(z) + mpmath.npdf(z))))


@settings(max_examples=80, deadline=None)
@given(st.floats(-30, 30), st.floats(0.01, 10), st.floats(-5, 5))
def test_expected_improvement_is_the_closed_form(mean, std, best):
    got = float(expected_improvement(np.array([mean]), np.array([std]), best)[0])
    assert got == pytest.approx(log_ei_exact(mean, std, best), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("z", [2.0, 0.0, -0.999, -1.0, -5.5, -38.0, -1e3, -9.9e5, -1e6, -1.01e6, -1e9])
def test_expected_improvement_in_each_branch(z):
    got = float(expected_improvement(np.array([z]), np.array([1.0]), 0.0)[0])
    assert got == pytest.approx(log_ei_exact(z, 1.0, 0.0), rel=1e-12)


def test_expected_improvement_grows_with_the_mean_and_below_the_best_with_the_spread():
    means = np.linspace(-40, 3, 500)
    ei = expected_improvement(means, np.ones_like(means), 0.0)
    assert np.all(np.diff(ei) > 0)  # no ties where the direct formula underflows
    spreads = np.linspace(0.1, 5, 50)
    assert np.all(np.diff(expected_improvement(np.full(50, -2.0), spreads, 0.0)) > 0)


def test_bad_input_is_refused():
    gp = FlatGP(len(SPACE.node_ops), SPACE.max_nodes)
    archs = [SPACE.decode(c) for c in range(3)]
    with pytest.raises(RuntimeError, match="not fitted"):
        gp.posterior(graphs(archs))
    with pytest.raises(ValueError, match="finite"):
        gp.fit(graphs(archs), [1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="against"):
        gp.fit(graphs(archs), [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        gp.fit(graphs(archs[:1]), [1.0])
    with pytest.raises(ValueError, match="padded to 8 nodes"):
        gp.fit(encode_architectures(DARTS(), [DARTS().sample(np.random.default_rng(0))] * 3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="positive"):
        expected_improvement(np.zeros(2), np.array([1.0, 0.0]), 0.0)
    with pytest.raises(ValueError, match="finite"):
        expected_improvement(np.array([np.nan]), np.ones(1), 0.0)
    with pytest.raises(ValueError, match="finite"):
        expected_improvement(np.zeros(1), np.ones(1), float("inf"))
    with pytest.raises(ValueError, match="one shape"):
        expected_improvement(np.zeros(2), np.ones(3), 0.0)
    with pytest.raises(ValueError, match="gp_until"):
        search.run(additive, "predictor", budget=12, space="nb201", gp_until=-1)


FAST = dict(FAST_SEARCH, loss="HR")


def fits(monkeypatch, gp_until, budget=25, gp_member=False):
    """(predictor fits, Gaussian process fits) of one run."""
    from fastrank.search.guided import GuidedStrategy

    counts = {"predictor": 0, "gp": 0}
    fit, gp_fit = GuidedStrategy.fit, FlatGP.fit

    def counted_fit(self):
        counts["predictor"] += 1
        return fit(self)

    def counted_gp_fit(self, *args):
        counts["gp"] += 1
        return gp_fit(self, *args)

    monkeypatch.setattr(GuidedStrategy, "fit", counted_fit)
    monkeypatch.setattr(FlatGP, "fit", counted_gp_fit)
    result = search.run(additive, "predictor", budget=budget, seed=3, space="nb201", gp_until=gp_until,
                        gp_member=gp_member, **FAST)
    assert len(result.queries) == budget
    return counts, result


def test_values_near_the_float_range_rank_as_their_scaled_copies():
    """1e308 is a finite result: the process rescales it (the mean and spread of such values
    overflow) and ranks the candidates as it ranks the same values divided by 1e300."""
    rng = np.random.default_rng(2)
    archs = [SPACE.decode(int(c)) for c in rng.choice(SPACE.size, 30, replace=False)]
    values = np.array([additive(a) for a in archs])
    values = (values - values.min() + 1.0) / (values.max() - values.min() + 1.0)  # in (0, 1]
    others = [SPACE.decode(int(c)) for c in rng.choice(SPACE.size, 200, replace=False)]
    big, small = (FlatGP(len(SPACE.node_ops), SPACE.max_nodes).fit(graphs(archs), values * scale)
                  for scale in (1.7e308, 1.7e8))
    ei_big = big.expected_improvement(graphs(others), float(values.max()) * 1.7e308)
    ei_small = small.expected_improvement(graphs(others), float(values.max()) * 1.7e8)
    assert np.isfinite(ei_big).all()
    np.testing.assert_allclose(ei_big - np.log(1e300), ei_small, rtol=0, atol=1e-6)


def test_the_first_fits_are_the_gaussian_process(monkeypatch):
    # a fit with 5, 10, 15 and 20 results back: gp_until=12 hands the first two to the process
    assert fits(monkeypatch, 12)[0] == {"predictor": 2, "gp": 2}
    assert fits(monkeypatch, 0)[0] == {"predictor": 4, "gp": 0}
    # the predictor strategy's default: the process beside the predictor at every fit, alone before gp_until
    assert fits(monkeypatch, 0, gp_member=True)[0] == {"predictor": 4, "gp": 4}
    assert fits(monkeypatch, 12, gp_member=True)[0] == {"predictor": 2, "gp": 4}
    counts, result = fits(monkeypatch, 100)
    assert counts == {"predictor": 0, "gp": 4}
    again = search.run(additive, "predictor", budget=25, seed=3, space="nb201", gp_until=100, gp_member=False, **FAST)
    assert [q.arch for q in again.queries] == [q.arch for q in result.queries]
    curve = result.best_so_far()
    assert curve[-1] > curve[FAST["n_init"] - 1]


def test_the_process_joins_the_ensemble_as_one_more_member(monkeypatch):
    """gp_member: every fit also fits the process, and thompson's picks alternate between the
    predictor's ranking and the process's."""
    from fastrank.search.guided import GuidedStrategy

    seen = []
    score = GuidedStrategy.score

    def recorded(self, *args):
        seen.append(score(self, *args))
        return seen[-1]

    monkeypatch.setattr(GuidedStrategy, "score", recorded)
    run = Search(additive, "predictor", budget=20, seed=1, space="nb201", gp_member=True, acquisition="thompson",
                 **FAST)
    first = run.ask(5)
    for arch in first:
        run.tell(arch, additive(arch))
    picks = run.ask(4)
    members = seen[-1]
    assert members.shape[0] == 2  # the predictor's one model and the process
    free = [a for a in run.strategy.pool.archs if a not in first]
    assert members.shape[1] == len(free)

    def alternating(start):
        orders, taken, out = [list(np.argsort(-m, kind="stable")) for m in members], set(), []
        for j in range(4):
            best = next(i for i in orders[(start + j) % 2] if i not in taken)
            taken.add(best)
            out.append(free[best])
        return out

    assert picks in (alternating(0), alternating(1))
    assert alternating(0) != alternating(1)  # the two rankings differ: the test tells them apart


@pytest.mark.parametrize("strategy", ["predictor", "evolution"])
def test_gp_until_in_each_guided_strategy(monkeypatch, strategy):
    from fastrank.search.guided import GuidedStrategy

    calls = []
    monkeypatch.setattr(GuidedStrategy, "fit", lambda self: calls.append(1) or pytest.fail("the predictor was fitted"))
    result = search.run(additive, strategy, budget=20, seed=0, space="nb201", gp_until=100, **FAST)
    assert len({q.arch for q in result.queries}) == 20 and not calls


def test_a_run_that_never_fits_the_predictor_does_not_pretrain_it(monkeypatch):
    from fastrank.search import pretraining

    calls = []
    real = pretraining.pretrained_for_run
    monkeypatch.setattr(pretraining, "pretrained_for_run", lambda *a: calls.append(1) or real(*a))
    options = dict(FAST, predictor={"epochs": 1, "width": 8, "layers": 1}, pretrain_epochs=1)
    search.run("nb201/cifar10", "predictor", budget=12, seed=0, gp_until=12, **options)
    assert calls == []
    search.run("nb201/cifar10", "predictor", budget=12, seed=0, gp_until=11, **options)
    assert calls == [1]


def test_the_gaussian_process_on_an_open_space():
    space = DARTS()

    def evaluate(arch):
        return float(sum(op in (3, 4) for op, _ in arch[0]))

    result = search.run(evaluate, "predictor", budget=15, seed=0, space=space, gp_until=100, **FAST)
    assert len(result.queries) == 15 and len({space.identity(q.arch) for q in result.queries}) == 15


def test_failures_are_learned_as_the_worst_value():
    run = Search(additive, "predictor", budget=15, seed=0, space="nb201", gp_until=100, **FAST)
    first = run.ask(5)
    for i, arch in enumerate(first):
        if i == 0:
            run.tell_failure(arch, "diverged")
        else:
            run.tell(arch, additive(arch))
    assert len(run.ask(5)) == 5


def believed_reference(gp, train_archs, pending_archs, at_archs):
    """The posterior at ``at_archs`` of a process with ``gp``'s settings fitted in float64 on the
    training values plus the pending graphs at ``gp``'s own mean there, from the formulas."""
    x = np.vstack([gp.flat(*[t for t in graphs(a)]).numpy() for a in (train_archs, pending_archs)])
    y = np.concatenate([gp._y.numpy(), (gp.posterior(graphs(pending_archs))[0] - gp.mean) / gp.scale])
    c = gp.flat(*graphs(at_archs)).numpy()

    def kernel(a, b):
        return np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / (gp.length_scale * gp.median))

    k = kernel(x, x) + gp.noise * np.eye(len(x))
    kc = kernel(c, x)
    mean = kc @ np.linalg.solve(k, y) * gp.scale + gp.mean
    var = gp.variance * (1.0 - np.einsum("ij,ji->i", kc, np.linalg.solve(k, kc.T)))
    return mean, np.sqrt(var) * gp.scale


def test_believing_pending_results_keeps_the_mean_and_shrinks_the_spread_near_them():
    gp, archs = fitted(30)
    rest = [SPACE.decode(c) for c in range(0, SPACE.size, 53) if SPACE.decode(c) not in archs]
    pending = rest[:3]
    believed = gp.believe(graphs(pending))
    mean, std = gp.posterior(graphs(rest))
    b_mean, b_std = believed.posterior(graphs(rest))
    ref_mean, ref_std = believed_reference(gp, archs, pending, rest)
    np.testing.assert_allclose(b_mean, ref_mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b_std, ref_std, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b_mean, mean, rtol=1e-7, atol=1e-7)
    assert (b_std <= std + 1e-12).all()
    assert (b_std[:3] < 0.5 * std[:3]).all()  # a pending graph's own spread falls to about the noise
    assert gp.believe(graphs([])) is gp
    with pytest.raises(RuntimeError, match="not fitted"):
        FlatGP(len(SPACE.node_ops), SPACE.max_nodes).believe(graphs(pending))


def test_a_batch_scorer_counts_a_taken_pick_as_pending():
    gp, archs = fitted(30)
    rest = [SPACE.decode(c) for c in range(0, SPACE.size, 53) if SPACE.decode(c) not in archs]
    best = max(additive(a) for a in archs)
    rescore = gp.batch_scorer(graphs(rest), best)
    np.testing.assert_allclose(rescore([]), gp.expected_improvement(graphs(rest), best), rtol=1e-12)
    first = int(np.argmax(rescore([])))
    after = rescore([first])
    np.testing.assert_allclose(after, gp.believe(graphs([rest[first]])).expected_improvement(graphs(rest), best),
                               rtol=1e-12)
    assert after[first] < rescore([])[first] - 1.0  # its own improvement is counted once
    # results still out count from the first pick
    out = gp.batch_scorer(graphs(rest), best, pending=graphs([rest[first]]))
    np.testing.assert_allclose(out([]), after, rtol=1e-12)


def test_believer_rounds_spread_their_picks(monkeypatch):
    """gp_batch='believer' with the process alone: each pick of a round is the best under the
    process conditioned on the round's earlier picks, and the picks differ from the top ones."""
    runs = {}
    for batch in ("top", "believer"):
        run = Search(additive, "predictor", budget=20, seed=4, space="nb201", gp_until=100, gp_batch=batch, **FAST)
        first = run.ask(5)
        for arch in first:
            run.tell(arch, additive(arch))
        runs[batch] = (run, first, run.ask(5))
    run, first, picks = runs["believer"]
    values = np.array([additive(a) for a in first])
    gp = FlatGP(len(SPACE.node_ops), SPACE.max_nodes).fit(graphs(first), values)
    free = [a for a in run.strategy.pool.archs if a not in first]
    rescore = gp.batch_scorer(graphs(free), float(values.max()))
    expected, taken = [], []
    for _ in range(5):
        scores = rescore(taken)
        scores[taken] = -np.inf
        taken.append(int(np.argmax(scores)))
        expected.append(free[taken[-1]])
    assert picks == expected
    assert picks != runs["top"][2]
    assert picks[0] == runs["top"][2][0]  # nothing is out yet at the first pick


def test_believer_with_the_process_as_a_member():
    result = search.run(additive, "predictor", budget=20, seed=2, space="nb201", gp_member=True,
                        acquisition="bandit", gp_batch="believer", **FAST)
    assert len({q.arch for q in result.queries}) == 20
    with pytest.raises(ValueError, match="believer"):
        search.run(additive, "predictor", budget=12, space="nb201", gp_member=True, acquisition="mean",
                   gp_batch="believer")
    with pytest.raises(ValueError, match="gp_batch"):
        search.run(additive, "predictor", budget=12, space="nb201", gp_batch="sideways")
    with pytest.raises(ValueError, match="needs the process"):
        search.run(additive, "predictor", budget=12, space="nb201", gp_member=False, gp_batch="sequential")


def process_choice(run, pending=()):
    """What a process refitted on every result back now picks among the free pool, believing
    ``pending``."""
    archs, values = run.strategy.history.labelled()
    gp = FlatGP(len(SPACE.node_ops), SPACE.max_nodes).fit(graphs(archs), values)
    free = [a for a in run.strategy.pool.archs if a not in archs and a not in pending]
    scores = gp.batch_scorer(graphs(free), float(values.max()), graphs(list(pending)) if pending else None)([])
    return free[int(np.argmax(scores))]


def test_sequential_picks_refit_the_process_at_each_turn():
    """gp_batch='sequential' with the process alone: one result back at a time, each pick is the
    choice of a process fitted on every result back by then, not only those at the round's fit;
    several asked at once believe the earlier ones."""
    run = Search(additive, "predictor", budget=30, seed=5, space="nb201", gp_until=100, gp_batch="sequential", **FAST)
    for arch in run.ask(FAST["n_init"]):
        run.tell(arch, additive(arch))
    for _ in range(7):
        expected = process_choice(run)
        (arch,) = run.ask(1)
        assert arch == expected
        run.tell(arch, additive(arch))
    picks = run.ask(3)
    assert picks[0] == process_choice(run)
    assert picks[1] == process_choice(run, picks[:1])
    assert picks[2] == process_choice(run, picks[:2])


def test_sequential_picks_beside_the_predictor_are_charged_to_the_process():
    run = Search(additive, "predictor", budget=40, seed=6, space="nb201", gp_member=True, acquisition="bandit",
                 gp_batch="sequential", **FAST)
    asked = []
    while len(asked) < 40:
        picks = run.ask(1 if len(asked) < 25 else 3)  # one at a time, then several at once
        for arch in picks:
            run.tell(arch, additive(arch))
        asked += picks
    assert len(set(asked)) == 40
    made = [member for member, _ in run.strategy.chosen_by.values()]
    assert len(made) == 40 - FAST["n_init"]  # every pick after the random start is charged
    assert set(made) == {0, 1}


@pytest.mark.parametrize("gp_batch", ["believer", "sequential"])
def test_a_run_with_batched_process_picks_resumes_to_the_uninterrupted_one(tmp_path, gp_batch):
    options = dict(FAST, gp_member=True, acquisition="bandit", gp_batch=gp_batch)
    whole = search.run(additive, "predictor", budget=24, seed=8, space="nb201", **options)
    calls, stop = [], [17]

    def evaluate(arch):
        calls.append(arch)
        if len(calls) == stop[0]:
            raise KeyboardInterrupt
        return additive(arch)

    path = tmp_path / "run.jsonl"
    first = search.run(evaluate, "predictor", budget=24, seed=8, space="nb201", journal=path, **options)
    assert first.interrupted
    stop[0] = None
    resumed = search.run(evaluate, "predictor", budget=24, seed=8, space="nb201", resume=path, **options)
    assert [q.arch for q in resumed.queries] == [q.arch for q in whole.queries]


def test_auto_is_top_with_one_worker_and_believer_while_evaluations_are_out():
    options = dict(FAST, gp_until=100)
    one = {b: search.run(additive, "predictor", budget=22, seed=9, space="nb201", gp_batch=b, **options)
           for b in ("auto", "top")}
    assert [q.arch for q in one["auto"].queries] == [q.arch for q in one["top"].queries]

    # several out: each refit believes the evaluations still out, as "believer" does
    run = Search(additive, "predictor", budget=30, seed=9, space="nb201", gp_batch="auto", **dict(options, per_round=1))
    for arch in run.ask(FAST["n_init"]):
        run.tell(arch, additive(arch))
    out = list(run.ask(3))
    assert out[0] == process_choice(run)  # nothing was out at its fit
    for _ in range(4):
        done = out.pop(0)
        run.tell(done, additive(done))
        expected = process_choice(run, out)
        out += run.ask(1)
        assert out[-1] == expected
