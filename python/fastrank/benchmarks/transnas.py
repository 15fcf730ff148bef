"""TransNAS-Bench-101 (``tnb101_micro/<task>``, ``tnb101_macro/<task>``): its cell (micro) and
macro-skeleton (macro) spaces on 7 tasks, from the packaged ``tnb101_micro.csv`` and
``tnb101_macro.csv``; one family per space."""
from __future__ import annotations

import functools
from typing import Optional

from ..spaces import TransNASMacro, TransNASMicro
from . import csv_tables
from .family import CsvTable, Family, register_family
from .tabular import TabularBenchmark

TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
SPACES = {"micro": TransNASMicro, "macro": TransNASMacro}
TABLES = {"micro": CsvTable("tnb101_micro.csv", rows=4096), "macro": CsvTable("tnb101_macro.csv", rows=3256)}


def target_column(task: str) -> str:
    """The task's validation metric, the one metric of the tables."""
    return f"{task}_valid"


def load_transnas(space_name: str, task: str, path: Optional[str] = None) -> TabularBenchmark:
    """TransNAS-Bench-101 ``micro`` or ``macro`` on one of its 7 tasks (validation metric,
    higher is better: room_layout is a negative L2 loss); weak label "zen" (NaN where the
    proxy failed)."""
    if task not in TASKS:
        raise ValueError(f"TransNAS task must be one of {TASKS}, got {task!r}")
    if space_name not in SPACES:
        raise ValueError(f"TransNAS space must be 'micro' or 'macro', got {space_name!r}")
    column = target_column(task)
    table = csv_tables.read(TABLES[space_name], ["arch", column, f"{task}_zen"], path)
    space = SPACES[space_name]()
    zen = csv_tables.weak(table, f"{task}_zen", missing_below=csv_tables.FAILED_PROXY)
    return TabularBenchmark(f"tnb101_{space_name}/{task}", space, column, csv_tables.archs(table, space, ["arch"]),
                            csv_tables.target(table, column), weak_labels={"zen": zen}, source=table.where)


def _family(space_name: str, **seed_pw) -> Family:
    table, space = TABLES[space_name], SPACES[space_name]
    return Family(f"tnb101_{space_name}", functools.partial(load_transnas, space_name), parts=TASKS,
                  space=space.name, size=table.rows, weak_labels=("zen",), source=table, target=target_column,
                  ignores_options=True, **seed_pw)


MICRO = register_family(_family("micro", seed_pw="tnb101_micro", seed_pw_by_part={"jigsaw": "tnb101_micro_jigsaw"}))
MACRO = register_family(_family("macro"))
