"""fastrank.Predictor: fit / predict / save / load on real benchmarks, and its errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fastrank import Predictor, benchmarks, metrics
from fastrank.spaces import NASBench201

SMALL = {"width": 16, "layers": 2, "epochs": 20}


@pytest.fixture(scope="module")
def nb201():
    return benchmarks.load("nb201/cifar10")


def sample(bench, n, seed=0):
    idx = np.random.default_rng(seed).choice(len(bench), n, replace=False)
    return [bench.archs[i] for i in idx], bench.values[idx]


def test_learns_the_nb201_order(nb201):
    archs, y = sample(nb201, 200)
    predictor = Predictor(nb201.space, seed=0).fit(archs, y, loss="HR")
    scores = predictor.predict_codes(np.arange(nb201.space.size))
    truth = nb201.values[np.argsort(nb201.codes())]  # by code
    assert metrics.kendall_tau(scores, truth) > 0.45
    assert np.allclose(predictor.predict(nb201.archs[:50]), scores[nb201.codes()[:50]], atol=1e-5)
    strings = [nb201.space.to_string(a) for a in nb201.archs[:50]]  # canonical strings work too
    np.testing.assert_array_equal(predictor.predict(strings), predictor.predict(nb201.archs[:50]))


@pytest.mark.parametrize("encoder", ["gcn", "gin", "mlp", "gcn_flat", "gcn+mlp"])
def test_encoders_fit_and_round_trip(tmp_path, nb201, encoder):
    archs, y = sample(nb201, 40)
    predictor = Predictor("nb201", encoder=encoder, ensemble=2, seed=3, **SMALL).fit(archs, y, loss="MSE")
    before = predictor.predict(nb201.archs[:100])
    assert before.shape == (100,) and np.isfinite(before).all()
    assert abs(before.mean() - y.mean()) < 3 * y.std()  # standardised inside, predicted on the targets' scale
    path = tmp_path / "p.pt"
    predictor.save(path)
    loaded = Predictor.load(path)
    assert loaded.config() == predictor.config()
    np.testing.assert_array_equal(loaded.predict(nb201.archs[:100]), before)


def test_same_seed_same_predictions_and_ensembles_average(nb201):
    archs, y = sample(nb201, 30)
    a = Predictor(nb201.space, seed=1, **SMALL).fit(archs, y, loss="pw:HR,MAPE@10").predict(nb201.archs[:20])
    b = Predictor(nb201.space, seed=1, **SMALL).fit(archs, y, loss="pw:HR,MAPE@10").predict(nb201.archs[:20])
    np.testing.assert_array_equal(a, b)
    ens = Predictor(nb201.space, seed=1, ensemble=2, **SMALL).fit(archs, y, loss="MAPE")
    single = [Predictor(nb201.space, seed=1, **SMALL), Predictor(nb201.space, seed=1, **SMALL)]
    assert ens.models[0].state_dict().keys() == single[0].fit(archs, y, loss="MAPE").models[0].state_dict().keys()


def test_member_predictions_are_each_model_and_average_to_the_mean(nb201):
    archs, y = sample(nb201, 30)
    ens = Predictor(nb201.space, seed=2, ensemble=3, **SMALL).fit(archs, y, loss="MAPE")
    members = ens.predict(nb201.archs[:40], members=True)
    assert members.shape == (3, 40) and members.dtype == np.float64
    assert not np.allclose(members[0], members[1])  # independently initialised members disagree
    np.testing.assert_allclose(members.mean(axis=0), ens.predict(nb201.archs[:40]), rtol=1e-5, atol=1e-6)
    graphs = ens.encode(nb201.archs[:40])
    np.testing.assert_array_equal(ens.predict_graphs(graphs, members=True), members)
    with pytest.raises(TypeError, match="members"):
        ens.predict(nb201.archs[:4], members="yes")


def test_an_ensemble_of_encoders_gives_each_its_members(nb201):
    from fastrank.graph.predictor import GCNPredictor

    archs, y = sample(nb201, 30)
    mixed = Predictor(nb201.space, encoder="gcn+mlp", ensemble=2, seed=1, **SMALL).fit(archs, y, loss="HR")
    assert mixed.members == 4 and mixed.predict(nb201.archs[:10], members=True).shape == (4, 10)
    kinds = [isinstance(m, GCNPredictor) for m in mixed.models]
    assert kinds == [True, False, True, False]  # the members take the encoders in turn
    # a member is the single-encoder predictor's member of the same index: same seed, same model
    gcn = Predictor(nb201.space, encoder="gcn", ensemble=1, seed=1, **SMALL).fit(archs, y, loss="HR")
    np.testing.assert_array_equal(mixed.predict(nb201.archs[:10], members=True)[0], gcn.predict(nb201.archs[:10]))
    for bad in ("gcn+gcn", "gcn+transformer", "gcn+", ""):
        with pytest.raises(ValueError, match="joined by '\\+'"):
            Predictor(nb201.space, encoder=bad)
    with pytest.raises(TypeError, match="encoder must be a str"):
        Predictor(nb201.space, encoder=("gcn", "mlp"))


def test_gcn_flat_reads_positions_the_gcn_cannot(nb201):
    """Relabelling a graph's nodes leaves the GCN's mean-pooled embedding as it was; the flat
    branch sees each position's operation, so gcn_flat tells the relabelled graph apart."""
    from fastrank.graph.predictor import GCNPredictor
    from fastrank.predictor.network import GCNWithFlat

    adj, ops, mask = Predictor(nb201.space).encode(nb201.archs[:8])
    nodes = adj.shape[1]
    perm = torch.cat([torch.tensor([0]), torch.arange(nodes - 2, 0, -1), torch.tensor([nodes - 1])])
    swapped = (adj[:, perm][:, :, perm], ops[:, perm], mask[:, perm])
    torch.manual_seed(0)
    gcn = GCNPredictor(len(nb201.space.node_ops), 16, 2)
    both = GCNWithFlat(len(nb201.space.node_ops), nodes, 16, 2, 16)
    with torch.no_grad():
        torch.testing.assert_close(gcn(*swapped), gcn(adj, ops, mask))
        assert not torch.allclose(both(*swapped), both(adj, ops, mask))
        both.head.flat_layer[0].weight.zero_()  # without the flat branch, the GCN's invariance again
        torch.testing.assert_close(both(*swapped), both(adj, ops, mask))


