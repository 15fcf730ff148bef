"""The strategies' and the driver's options as ``fastrank search`` flags and as the docs'
options table, both generated from the options dataclasses (:mod:`fastrank.search.options`).

    python -m fastrank.search.cli_options > docs/search-options.md     # after changing an option
"""
from __future__ import annotations

import argparse
from typing import List

from .driver import EvaluationOptions
from .options import Flag, add_flags, collect_flags, given, markdown_table
from .strategy import STRATEGIES

# declared by the command itself: --workers has a rule of its own for grids of runs
_OWN = {"workers"}


def strategy_flags(names=None) -> List[Flag]:
    """The flags of the registered strategies (or of ``names``)."""
    return collect_flags((name, STRATEGIES[name].Options) for name in (STRATEGIES if names is None else names))


def evaluation_flags() -> List[Flag]:
    return [f for f in collect_flags([("", EvaluationOptions)]) if f.name not in _OWN]


def add_search_flags(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, strategy_flags(), "strategy options (each strategy keeps its own default where not given)")
    add_flags(parser, evaluation_flags(), "evaluation: parallel workers, executors, failures")


def strategy_options(args: argparse.Namespace, strategy: str) -> dict:
    """The options of ``strategy`` that the command line set."""
    return given(args, strategy_flags(), STRATEGIES[strategy].Options)


def evaluation_options(args: argparse.Namespace) -> dict:
    return given(args, evaluation_flags(), EvaluationOptions)


def unused_flags(args: argparse.Namespace, strategies) -> List[str]:
    """Flags given that none of ``strategies`` takes."""
    out = []
    for fl in strategy_flags():
        if getattr(args, fl.dest, None) is not None and not any(o in strategies for o, _ in fl.owners):
            out.append(fl.option_string)
    return out


def options_table() -> str:
    """The markdown table of every built-in strategy's options and the evaluation options (the
    docs hold it)."""
    from .strategies import BUILT_IN

    return ("### Strategy options\n\n" + markdown_table(strategy_flags(BUILT_IN)) + "\n\n### Evaluation options\n\n"
            + markdown_table(collect_flags([("", EvaluationOptions)])) + "\n")


def main() -> None:
    print("# Search options\n")
    print("Generated from the options dataclasses by `python -m fastrank.search.cli_options`; the tests")
    print("check that this page matches them. Every option is a keyword argument of `fastrank.search.run`")
    print("(and `Search`) and a flag of `fastrank search`; a flag applies to the chosen strategies that take")
    print("it, and a strategy keeps its own default where the flag is not given.\n")
    print(options_table(), end="")


if __name__ == "__main__":
    main()
