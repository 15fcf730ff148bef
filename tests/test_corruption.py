"""Every file fastrank reads back, damaged: the search journal, the study's cells.csv, saved
predictors and user tables, truncated at many byte offsets, with foreign, duplicated and
malformed lines, and with flipped bytes. Each case resumes to exactly the result of an
uninterrupted run, or is refused with one line naming the file (and line). Never a traceback
from deep inside, never a silently different result."""
from __future__ import annotations

import random
import shutil

import pytest

import search_objectives as objectives
from fastrank import search
from fastrank.search import JournalError

SEARCH = dict(strategy="predictor", budget=12, seed=3, space="nb201", loss="HR",
              n_init=4, per_round=4, predictor={"epochs": 2, "width": 8, "layers": 1})


def _search(**where):
    return search.run(objectives.conv_count, **SEARCH, **where)


def flipped(data: bytes, seed: int, cases: int):
    """``cases`` copies of ``data``, each with one bit flipped at a random place."""
    rng = random.Random(seed)
    for _ in range(cases):
        damaged = bytearray(data)
        damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        yield bytes(damaged)


def _queries(result):
    return [(q.arch, q.value) for q in result.queries]


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("journal") / "run.jsonl"
    whole = _search(journal=path)
    return path, path.read_bytes(), _queries(whole)


def _resumed_or_refused(path, data, expected) -> str:
    path.write_bytes(data)
    try:
        result = _search(resume=path)
    except JournalError as err:
        message = str(err)
        assert "\n" not in message and str(path) in message, message
        return "refused"
    assert _queries(result) == expected
    return "resumed"


