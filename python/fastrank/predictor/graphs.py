"""Architectures -> checked graph batches ``(adj, ops, mask)`` on the predictor's device: through
the whole space's graphs, encoded once and gathered by code, where the space is natively
encoded; through ``space.graph`` otherwise."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..graph.encoding import encode_architectures, natively_encoded, whole_space_graphs
from ..spaces import InvalidArchitecture

__all__ = ["GraphEncoding", "check_archs"]


def check_archs(archs) -> None:
    """A sequence (with a length) of architectures; a lone string is one architecture, not many."""
    if isinstance(archs, (str, bytes)) or not hasattr(archs, "__len__"):
        raise TypeError("archs must be a sequence of architectures")


class GraphEncoding:
    """The :class:`~fastrank.Predictor`'s inputs; ``_space_graphs`` caches the whole space's
    graphs on the device."""

    def _native(self) -> bool:
        return natively_encoded(self.space)

    def _arch(self, arch):
        """Architectures may also be given as their canonical strings."""
        return self.space.parse(arch) if isinstance(arch, str) else arch

    def _codes(self, archs) -> np.ndarray:
        try:
            return np.fromiter((self.space.encode(self._arch(a)) for a in archs), dtype=np.int64, count=len(archs))
        except (InvalidArchitecture, KeyError, TypeError) as err:
            raise ValueError(f"not an architecture of {self.space.name}: {err}") from None  # KeyError: listed spaces

    def _graphs(self, archs: Sequence):
        """Graph batch of the architectures on the models' device, after checking each."""
        check_archs(archs)
        if self._native():
            return self.graphs_of_codes(self._codes(archs))
        checked = []
        for a in archs:
            try:
                checked.append(self.space.check(self._arch(a)))
            except (InvalidArchitecture, TypeError) as err:
                raise ValueError(f"not an architecture of {self.space.name}: {err}") from None
        return self._on_device(encode_architectures(self.space, checked, self.dtype))

    def encode(self, archs: Sequence):
        """The graph batch ``(adj, ops, mask)`` of checked architectures: encode a fixed pool
        of candidates once and score it with :meth:`predict_graphs` after every fit."""
        return self._graphs(archs)

    def graphs_of_codes(self, codes):
        """Graph batch of integer codes of an enumerable space with a native encoder: rows of
        the whole space's encoding, made once (all of NB201 in a few milliseconds)."""
        if not self._native():
            raise TypeError(f"{self.space.name} has no native encoder; pass architectures")
        if self._space_graphs is None:
            self._space_graphs = self._on_device(whole_space_graphs(type(self.space), self.dtype))
        codes = torch.as_tensor(np.asarray(codes, dtype=np.int64))
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.space.size):
            raise ValueError(f"codes must lie in 0..{self.space.size - 1} for {self.space.name}")
        codes = codes.to(self.device)
        adj, ops, mask = self._space_graphs
        return adj[codes], ops[codes], mask[codes]

    def _on_device(self, graphs):
        return tuple(t.to(self.device) for t in graphs)
