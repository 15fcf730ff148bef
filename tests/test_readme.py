"""The Python examples of README and docs/*.md run as written (each block in a fresh namespace, in a temporary folder)."""
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
