"""Loaders of the CSV benchmark tables (../shared/data: see its README)."""
from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from ..spaces import DARTS, InvalidArchitecture, NASBench101, NASBench201, NASBenchMacro, TransNASMacro, TransNASMicro
from .tabular import TabularBenchmark

NB201_DATASETS = ("cifar10", "cifar100", "imagenet16")
TRANSNAS_TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
ZERO_COST = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
             "snip", "synflow")
FAILED_PROXY = -1e8  # TransNAS zero-cost tables mark a failed proxy with this value


def data_dir(path: Optional[str] = None) -> Path:
    """The folder of the CSV tables: ``path``, else $FASTRANK_DATA."""
    chosen = path if path is not None else os.environ.get("FASTRANK_DATA")
    if chosen is None:
        raise FileNotFoundError("no benchmark data folder: pass data_dir=... or set FASTRANK_DATA "
                                "(the folder holding nb201.csv, tnb101_micro.csv, ...)")
    folder = Path(chosen).expanduser()
    if not folder.is_dir():
        where = "data_dir" if path is not None else "FASTRANK_DATA"
        raise FileNotFoundError(f"benchmark data folder {str(folder)!r} (from {where}) does not exist")
    return folder


def _read(folder: Path, name: str, required: List[str]) -> List[Dict[str, str]]:
    file = folder / name
    if not file.is_file():
        raise FileNotFoundError(f"benchmark table {name} not found: looked for {str(file)!r}")
    with open(file, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{str(file)!r} is malformed: missing column(s) {missing}")
        rows = list(reader)
    if not rows:
        raise ValueError(f"{str(file)!r} is malformed: no rows")
    return rows


def _floats(rows, column: str, file: str, missing_below: Optional[float] = None) -> np.ndarray:
    out = np.empty(len(rows))
    for i, row in enumerate(rows):
        text = row.get(column, "")
        try:
            out[i] = float(text) if text != "" else math.nan
        except ValueError:
            raise ValueError(f"{file} is malformed: row {i + 2}, column {column!r} is {text!r}, not a number") from None
    if missing_below is not None:
        out[out <= missing_below] = math.nan
    return out


def _archs(space, rows, file, text_of) -> List:
    archs = []
    for i, row in enumerate(rows):
        try:
            archs.append(space.parse(text_of(row)))
        except InvalidArchitecture as err:
            raise ValueError(f"{file} is malformed: row {i + 2}: {err}") from None
    return archs


def load_nb201(dataset: str = "cifar10", metric: str = "valid", path: Optional[str] = None) -> TabularBenchmark:
    """NAS-Bench-201 on cifar10 / cifar100 / imagenet16 (ImageNet16-120): accuracy (%) at
    200 epochs, ``metric`` "valid" or "test"; weak label "zen" (Zen-NAS score)."""
    if dataset not in NB201_DATASETS:
        raise ValueError(f"NB201 dataset must be one of {NB201_DATASETS}, got {dataset!r}")
    if metric not in ("valid", "test"):
        raise ValueError(f"metric must be 'valid' or 'test', got {metric!r}")
    folder = data_dir(path)
    column = f"{dataset}_{metric}"
    rows = _read(folder, "nb201.csv", ["arch", column, f"{dataset}_zen"])
    space = NASBench201()
    return TabularBenchmark(
        f"nb201/{dataset}", space, column, _archs(space, rows, "nb201.csv", lambda r: r["arch"]),
        _floats(rows, column, "nb201.csv"), weak_labels={"zen": _floats(rows, f"{dataset}_zen", "nb201.csv")},
        source=str(folder / "nb201.csv"))


def load_transnas(space_name: str, task: str, path: Optional[str] = None) -> TabularBenchmark:
    """TransNAS-Bench-101 ``micro`` or ``macro`` on one of its 7 tasks (validation metric,
    higher is better: room_layout is a negative L2 loss); weak label "zen" (NaN where the
    proxy failed)."""
    if task not in TRANSNAS_TASKS:
        raise ValueError(f"TransNAS task must be one of {TRANSNAS_TASKS}, got {task!r}")
    spaces = {"micro": TransNASMicro, "macro": TransNASMacro}
    if space_name not in spaces:
        raise ValueError(f"TransNAS space must be 'micro' or 'macro', got {space_name!r}")
    folder = data_dir(path)
    file = f"tnb101_{space_name}.csv"
    rows = _read(folder, file, ["arch", f"{task}_valid", f"{task}_zen"])
    space = spaces[space_name]()
    return TabularBenchmark(
        f"tnb101_{space_name}/{task}", space, f"{task}_valid", _archs(space, rows, file, lambda r: r["arch"]),
        _floats(rows, f"{task}_valid", file),
        weak_labels={"zen": _floats(rows, f"{task}_zen", file, missing_below=FAILED_PROXY)},
        source=str(folder / file))


def _zero_cost_sample(name: str, space, file: str, arch_columns, joiner: str, path) -> TabularBenchmark:
    """The NB101 / NB301 samples: CIFAR-10 validation accuracy and every zero-cost proxy column."""
    folder = data_dir(path)
    rows = _read(folder, file, list(arch_columns) + ["cifar10_valid"])
    weak = {proxy: _floats(rows, proxy, file) for proxy in ZERO_COST if proxy in rows[0]}
    return TabularBenchmark(
        name, space, "cifar10_valid", _archs(space, rows, file, lambda r: joiner.join(r[c] for c in arch_columns)),
        _floats(rows, "cifar10_valid", file), weak_labels=weak, source=str(folder / file))


def load_nb101(path: Optional[str] = None) -> TabularBenchmark:
    """The NAS-Bench-101 sample: CIFAR-10 validation accuracy (%) and zero-cost proxies."""
    return _zero_cost_sample("nb101", NASBench101(), "nb101_subset.csv", ("adjacency", "ops"), ";", path)


def load_nb301(path: Optional[str] = None) -> TabularBenchmark:
    """The DARTS-space sample with NAS-Bench-301 CIFAR-10 validation accuracy (%) and
    zero-cost proxies."""
    return _zero_cost_sample("nb301", DARTS(), "nb301_subset.csv", ("normal", "reduce"), "|", path)


def load_nasbench_macro(path: Optional[str] = None) -> TabularBenchmark:
    """NAS-Bench-Macro: CIFAR-10 test accuracy (%, mean of 3 seeds); weak labels params, flops."""
    folder = data_dir(path)
    file = "nasbench_macro.csv"
    rows = _read(folder, file, ["arch", "cifar10_test_mean", "params", "flops"])
    space = NASBenchMacro()
    return TabularBenchmark(
        "nasbench_macro", space, "cifar10_test_mean", _archs(space, rows, file, lambda r: r["arch"]),
        _floats(rows, "cifar10_test_mean", file),
        weak_labels={"params": _floats(rows, "params", file), "flops": _floats(rows, "flops", file)},
        source=str(folder / file))
