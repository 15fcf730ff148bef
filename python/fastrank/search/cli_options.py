"""The strategies' and the driver's options as ``fastrank search`` flags and as the docs'
options table, both generated from the options dataclasses (:mod:`fastrank.search.options`)."""
from __future__ import annotations

import argparse
from typing import List

from .driver import EvaluationOptions
from .options import Flag, add_flags, collect_flags, given, markdown_table
from .strategy import STRATEGIES

# declared by the command itself: --workers has a rule of its own for grids of runs
_OWN = {"workers"}


def strategy_flags() -> List[Flag]:
    return collect_flags((name, cls.Options) for name, cls in STRATEGIES.items())


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
    """The markdown table of every strategy option and evaluation option (the docs hold it)."""
    return ("### Strategy options\n\n" + markdown_table(strategy_flags()) + "\n\n### Evaluation options\n\n"
            + markdown_table(collect_flags([("", EvaluationOptions)])) + "\n")
