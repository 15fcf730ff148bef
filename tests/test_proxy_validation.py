"""Proxy-validation search: the GAE, the relaxation, α's gradients, OIW, the two strategies."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fastrank import search
from fastrank.graph.encoding import encode_architectures
from fastrank.graph.gae import GAE
from fastrank.search.candidates import CandidatePool
from fastrank.search.proxy_validation import ArchitectureParameters, Landscape, ProxyValidationOptions, draw_near
from fastrank.search.history import History, Query
from fastrank.search.relaxation import Relaxation
from fastrank.spaces import NASBenchGraph, TransNASMicro, get_space

SMALL = {"gae_samples": 300, "gae_epochs": 5, "predictor_epochs": 20}


@pytest.mark.slow
@pytest.mark.parametrize("space", [get_space("nb201"), NASBenchGraph()], ids=lambda s: s.name)
def test_gae_learns_to_reconstruct_ops_and_edges(space):
    rng = np.random.default_rng(0)
    train = encode_architectures(space, space.sample_many(2000, rng), torch.float32)
    held_out = encode_architectures(space, space.sample_many(200, np.random.default_rng(1)), torch.float32)
    torch.manual_seed(0)
    gae = GAE(len(space.node_ops), max_nodes=space.max_nodes)
    before = gae.reconstruction_accuracy(*held_out)
    history = gae.fit(*train, epochs=25, seed=0)
    after = gae.reconstruction_accuracy(*held_out)
    assert history[-1] < 0.2 * history[0]
    assert after[0] == 1.0 and after[1] > 0.99 and before[0] < 0.6, (before, after)
    ops, adj = gae.reconstruct(*held_out)  # round trip: decoded cells are the cells
    assert torch.equal(ops, held_out[1]) or (ops == held_out[1]).double().mean() > 0.99
    embedding = gae.embed(held_out[0], GAE.features(held_out[1], gae.n_ops), held_out[2])
    assert embedding.shape == (200, 16) and torch.isfinite(embedding).all()


@pytest.mark.parametrize("space", [get_space("nb201"), TransNASMicro(), NASBenchGraph()], ids=lambda s: s.name)
def test_relaxation_rebuilds_the_spaces_graphs(space):
    relaxation = Relaxation(space)
    for arch in space.sample_many(50, np.random.default_rng(2)):
        adj, x = relaxation.graph(arch)
        graph = space.graph(arch)
        np.testing.assert_array_equal(adj.numpy(), graph.adjacency)
        np.testing.assert_array_equal(x.argmax(-1).numpy(), graph.ops)
    generator = torch.Generator().manual_seed(4)  # its own draws: the global stream depends on the tests before
    for _ in range(20):
        probs = [torch.softmax(torch.randn(d, generator=generator), 0) for d in relaxation.dims]
        adj, x = relaxation.soft_graph(probs)
        torch.testing.assert_close(x.sum(-1), torch.ones(x.shape[0]))
        # an edge's weight is a sum of float32 probabilities: within one rounding of [0, 1]
        assert ((adj >= 0) & (adj <= 1 + 1e-6)).all()
    with pytest.raises(ValueError, match="relaxes"):
        Relaxation(get_space("nb101"))


def test_alpha_gradients_match_finite_differences():
    space = get_space("nb201")
    options = ProxyValidationOptions(**SMALL, temperature=0.7)
    landscape = Landscape(Relaxation(space), options, seed=0)
    landscape.model.double()
    landscape.gae.double()
    landscape.relaxation.adjacency = landscape.relaxation.adjacency.double()
    alpha = [torch.randn(d, dtype=torch.float64, requires_grad=True) for d in landscape.relaxation.dims]

    def predicted(logits):
        return landscape.predict([torch.softmax(a / options.temperature, 0) for a in logits])

    predicted(alpha).backward()
    eps = 1e-6
    for d, a in enumerate(alpha):
        for v in range(a.shape[0]):
            up = [x.detach().clone() for x in alpha]
            down = [x.detach().clone() for x in alpha]
            up[d][v] += eps
            down[d][v] -= eps
            numeric = (predicted(up) - predicted(down)).item() / (2 * eps)
            assert a.grad[v].item() == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_oiw_is_normalised_per_decision():
    space = get_space("nb201")
    options = ProxyValidationOptions(**SMALL)
    landscape = Landscape(Relaxation(space), options, seed=1)
    params = ArchitectureParameters(landscape.relaxation.dims, options)
    assert all(torch.allclose(w, torch.full_like(w, 0.2)) for w in params.oiw())  # uniform before any gradient
    params.descend(landscape, 5)
    for w, scale in zip(params.oiw(), params.noise_scale()):
        assert (w >= 0).all() and float(w.sum()) == pytest.approx(1.0)
        torch.testing.assert_close(scale, 1 - w)
    off = ArchitectureParameters(landscape.relaxation.dims, ProxyValidationOptions(**SMALL, oiw=False))
    assert all((s == 1).all() for s in off.noise_scale())


@pytest.mark.parametrize("space", [get_space("nb201"), NASBenchGraph()], ids=lambda s: s.name)
def test_best_of_a_perturbed_alpha_is_the_samples_argmax_over_the_whole_space(space):
    relaxation, rng = Relaxation(space), np.random.default_rng(5)
    choices = np.asarray([space.decode(c) for c in range(space.size)], dtype=np.int64)
    for _ in range(5):
        logits = [torch.as_tensor(rng.normal(0, 2, d), dtype=torch.float32) for d in relaxation.dims]
        perturbed = relaxation.perturb(logits, [torch.ones(d) for d in relaxation.dims], rng)
        best = tuple(int(v) for v in choices[Relaxation.best_of(perturbed, choices)])
        assert best == tuple(int(np.argmax(p)) for p in perturbed)


def test_draw_falls_back_to_the_unqueried_architecture_next_to_a_settled_alpha():
    """α so sure of one architecture that every sample is it: once it is queried, the draw is the
    unqueried architecture the perturbed α ranks first, one decision away, not a random one."""
    space = get_space("nb201")
    relaxation = Relaxation(space)
    pool = CandidatePool(space)
    choices = np.asarray(pool.archs, dtype=np.int64)
    params = ArchitectureParameters(relaxation.dims, ProxyValidationOptions(**SMALL, oiw=False))
    target = (1, 3, 0, 2, 4, 1)
    for a, v in zip(params.alpha, target):
        a.data[:] = -60.0
        a.data[v] = 60.0
        a.data[(v + 1) % a.shape[0]] = 50.0  # each decision's runner-up, 10 logits behind
    history = History(space)
    history.start(target)
    history.record(Query(1, target, 1.0, 0.0))
    rng = np.random.default_rng(0)
    for _ in range(3):
        arch = draw_near(relaxation, params, history, pool, rng, choices)
        assert not history.seen(arch)
        assert sum(a != b for a, b in zip(arch, target)) == 1
        assert all(a == b or a == (b + 1) % 5 for a, b in zip(arch, target))
    # an open pool (or no choices) still draws something unqueried
    assert not history.seen(draw_near(relaxation, params, history, pool, rng))


@pytest.mark.parametrize("strategy", ["proxy-validation", "proxy-validation-ea"])
@pytest.mark.parametrize("gae", [True, False])
def test_strategies_respect_the_budget_and_reproduce(strategy, gae):
    runs = [search.run("nb201/cifar100", strategy, budget=25, seed=s, gae=gae, population=5, **SMALL)
            for s in (3, 3, 4)]
    assert all(len(r.queries) == 25 for r in runs)
    assert [q.arch for q in runs[0].queries] == [q.arch for q in runs[1].queries]
    assert [q.arch for q in runs[0].queries] != [q.arch for q in runs[2].queries]
    assert len({q.arch for q in runs[0].queries}) == 25 and runs[0].loss == "MSE"


def test_a_users_evaluate_on_nasbench_graph_and_bad_calls():
    space = NASBenchGraph()

    def evaluate(arch):
        return float(sum(o in (0, 1) for o in arch[1:]))  # gat and gcn nodes help

    result = search.run(evaluate, "proxy-validation", budget=15, seed=0, space=space, **SMALL)
    assert len(result.queries) == 15 and all(space.check(q.arch) == q.arch for q in result.queries)
    with pytest.raises(ValueError, match="relaxes"):
        search.run("nb101", "proxy-validation", budget=10)
    with pytest.raises(TypeError, match="no loss"):
        search.run("nb201/cifar10", "proxy-validation", budget=10, loss="HR")
    with pytest.raises(ValueError, match="memory"):
        search.run("nb201/cifar10", "proxy-validation", budget=10, memory=0)


def test_the_gae_encodes_for_the_predictor(tmp_path):
    from fastrank import Predictor, benchmarks

    bench = benchmarks.load("nb201/cifar10")
    predictor = Predictor(bench.space, encoder="gae", seed=0, width=16, epochs=5)
    predictor.fit(bench.archs[:40], bench.values[:40], loss="HR")
    assert np.isfinite(predictor.predict(bench.archs[:10])).all()
    predictor.save(tmp_path / "gae.pt")
    np.testing.assert_array_equal(Predictor.load(tmp_path / "gae.pt").predict(bench.archs[:10]),
                                  predictor.predict(bench.archs[:10]))
    from fastrank.graph import GAEEncoder

    with pytest.raises(ValueError, match="op ids"):
        GAEEncoder(7)(torch.zeros(1, 8, 8), torch.full((1, 8), 9), torch.ones(1, 8, dtype=torch.bool))


def test_gae_refit_trains_a_copy_and_reproduces():
    from fastrank.search.proxy_validation import _gae

    options = ProxyValidationOptions(**SMALL, gae_refit=3)
    relaxation = Relaxation(get_space("nb201"))
    landscape = Landscape(relaxation, options, seed=0)
    shared = _gae(relaxation.space, options.gae_samples, options.gae_epochs, 0)
    assert landscape.gae is not shared
    before = [p.clone() for p in shared.parameters()]
    archs = relaxation.space.sample_many(12, np.random.default_rng(0))
    landscape.fit(archs, np.arange(12.0))
    assert all(torch.equal(a, b) for a, b in zip(before, shared.parameters()))  # the cache is untouched
    assert any(not torch.equal(a, b) for a, b in zip(before, landscape.gae.parameters()))
    assert not any(p.requires_grad for p in landscape.gae.parameters())
    runs = [search.run("nb201/cifar100", "proxy-validation", budget=20, seed=5, gae_refit=2, **SMALL) for _ in "ab"]
    assert [q.arch for q in runs[0].queries] == [q.arch for q in runs[1].queries]
    with pytest.raises(TypeError, match="gae_refit"):
        ProxyValidationOptions(gae_refit=1.5)
    with pytest.raises(ValueError, match="gae_refit"):
        ProxyValidationOptions(gae_refit=-1)
