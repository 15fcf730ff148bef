"""Benchmark tables: loading the packaged real data (or a folder the user names), lookups,
optima, weak labels, the per-process cache, the catalogue and clear errors for bad files."""
from __future__ import annotations

import importlib.util
import lzma
import re
import shutil

import numpy as np
import pytest

from fastrank import benchmarks as B
from fastrank.benchmarks import table_files
from fastrank.spaces import get_space

CSV_NAMES = ([f"nb201/{d}" for d in B.NB201_DATASETS] + [f"tnb101_{s}/{t}" for s in ("micro", "macro") for t in B.TRANSNAS_TASKS]
             + ["nb101", "nb301", "nasbench_macro"])


@pytest.fixture(autouse=True)
def no_env_folder(monkeypatch):
    """Tests read the packaged copy unless they set FASTRANK_DATA themselves."""
    monkeypatch.delenv("FASTRANK_DATA", raising=False)


@pytest.fixture(scope="module")
def csv_folder(tmp_path_factory):
    """A folder of plain CSV tables made by decompressing the packaged copies."""
    folder = tmp_path_factory.mktemp("tables")
    for xz in table_files.packaged_folder().iterdir():
        if xz.name.endswith(".csv.xz"):
            (folder / xz.name[:-3]).write_bytes(lzma.decompress(xz.read_bytes()))
    return folder


@pytest.mark.parametrize("name,size", [
    ("nb201/cifar10", 15625), ("nb201/cifar100", 15625), ("nb201/imagenet16", 15625),
    ("tnb101_micro/jigsaw", 4096), ("tnb101_micro/room_layout", 4096),
    ("tnb101_macro/class_scene", 3256), ("nb101", 500), ("nb301", 1218),
    ("nasbench_macro", 6561),
])
def test_tables_load(name, size):
    bench = B.load(name)
    assert bench.source.startswith("packaged copy") and bench.source.endswith(".csv.xz")
    assert len(bench) == size and np.isfinite(bench.values).all()
    arch, value = bench.optimum()
    assert value == bench.values.max() == bench.query(arch)
    assert bench.query(bench.space.to_string(arch)) == value
    assert bench.weak_labels
    if bench.space.size is not None:
        assert sorted(bench.codes().tolist()) == list(range(bench.space.size))


def test_nb201_test_optima_match_the_data_readme():
    for dataset, best in (("cifar10", 94.37), ("cifar100", 73.51), ("imagenet16", 47.31)):
        bench = B.load(f"nb201/{dataset}", metric="test")
        assert bench.optimum()[1] == pytest.approx(best, abs=0.01)


@pytest.mark.parametrize("name", ["tnb101_micro/jigsaw", "nb201/cifar10", "nb201/imagenet16"])
def test_failed_zero_cost_proxies_are_missing_values(name):
    bench = B.load(name)
    zen = bench.weak_labels["zen"]
    assert np.isnan(zen).any() and (zen[~np.isnan(zen)] > -1e8).all()
    if name.startswith("nb201"):  # the 341 cells whose output is cut off from the input, all at chance
        assert np.isnan(zen).sum() == 341
        assert bench.values[np.isnan(zen)].max() < np.percentile(bench.values, 5)


def assert_same_benchmark(a, b):
    assert (a.name, a.metric, a.space.name) == (b.name, b.metric, b.space.name)
    assert a.archs == b.archs
    np.testing.assert_array_equal(a.values, b.values)
    assert sorted(a.weak_labels) == sorted(b.weak_labels)
    for label in a.weak_labels:
        np.testing.assert_array_equal(a.weak_labels[label], b.weak_labels[label])  # NaN == NaN here


@pytest.mark.parametrize("name", CSV_NAMES)
def test_packaged_copy_equals_a_folder_of_the_csv_files(name, csv_folder):
    metrics = ["valid", "test"] if name.startswith("nb201/") else [None]
    for metric in metrics:
        options = {"metric": metric} if metric else {}
        packaged, plain = B.load(name, **options), B.load(name, data_dir=str(csv_folder), **options)
        assert plain.source == str(csv_folder / packaged.source.rsplit("/", 1)[1][:-3])
        assert_same_benchmark(packaged, plain)


