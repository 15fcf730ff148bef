"""Persistence: a predictor's configuration and weights in one torch file ("fastrank.Predictor/1"),
read back without unpickling arbitrary objects and checked against its SHA-256 checksum."""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, List, Union

import numpy as np
import torch

from ..spaces import NASBenchGraph, SearchSpace, get_space

if TYPE_CHECKING:
    from . import Predictor

__all__ = ["Persistence"]

_FORMAT = "fastrank.Predictor/1"


class Persistence:
    """:meth:`config`, :meth:`save` and :meth:`load` of :class:`~fastrank.Predictor`."""

    def config(self) -> dict:
        return {"format": _FORMAT, "space": self.space.name, "encoder": self.encoder, "ensemble": self.ensemble,
                "seed": self.seed, "width": self.width, "layers": self.layers, "hidden": self.hidden, "lr": self.lr,
                "weight_decay": self.weight_decay, "epochs": self.epochs, "batch_size": self.batch_size,
                "dtype": "float64" if self.dtype == torch.float64 else "float32", "native": self.native,
                "target_mean": self.target_mean, "target_std": self.target_std,
                "weak_labels": list(self.weak_label_names), "weak_label_mean": list(map(float, self.weak_label_mean)),
                "weak_label_std": list(map(float, self.weak_label_std)), "pretrain_history": self.pretrain_history}

    def save(self, path: Union[str, Path]) -> None:
        """Writes the configuration and weights (fitted and pretrained models); :meth:`load`
        reads them back without unpickling arbitrary objects (tensors and plain values only).
        A pretrained, unfitted predictor saves its pretraining for later searches."""
        if not self.models and not self.pretrained_models:
            raise RuntimeError("nothing to save: the predictor is neither fitted nor pretrained")
        state = {"config": json.dumps(self.config()), "models": _weights(self.models),
                 "pretrained": _weights(self.pretrained_models)}
        state["checksum"] = _checksum(state)
        torch.save(state, str(path))

    @classmethod
    def load(cls, path: Union[str, Path], device: Union[str, torch.device] = "cpu") -> Predictor:
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            config = json.loads(state["config"])
        except FileNotFoundError:
            raise
        except Exception as err:  # a foreign or corrupted file: say which
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            raise ValueError(f"{str(path)!r} is not a saved fastrank Predictor ({type(err).__name__}: {first})") from None
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            shown = config.get("format") if isinstance(config, dict) else type(config).__name__
            raise ValueError(f"{str(path)!r} is not a saved fastrank Predictor (format {shown!r})")
        if "checksum" in state and state["checksum"] != _checksum(state):  # (files before 0.1.0 carry none)
            raise ValueError(f"{str(path)!r}: the weights or configuration do not match their checksum (a damaged file)")
        try:
            return cls._from_state(path, state, config, device)
        except ValueError as err:
            if str(err).startswith(repr(str(path))):
                raise
            raise ValueError(f"{str(path)!r}: a damaged or mismatched saved Predictor ({err})") from None
        except (KeyError, TypeError, AttributeError, RuntimeError, IndexError) as err:
            # a missing key, a wrong type, weights of another shape: the file does not hold what it claims
            what = f"missing {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {str(err).splitlines()[0]}"
            raise ValueError(f"{str(path)!r}: a damaged or mismatched saved Predictor ({what})") from None

    @classmethod
    def _from_state(cls, path, state, config, device) -> Predictor:
        predictor = cls(_space(config["space"]), config["encoder"], config["ensemble"], config["seed"],
                        width=config["width"], layers=config["layers"], hidden=config["hidden"], lr=config["lr"],
                        weight_decay=config["weight_decay"], epochs=config["epochs"], batch_size=config["batch_size"],
                        device=device, dtype=torch.float64 if config["dtype"] == "float64" else torch.float32,
                        native=bool(config.get("native", True)))
        predictor.target_mean, predictor.target_std = float(config["target_mean"]), float(config["target_std"])
        if not (math.isfinite(predictor.target_mean) and math.isfinite(predictor.target_std)
                and predictor.target_std > 0):
            raise ValueError(f"{str(path)!r}: target_std must be a positive finite number and target_mean finite, "
                             f"got {predictor.target_std!r} and {predictor.target_mean!r}")
        names = tuple(config.get("weak_labels", ()))
        predictor.models = predictor._members(path, state.get("models", []), "models", outputs=1)
        predictor.pretrained_models = predictor._members(path, state.get("pretrained", []), "pretrained",
                                                         outputs=len(names))
        if names:
            predictor.weak_label_names = names
            predictor.weak_label_mean = np.array(config["weak_label_mean"], dtype=np.float64)
            predictor.weak_label_std = np.array(config["weak_label_std"], dtype=np.float64)
            if not (np.all(np.isfinite(predictor.weak_label_mean)) and np.all(np.isfinite(predictor.weak_label_std))
                    and np.all(predictor.weak_label_std > 0)):
                raise ValueError(f"{str(path)!r}: weak label statistics must be finite, with positive spreads")
            predictor.pretrain_history = list(config.get("pretrain_history", []))
        return predictor

    def _members(self, path, weights: list, key: str, outputs: int) -> List[torch.nn.Module]:
        """The ensemble's saved models under ``key`` (none, or one per member), rebuilt with their weights."""
        if weights and len(weights) != self.members:
            raise ValueError(f"{str(path)!r} holds {len(weights)} {key} for an ensemble of {self.members}")
        models = []
        for member, member_weights in enumerate(weights):
            model = self._build(member, outputs=outputs)
            model.load_state_dict(member_weights)
            model.eval()
            models.append(model)
        return models


def _weights(models) -> list:
    return [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in models]


def _checksum(state: dict) -> str:
    """SHA-256 of a saved predictor's configuration and every weight (names, shapes, bytes):
    torch's zip format does not check its records, and a flipped bit in a weight still loads."""
    digest = hashlib.sha256(str(state.get("config")).encode())
    for key in ("models", "pretrained"):
        for member in state.get(key) or []:
            for name in sorted(member):
                tensor = member[name].detach().cpu().contiguous()
                digest.update(f"{key}/{name}/{tuple(tensor.shape)}/{tensor.dtype}".encode())
                digest.update(tensor.numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def _space(name: str) -> SearchSpace:
    """The saved predictor's space by name; NAS-Bench-Graph's proteins space is a variant of
    "nasbench_graph", not a registered name of its own."""
    if name == "nasbench_graph_proteins":
        return NASBenchGraph(proteins=True)
    return get_space(name)
