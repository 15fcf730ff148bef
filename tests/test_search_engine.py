"""The search driver: parallel evaluation (threads, processes, Ray), failed evaluations, the
journal (refusals, a torn tail, corruption) and resuming a killed run; the strategy registry
and the options that generate the command line."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import search_objectives as objectives
from fastrank import search
from fastrank.search import JournalError, Search, TooManyFailures
from fastrank.spaces import NASBench201

SMALL = {"n_init": 5, "per_round": 5, "predictor": {"epochs": 3, "width": 16, "layers": 2}}
TESTS = Path(__file__).parent


def arches(result):
    return [q.arch for q in result.queries]


# --- parallel evaluation ----------------------------------------------------------------------
@pytest.mark.parametrize("strategy", search.BUILT_IN_STRATEGIES)
def test_threads_keep_workers_busy_and_never_pay_twice(strategy):
    from test_search import fast_options

    evaluate = objectives.Concurrency()
    result = search.run(evaluate, strategy, budget=24, seed=0, space="nb201", workers=4, **fast_options(strategy))
    assert len(result.queries) == 24 == len({q.arch for q in result.queries})
    assert evaluate.most == 4
    assert [q.number for q in result.queries] == list(range(1, 25))


@pytest.mark.slow
def test_processes_evaluate_in_spawned_workers_with_one_device_each():
    result = search.run(objectives.conv_count, "evolution", budget=16, seed=1, space="nb201", loss="HR",
                        workers=2, executor="process", devices=["3", "5"], **SMALL)
    assert len(result.queries) == 16 == len({q.arch for q in result.queries})
    assert {q.worker for q in result.queries} <= {"process-0-gpu3", "process-1-gpu5"}
    with pytest.raises(TypeError, match="pickl"):
        search.run(lambda arch: 1.0, "random", budget=2, space="nb201", workers=2, executor="process")
    with pytest.raises(ValueError, match="devices"):
        search.run(objectives.conv_count, "random", budget=2, space="nb201", workers=2, devices=[0, 1])


@pytest.mark.slow
def test_the_local_executor_is_processes_from_python_and_the_command_line(tmp_path):
    """"local", the name fastrank study gives its processes, is the process executor here too."""
    result = search.run(objectives.conv_count, "random", budget=6, seed=0, space="nb201", workers=2, executor="local")
    assert len(result.queries) == 6 and {q.worker for q in result.queries} <= {"process-0", "process-1"}
    done = subprocess.run([sys.executable, "-m", "fastrank", "search", "--strategy", "random", "--budget", "6",
                           "--workers", "2", "--executor", "local", "--quiet", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (journal,) = (tmp_path / "run" / "journals").iterdir()
    records = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert len(records) == 6 and {r["worker"] for r in records} <= {"process-0", "process-1"}


# --- failures ---------------------------------------------------------------------------------
def test_failed_evaluations_are_recorded_and_the_search_goes_on(tmp_path):
    journal = tmp_path / "run.jsonl"
    result = search.run(objectives.flaky, "predictor", budget=30, seed=0, space="nb201", loss="HR",
                        journal=journal, **SMALL)
    failed = result.failed
    assert len(result.queries) == 30 and 3 <= len(failed) < 30
    assert all(objectives.flaky.__name__ and q.value is None for q in failed)
    errors = {q.error.split(":")[0].split(" ")[0] for q in failed}
    assert errors <= {"RuntimeError", "returned"}
    assert any("nan" in q.error for q in failed) and any("not a number" in q.error for q in failed)
    records = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert [r["error"] for r in records] == [q.error for q in result.queries]
    assert result.row()["failed"] == len(failed)
    assert result.query_value == max(q.value for q in result.queries if q.value is not None)


def test_failures_not_counted_against_the_budget():
    result = search.run(objectives.flaky, "random", budget=20, seed=3, space="nb201", count_failures=False)
    assert sum(q.value is not None for q in result.queries) == 20 and result.failed


def test_a_broken_objective_stops_after_max_failures_in_a_row(tmp_path):
    with pytest.raises(TooManyFailures, match="5 evaluations failed in a row.*cannot find the dataset"):
        search.run(objectives.always_fails, "predictor", budget=30, seed=0, space="nb201", max_failures=5,
                   journal=tmp_path / "j.jsonl", **SMALL)
    assert len((tmp_path / "j.jsonl").read_text().splitlines()) == 1 + 5  # what it tried is kept


def test_failures_are_learned_below_the_worst_value():
    s = Search(space="nb201", strategy="random", budget=4, seed=0)
    a, b, c = s.ask(3)
    s.tell(a, 2.0)
    s.tell(b, 5.0)
    s.tell_failure(c, "diverged")
    archs, values = s.history.labelled(with_failures=True)
    assert values.tolist() == [2.0, 5.0, -1.0]  # one spread (5 - 2) below the worst
    fixed = Search(space="nb201", strategy="random", budget=2, seed=0, failure_value=-10.0)
    d, = fixed.ask(1)
    fixed.tell(d, float("inf"))  # not a finite number: a failure
    assert fixed.history.labelled(with_failures=True)[1].tolist() == [-10.0]
    assert fixed.queries[0].error == "returned inf"


@pytest.mark.slow
def test_a_dead_worker_process_is_retried_then_recorded(tmp_path):
    journal = tmp_path / "run.jsonl"
    result = search.run(objectives.dies_on_pooling, "random", budget=20, seed=0, space="nb201", workers=2,
                        executor="process", retries=1, journal=journal)
    assert len(result.queries) == 20
    died = [q for q in result.queries if q.arch[0] == 4]
    assert died and all(q.failed and "died (exit code 3)" in q.error for q in died)
    assert all(not q.failed for q in result.queries if q.arch[0] != 4)
    records = [json.loads(line) for line in journal.read_text().splitlines()[1:]]  # the journal says which
    space = NASBench201()
    assert len(records) == 20
    assert sum(r["error"] is not None for r in records) == len(died)
    assert all("died (exit code 3)" in r["error"] for r in records if r["error"] is not None)
    assert {r["arch"] for r in records if r["error"]} == {space.to_string(q.arch) for q in died}


@pytest.mark.slow
def test_ray_tasks_evaluate_and_a_killed_worker_is_recorded():
    pytest.importorskip("ray")
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(objectives)  # Ray's workers cannot import the tests' modules
    try:
        result = search.run(objectives.dies_on_pooling, "random", budget=12, seed=4, space="nb201", workers=3,
                            executor="ray", retries=0)
    finally:
        ray.shutdown()  # the study's tests start their own
    assert len(result.queries) == 12 == len({q.arch for q in result.queries})
    assert all(q.failed == (q.arch[0] == 4) for q in result.queries)
    assert all("Ray task failed" in q.error for q in result.failed)


@pytest.mark.slow
def test_ray_retries_a_killed_workers_task(tmp_path):
    """Each architecture's first evaluation kills its Ray worker; Ray runs the task again
    (retries=1) and it succeeds: nothing is recorded as failed."""
    pytest.importorskip("ray")
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(objectives)
    try:
        result = search.run(objectives.DiesOnce(tmp_path), "random", budget=6, seed=1, space="nb201", workers=2,
                            executor="ray", retries=1)
    finally:
        ray.shutdown()
    assert len(result.queries) == 6 and not result.failed
    assert len(list(tmp_path.iterdir())) == 6  # every first evaluation did die


# --- the journal ------------------------------------------------------------------------------
def test_a_journal_is_never_overwritten_and_another_runs_is_refused(tmp_path):
    path = tmp_path / "run.jsonl"
    search.run(objectives.conv_count, "random", budget=5, seed=0, space="nb201", journal=path)
    before = path.read_bytes()
    with pytest.raises(JournalError, match=r"already holds a run's journal: resume it \(search.run\(\.\.\., resume="):
        search.run(objectives.conv_count, "random", budget=5, seed=0, space="nb201", journal=path)
    with pytest.raises(JournalError, match="another run.*seed: journal 0, now 1"):
        search.run(objectives.conv_count, "random", budget=5, seed=1, space="nb201", resume=path)
    with pytest.raises(JournalError, match="another run.*options") as refused:
        search.run(objectives.conv_count, "predictor", budget=5, seed=0, space="nb201", resume=path,
                   loss="HR", **SMALL)
    # the run's own settings first, then the options that differ, each by its name
    assert "strategy: journal 'random', now 'predictor'" in str(refused.value)
    assert "options: journal" not in str(refused.value)
    with pytest.raises(JournalError, match="no journal to resume"):
        search.run(objectives.conv_count, "random", budget=5, seed=0, space="nb201", resume=tmp_path / "none")
    with pytest.raises(JournalError, match="directory"):
        search.run(objectives.conv_count, "random", budget=5, seed=0, space="nb201", journal=tmp_path)
    assert path.read_bytes() == before


def test_a_torn_last_line_is_cut_and_a_corrupt_one_refused(tmp_path):
    path = tmp_path / "run.jsonl"
    full = search.run(objectives.conv_count, "random", budget=8, seed=2, space="nb201", journal=path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5]) + lines[5][:17])  # 4 queries, and a torn fifth
    resumed = search.run(objectives.conv_count, "random", budget=8, seed=2, space="nb201", resume=path)
    assert arches(resumed) == arches(full)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = b'{"n": 3, "arch": "|none~0|", "value": "x"}\n'
    path.write_bytes(b"".join(lines))
    with pytest.raises(JournalError, match=r"run.jsonl:4: not a query record"):
        search.run(objectives.conv_count, "random", budget=8, seed=2, space="nb201", resume=path)


KILLED_RUN = """
import sys
sys.path.insert(0, {tests!r})
import search_objectives
from fastrank import search
search.run(search_objectives.slow_conv_count, {strategy!r}, budget=30, seed=7, space="nb201", journal={path!r},
           **{options!r})
