"""The examples of README and docs/*.md: every Python block runs as written (each in a fresh
namespace, in a temporary folder); every `fastrank` command line parses, and the quick ones run;
the README's test commands are the ones `.ci/run` runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README] + sorted((ROOT / "docs").glob("*.md"))
# (page, index on the page, code): every python block of README and the docs pages
BLOCKS = [(page.relative_to(ROOT).as_posix(), i, code) for page in PAGES
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S))]


def test_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("page, index, code", BLOCKS, ids=[f"{p}:{i}" for p, i, _ in BLOCKS])
def test_readme_example_runs(page, index, code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # examples write files (a saved predictor, a trace)
    # dont_inherit: this file's `from __future__ import annotations` must not reach the examples
    exec(compile(code, f"{page} python block {index}", "exec", dont_inherit=True), {"__name__": "readme"})


# --- the shell blocks ------------------------------------------------------------------------------
def _shell_lines():
    """(page, line) of every command in the README's and docs' shell blocks (bash or unlabelled;
    text blocks are output), comments and continuation backslashes joined away."""
    import shlex

    out = []
    for page in PAGES:
        for lang, body in re.findall(r"```(\w*)\n(.*?)```", page.read_text(), flags=re.S):
            if lang not in ("bash", ""):
                continue
            for line in body.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    out.append((page.relative_to(ROOT).as_posix(), words))
    return out


SHELL = _shell_lines()
COMMANDS = [(page, words) for page, words in SHELL if words[0] == "fastrank"]


def test_the_docs_show_commands():
    assert len(COMMANDS) >= 10


@pytest.mark.parametrize("page, words", COMMANDS, ids=[f"{p}:{' '.join(w)[:60]}" for p, w in COMMANDS])
def test_every_fastrank_command_of_the_docs_parses(page, words):
    """Each `fastrank ...` line of the README and docs is one the command line accepts, flag for
    flag (the runs themselves are minutes to hours; the cheap ones run below)."""
    from fastrank.cli import build_parser

    args = build_parser().parse_args(words[1:])
    assert args.command == words[1]


@pytest.mark.parametrize("page, words", [c for c in COMMANDS if c[1][1] in ("model", "benchmarks")],
                         ids=lambda v: " ".join(v)[:60] if isinstance(v, list) else v)
def test_the_quick_commands_of_the_docs_run(page, words, tmp_path, monkeypatch, capsys):
    from fastrank.cli import main

    monkeypatch.chdir(tmp_path)  # `--out model.pt2` writes here
    assert main(words[1:]) == 0
    assert capsys.readouterr().out


def test_ci_runs_the_readme_test_commands():
    """.ci/run is the README's set-up and test commands, so a fresh machine works as the README says."""
    readme = README.read_text()
    block = readme[readme.index("python -m venv .venv", readme.index("## Tests")):]
    ci = (ROOT / ".ci" / "run").read_text()
    for line in block.split("```")[0].strip().splitlines():
        command = line.split("#")[0].strip()
        if command and not command.startswith("python -m venv"):  # .ci/run says python3
            assert command in ci, f"README test command not in .ci/run: {command}"
