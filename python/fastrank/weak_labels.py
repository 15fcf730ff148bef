"""Weak supervision (AceNAS): cheap labels an encoder is pretrained on before it sees accuracies.

AceNAS pretrains its architecture encoder on the accuracies a weight-sharing super-net gives
every architecture, then fine-tunes it on a few architectures trained from scratch. fastrank
has no super-net; the weak labels are what the packaged benchmarks hold for every row at no
training cost: zero-cost proxies (zen on NB201 and TransNAS; synflow, snip, jacov, ... on the
NB101 and NB301 samples), params and FLOPs (NAS-Bench-Macro), latency and params
(NAS-Bench-Graph), and AnalogNAS' hardware accuracies.
"""
from __future__ import annotations

from typing import Dict, Mapping, Sequence, Tuple, Union

import numpy as np
import torch

from ._overflow import overflow_scale

__all__ = ["select_weak_labels", "standardise_weak_labels", "masked_multihead_mse"]


def select_weak_labels(benchmark, names: Union[str, Sequence[str]]) -> Dict[str, np.ndarray]:
    """The named weak labels of a benchmark table (``"all"``, a comma list or a sequence of
    names), in the order given. An unknown name raises ValueError listing the available ones."""
    available = dict(benchmark.weak_labels)
    if isinstance(names, str):
        names = list(available) if names.strip().lower() == "all" else [n.strip() for n in names.split(",")]
    names = list(names)
    if not names or any(not isinstance(n, str) or not n for n in names):
        raise ValueError(f"name at least one weak label of {benchmark.name}; it has "
                         f"{', '.join(available) or 'none'}")
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"{benchmark.name} has no weak label {', '.join(map(repr, unknown))}; available: "
                         f"{', '.join(available) or 'none'}")
    if len(set(names)) != len(names):
        raise ValueError(f"weak labels named twice: {names}")
    return {n: available[n] for n in names}


def standardise_weak_labels(labels: Mapping[str, object], n: int) -> Tuple[Tuple[str, ...], np.ndarray, np.ndarray,
                                                                           np.ndarray]:
    """Checks named weak labels (NaN = missing) for ``n`` architectures and z-scores each over
    its known values: (names, z (n, labels) with NaN where missing, means, stds)."""
    if not isinstance(labels, Mapping) or not labels:
        raise TypeError("weak_labels must be a non-empty mapping of label name -> one value per architecture")
    names, columns = [], []
    for name, values in labels.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"weak label names must be non-empty strings, got {name!r}")
        try:
            column = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"weak label {name!r} must hold real numbers") from None
        if column.shape != (n,):
            raise ValueError(f"weak label {name!r} must hold one value per architecture: {n} architectures, "
                             f"shape {column.shape}")
        if np.isinf(column).any():
            raise ValueError(f"weak label {name!r} contains infinity (mark a missing value with NaN)")
        known = column[~np.isnan(column)]
        if known.size < 2:
            raise ValueError(f"weak label {name!r} has fewer than 2 known values")
        if known.max() == known.min():
            raise ValueError(f"weak label {name!r} is constant: there is nothing to learn from it")
        names.append(name)
        columns.append(column)
    table = np.stack(columns, axis=1)
    scale = overflow_scale(table, axis=0)  # a column beyond 1e150: its squares would overflow
    unit = table / scale
    unit_mean, unit_std = np.nanmean(unit, axis=0), np.nanstd(unit, axis=0)
    return tuple(names), (unit - unit_mean) / unit_std, unit_mean * scale, unit_std * scale


def masked_multihead_mse(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Σ over heads of the mean squared error over that head's known targets (NaN = missing),
    as AceNAS sums one MSE per head; a head with no known target in the batch adds 0."""
    if scores.shape != targets.shape:
        raise ValueError(f"scores {tuple(scores.shape)} and targets {tuple(targets.shape)} differ in shape")
    if scores.dim() == 1:  # one head
        scores, targets = scores.unsqueeze(1), targets.unsqueeze(1)
    known = ~torch.isnan(targets)
    squared = torch.where(known, scores - targets.nan_to_num(), torch.zeros_like(scores)) ** 2
    counts = known.sum(0).clamp_min(1).to(scores.dtype)
    return (squared.sum(0) / counts).sum()
