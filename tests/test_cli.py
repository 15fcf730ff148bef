"""The fastrank command, through a subprocess as a user runs it."""
from __future__ import annotations

import csv
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastrank.seeds import parse_seeds


def fastrank(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fastrank", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def read(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_search_writes_runs_trace_and_plot(tmp_path):
    out = tmp_path / "out"
    done = fastrank("search", "--strategy", "random", "predictor", "--loss", "HR", "pw:HR,MAPE@10", "--budget", "15",
                    "--seeds", "2", "--epochs", "3", "--workers", "1", "--quiet", "--out", str(out))
    assert done.returncode == 0, done.stderr
    runs = read(out / "runs.csv")
    assert [(r["strategy"], r["loss"], r["seed"]) for r in runs] == [
        ("random", "-", "0"), ("random", "-", "1"), ("predictor", "HR", "0"), ("predictor", "HR", "1"),
        ("predictor", "pw:HR,MAPE@10", "0"), ("predictor", "pw:HR,MAPE@10", "1")]
    assert all(r["benchmark"] == "nb201/cifar10" and r["protocol"] == "valid" and r["budget"] == "15" for r in runs)
    assert all(1 <= int(r["rank"]) <= 15625 and float(r["regret"]) >= 0 for r in runs)
    trace = read(out / "trace.csv")
    assert len(trace) == 6 * 15
    assert (out / "best_so_far.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "predictor + HR" in done.stdout
    import torch  # the best run's architecture by what the searches saw (not the test value), as CIFAR-10's network

    best = max(runs, key=lambda r: float(r["query_value"]))
    program = torch.export.load(str(out / "model.pt2"))
    assert program.module()(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    from fastrank.spaces import NASBench201

    space = NASBench201()
    expected = space.to_module(space.parse(best["arch"])).eval()
    assert sum(p.numel() for p in program.parameters()) == sum(p.numel() for p in expected.parameters())


def test_an_out_folder_that_cannot_be_written_is_a_usage_error_before_any_run(tmp_path, capsys):
    import os
    from pathlib import Path

    from fastrank.cli import main

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # root writes in a read-only folder anyway; sysfs refuses even root
        target = locked / "out" if not os.access(locked, os.W_OK) else Path("/sys/fastrank_out")
        if not target.parent.is_dir():
            pytest.skip("no folder here that refuses writes")
        with pytest.raises(SystemExit) as stop:
            main(["search", "--strategy", "random", "--budget", "3", "--quiet", "--out", str(target)])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --out: cannot write in {target}" in err and "Traceback" not in err
        assert not target.exists()
    finally:
        locked.chmod(0o700)


def test_the_rank_line_says_what_the_table_is(capsys):
    from fastrank.cli import main

    assert main(["search", "--benchmark", "nb101", "--strategy", "random", "--budget", "5", "--quiet"]) == 0
    assert re.search(r"^rank +\d+ of 500 rows of the table \(a sample of the space, 292 distinct cells\)$",
                     capsys.readouterr().out, flags=re.M)
    assert main(["search", "--strategy", "random", "--budget", "5", "--quiet"]) == 0
    assert re.search(r"^rank +\d+ of 15625 in the space$", capsys.readouterr().out, flags=re.M)


@pytest.mark.slow
def test_several_benchmarks_write_one_model_each(tmp_path, capsys):
    """Values of different benchmarks do not compare: each gets its own found network."""
    import torch

    from fastrank.cli import main

    out = tmp_path / "out"
    assert main(["search", "--benchmark", "nb201/cifar10", "nb201/imagenet16", "--strategy", "random", "--budget", "4",
                 "--workers", "1", "--quiet", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.pt2")) == ["model-nb201-cifar10.pt2", "model-nb201-imagenet16.pt2"]
    program = torch.export.load(str(out / "model-nb201-imagenet16.pt2"))
    assert program.module()(torch.randn(2, 3, 16, 16)).shape == (2, 120)


@pytest.mark.slow
def test_one_run_prints_the_choice():
    done = fastrank("search", "--budget", "12", "--epochs", "2", "--protocol", "test", "--seeds", "4-4", "--quiet")
    assert done.returncode == 0, done.stderr
    for field in ("architecture", "query value", "test value", "rank", "regret", "seed 4"):
        assert field in done.stdout


@pytest.mark.slow
def test_parallel_workers_give_the_same_runs(tmp_path):
    args = ["search", "--strategy", "predictor", "--loss", "MSE", "--budget", "12", "--seeds", "0,3", "--epochs", "2",
            "--quiet"]
    one = fastrank(*args, "--workers", "1", "--out", str(tmp_path / "a"))
    two = fastrank(*args, "--workers", "2", "--out", str(tmp_path / "b"))
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    keep = lambda rows: [(r["seed"], r["arch"], r["query_value"]) for r in rows]  # noqa: E731
    assert keep(read(tmp_path / "a" / "runs.csv")) == keep(read(tmp_path / "b" / "runs.csv"))


@pytest.mark.parametrize("args,message", [
    (["--strategy", "annealing"], ("invalid choice: 'annealing'", "random", "predictor", "evolution")),
    (["--benchmark", "nb999"], "unknown benchmark 'nb999' (choose from nb201/cifar10"),
    (["--loss", "pw:HR"], "pw:WARMUP,FOCUS@N"),
    (["--loss", "nope"], "known: MSE, HR"),
    (["--seeds", "5-2"], "empty seed range"),
    (["--budget", "0"], "positive int"),
    (["--protocol", "train"], ("invalid choice: 'train'", "valid", "test")),
    (["--loss", "LambdaRank:k=abc"], "k must be an int"),  # a loss hyperparameter, before any run
    (["--loss", "pw:"], "write pw"),
    (["--loss", "sum:MSE=1,MSE=2"], "MSE appears twice"),
    (["--strategy", "random", "random"], "repeated"),
    (["--seeds", "1,,2"], "empty item"),
    (["--seeds", "1000000000000"], "more than 100,000 seeds"),
    (["--strategy", "random", "--n-init", "3"], "no chosen strategy"),
    (["--strategy", "acenas", "--rounds", "0"], "positive int"),
    (["--strategy", "proxy-validation", "--alpha-lr", "1e300"], "up to 1e6"),
    (["--strategy", "predictor", "--pretrain", "nope"], "--pretrain"),
    (["--executor", "ray", "--seeds", "2", "--workers", "2"], "--executor is for the evaluations of one run"),
])
@pytest.mark.slow
def test_bad_options_are_usage_errors_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    done = fastrank("search", *args, "--out", str(out))
    assert done.returncode == 2
    for part in (message,) if isinstance(message, str) else message:
        assert part in done.stderr
    assert "usage:" in done.stderr
    assert not out.exists()


def test_a_missing_benchmark_package_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    from fastrank import cli
    from fastrank.search import BenchmarkTask

    def missing(cls, name, protocol="valid"):  # as without the optional nas-bench-graph package
        raise FileNotFoundError("this benchmark needs the PyPI package nas-bench-graph (pip install '.[nas]')")

    monkeypatch.setattr(BenchmarkTask, "load", classmethod(missing))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        cli.main(["search", "--benchmark", "nasbench-graph/cora", "--out", str(out)])
    assert stop.value.code == 2
    assert capsys.readouterr().err == ("fastrank: nasbench-graph/cora: this benchmark needs the PyPI package "
                                       "nas-bench-graph (pip install '.[nas]')\n")
    assert not out.exists()


@pytest.mark.slow
def test_benchmarks_lists_every_table():
    done = fastrank("benchmarks")
    assert done.returncode == 0
    for name in ("nb201/cifar10", "tnb101_micro/jigsaw", "nb101", "nb301", "nasbench_macro"):
        assert name in done.stdout
    assert "15,625" in done.stdout


def test_parse_seeds():
    assert parse_seeds("3") == [0, 1, 2]
    assert parse_seeds("4-6") == [4, 5, 6]
    assert parse_seeds("9,2") == [9, 2]


@pytest.mark.slow
def test_ctrl_c_keeps_the_partial_run(tmp_path):
    """SIGINT while the search runs: the partial run is printed and written, exit status 130."""
    import os
    import signal

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "fastrank", "search", "--budget", "100", "--epochs", "400",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TQDM_MININTERVAL": "0"},
                            # a runner that starts jobs in the background hands them SIGINT ignored,
                            # and Python then installs no KeyboardInterrupt handler: restore the default
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(proc, r"\b(1[1-9]|[2-9]\d)/100\b")  # past the random start: fitting rounds
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    runs = read(out / "runs.csv")
    assert len(runs) == 1 and runs[0]["interrupted"] == "True" and 1 <= int(runs[0]["queries"]) < 100
    assert len(read(out / "trace.csv")) == int(runs[0]["queries"])
    assert "architecture" in stdout
    assert f"--resume {out}" in stderr
    resumed = fastrank("search", "--resume", str(out), "--quiet")  # the run goes on from its journal
    assert resumed.returncode == 0, resumed.stderr
    runs = read(out / "runs.csv")
    assert len(runs) == 1 and runs[0]["interrupted"] == "False" and runs[0]["queries"] == "100"
    whole = fastrank("search", "--budget", "100", "--epochs", "400", "--quiet")  # the same run, uninterrupted
    assert runs[0]["arch"] in whole.stdout


@pytest.mark.slow
def test_ctrl_c_stops_the_worker_processes_quietly(tmp_path):
    """Ctrl-C in a terminal reaches the whole process group, the evaluation workers too: only the
    parent speaks (no "Process process-0:" or traceback from a worker stopped mid-training)."""
    import os
    import signal

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "fastrank", "search", "--space", "nb201", "--objective", "digits",
                             "--budget", "30", "--workers", "2", "--executor", "process", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "TQDM_MININTERVAL": "0"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(proc, r"\b[2-9]/30\b")  # evaluations have come back, and others are in flight
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and f"--resume {out}" in stderr
    assert "Process process-" not in stderr and "Traceback" not in stderr, stderr


def _wait_for(proc, pattern: str) -> None:
    """Reads the command's stderr until ``pattern`` shows (a progress bar's count)."""
    seen = ""
    while not re.search(pattern, seen):
        char = proc.stderr.read(1)
        assert char, "the search ended before it showed progress"
        seen += char


def _sleeping_search(tmp_path, executor: str):
    """``fastrank search`` of 4 five-minute evaluations, two in flight on ``executor``, once they
    are in flight (Ctrl-C reaches it: SIGINT as the default, whatever the runner gave us)."""
    import os
    import signal

    tests = str(Path(__file__).resolve().parent)
    proc = subprocess.Popen([sys.executable, "-m", "fastrank", "search", "--space", "nb201", "--objective",
                             "search_objectives:sleeps_five_minutes", "--budget", "4", "--workers", "2",
                             "--executor", executor, "--out", str(tmp_path / "out")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TQDM_MININTERVAL": "0",
                                 "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(proc, r"\b0/4\b")
    return proc


@pytest.mark.slow
def test_ctrl_c_does_not_wait_for_trainings_in_threads(tmp_path):
    """A thread cannot be stopped, and Python waits at exit for the threads that are not daemons:
    the thread executor's evaluations in flight must not hold the command for their whole
    training after Ctrl-C."""
    import signal

    proc = _sleeping_search(tmp_path, "thread")
    try:
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)  # not the 300 s of the trainings
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr


def _children(pid: int) -> list:
    """The live (not zombie) processes whose parent is ``pid``, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_worker_processes_end_with_a_killed_search(tmp_path):
    """A search killed outright (SIGKILL, the out-of-memory killer) runs no clean-up: its worker
    processes must not train on for hours, holding their GPUs while --resume starts new ones."""
    import os
    import signal

    proc = _sleeping_search(tmp_path, "process")
    try:
        time.sleep(2)  # the workers have their architectures
        workers = _children(proc.pid)
        assert len(workers) >= 2
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "worker processes outlived the killed search"


@pytest.mark.slow
def test_out_is_checked_before_any_work_and_never_replaced(tmp_path):
    out = tmp_path / "out"
    first = fastrank("search", "--budget", "8", "--strategy", "random", "--seeds", "2", "--quiet", "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = (out / "runs.csv").read_bytes()
    for args, message in ((["--budget", "8", "--out", str(out)], "holds a search already: continue it with --resume"),
                          (["--out", str(out / "runs.csv")], "is a file, not a folder"),
                          (["--resume", str(tmp_path)], "no search in"),
                          (["--resume", str(out), "--budget", "9"], "takes no other options")):
        done = fastrank("search", "--quiet", *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert (out / "runs.csv").read_bytes() == before
    again = fastrank("search", "--resume", str(out), "--quiet")  # finished runs: nothing to do, same rows
    assert again.returncode == 0, again.stderr
    keep = lambda rows: [(r["seed"], r["arch"], r["query_value"]) for r in rows]  # noqa: E731
    assert keep(read(out / "runs.csv")) == keep(csv.DictReader(before.decode().splitlines()))


@pytest.mark.slow
def test_a_closed_pipe_is_not_an_error():
    """`fastrank benchmarks | head -2`: no traceback when the reader stops early."""
    done = subprocess.run(f"{sys.executable} -m fastrank benchmarks | head -2", shell=True, capture_output=True,
                          text=True, timeout=300)
    assert len(done.stdout.splitlines()) == 2 and "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_user_data_folder_is_listed_as_it_is_and_a_malformed_table_is_one_line(tmp_path):
    import lzma
    import os

    from fastrank.benchmarks.table_files import packaged_folder

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "nb201.csv.xz").write_bytes((packaged_folder() / "nb201.csv.xz").read_bytes())
    env = {**os.environ, "FASTRANK_DATA": str(folder)}
    listed = subprocess.run([sys.executable, "-m", "fastrank", "benchmarks"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert str(folder / "nb201.csv.xz") in lines["nb201/cifar10"] and " 15,625 " in lines["nb201/cifar10"]
    assert "missing: nb101_subset.csv or nb101_subset.csv.xz in" in lines["nb101"]
    table = lzma.decompress((packaged_folder() / "nb301_subset.csv.xz").read_bytes()).decode()
    (folder / "nb301_subset.csv").write_text("".join(table.splitlines(True)[:11]))
    listed = subprocess.run([sys.executable, "-m", "fastrank", "benchmarks"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert "10 (not 1,218: load refuses it)" in listed.stdout  # the user's table as it is, not the declared size
    relative = subprocess.run([sys.executable, "-m", "fastrank", "benchmarks"], capture_output=True, text=True,
                              env={**env, "FASTRANK_DATA": "data"}, cwd=tmp_path, timeout=300)
    assert "10 (not 1,218: load refuses it)" in relative.stdout  # a folder named relative to the working one too
    (folder / "nb201.csv").write_text("arch,cifar10_valid\n|none~0|,1,2\n")
    done = subprocess.run([sys.executable, "-m", "fastrank", "search", "--budget", "5"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "nb201.csv" in done.stderr


@pytest.mark.slow
def test_an_unreachable_ray_cluster_is_one_line_not_a_hang(tmp_path):
    pytest.importorskip("ray")
    for command in (["study", "--executor", "ray", "--out", str(tmp_path / "s")],
                    ["search", "--executor", "ray", "--budget", "5"]):
        done = fastrank(*command, "--address", "127.0.0.1:1")
        assert done.returncode == 2, done.stderr
        assert "cannot reach a Ray cluster at 127.0.0.1:1" in done.stderr and "Traceback" not in done.stderr


def test_the_command_line_reference_page_is_current():
    from pathlib import Path

    # a fresh process: spaces or strategies other tests register must not reach the page
    done = subprocess.run([sys.executable, "-m", "fastrank.cli_reference"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    assert done.stdout == page, "docs/cli.md is stale: python -m fastrank.cli_reference > docs/cli.md"


@pytest.mark.parametrize("args, message", [
    (["--space", "nb201", "--objective", "digits", "--pretrain", "auto"], "--objective has none"),
    (["--pretrain", "none"], "--pretrain none takes none of nb201/cifar10's"),
])
def test_acenas_without_weak_labels_is_a_usage_error(args, message, capsys):
    from fastrank.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["search", "--strategy", "acenas", "--budget", "12", "--quiet", *args])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