def test_spaces_without_a_native_encoder():
    bench = benchmarks.load("nb101")
    archs, y = bench.archs[:60], bench.values[:60]
    predictor = Predictor(bench.space, seed=0, **SMALL).fit(archs, y, loss="ListMLE")
    out = predictor.predict(bench.archs[60:80])
    assert out.shape == (20,) and np.isfinite(out).all()
    with pytest.raises(TypeError, match="native"):
        predictor.predict_codes([0, 1])


def test_clear_errors(tmp_path, nb201):
    archs, y = sample(nb201, 10)
    p = Predictor(nb201.space, **SMALL)
    with pytest.raises(RuntimeError, match="not fitted"):
        p.predict(archs)
    with pytest.raises(ValueError, match="NaN"):
        p.fit(archs, np.r_[y[:-1], np.nan])
    with pytest.raises(ValueError, match="at least 2"):
        p.fit(archs[:1], y[:1])
    with pytest.raises(ValueError, match="one value per architecture"):
        p.fit(archs, y[:5])
    with pytest.raises(ValueError, match="not an architecture of nb201"):
        p.fit(archs[:-1] + [(9, 9, 9, 9, 9, 9)], y)
    p.fit(archs, y)
    with pytest.raises(ValueError, match="not an architecture"):
        p.predict([(0, 1, 2)])
    with pytest.raises(ValueError, match="not an architecture"):
        p.predict(["|conv~0|+|"])
    with pytest.raises(ValueError, match="unknown loss"):
        p.fit(archs, y, loss="nope")
    with pytest.raises(ValueError, match="encoder"):
        Predictor(nb201.space, encoder="transformer")
    with pytest.raises(ValueError, match="ensemble"):
        Predictor(nb201.space, ensemble=0)
    with pytest.raises(ValueError, match="codes must lie"):
        p.predict_codes([15625])
    bad = tmp_path / "bad.pt"
    torch.save({"config": "{}", "models": []}, bad)
    with pytest.raises(ValueError, match="not a saved fastrank Predictor"):
        Predictor.load(bad)
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a saved fastrank Predictor"):
        Predictor.load(bad)


def test_load_refuses_arbitrary_pickles(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"config": "{}", "models": [Evil()]}, path)
    with pytest.raises(ValueError, match="not a saved fastrank Predictor"):
        Predictor.load(path)


def test_predictions_on_float64_and_the_torch_path(nb201):
    archs, y = sample(nb201, 20)
    p = Predictor(NASBench201(), dtype=torch.float64, **SMALL).fit(archs, y)
    assert p.predict(archs).dtype == np.float64


def test_predict_benchmark_scores_every_row_in_order():
    bench = benchmarks.load("nb201/cifar10")
    predictor = Predictor(bench.space, epochs=2, seed=0).fit(bench.archs[:40], bench.values[:40])
    scores = predictor.predict_benchmark(bench)
    assert scores.shape == (len(bench.archs),)
    np.testing.assert_allclose(scores[:50], predictor.predict(bench.archs[:50]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="nb101"):
        Predictor(benchmarks.load("nb101").space).predict_benchmark(bench)


def test_a_warm_start_goes_on_training_the_last_fits_models(nb201):
    archs, y = sample(nb201, 60)
    first = Predictor("nb201", ensemble=2, seed=4, **SMALL).fit(archs[:40], y[:40], loss="HR")
    kept = [{k: v.clone() for k, v in m.state_dict().items()} for m in first.models]
    # one epoch from the first fit's weights stays near them,
    # while a fresh fit of one epoch is far from them
    warm = Predictor("nb201", ensemble=2, seed=5, **SMALL).fit(archs, y, loss="HR", warm_start=first, epochs=1)
    fresh = Predictor("nb201", ensemble=2, seed=5, **SMALL).fit(archs, y, loss="HR", epochs=1)

    def distance(models):
        return sum(float((m.state_dict()[k] - s[k]).float().norm()) for m, s in zip(models, kept) for k in s)

    assert distance(warm.models) < 0.2 * distance(fresh.models)
    for m, s in zip(first.models, kept):  # the warm start's own models are copied, never changed
        assert all(torch.equal(m.state_dict()[k], v) for k, v in s.items())
    with pytest.raises(ValueError, match="warm_start has another model: width 16 vs 32"):
        Predictor("nb201", ensemble=2, **{**SMALL, "width": 32}).fit(archs, y, warm_start=first)
    with pytest.raises(ValueError, match="warm_start must be a fitted"):
        Predictor("nb201", ensemble=2, **SMALL).fit(archs, y, warm_start=Predictor("nb201", ensemble=2, **SMALL))
    with pytest.raises(TypeError, match="warm_start must be a fastrank.Predictor"):
        Predictor("nb201").fit(archs, y, warm_start="last")
