"""Weak supervision (AceNAS): pretraining on weak labels, fine-tuning, the acenas strategy."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau

from fastrank import Predictor, benchmarks, search
from fastrank.weak_labels import masked_multihead_mse, select_weak_labels, standardise_weak_labels


@pytest.fixture(scope="module")
def nb201():
    return benchmarks.load("nb201/cifar10")


@pytest.fixture(scope="module")
def sample(nb201):
    rows = np.random.default_rng(0).choice(len(nb201.archs), 3000, replace=False)
    return [nb201.archs[i] for i in rows], nb201.weak_labels["zen"][rows], nb201.values[rows]


def test_pretraining_lowers_the_weak_label_loss_and_learns_the_label(sample):
    archs, zen, _ = sample
    predictor = Predictor("nb201", seed=0).pretrain(archs, {"zen": zen}, epochs=8, batch_size=64)
    history = predictor.pretrain_history
    assert len(history) == 8 and history[-1] < 0.5 * history[0]
    predicted = predictor.predict_weak(archs)["zen"]
    known = ~np.isnan(zen)
    assert kendalltau(predicted[known], zen[known]).statistic > 0.6
    assert abs(np.nanmean(predicted[known]) - np.nanmean(zen)) < 0.2 * np.nanstd(zen)  # on the label's scale


def test_several_heads_with_missing_values(sample):
    archs, zen, values = sample
    other = values.copy()
    other[::3] = np.nan  # a third of the second label is missing
    predictor = Predictor("nb201", seed=1, width=16).pretrain(archs, {"zen": zen, "acc": other}, epochs=4)
    out = predictor.predict_weak(archs[:10])
    assert set(out) == {"zen", "acc"} and all(v.shape == (10,) and np.isfinite(v).all() for v in out.values())
    assert predictor.pretrained_models[0].head[-1].out_features == 2
    assert "pretrained on zen, acc" in repr(predictor)


def test_masked_multihead_mse_ignores_missing_targets():
    scores = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    targets = torch.randn(6, 3, dtype=torch.float64)
    targets[0, 0] = targets[2, 1] = float("nan")
    targets[:, 2] = float("nan")  # a head with nothing known in this batch adds 0
    loss = masked_multihead_mse(scores, targets)
    known = ~torch.isnan(targets)
    expected = sum(((scores[known[:, h], h] - targets[known[:, h], h]) ** 2).mean() for h in range(2))
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert scores.grad[0, 0] == 0 and scores.grad[2, 1] == 0 and (scores.grad[:, 2] == 0).all()
    assert torch.isfinite(scores.grad).all()
    with pytest.raises(ValueError, match="shape"):
        masked_multihead_mse(scores, targets[:, :2])


def test_fit_starts_from_the_pretrained_encoder_with_a_fresh_head(sample):
    archs, zen, values = sample
    predictor = Predictor("nb201", seed=2, width=16).pretrain(archs, {"zen": zen}, epochs=2)
    predictor.fit(archs[:20], values[:20], loss="MSE", epochs=1, lr=1e-12)
    pretrained, fitted = predictor.pretrained_models[0], predictor.models[0]
    for (name, p), q in zip(pretrained.encoder.named_parameters(), fitted.encoder.parameters()):
        torch.testing.assert_close(p, q, atol=1e-9, rtol=0, msg=name)
    assert not torch.allclose(pretrained.head[0].weight, fitted.head[0].weight)  # fresh head
    scratch = Predictor("nb201", seed=2, width=16).fit(archs[:20], values[:20], loss="MSE", epochs=1, lr=1e-12)
    assert not torch.allclose(scratch.models[0].encoder.embed.weight, fitted.encoder.embed.weight)
    again = Predictor("nb201", seed=2, width=16)
    again.pretrained_models = predictor.pretrained_models
    again.fit(archs[:20], values[:20], loss="MSE", epochs=1, lr=1e-12, from_pretrained=False)
    torch.testing.assert_close(again.models[0].encoder.embed.weight, scratch.models[0].encoder.embed.weight)


@pytest.mark.slow
def test_pretraining_helps_with_few_labels(nb201):
    """The point of weak supervision: 30 labels, whole-table Kendall τ, mean of three draws and
    two losses (bench/weak_supervision.py measures it properly)."""
    pretrained = Predictor("nb201", seed=0).pretrain(nb201.archs, {"zen": nb201.weak_labels["zen"]})
    tau = {False: [], True: []}
    for draw in range(3):
        rows = np.random.default_rng(draw).choice(len(nb201.archs), 30, replace=False)
        archs, values = [nb201.archs[i] for i in rows], nb201.values[rows]
        for loss in ("HR", "MSE"):
            for use in (False, True):
                predictor = Predictor("nb201", seed=draw)
                if use:
                    predictor.adopt_pretraining(pretrained)
                predictor.fit(archs, values, loss=loss)
                tau[use].append(kendalltau(predictor.predict(nb201.archs), nb201.values).statistic)
    assert np.mean(tau[True]) > np.mean(tau[False]) + 0.01, tau


@pytest.mark.parametrize("encoder", ["gin", "mlp", "gcn_flat"])
def test_torch_encoders_pretrain_and_fine_tune(encoder, sample):
    archs, zen, values = sample
    predictor = Predictor("nb201", encoder=encoder, seed=0, width=16).pretrain(archs[:500], {"zen": zen[:500]},
                                                                               epochs=3)
    assert predictor.pretrain_history[-1] < predictor.pretrain_history[0]
    predictor.fit(archs[:20], values[:20], loss="LambdaRank", epochs=3)
    assert np.isfinite(predictor.predict(archs[:50])).all()


def test_lambdarank_in_fit_grades_the_targets(sample):
    archs, _, values = sample
    for loss in ("LambdaRank", "LambdaRank:k=5", "LambdaRank:k=5,relevance=acenas"):
        predictor = Predictor("nb201", seed=0, width=16).fit(archs[:30], values[:30], loss=loss, epochs=5)
        assert np.isfinite(predictor.predict(archs[:30])).all()


def test_pretrained_encoder_round_trips_through_save_and_load(tmp_path, sample):
    archs, zen, values = sample
    predictor = Predictor("nb201", seed=4, width=16).pretrain(archs[:400], {"zen": zen[:400]}, epochs=2)
    predictor.save(tmp_path / "pretrained.pt")  # pretrained, not fitted: saved for later searches
    loaded = Predictor.load(tmp_path / "pretrained.pt")
    assert loaded.weak_label_names == ("zen",) and not loaded.fitted
    np.testing.assert_array_equal(loaded.predict_weak(archs[:50])["zen"], predictor.predict_weak(archs[:50])["zen"])
    assert loaded.pretrain_history == predictor.pretrain_history
    predictor.fit(archs[:20], values[:20], epochs=3)
    loaded.fit(archs[:20], values[:20], epochs=3)
    np.testing.assert_array_equal(loaded.predict(archs[:50]), predictor.predict(archs[:50]))
    predictor.save(tmp_path / "both.pt")
    both = Predictor.load(tmp_path / "both.pt")
    np.testing.assert_array_equal(both.predict(archs[:50]), predictor.predict(archs[:50]))
    assert both.pretrained


def test_adopting_another_models_pretraining_is_refused(sample):
    archs, zen, _ = sample
    pretrained = Predictor("nb201", seed=0, width=16).pretrain(archs[:200], {"zen": zen[:200]}, epochs=1)
    Predictor("nb201", seed=5, width=16).adopt_pretraining(pretrained)
    with pytest.raises(ValueError, match="width"):
        Predictor("nb201", width=32).adopt_pretraining(pretrained)
    with pytest.raises(ValueError, match="space"):
        Predictor("nb101", width=16).adopt_pretraining(pretrained)
    with pytest.raises(ValueError, match="pretrained"):
        Predictor("nb201").adopt_pretraining(Predictor("nb201"))
    with pytest.raises(RuntimeError, match="not pretrained"):
        Predictor("nb201").predict_weak(archs[:2])


def test_bad_weak_labels_are_refused_clearly(nb201, sample):
    with pytest.raises(ValueError, match="available: zen"):
        select_weak_labels(nb201, "zenn")
    with pytest.raises(ValueError, match="available: epe_nas, fisher"):
        select_weak_labels(benchmarks.load("nb101"), ["synflow", "nope"])
    assert list(select_weak_labels(benchmarks.load("nasbench_macro"), "all")) == ["params", "flops"]
    with pytest.raises(ValueError, match="twice"):
        select_weak_labels(benchmarks.load("nb101"), "snip,snip")
    archs, zen, _ = sample
    predictor = Predictor("nb201")
    for labels, message in (({"zen": zen[:10]}, "one value per architecture"),
                            ({"zen": np.full(len(archs), 3.0)}, "constant"),
                            ({"zen": np.where(np.arange(len(archs)) == 0, np.inf, 1.0)}, "infinity"),
                            ({"zen": np.full(len(archs), np.nan)}, "fewer than 2 known")):
        with pytest.raises(ValueError, match=message):
            predictor.pretrain(archs, labels)
    with pytest.raises(TypeError):
        predictor.pretrain(archs, zen)
    with pytest.raises(TypeError):
        standardise_weak_labels({"zen": ["a"] * 3}, 3)
    with pytest.raises(ValueError, match="available: zen"):
        search.run("nb201/cifar10", "acenas", budget=10, pretrain="params")
    with pytest.raises(ValueError, match="aligned with candidates"):
        search.run(lambda a: 1.0, "predictor", budget=5, space="nb201", pretrain="zen")
    with pytest.raises(ValueError, match="pass candidates="):
        search.run(lambda a: 1.0, "predictor", budget=5, space="darts", pretrain={"zen": zen})


def test_acenas_respects_the_budget_and_is_reproducible():
    runs = [search.run("nb201/cifar100", "acenas", budget=20, seed=s, rounds=4, pretrain_epochs=2) for s in (7, 7, 8)]
    assert all(len(r.queries) == 20 for r in runs)
    assert [q.arch for q in runs[0].queries] == [q.arch for q in runs[1].queries]
    assert [q.arch for q in runs[0].queries] != [q.arch for q in runs[2].queries]
    assert runs[0].strategy == "acenas" and runs[0].loss == "LambdaRank"
    assert len({runs[0].space.identity(q.arch) for q in runs[0].queries}) == 20  # never pays twice
    with pytest.raises(ValueError, match="rounds"):
        search.run("nb201/cifar100", "acenas", budget=20, rounds=0)
    with pytest.raises(ValueError, match="top_share"):
        search.run("nb201/cifar100", "acenas", budget=20, top_share=1.5)


def test_pretraining_with_a_users_evaluate_and_candidates(nb201):
    candidates = nb201.archs[:400]
    labels = {"zen": nb201.weak_labels["zen"][:400]}
    result = search.run(nb201.query, "acenas", budget=12, seed=0, space="nb201", candidates=candidates,
                        pretrain=labels, pretrain_epochs=2, rounds=3)
    assert len(result.queries) == 12 and all(q.arch in set(candidates) for q in result.queries)
    result = search.run(nb201.query, "predictor", budget=12, seed=0, space="nb201", candidates=candidates,
                        pretrain=labels, pretrain_epochs=2, n_init=6, per_round=3)
    assert len(result.queries) == 12


@pytest.mark.slow
def test_cli_acenas_and_pretrain_usage_errors():
    def fastrank(*args):
        return subprocess.run([sys.executable, "-m", "fastrank", *args], capture_output=True, text=True, timeout=300)

    done = fastrank("search", "--strategy", "acenas", "--budget", "10", "--rounds", "2", "--pretrain-epochs", "1",
                    "--quiet")
    assert done.returncode == 0, done.stderr
    assert "acenas + LambdaRank" in done.stdout and "10 of 10 queries" in done.stdout
    bad = fastrank("search", "--pretrain", "nope", "--quiet")
    assert bad.returncode == 2 and "available: zen" in bad.stderr


def test_pretrain_auto_takes_the_benchmarks_labels_and_none_without_a_benchmark():
    quick = {"n_init": 5, "per_round": 5, "predictor": {"epochs": 3, "width": 16, "layers": 2},
             "pretrain_epochs": 1, "loss": "HR"}
    bench = benchmarks.load("tnb101_micro/jigsaw")  # 4,096 rows: a quick pretraining

    def queries(target, **options):
        return [q.arch for q in search.run(target, "predictor", budget=12, seed=5, **quick, **options).queries]

    assert queries("tnb101_micro/jigsaw", pretrain="auto") == queries("tnb101_micro/jigsaw", pretrain="all")
    assert queries("tnb101_micro/jigsaw", pretrain="auto") != queries("tnb101_micro/jigsaw", pretrain=None)
    assert queries("tnb101_micro/jigsaw") == queries("tnb101_micro/jigsaw", pretrain="auto")  # the default
    assert queries("tnb101_micro/jigsaw", pretrain="none") == queries("tnb101_micro/jigsaw", pretrain=None)
    table = dict(zip(bench.archs, bench.values))

    def objective(arch):
        return float(table[arch])

    # your own objective has no benchmark: auto pretrains on nothing, as no pretraining does
    assert queries(objective, space=bench.space, pretrain="auto") == queries(objective, space=bench.space)
    with pytest.raises(ValueError, match="acenas pretrains on weak labels"):
        search.run(objective, "acenas", budget=12, seed=0, space=bench.space, pretrain="auto")