def test_data_dir_and_env_variable_override_the_packaged_copy(monkeypatch, csv_folder, tmp_path):
    assert B.data_dir() == table_files.packaged_folder()  # no override: no error any more
    assert B.load("nasbench_macro").source.startswith("packaged copy")
    monkeypatch.setenv("FASTRANK_DATA", str(csv_folder))
    assert B.data_dir() == csv_folder
    bench = B.load("nasbench_macro")
    assert len(bench) == 6561 and bench.source == str(csv_folder / "nasbench_macro.csv")
    monkeypatch.setenv("FASTRANK_DATA", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match=r"absent.*FASTRANK_DATA.*does not exist"):
        B.load("nb201/cifar10")
    assert B.load("nb101", data_dir=str(csv_folder)).source == str(csv_folder / "nb101_subset.csv")  # data_dir wins
    with pytest.raises(FileNotFoundError, match=r"nowhere.*data_dir.*does not exist"):
        B.load("nb101", data_dir=str(tmp_path / "nowhere"))
    monkeypatch.delenv("FASTRANK_DATA")
    with pytest.raises(FileNotFoundError, match="looked for"):
        B.load("nb101", data_dir=str(tmp_path))
    # a folder may hold the compressed tables too (the packaged folder is itself a valid data_dir)
    shutil.copy(table_files.packaged_folder() / "nb101_subset.csv.xz", tmp_path)
    bench = B.load("nb101", data_dir=str(tmp_path))
    assert bench.source == str(tmp_path / "nb101_subset.csv.xz")
    assert_same_benchmark(bench, B.load("nb101"))
    assert len(B.load("nb201/cifar10", data_dir=str(B.data_dir()))) == 15625


def test_loads_are_cached_and_independent(tmp_path, csv_folder):
    first = B.load("nb201/cifar10")
    assert table_files.read("nb201.csv") is table_files.read("nb201.csv")  # parsed once per process
    archs, values, zen = list(first.archs), first.values.copy(), first.weak_labels["zen"].copy()
    first.values[:] = -1  # a user's edits stay in their object
    first.weak_labels["zen"][:] = 0
    first.archs.reverse()
    again = B.load("nb201/cifar10")
    assert again.archs == archs
    np.testing.assert_array_equal(again.values, values)
    np.testing.assert_array_equal(again.weak_labels["zen"], zen)
    with pytest.raises(ValueError, match="read-only"):
        table_files.read("nb201.csv").numbers("cifar10_valid")[0] = 0
    # an edited table in a user's folder is read again
    table = tmp_path / "nasbench_macro.csv"
    shutil.copy(csv_folder / "nasbench_macro.csv", table)
    assert B.load("nasbench_macro", data_dir=str(tmp_path)).values[0] == B.load("nasbench_macro").values[0]
    write_edited(table, csv_folder, 2, "cifar10_test_mean", "12.5")
    assert B.load("nasbench_macro", data_dir=str(tmp_path)).values[0] == 12.5


# --- malformed tables ----------------------------------------------------------------