"""


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["predictor", "proxy-validation-ea"])
def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path, strategy):
    """SIGKILL at several points; each resumed run equals the uninterrupted one query for query."""
    from test_search import fast_options

    options = fast_options(strategy)
    whole = search.run(objectives.slow_conv_count, strategy, budget=30, seed=7, space="nb201", **options)
    for stop_after in (3, 12, 23):
        path = tmp_path / f"{stop_after}.jsonl"
        script = KILLED_RUN.format(tests=str(TESTS), strategy=strategy, path=str(path), options=options)
        proc = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if path.exists() and len(path.read_bytes().splitlines()) > stop_after:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kept = len(path.read_bytes().splitlines()) - 1
        assert 0 < kept < 30, kept
        resumed = search.run(objectives.slow_conv_count, strategy, budget=30, seed=7, space="nb201", resume=path,
                             **options)
        assert arches(resumed) == arches(whole)
        assert [q.value for q in resumed.queries] == [q.value for q in whole.queries]
        assert len(path.read_bytes().splitlines()) == 31


def test_a_parallel_run_resumes_without_paying_again(tmp_path):
    path = tmp_path / "run.jsonl"
    calls, resuming = [], False

    def evaluate(arch):
        calls.append(arch)
        if len(calls) == 11 and not resuming:
            raise KeyboardInterrupt
        return objectives.conv_count(arch)

    first = search.run(evaluate, "predictor", budget=20, seed=0, space="nb201", loss="HR", journal=path, workers=3,
                       **SMALL)
    assert first.interrupted
    paid = {q.arch for q in first.queries}
    calls.clear()
    resuming = True
    resumed = search.run(evaluate, "predictor", budget=20, seed=0, space="nb201", loss="HR", resume=path, workers=3,
                         **SMALL)
    assert not resumed.interrupted and len(resumed.queries) == 20
    assert not paid & set(calls) and len(calls) == 20 - len(paid)


# --- strategies: the registry and the options ---------------------------------------------------
@pytest.mark.slow
def test_a_users_strategy_from_its_own_file_runs_from_python_and_the_command_line(tmp_path):
    import user_strategy  # noqa: F401  (registers "greedy-mutation")

    result = search.run(objectives.conv_count, "greedy-mutation", budget=15, seed=0, space="nb201", keep=3)
    assert len(result.queries) == 15 and result.query_value >= 3
    with pytest.raises(ValueError, match="registered already"):
        search.register_strategy("greedy-mutation", type("Other", (search.Strategy,), {}))
    with pytest.raises(TypeError, match="Strategy subclass"):
        search.register_strategy("nothing", object)
    done = subprocess.run([sys.executable, "-m", "fastrank", "search", "--import", "user_strategy", "--strategy",
                           "greedy-mutation", "--keep", "3", "--budget", "12", "--quiet", "--out",
                           str(tmp_path / "out")], cwd=TESTS, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "greedy-mutation" in done.stdout and (tmp_path / "out" / "runs.csv").exists()
    missing = subprocess.run([sys.executable, "-m", "fastrank", "search", "--import", "no_such_module"], cwd=TESTS,
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and missing.stderr.startswith("fastrank: --import no_such_module")
    assert "Traceback" not in missing.stderr


def test_every_option_has_a_flag_and_the_docs_table_is_generated():
    from dataclasses import fields

    from fastrank.cli import build_parser
    from fastrank.search.cli_options import options_table

    parser = build_parser()
    search_parser = parser._subparsers._group_actions[0].choices["search"]
    flags = {s for action in search_parser._actions for s in action.option_strings}
    python_only = {"predictor_class"}  # a class: Python only
    for name, cls in list(search.STRATEGIES.items()) + [("evaluation", search.EvaluationOptions)]:
        for f in fields(cls.Options if name != "evaluation" else cls):
            if f.name in python_only:
                continue
            check = f.metadata["check"]
            names = [f"--{k}" for k in check.keys] if hasattr(check, "keys") else [f"--{f.name.replace('_', '-')}"]
            assert set(names) <= flags, (name, f.name)
    docs = (TESTS.parent / "docs" / "search-options.md").read_text()
    assert options_table() in docs, "docs/search-options.md is stale: python -m fastrank.search.cli_options"


def test_options_are_checked_from_python_and_the_command_line():
    with pytest.raises(TypeError, match="per_round must be a positive int"):
        search.run(objectives.conv_count, "predictor", space="nb201", per_round=2.5)
    with pytest.raises(ValueError, match="top_share must be a fraction"):
        search.run("nb201/cifar10", "acenas", top_share=1.5)
    with pytest.raises(TypeError, match="the predictor strategy takes no option 'rounds'.*; its options: .*per_round"):
        search.run(objectives.conv_count, "predictor", space="nb201", rounds=3)
    with pytest.raises(TypeError, match="takes no option 'per_rond' \\(did you mean 'per_round'\\?\\)"):
        search.run(objectives.conv_count, "predictor", space="nb201", per_rond=3)
    with pytest.raises(TypeError, match="the random strategy takes no option 'per_round'; it takes no options"):
        search.run(objectives.conv_count, "random", space="nb201", per_round=3)
    from fastrank.cli import main

    for argv, message in ((["--per-round", "0"], "expected a positive int"),
                          (["--strategy", "random", "--per-round", "3"], "no chosen strategy"),
                          (["--strategy", "random", "random"], "repeated"),
                          (["--workers", "2", "--executor", "ray", "--seeds", "2"], "grid of several runs"),
                          (["--devices", "0,1"], "gives one device per worker process"),
                          (["--address", "10.0.0.1:6379"], "is for the ray executor"),
                          (["--executor", "process", "--num-gpus", "1"], "is for the ray executor")):
        with pytest.raises(SystemExit) as stop:
            main(["search", *argv])
        assert stop.value.code == 2, message
    # an option of another executor would be ignored: refused from Python too
    for options, message in (({"devices": [0]}, "use executor 'process'"),
                             ({"executor": "ray", "devices": [0]}, "on Ray, num_gpus gives"),
                             ({"address": "auto"}, "address .* is for the ray executor, not 'thread'"),
                             ({"executor": "process", "num_cpus": 2.0}, "num_cpus .* is for the ray executor")):
        with pytest.raises(ValueError, match=message):
            search.run(objectives.conv_count, "random", budget=3, space="nb201", workers=2, **options)


def test_small_budgets_fit_once_two_results_are_back():
    """acenas at a budget under 2 × rounds (a first round of one), and n_init=1: the strategy
    draws one more at random instead of fitting on a single result."""
    for strategy, options in (("acenas", {"pretrain_epochs": 1}), ("predictor", {"n_init": 1}),
                              ("evolution", {"n_init": 1})):
        result = search.run("nb201/cifar10", strategy, budget=12, seed=0,
                            **{**options, "predictor": {"epochs": 3}})
        assert len(result.queries) == 12, strategy


def test_values_near_the_float_range_are_searched_not_refused():
    """1e308 is a finite value: the predictor standardises it without overflow, and the
    acquisition standardises the models' scores without NaN (a warning here is an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = search.run(lambda arch: 1e308 * (objectives.conv_count(arch) / 7.0), "predictor", budget=12,
                            seed=0, space="nb201", **SMALL)
    assert not result.failed and len(result.queries) == 12


