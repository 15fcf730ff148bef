"""Benchmark tables: loading real data, lookups, optima, weak labels, clear errors."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from fastrank import benchmarks as B
from fastrank.spaces import get_space

DATA = Path(os.environ.get("FASTRANK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
needs_data = pytest.mark.skipif(not (DATA / "nb201.csv").is_file(), reason=f"benchmark tables not found at {DATA}")


@needs_data
@pytest.mark.parametrize("name,size,best", [
    ("nb201/cifar10", 15625, None), ("nb201/cifar100", 15625, None), ("nb201/imagenet16", 15625, None),
    ("tnb101_micro/jigsaw", 4096, None), ("tnb101_micro/room_layout", 4096, None),
    ("tnb101_macro/class_scene", 3256, None), ("nb101", 500, None), ("nb301", 1218, None),
    ("nasbench_macro", 6561, None),
])
def test_tables_load(name, size, best):
    bench = B.load(name, data_dir=str(DATA))
    assert len(bench) == size and np.isfinite(bench.values).all()
    arch, value = bench.optimum()
    assert value == bench.values.max() == bench.query(arch)
    assert bench.query(bench.space.to_string(arch)) == value
    assert bench.weak_labels
    if bench.space.size is not None:
        assert sorted(bench.codes().tolist()) == list(range(bench.space.size))


@needs_data
def test_nb201_test_optima_match_the_data_readme():
    for dataset, best in (("cifar10", 94.37), ("cifar100", 73.51), ("imagenet16", 47.31)):
        bench = B.load(f"nb201/{dataset}", data_dir=str(DATA), metric="test")
        assert bench.optimum()[1] == pytest.approx(best, abs=0.01)


@needs_data
def test_failed_zero_cost_proxies_are_missing_values():
    bench = B.load("tnb101_micro/jigsaw", data_dir=str(DATA))
    zen = bench.weak_labels["zen"]
    assert np.isnan(zen).any() and (zen[~np.isnan(zen)] > -1e8).all()


@needs_data
def test_env_variable_and_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("FASTRANK_DATA", str(DATA))
    assert len(B.load("nasbench_macro")) == 6561
    monkeypatch.delenv("FASTRANK_DATA")
    with pytest.raises(FileNotFoundError, match="FASTRANK_DATA"):
        B.load("nb201/cifar10")
    with pytest.raises(FileNotFoundError, match="looked for"):
        B.load("nb101", data_dir=str(tmp_path))
    (tmp_path / "nasbench_macro.csv").write_text("arch,cifar10_test_mean,params,flops\n00000000,oops,1,2\n")
    with pytest.raises(ValueError, match="malformed: row 2, column 'cifar10_test_mean'"):
        B.load("nasbench_macro", data_dir=str(tmp_path))
    (tmp_path / "nasbench_macro.csv").write_text("arch,params\n00000000,1\n")
    with pytest.raises(ValueError, match="missing column"):
        B.load("nasbench_macro", data_dir=str(tmp_path))
    (tmp_path / "nasbench_macro.csv").write_text("arch,cifar10_test_mean,params,flops\n00000003,1,1,2\n")
    with pytest.raises(ValueError, match="row 2"):
        B.load("nasbench_macro", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="unknown benchmark"):
        B.load("imagenet")
    bench = B.load("nasbench_macro", data_dir=str(DATA))
    with pytest.raises(KeyError, match="no weak label"):
        bench.weak("zen", bench.archs[0])


@pytest.mark.skipif(importlib.util.find_spec("analognasbench") is None, reason="analog-nasbench not installed")
def test_analognas_reads_the_package_pickle_safely():
    bench = B.load("analognas/analog_accuracy")
    assert len(bench) == 15625 and bench.space.name == "nb201"
    assert {"baseline_accuracy", "analog_drift_86400"} <= set(bench.weak_labels)
    if (DATA / "nb201.csv").is_file():  # retrained CIFAR-10 accuracies track NB201's test accuracies
        nb201 = B.load("nb201/cifar10", data_dir=str(DATA), metric="test")
        base = bench.weak_labels["baseline_accuracy"]
        rows = [nb201.index(a) for a in bench.archs]
        assert np.corrcoef(base, nb201.values[rows])[0, 1] > 0.99


def test_analognas_refuses_foreign_pickles(tmp_path):
    import pickle

    bad = tmp_path / "data.anb"
    bad.write_bytes(pickle.dumps({(0,) * 6: get_space}))
    with pytest.raises(ValueError, match="refusing to load"):
        B.load_analognas(file=str(bad))


@pytest.mark.skipif(importlib.util.find_spec("nas_bench_graph") is None, reason="nas-bench-graph not installed")
@pytest.mark.parametrize("dataset", ["cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv",
                                     "proteins"])
def test_nasbench_graph_datasets(dataset):
    bench = B.load(f"nasbench-graph/{dataset}")
    assert len(bench) == (2021 if dataset == "proteins" else 26206)
    assert np.isfinite(bench.values).all() and 0 < bench.values.max() <= 1
    test = B.load(f"nasbench-graph/{dataset}", metric="perf")
    assert np.corrcoef(bench.values, test.values)[0, 1] > 0.3  # validation tracks test accuracy (pubmed: 0.34)
    assert set(bench.weak_labels) == {"latency", "params"}
    arch, value = bench.optimum()
    assert bench.query(bench.space.to_string(arch)) == value
