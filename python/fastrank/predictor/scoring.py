"""Scoring: the ensemble's mean prediction, back on the targets' (or weak labels') scale, for
architectures, graph batches, integer codes or a whole benchmark table."""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np
import torch

__all__ = ["Scoring"]

_CHUNK = 65536  # graphs per forward pass: bounds the activations' memory when a whole space is scored


class Scoring:
    """The prediction methods of :class:`~fastrank.Predictor`."""

    def predict(self, archs: Sequence, members: bool = False) -> np.ndarray:
        """Predicted metric of each architecture (float64 array); ``members=True``: one row per
        ensemble member, shape ``(ensemble, len(archs))``, whose spread is the ensemble's
        uncertainty (the search's ``acquisition`` uses it)."""
        return self._score(*self._graphs(archs), members=members)

    def predict_graphs(self, graphs, members: bool = False) -> np.ndarray:
        """Predictions for a graph batch from :meth:`encode` or :meth:`graphs_of_codes`
        (``members``: as in :meth:`predict`)."""
        return self._score(*graphs, members=members)

    def predict_codes(self, codes) -> np.ndarray:
        """Predictions for integer codes of an enumerable space, in one batched native pass
        per model (``predict_codes(range(space.size))`` scores the whole space)."""
        return self._score(*self.graphs_of_codes(codes))

    def predict_benchmark(self, bench) -> np.ndarray:
        """Predictions for every architecture of a benchmark table, in its row order: through
        their codes, in one native pass, where the space is natively encoded."""
        if bench.space.name != self.space.name:
            raise ValueError(f"the benchmark's architectures are of {bench.space.name}, the predictor's of "
                             f"{self.space.name}")
        if bench.space.size is not None and self._native():
            return self.predict_codes(bench.codes())
        return self.predict(bench.archs)

    def predict_weak(self, archs: Sequence) -> Dict[str, np.ndarray]:
        """The pretrained models' prediction of each weak label (on the label's own scale)."""
        if not self.pretrained_models:
            raise RuntimeError("the predictor is not pretrained: call pretrain first")
        adj, ops, mask = self._graphs(archs)
        z = _ensemble_mean(self.pretrained_models, adj, ops, mask).reshape(adj.shape[0], -1)
        return {name: z[:, k] * self.weak_label_std[k] + self.weak_label_mean[k]
                for k, name in enumerate(self.weak_label_names)}

    def _score(self, adj, ops, mask, members: bool = False) -> np.ndarray:
        if not self.models:
            raise RuntimeError("the predictor is not fitted: call fit (or Predictor.load) first")
        if not isinstance(members, bool):
            raise TypeError(f"members must be a bool, got {type(members).__name__}")
        if members:
            outputs = torch.stack(list(_member_outputs(self.models, adj, ops, mask)))
            return outputs.double().cpu().numpy() * self.target_std + self.target_mean
        return _ensemble_mean(self.models, adj, ops, mask) * self.target_std + self.target_mean


def _member_outputs(models, adj, ops, mask):
    """Each model's output, in forward passes of at most _CHUNK graphs (bounds the memory when
    a whole space is scored)."""
    with torch.no_grad():
        for model in models:
            parts = [model(adj[i:i + _CHUNK], ops[i:i + _CHUNK], mask[i:i + _CHUNK])
                     for i in range(0, adj.shape[0], _CHUNK)]
            yield torch.cat(parts) if parts else adj.new_zeros(0)


def _ensemble_mean(models, adj, ops, mask) -> np.ndarray:
    """The models' mean output (float64)."""
    total = None
    for out in _member_outputs(models, adj, ops, mask):
        total = out if total is None else total + out
    return (total / len(models)).double().cpu().numpy()
