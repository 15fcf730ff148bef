"""The command-line reference page, generated from the parser itself:
``python -m fastrank.cli_reference > docs/cli.md`` (a test checks the page is current)."""
from __future__ import annotations

import argparse
import os


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:  # argparse keeps its subcommands here and nowhere public
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def reference() -> str:
    """Markdown: each subcommand's full help, at a fixed width so the page does not depend on
    the terminal it was made in."""
    from .cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        parser = build_parser()
        parts = ["# Command line\n",
                 "Generated from the parser by `python -m fastrank.cli_reference`; the tests check that this "
                 "page matches it.\nThe options of the search strategies and of evaluation are tabled in "
                 "[search options](search-options.md).\n"]
        for name, sub in _subparsers(parser).items():
            parts.append(f"## fastrank {name}\n\n```text\n{sub.format_help().rstrip()}\n```\n")
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
