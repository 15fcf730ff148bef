"""README's Python examples run as written (each block in a fresh namespace, in a temporary folder)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # examples write files (a saved predictor, a trace)
    # dont_inherit: this file's `from __future__ import annotations` must not reach the examples
    exec(compile(BLOCKS[index], f"README.md python block {index}", "exec", dont_inherit=True), {"__name__": "readme"})