def write_edited(file, csv_folder, line, column, text):
    """``file``: the packaged NAS-Bench-Macro table with the cell at (1-based) ``line`` and
    ``column`` replaced by ``text``."""
    lines = (csv_folder / "nasbench_macro.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = text
    lines[line - 1] = ",".join(cells)
    file.write_text("\n".join(lines) + "\n")


@pytest.fixture
def macro(tmp_path, csv_folder):
    """Writes a variant of the NAS-Bench-Macro table into a fresh folder; returns its path."""
    return lambda *edit: (write_edited(tmp_path / "nasbench_macro.csv", csv_folder, *edit), tmp_path)[1]


def test_cells_that_are_not_numbers_or_architectures(macro):
    folder = macro(2, "cifar10_test_mean", "oops")
    with pytest.raises(ValueError, match="malformed: row 2, column 'cifar10_test_mean' is 'oops', not a number"):
        B.load("nasbench_macro", data_dir=str(folder))
    folder = macro(2, "arch", "00000003")
    with pytest.raises(ValueError, match="row 2"):
        B.load("nasbench_macro", data_dir=str(folder))
    (folder / "nasbench_macro.csv").write_text("arch,params\n00000000,1\n")
    with pytest.raises(ValueError, match="missing column"):
        B.load("nasbench_macro", data_dir=str(folder))
    with pytest.raises(ValueError, match="unknown benchmark"):
        B.load("imagenet")
    bench = B.load("nasbench_macro")
    with pytest.raises(KeyError, match="no weak label"):
        bench.weak("zen", bench.archs[0])


@pytest.mark.parametrize("cell,why", [("nan", "is not finite"), ("", "is empty"), ("  ", "is empty"),
                                      ("inf", "is not finite"), ("-inf", "is not finite"), ("1e400", "overflows")])
def test_a_target_cell_must_be_finite(macro, cell, why):
    folder = macro(5, "cifar10_test_mean", cell)
    file = folder / "nasbench_macro.csv"
    with pytest.raises(ValueError, match=rf"{re.escape(str(file))}.*row 5, column 'cifar10_test_mean' {why}"):
        B.load("nasbench_macro", data_dir=str(folder))


def test_a_weak_label_cell_may_be_missing(macro):
    bench = B.load("nasbench_macro", data_dir=str(macro(5, "params", "")))
    assert np.isnan(bench.weak_labels["params"]).tolist() == [i == 3 for i in range(6561)]


@pytest.mark.parametrize("name,file,rows", [("nb201/cifar10", "nb201.csv", 15625), ("nb101", "nb101_subset.csv", 500),
                                            ("tnb101_macro/jigsaw", "tnb101_macro.csv", 3256)])
def test_a_table_must_have_its_benchmarks_row_count(name, file, rows, tmp_path, csv_folder):
    lines = (csv_folder / file).read_text().splitlines(keepends=True)
    (tmp_path / file).write_text("".join(lines[:-1]))
    with pytest.raises(ValueError, match=rf"{re.escape(str(tmp_path / file))} has {rows - 1} rows, but {file} must have {rows}"):
        B.load(name, data_dir=str(tmp_path))
    (tmp_path / file).write_text("".join(lines + lines[-1:]))
    with pytest.raises(ValueError, match=rf"has {rows + 1} rows, but {file} must have {rows}"):
        B.load(name, data_dir=str(tmp_path))


def test_blank_lines_are_skipped_and_rows_keep_their_line_numbers(tmp_path, csv_folder):
    lines = (csv_folder / "nasbench_macro.csv").read_text().splitlines(keepends=True)
    (tmp_path / "nasbench_macro.csv").write_text("".join(lines[:3] + ["\n"] + lines[3:]))
    assert_same_benchmark(B.load("nasbench_macro", data_dir=str(tmp_path)), B.load("nasbench_macro"))
    lines[4] = lines[4].replace(lines[4].split(",")[1], "x")
    (tmp_path / "nasbench_macro.csv").write_text("".join(lines[:3] + ["\n"] + lines[3:]))
    with pytest.raises(ValueError, match="row 6, column 'cifar10_test_mean' is 'x'"):
        B.load("nasbench_macro", data_dir=str(tmp_path))


def plain_value_error(excinfo):
    """Raised as ValueError itself, not a UnicodeDecodeError or csv.Error leaking through."""
    return type(excinfo.value) is ValueError


@pytest.mark.parametrize("damage,match", [
    (lambda b: b.replace(b"\n00000010,", b"\n0000\xff0010,", 1), r"row 5 is not valid UTF-8"),
    (lambda b: b"\xef\xbb\xbf" + b, r"row 1 starts with a UTF-8 byte-order mark"),
    (lambda b: b.replace(b"\n00000010,", b"\n00000010,1,", 1), r"row 5 has 6 field\(s\), the header has 5"),
    (lambda b: b.replace(b"\n00000010,", b"\n", 1), r"row 5 has 4 field\(s\), the header has 5"),
    (lambda b: b"", r"no header row"),
    (lambda b: b.split(b"\n")[0] + b"\n", r"no rows"),
    (lambda b: b.replace(b"cifar10_test_std", b"params", 1), r"row 1 repeats column\(s\) \['params'\]"),
])
def test_undecodable_or_ragged_files_name_path_and_row(damage, match, tmp_path, csv_folder):
    file = tmp_path / "nasbench_macro.csv"
    file.write_bytes(damage((csv_folder / "nasbench_macro.csv").read_bytes()))
    with pytest.raises(ValueError, match=rf"{re.escape(str(file))} is malformed: {match}") as excinfo:
        B.load("nasbench_macro", data_dir=str(tmp_path))
    assert plain_value_error(excinfo)


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b[:100] + b"\0" * 64 + b[164:],
                                    lambda b: b"not xz at all"])