@pytest.mark.slow
def test_a_journal_cut_anywhere_resumes_or_is_refused(journal, tmp_path):
    source, data, expected = journal
    path = tmp_path / "run.jsonl"
    seen = set()
    for offset in sorted(set(range(0, len(data), max(1, len(data) // 40))) | {len(data) - 1}):
        seen.add(_resumed_or_refused(path, data[:offset], expected))
    assert seen == {"resumed", "refused"}  # a cut header is refused, a cut record re-evaluated


@pytest.mark.slow
def test_a_journal_with_flipped_bytes_resumes_or_is_refused(journal, tmp_path):
    source, data, expected = journal
    path = tmp_path / "run.jsonl"
    for damaged in flipped(data, seed=0, cases=40):
        _resumed_or_refused(path, damaged, expected)


def test_a_journal_with_foreign_duplicated_or_malformed_lines_is_refused(journal, tmp_path):
    source, data, expected = journal
    lines = data.splitlines(keepends=True)
    other = tmp_path / "other.jsonl"
    search.run(objectives.flaky, "random", 5, 0, space="nb201", journal=other)
    foreign = other.read_bytes().splitlines(keepends=True)[2]
    path = tmp_path / "run.jsonl"
    for damaged in (lines[:4] + [foreign] + lines[4:], lines[:4] + [lines[3]] + lines[4:],
                    lines[:4] + [b"{not json\n"] + lines[4:], lines[:4] + [b"[1, 2]\n"] + lines[4:],
                    [foreign] + lines[1:]):
        assert _resumed_or_refused(path, b"".join(damaged), expected) == "refused"


# --- the study's cells.csv ------------------------------------------------------------------------
def fake_cell(cell, loss):
    """A deterministic cheap cell: the study's bookkeeping is what is under test."""
    h = sum(map(ord, cell.key))
    return [("kendall_tau", (h % 97) / 97.0), ("spearman", (h % 89) / 89.0), ("n@10", float(h % 11))]


def _cells():
    from fastrank.study import make_cells

    return make_cells(["nb201/cifar10"], ["MSE", "HR"], [20, 40], [0, 1], 0, [0], ["MSE"])


def _study(out):
    from fastrank.study import LocalExecutor, run_study

    return run_study(_cells(), out, LocalExecutor(1), cell_fn=fake_cell, progress=False, report=False)


def _values(out):
    from fastrank.study import CellStore

    return sorted((r["cell"], r["metric"], r["value"]) for r in CellStore(out / "cells.csv").rows())


def _study_resumed_or_refused(out, data, expected) -> str:
    (out / "cells.csv").write_bytes(data)
    try:
        _study(out)
    except ValueError as err:
        message = str(err)
        assert "\n" not in message and "cells.csv" in message, message
        return "refused"
    assert _values(out) == expected
    return "resumed"


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    _study(out)
    return (out / "cells.csv").read_bytes(), _values(out)


def test_cells_cut_anywhere_resume_to_the_same_table(cells, tmp_path):
    data, expected = cells
    outcomes = {_study_resumed_or_refused(tmp_path, data[:offset], expected)
                for offset in range(0, len(data), max(1, len(data) // 50))}
    assert outcomes == {"resumed"}  # a cut file is never refused: its unfinished cells run again


def test_cells_with_flipped_bytes_resume_or_are_refused(cells, tmp_path):
    data, expected = cells
    for damaged in flipped(data, seed=1, cases=40):
        _study_resumed_or_refused(tmp_path, damaged, expected)


def test_cells_with_foreign_duplicated_or_malformed_lines_are_refused(cells, tmp_path):
    data, expected = cells
    lines = data.splitlines(keepends=True)
    foreign = b"rank,nb201/cifar100,MSE,20,0,kendall_tau,0.9,rank|nb201/cifar100|MSE|20|0\n"
    lied = b"rank,nb201/cifar10,MSE,20,0,kendall_tau,0.9,rank|nb201/cifar10|HR|20|0\n"
    for damaged, message in ((lines[:3] + [foreign] + lines[3:], "not in this study's grid"),
                             (lines[:3] + [lines[2]] + lines[3:], "checksum"),
                             (lines[:3] + [b"rank,nb201/cifar10,MSE\n"] + lines[3:], "3 fields"),
                             (lines[:3] + [lines[2].replace(b"0.", b"x.", 1)] + lines[3:], "must be numbers"),
                             (lines[:3] + [lied] + lines[3:], "does not match the row's fields"),
                             (lines + lines[1:5], "written twice")):
        (tmp_path / "cells.csv").write_bytes(b"".join(damaged))
        with pytest.raises(ValueError, match=message):
            _study(tmp_path)


def test_a_second_study_writing_to_the_same_folder_is_refused(tmp_path):
    from fastrank.study import CellStore

    first = CellStore(tmp_path / "cells.csv", lock=True)
    try:
        with pytest.raises(ValueError, match="another fastrank study is writing"):
            _study(tmp_path)
    finally:
        first.close()
    _study(tmp_path)  # the lock goes with the first writer


def test_cells_csv_that_is_a_folder_or_read_only_is_one_line(tmp_path, monkeypatch):
    import os

    from fastrank.study import store

    (tmp_path / "a" / "cells.csv").mkdir(parents=True)
    with pytest.raises(ValueError, match="is a folder"):
        _study(tmp_path / "a")
    _study(tmp_path / "b")
    os.chmod(tmp_path / "b" / "cells.csv", 0o444)
    if os.access(tmp_path / "b" / "cells.csv", os.W_OK):  # root writes anyway: the error a user would get
        def denied(path):
            raise PermissionError(13, "Permission denied", str(path))

        monkeypatch.setattr(store, "cut_torn_tail", denied)
    with pytest.raises(ValueError, match=r"cells\.csv: cannot read or write it \(Permission denied\)$"):
        _study(tmp_path / "b")


# --- saved predictors and user tables -------------------------------------------------------------
def test_a_damaged_saved_predictor_is_refused_in_one_line(tmp_path):
    import fastrank
    from fastrank import benchmarks

    table = benchmarks.load("nb201/cifar10")
    path = tmp_path / "p.pt"
    fastrank.Predictor("nb201", seed=0, epochs=2, width=8, layers=1).fit(table.archs[:20], table.values[:20],
                                                                         loss="MSE").save(path)
    data = path.read_bytes()
    cases = [data[:offset] for offset in range(0, len(data), max(1, len(data) // 30))]
    cases += list(flipped(data, seed=2, cases=30))
    reference = fastrank.Predictor.load(path).predict(table.archs[:50])
    for damaged in cases:
        path.write_bytes(damaged)
        try:
            loaded = fastrank.Predictor.load(path)
        except ValueError as err:
            assert "\n" not in str(err) and str(path) in str(err)
            continue
        assert (loaded.predict(table.archs[:50]) == reference).all()  # accepted: exactly the saved model


def test_a_damaged_user_table_is_refused_in_one_line(tmp_path, monkeypatch):
    from fastrank import benchmarks
    from fastrank.benchmarks import table_files

    source = tmp_path / "packaged.csv"
    import lzma

    source.write_bytes(lzma.decompress((table_files.packaged_folder() / "nb201.csv.xz").read_bytes()))
    data = source.read_bytes()
    lines = data.splitlines(keepends=True)
    folder = tmp_path / "data"
    folder.mkdir()
    cases = [data[:offset] for offset in range(0, len(data), len(data) // 20)]
    cases += [b"".join(lines[:5] + [lines[4]] + lines[5:]),  # a row twice (one architecture twice)
              b"".join(lines[:5] + [b"junk\n"] + lines[5:])]
    for damaged in cases:
        (folder / "nb201.csv").write_bytes(damaged)
        table_files.clear_cache()
        with pytest.raises(ValueError) as err:
            benchmarks.load("nb201/cifar10", data_dir=str(folder))
        assert "\n" not in str(err.value) and "nb201.csv" in str(err.value)
    shutil.rmtree(folder)
    table_files.clear_cache()


@pytest.mark.slow
def test_a_user_table_with_a_flipped_bit_or_a_foreign_row_loads_as_it_is_or_is_refused(tmp_path):
    """A user's table carries no checksum, so a flipped bit in a value is a different value, not
    damage anyone can see: it loads, one field changed and nothing else. Everything else a flip
    or a foreign row does is refused in one line naming the file."""
    import lzma

    from fastrank import benchmarks
    from fastrank.benchmarks import table_files

    data = lzma.decompress((table_files.packaged_folder() / "nb201.csv.xz").read_bytes())
    original = benchmarks.load("nb201/cifar10")
    reference = dict(zip(original.archs, original.values))
    nb101_row = lzma.decompress((table_files.packaged_folder() / "nb101_subset.csv.xz").read_bytes()).splitlines(True)[1]
    lines = data.splitlines(keepends=True)
    cases = list(flipped(data, seed=5, cases=40)) + [b"".join(lines[:7] + [nb101_row] + lines[7:]),
                                                     b"".join(lines[:-1] + [nb101_row])]
    outcomes = set()
    for damaged in cases:
        (tmp_path / "nb201.csv").write_bytes(damaged)
        table_files.clear_cache()
        try:
            bench = benchmarks.load("nb201/cifar10", data_dir=str(tmp_path))
        except ValueError as err:
            assert "\n" not in str(err) and "nb201.csv" in str(err), err
            outcomes.add("refused")
            continue
        changed = [a for a, v in zip(bench.archs, bench.values) if reference.get(a) != v]
        assert len(bench) == len(original) and len(changed) <= 1
        outcomes.add("loaded")
    assert outcomes == {"refused", "loaded"}
    table_files.clear_cache()


def test_a_table_with_one_architecture_twice_is_refused_and_nb101_says_what_it_is(tmp_path):
    import lzma

    from fastrank import benchmarks
    from fastrank.benchmarks import catalog, table_files

    data = lzma.decompress((table_files.packaged_folder() / "nb201.csv.xz").read_bytes())
    lines = data.splitlines(keepends=True)
    lines[9] = lines[3]  # 15,625 rows still, one architecture twice and one missing
    (tmp_path / "nb201.csv").write_bytes(b"".join(lines))
    table_files.clear_cache()
    with pytest.raises(ValueError, match=r"nb201.csv is malformed: rows 4 and 10 hold the same architecture"):
        benchmarks.load("nb201/cifar10", data_dir=str(tmp_path))
    table_files.clear_cache()
    nb101 = benchmarks.load("nb101")
    entry = next(e for e in catalog() if e.name == "nb101")
    assert entry.architectures == len(nb101.archs) == 500
    assert entry.distinct == len({nb101.space.identity(a) for a in nb101.archs}) == 292