def test_a_worker_whose_parent_is_gone_ends_itself():
    # the watch that backs the kernel's parent-death signal (and stands in for it off Linux): told
    # that its parent is a process it does not have, the worker ends within a second or so
    code = "import time; from fastrank.search.evaluators import _die_with; _die_with(-1); time.sleep(60)"
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - start < 30


def test_a_journal_is_written_by_one_run_at_a_time(tmp_path):
    # a second copy of a run (a job started twice, a requeue while the first still runs) would
    # interleave its records with the first's: it is refused while the first holds the journal
    path = tmp_path / "run.jsonl"
    first = search.Search(None, "random", budget=6, seed=0, space="nb201", journal=path)
    arch = first.ask(1)[0]
    first.tell(arch, 1.0)
    before = path.read_bytes()
    with pytest.raises(JournalError, match="another run is writing this journal"):
        search.run(objectives.conv_count, "random", budget=6, seed=0, space="nb201", resume=path)
    with pytest.raises(JournalError, match="another run is writing this journal"):
        search.run(objectives.conv_count, "random", budget=6, seed=0, space="nb201", journal=path)
    assert path.read_bytes() == before
    first.close()  # search.run closes its own search when it ends
    with search.Search(None, "random", budget=6, seed=0, space="nb201", resume=path) as resumed:
        assert [q.arch for q in resumed.queries] == [arch]
        with pytest.raises(JournalError, match="another run is writing this journal"):
            search.Search(None, "random", budget=6, seed=0, space="nb201", resume=path)
    with search.Search(None, "random", budget=6, seed=0, space="nb201", resume=path) as again:  # released
        assert [q.arch for q in again.queries] == [arch]