def test_a_corrupt_xz_table_names_the_file(damage, tmp_path):
    file = tmp_path / "nb101_subset.csv.xz"
    file.write_bytes(damage((table_files.packaged_folder() / "nb101_subset.csv.xz").read_bytes()))
    with pytest.raises(ValueError, match=rf"{re.escape(str(file))} is not a readable xz file") as excinfo:
        B.load("nb101", data_dir=str(tmp_path))
    assert plain_value_error(excinfo)


# --- catalogue ----------------------------------------------------------------------

def test_catalog_lists_every_loadable_benchmark_without_reading_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("catalog() read a table")

    monkeypatch.setattr(table_files, "read", refuse)
    monkeypatch.setattr("fastrank._safe_pickle.load", refuse)
    entries = B.catalog()
    names = [e.name for e in entries]
    assert len(names) == len(set(names)) == 3 + 7 + 7 + 3 + 5 + 9
    assert {"nb201/imagenet16", "tnb101_macro/normal", "nb101", "nb301", "nasbench_macro", "analognas/qat_accuracy",
            "nasbench-graph/proteins"} <= set(names)
    for entry in entries:
        row = entry.as_dict()
        assert set(row) >= {"name", "space", "architectures", "metrics", "weak_labels", "source", "available", "needs"}
        package = {"analognas": "analognasbench", "nasbench-graph": "nas_bench_graph"}.get(entry.name.split("/")[0])
        if package is None:
            assert entry.available and entry.source.startswith("packaged ") and entry.source.endswith(".csv.xz")
        else:
            installed = importlib.util.find_spec(package) is not None
            assert entry.source.startswith("PyPI ") and entry.available == installed
            assert (entry.needs is None) == installed and (installed or "fastrank[nas]" in entry.needs)


def test_catalog_marks_pypi_benchmarks_whose_package_is_missing(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("analognasbench", "nas_bench_graph") else real(name, *a))
    pypi = [e for e in B.catalog() if e.source.startswith("PyPI ")]
    assert len(pypi) == 5 + 9 and all(not e.available and "fastrank[nas]" in e.needs for e in pypi)


def test_catalog_folder_source(csv_folder):
    entry = next(e for e in B.catalog(data_dir=str(csv_folder)) if e.name == "nb301")
    assert entry.source == str(csv_folder / "nb301_subset.csv")


@pytest.mark.parametrize("name", CSV_NAMES)
def test_catalog_facts_match_the_packaged_tables(name):
    entry = next(e for e in B.catalog() if e.name == name)
    bench = B.load(name)
    assert (len(bench), bench.space.name, tuple(bench.weak_labels)) == (entry.architectures, entry.space, entry.weak_labels)
    assert bench.source.endswith("/" + entry.source.split()[-1])
    dataset = name.split("/")[1] if name.startswith("nb201/") else None
    assert bench.metric == (f"{dataset}_{entry.metrics[0]}" if dataset else entry.metrics[0])


@pytest.mark.parametrize("name", ["analognas/noisy_accuracy", "nasbench-graph/proteins"])
def test_catalog_facts_match_the_pypi_benchmarks(name):
    entry = next(e for e in B.catalog() if e.name == name)
    if not entry.available:
        pytest.skip(f"{entry.source} not installed")
    bench = B.load(name)
    assert (len(bench), bench.space.name, bench.metric) == (entry.architectures, entry.space, entry.metrics[0])
    assert sorted(bench.weak_labels) == sorted(entry.weak_labels)


