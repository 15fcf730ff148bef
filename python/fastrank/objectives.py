"""Objectives a search can train with: a named registry (``digits``, yours through
:func:`register_objective`) and ``module:function`` objectives of your own.

``digits`` trains each architecture's network on scikit-learn's ``load_digits`` (1,797 real
8×8 handwritten digits, shipped with scikit-learn: nothing to download) with a fixed
train/valid/test split, and scores it by validation accuracy (%). Its ``report(arch)`` retrains
the network (deterministically: the same weights) and adds the test accuracy."""
from __future__ import annotations

import functools
import importlib
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict

import numpy as np
import torch

from ._registry import register
from .spaces import SearchSpace
from .train import Data, accuracy, train

#: (train, valid, test) sizes of the digits split; the rest of the 1,797 images is unused (none)
DIGITS_SPLIT = (1000, 397, 400)
DIGITS_SPLIT_SEED = 0


class ObjectiveError(ValueError):
    """An objective that cannot be made: an unknown name, a module or function that cannot be
    imported, or a space the objective cannot train."""


@functools.lru_cache(maxsize=1)
def digits_data() -> Dict[str, Data]:
    """The fixed digits split as {"train", "valid", "test"}: (N, 1, 8, 8) float32 images
    standardised with the training images' mean and spread, int64 labels 0..9."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ObjectiveError("the digits objective needs scikit-learn: pip install scikit-learn") from None
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)[:, None]  # (1797, 1, 8, 8), values 0..16
    labels = np.asarray(bunch.target, dtype=np.int64)
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(labels))
    n_train, n_valid, n_test = DIGITS_SPLIT
    parts = {"train": order[:n_train], "valid": order[n_train:n_train + n_valid],
             "test": order[n_train + n_valid:n_train + n_valid + n_test]}
    mean, std = images[parts["train"]].mean(), images[parts["train"]].std()
    return {name: (torch.from_numpy((images[idx] - mean) / std), torch.from_numpy(labels[idx]))
            for name, idx in parts.items()}


#: network sizes for 8×8 inputs, per space name: small enough to train in seconds on a CPU core
DIGITS_SIZES: Dict[str, dict] = {
    "nb201": dict(channels=8, cells_per_stage=1),
    "nb101": dict(stem_channels=16, cells_per_stack=1),
    "darts": dict(channels=8, cells=5),
    "nasbench_macro": dict(stem_channels=8, head_channels=64),
    "tnb101_micro": dict(base_channels=8),
    "tnb101_macro": dict(base_channels=8),
    "cell": dict(channels=8, cells_per_stage=1),
    "chain": dict(channels=8),
}


@dataclass
class TrainingObjective:
    """``evaluate(arch)``: builds ``space.to_module(arch, **sizes)`` with weights seeded by
    ``seed``, trains it ``epochs`` epochs on ``data["train"]`` and returns its
    ``data["valid"]`` accuracy in %. The same seed for every architecture: differences come
    from the architectures, and a repeated evaluation gives the same value."""

    space: SearchSpace
    data: Dict[str, Data]
    sizes: dict = field(default_factory=dict)
    epochs: int = 10
    seed: int = 0
    batch_size: int = 64
    device: str = "cpu"
    name: str = "training"

    def model(self, arch) -> torch.nn.Module:
        torch.manual_seed(self.seed)
        return self.space.to_module(arch, **self.sizes)

    def _trained(self, arch):
        model = self.model(arch)
        result = train(model, self.data["train"], self.data["valid"], self.epochs, batch_size=self.batch_size,
                       device=self.device, seed=self.seed)
        return model, result

    def __call__(self, arch) -> float:
        return 100.0 * self._trained(arch)[1].valid_accuracy

    def report(self, arch) -> Dict[str, float]:
        """Trains the architecture again (the same run) and returns its valid and test accuracy (%)."""
        model, result = self._trained(arch)
        report = {"valid_accuracy": 100.0 * result.valid_accuracy, "seconds": result.seconds}
        if "test" in self.data:
            report["test_accuracy"] = 100.0 * accuracy(model, self.data["test"], device=self.device)
        return report

    @property
    def __name__(self) -> str:  # a search names its run after its objective
        return self.name


def digits_objective(space: SearchSpace, epochs: int = 10, seed: int = 0, device: str = "cpu",
                     **sizes) -> TrainingObjective:
    """Trains ``space``'s networks on the digits split (8×8 grey images, 10 classes)."""
    base = dict(DIGITS_SIZES.get(space.name, {}))
    base.update(in_channels=1, image_size=8, num_classes=10)
    base.update(sizes)
    objective = TrainingObjective(space, digits_data(), base, epochs=epochs, seed=seed, device=device, name="digits")
    try:  # one network built now, so that a space without networks, or bad sizes, fail before the search
        objective.model(space.sample(np.random.default_rng(0)))
    except NotImplementedError as err:
        raise ObjectiveError(f"the digits objective trains networks: {err}") from None
    except (TypeError, ValueError) as err:
        raise ObjectiveError(f"the digits objective cannot build {space.name} networks for 8x8 images: {err}") from None
    return objective


#: name -> factory(space) -> evaluate(arch) -> float
OBJECTIVES: Dict[str, Callable[[SearchSpace], Callable]] = {"digits": digits_objective}


def register_objective(name: str, factory: Callable[[SearchSpace], Callable], *, replace: bool = False) -> None:
    """Makes ``--objective NAME`` build ``factory(space)``, an ``evaluate(arch) -> float``."""
    if not callable(factory):
        raise TypeError("factory must be callable: factory(space) -> evaluate(arch)")
    register(OBJECTIVES, "objective", name, factory, replace=replace, valid_name=lambda n: bool(n) and ":" not in n,
             name_rule="a non-empty string without ':'")


def load_objective(spec: str, space: SearchSpace) -> Callable:
    """``spec``: a registered name (``digits``) or ``module:function``, a function
    ``evaluate(arch) -> float`` importable from the working directory."""
    if spec in OBJECTIVES:
        return OBJECTIVES[spec](space)
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ObjectiveError(f"unknown objective {spec!r}: give one of {', '.join(OBJECTIVES)} or module:function")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # the working directory, as `python -m` has it
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # a missing module, or one that fails as it loads: both the user's to fix
        raise ObjectiveError(f"cannot import the objective's module {module_name!r}: "
                             f"{type(err).__name__}: {err}") from None
    try:
        function = functools.reduce(getattr, attr.split("."), module)
    except AttributeError:
        raise ObjectiveError(f"module {module_name!r} has no {attr!r}") from None
    if not callable(function):
        raise ObjectiveError(f"{spec} is not callable: an objective is a function evaluate(arch) -> float")
    return function


__all__ = ["DIGITS_SPLIT", "OBJECTIVES", "ObjectiveError", "TrainingObjective", "digits_data", "digits_objective",
           "load_objective", "register_objective"]
