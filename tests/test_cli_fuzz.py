"""Hypothesis over the command line: any argv of known flags and hostile values ends with exit
status 0, 2 or 130, one clear line and no traceback, and writes nothing when the status is 2.
The runs themselves are replaced by stubs (their files are tested elsewhere): what is under test
is that every mistake is caught before work starts."""
from __future__ import annotations

import contextlib
import itertools
import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastrank import cli

VALUES = ["0", "1", "2", "-1", "3", "0.5", "1e300", "-1e-300", "nan", "inf", "abc", "", " ", "1,,2", "0-2", "2-0",
          "1000000000000", "random", "predictor", "evolution", "acenas", "proxy-validation", "nb201/cifar10",
          "nb201/cifar100", "nb101", "nb999", "tnb101_micro/jigsaw", "HR", "MSE", "pw", "pw:", "pw:HR,MAPE@x",
          "LambdaRank:k=abc", "LambdaRank:k=3", "sum:MSE=1,MSE=2", "sum:MSE=1,HR=0.5", "valid", "test", "zen", "all",
          "thread", "process", "ray", "local", "gcn", "gin", "0,1", "/dev/null", "paper", "quick"]


def _flags(command: str):
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    return sorted({s for a in sub._actions for s in a.option_strings
                   if s.startswith("--") and s not in ("--help", "--import", "--address")})


@pytest.fixture(autouse=True)
def no_runs(monkeypatch):
    """Stub the work: a run grid returns nothing, a study computes nothing."""
    from fastrank.search import parallel
    from fastrank.study import runner

    monkeypatch.setattr(parallel, "run_many", lambda jobs, workers=None, progress=True, on_result=None: ([], False))

    def study(cells, out, executor="local", **kwargs):
        return runner.StudyRun(out, len(cells), 0, 0, 0.0, False, ())

    monkeypatch.setattr(runner, "run_study", study)


counter = itertools.count()


def check(argv, tmp_path, capsys):
    out = tmp_path / f"out{next(counter)}"
    argv = [a.replace("OUT", str(out)) for a in argv]
    try:
        with contextlib.chdir(tmp_path):  # a relative value ("--out nan") must not write into the checkout
            code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        pytest.fail(f"fastrank {' '.join(argv)} raised:\n{traceback.format_exc()}")
    err = capsys.readouterr().err
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2, 130), (argv, code, err)
    if code == 2:
        assert not out.exists(), (argv, "wrote", out)
        assert err.strip(), argv


def argvs(command: str):
    flags = _flags(command)
    pair = st.tuples(st.sampled_from(flags), st.sampled_from(VALUES + ["OUT"]), st.booleans())
    return st.lists(pair, max_size=5).map(
        lambda pairs: [command] + [x for f, v, with_value in pairs for x in ((f, v) if with_value else (f,))])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=argvs("search"))
def test_search_argv(argv, tmp_path, capsys):
    check(argv, tmp_path, capsys)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=argvs("study"))
def test_study_argv(argv, tmp_path, capsys):
    check(argv, tmp_path, capsys)