@pytest.mark.skipif(importlib.util.find_spec("analognasbench") is None, reason="analog-nasbench not installed")
def test_analognas_reads_the_package_pickle_safely():
    bench = B.load("analognas/analog_accuracy")
    assert len(bench) == 15625 and bench.space.name == "nb201"
    assert {"baseline_accuracy", "analog_drift_86400"} <= set(bench.weak_labels)
    # retrained CIFAR-10 accuracies track NB201's test accuracies
    nb201 = B.load("nb201/cifar10", metric="test")
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


@pytest.mark.parametrize("table,match", [
    ({"not a key": None}, "malformed"),  # KeyError/TypeError while re-keying
    ({(0,) * 6: 1.5, (9,) * 6: 2.0}, "malformed"),  # op 9 has no NB201 index
    ([1, 2, 3], "expected a dict"),
])
def test_crafted_analognas_pickles_give_one_clear_error(tmp_path, table, match):
    import pickle

    bad = tmp_path / "data.anb"
    bad.write_bytes(pickle.dumps(table))
    with pytest.raises(ValueError, match=match) as info:
        B.load_analognas(file=str(bad))
    assert str(bad) in str(info.value)


@pytest.mark.parametrize("error", [MemoryError, RuntimeError, KeyError, RecursionError])
def test_any_unpickling_failure_names_the_file(tmp_path, monkeypatch, error):
    import pickle

    from fastrank import _safe_pickle

    path = tmp_path / "cora.bench"
    path.write_bytes(pickle.dumps({1: {"perf": 0.5}}))

    def explode(self):
        raise error("crafted")

    monkeypatch.setattr(_safe_pickle._Unpickler, "load", explode)
    with pytest.raises(ValueError, match=f"is not a readable benchmark pickle: {error.__name__}") as info:
        B.load_nasbench_graph("cora", file=str(path))
    assert str(path) in str(info.value)


def test_truncated_pickles_name_the_file(tmp_path):
    import pickle

    path = tmp_path / "cora.bench"
    path.write_bytes(pickle.dumps({i: {"perf": 0.5} for i in range(100)})[:-40])
    with pytest.raises(ValueError, match="not a readable benchmark pickle"):
        B.load_nasbench_graph("cora", file=str(path))


# --- families: one declaration each --------------------------------------------------

@pytest.fixture
def families():
    """The registry, restored after the test (families it registers are gone)."""
    saved = dict(B.FAMILIES)
    yield B.FAMILIES
    B.FAMILIES.clear()
    B.FAMILIES.update(saved)


def load_toy(part, metric="valid", path=None):
    """A two-part family over 4 NB201 cells, with a valid and a test metric."""
    if part not in ("a", "b"):
        raise ValueError(f"toy part must be 'a' or 'b', got {part!r}")
    space = get_space("nb201")
    values = np.arange(4.0) + (10 if metric == "test" else 0)
    return B.TabularBenchmark(f"toy/{part}", space, f"{part}_{metric}", [space.decode(i) for i in range(4)], values,
                              weak_labels={"w": np.ones(4)}, source=str(path))


def toy(**changes):
    declaration = dict(name="toy", loader=load_toy, parts=("a", "b"), default_part="a", space="nb201", size=4,
                       weak_labels=("w",), source=B.CsvTable("toy.csv", rows=4),
                       split=B.MetricSplit("metric", valid="valid", test="test"), seed_pw_by_part={"b": "nb101"})
    return B.Family(**{**declaration, **changes})


