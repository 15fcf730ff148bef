"""A run's pretrained encoder (AceNAS' weak supervision): once per run, before the first fit,
on a benchmark's weak labels or on the user's own, cached per process across a grid's runs.

AceNAS' weak labels are a weight-sharing super-net's accuracies; fastrank has no super-net and
uses the cheap labels the benchmark tables hold instead (see :mod:`fastrank.weak_labels`).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Mapping


from ..predictor import Predictor
from ..weak_labels import select_weak_labels

_PRETRAINED: "OrderedDict[tuple, Predictor]" = OrderedDict()  # a grid of runs pretrains each (table, seed) once
_CACHE_SIZE = 8


AUTO = "auto"


def chosen_labels(pretrain, table):
    """``pretrain`` as the weak labels to pretrain on, or None for no pretraining: "auto" is
    every weak label of the benchmark ``table`` where it has any, and none with no table or none
    there; "none" (the command line's way to say None) is none."""
    if isinstance(pretrain, str) and pretrain.strip().lower() == AUTO:
        return "all" if table is not None and len(table.weak_labels) else None
    if isinstance(pretrain, str) and pretrain.strip().lower() == "none":
        return None
    return pretrain


def pretrained_for_run(space, options, seed: int, table=None, candidates=None):
    """The run's pretrained predictor, or None when ``options.pretrain`` chooses no labels: on
    every row of the benchmark ``table`` with its named weak labels, or on the run's fixed
    ``candidates`` (``candidates=``, else every architecture of an enumerable space in code
    order) with a mapping of weak labels aligned to them. Pretrainings on a table are kept per
    process (a grid's runs share them), keyed by everything they depend on."""
    labels = chosen_labels(options.pretrain, table)
    if labels is None:
        return None
    if isinstance(labels, Mapping):
        if candidates is None:
            raise ValueError("weak labels given as a mapping need a fixed list of candidates to be aligned with: "
                             "pass candidates= (the space is too large to list)")
        archs, key = list(candidates), None
    else:
        if table is None:
            raise ValueError("weak labels given by name need a benchmark; with your own evaluate, pass "
                             "pretrain={name: values} aligned with candidates= (or with the whole enumerable space)")
        labels = select_weak_labels(table, labels)
        archs = table.archs
        key = (table.name, tuple(labels), int(seed), options.predictor_class,
               tuple(sorted((k, repr(v)) for k, v in options.predictor.items())), options.pretrain_epochs)
    if key is not None and key in _PRETRAINED:
        _PRETRAINED.move_to_end(key)
        return _PRETRAINED[key]
    predictor = options.predictor_class(space, seed=int(seed), **options.predictor)
    predictor.pretrain(archs, labels, epochs=options.pretrain_epochs)
    if key is not None:
        _PRETRAINED[key] = predictor
        while len(_PRETRAINED) > _CACHE_SIZE:
            _PRETRAINED.popitem(last=False)
    return predictor