def test_a_new_family_is_one_declaration(families, tmp_path):
    from fastrank.loss_spec import parse_loss, seed_task
    from fastrank.search import BenchmarkTask

    B.register_family(toy())
    assert B.load("toy").name == "toy/a" and B.load("toy/b", metric="test").metric == "b_test"
    assert B.load("toy/b", data_dir=str(tmp_path)).source == str(tmp_path)  # a CSV family's loader gets the folder
    with pytest.raises(ValueError, match="toy part must be"):
        B.load("toy/c")
    entries = [e for e in B.catalog() if e.name.startswith("toy/")]
    assert [(e.name, e.space, e.architectures, e.metrics, e.weak_labels, e.source) for e in entries] == [
        (f"toy/{p}", "nb201", 4, ("valid", "test"), ("w",), "packaged toy.csv.xz") for p in "ab"]
    task = BenchmarkTask.load("toy/b", "valid")
    assert (task.query.metric, task.report.metric) == ("b_valid", "b_test")
    assert seed_task("toy/b") == "nb101" and seed_task("toy/a") is None
    pw = parse_loss("pw", task="toy/b")
    assert (pw.warmup.name, pw.focus.name) == ("ListMLE", "WARP")


def test_family_names_are_resolved_or_refused():
    assert B.family_of("nb201") == (B.FAMILIES["nb201"], "cifar10")  # a bare name loads the default part
    assert B.family_of("nasbench_graph/cora") == (B.FAMILIES["nasbench-graph"], "cora")  # an alias
    assert B.family_of("tnb101_micro")[1] == ""  # no default: the loader refuses ""
    for name in ("nb101/x", "imagenet", "", "NB201/cifar10"):
        with pytest.raises(ValueError, match=f"unknown benchmark {re.escape(repr(name))}"):
            B.family_of(name)
    with pytest.raises(TypeError, match="a benchmark name is a str"):
        B.load(None)


@pytest.mark.parametrize("changes,error,match", [
    ({"name": "nb201"}, ValueError, "name 'nb201' is taken by family 'nb201'"),
    ({"aliases": ("nasbench_graph",)}, ValueError, "'nasbench_graph' is taken by family 'nasbench-graph'"),
    ({"name": "to/y"}, ValueError, "without '/'"),
    ({"parts": ("a", "a")}, ValueError, "repeat a name"),
    ({"parts": ["a", "b"]}, TypeError, "must be a tuple"),
    ({"default_part": "c"}, ValueError, "default_part 'c' is not one of its parts"),
    ({"target": "x"}, ValueError, "exactly one of target .* and split"),
    ({"split": None}, ValueError, "exactly one of target .* and split"),
    ({"seed_pw": "nope"}, ValueError, "seed pair 'nope' is not a key of fastrank.nn.SEED_PIECEWISE"),
    ({"seed_pw_by_part": {"c": "nb101"}}, ValueError, r"names parts it does not have: \['c'\]"),
    ({"seed_pw": "nb101", "space": "darts"}, ValueError, "'nb301' already declares the seed pair of space 'darts'"),
    ({"size": lambda part: 0}, ValueError, "size of part 'a' must be a positive int, got 0"),
    ({"space": lambda part: None}, ValueError, "space of part 'a' must be a space's name"),
    ({"weak_labels": "w"}, ValueError, "weak_labels of part 'a' must be a tuple"),
    ({"source": "toy.csv"}, TypeError, "source must be a CsvTable or a PyPIPackage"),
    ({"loader": None}, TypeError, "loader must be a function"),
])
def test_bad_family_declarations_are_refused(families, changes, error, match):
    with pytest.raises(error, match=match):
        B.register_family(toy(**changes))
    assert "toy" not in families
    with pytest.raises(TypeError, match="takes a Family"):
        B.register_family("toy")


@pytest.mark.parametrize("make,match", [
    (lambda: B.CsvTable("toy.tsv", rows=4), "a name like 'nb201.csv'"),
    (lambda: B.CsvTable("toy.csv", rows=0), "rows must be a positive int"),
    (lambda: B.CsvTable("toy.csv", rows=4, distinct=4), r"distinct must be None or an int in \[1, rows\)"),
    (lambda: B.PyPIPackage("", "toy", "nas"), "module must be a non-empty str"),
    (lambda: B.MetricSplit("metric", "valid", "valid"), "must differ"),
])
def test_bad_sources_and_splits_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()
