"""A Gaussian process over the flat encoding, for the first rounds of a search.

From ten or twenty results a network ranks a space poorly: its top picks after the random start
are on some tables no better than random ones, and a pretrained encoder can point the first round
at the wrong region when the table's weak labels mislead. A Gaussian process with a kernel over
each position's choice needs no training: its two settings are chosen by the evidence of the
results themselves, and its uncertainty says where little is known yet.

The kernel is ``exp(-|x - x'|^2 / (ell * m))`` over the flat encodings ``x`` (one-hot operation
per node position and the adjacency's upper triangle; for one-hot codes the squared distance is
twice the number of positions that differ), where ``m`` is the median squared distance between
the training encodings, so the length scale ``ell`` means the same on every space. ``ell`` and
the noise share are chosen on a small grid by the marginal likelihood, with the signal variance
profiled out (its maximum-likelihood value in closed form). Candidates are ranked by expected
improvement over the best result.

A batch of picks made before any of their results is back would crowd where the expected
improvement peaks: nothing tells the second pick that the first already looks there.
:meth:`FlatGP.believe` conditions the process on results still out as if each had come back at its
posterior mean (the kriging believer of Ginsbourger et al. 2010): the mean stays where it is and
the uncertainty around each pending pick shrinks, so the next pick's improvement is counted only
where the pending ones do not already reach.
"""
from __future__ import annotations

import math
from typing import Tuple

import numpy as np
import torch

from .._overflow import overflow_scale
from .network import FlatEncoding

__all__ = ["FlatGP", "expected_improvement"]

LENGTH_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)  # multiples of the median squared distance
NOISE_SHARES = (1e-2, 0.1, 0.3)  # observation noise as a share of the signal variance
_CHUNK = 16384  # candidates per kernel block: bounds the memory when a whole space is scored


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T).clamp_min(0.0)


class FlatGP:
    """``fit(graphs, values)`` then ``posterior(graphs) -> (mean, std)`` or
    ``expected_improvement(graphs)``; graphs are ``(adj, ops, mask)`` batches padded to the
    space's ``max_nodes`` (a predictor's or a candidate pool's)."""

    def __init__(self, n_ops: int, nodes: int):
        self.flat = FlatEncoding(n_ops, nodes)
        self.nodes = nodes
        self.unit = 1.0
        self._train = self._y = None

    def _encode(self, graphs) -> torch.Tensor:
        adj, ops, mask = graphs
        if adj.dim() != 3 or tuple(adj.shape[1:]) != (self.nodes, self.nodes):
            raise ValueError(f"graphs must be padded to {self.nodes} nodes, got adjacency of shape {tuple(adj.shape)}")
        return self.flat(adj.to(torch.float64), ops, mask)

    def _kernel(self, squared_distances: torch.Tensor, length_scale: float) -> torch.Tensor:
        return torch.exp(-squared_distances / (length_scale * self.median))

    def fit(self, graphs, values) -> "FlatGP":
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1 or values.shape[0] < 2:
            raise ValueError(f"a Gaussian process needs at least 2 values, got shape {values.shape}")
        if not np.isfinite(values).all():
            raise ValueError("values must be finite")
        x = self._encode(graphs)
        if x.shape[0] != values.shape[0]:
            raise ValueError(f"{x.shape[0]} graphs against {values.shape[0]} values")
        # values beyond 1e150 are divided by their largest magnitude first, so that their mean and
        # spread do not overflow (a result of 1e308 is a finite value); the scores stay in those units
        self.unit = float(overflow_scale(values))
        values = values / self.unit
        self.mean, self.scale = float(values.mean()), float(values.std()) or 1.0
        y = torch.as_tensor((values - self.mean) / self.scale)
        d = _squared_distances(x, x)
        positive = d[d > 0]
        self.median = float(positive.median()) if positive.numel() else 1.0
        best = None
        n = y.shape[0]
        eye = torch.eye(n, dtype=torch.float64)
        for ell in LENGTH_SCALES:
            k = self._kernel(d, ell)
            for noise in NOISE_SHARES:
                chol = torch.linalg.cholesky(k + noise * eye)
                alpha = torch.cholesky_solve(y[:, None], chol)[:, 0]
                variance = float(y @ alpha) / n  # the signal variance's maximum-likelihood value
                nll = 0.5 * n * math.log(max(variance, 1e-300)) + float(torch.log(torch.diagonal(chol)).sum())
                if best is None or nll < best[0]:
                    best = (nll, ell, noise, chol, alpha, variance)
        _, self.length_scale, self.noise, self._chol, self._alpha, self.variance = best
        self._train, self._y = x, y
        return self

    def believe(self, graphs) -> "FlatGP":
        """A copy conditioned on results still out at ``graphs``, each taken at its posterior
        mean, with this fit's length scale, noise and signal variance: its mean is this one's,
        its uncertainty smaller near the pending graphs."""
        if self._train is None:
            raise RuntimeError("the Gaussian process is not fitted: call fit first")
        x = self._encode(graphs)
        if x.shape[0] == 0:
            return self
        mean, _ = self._posterior_of(x)
        out = object.__new__(FlatGP)
        out.__dict__.update(self.__dict__)
        train = torch.cat([self._train, x])
        y = torch.cat([self._y, torch.as_tensor((mean - self.mean) / self.scale)])
        k = self._kernel(_squared_distances(train, train), self.length_scale)
        out._chol = torch.linalg.cholesky(k + self.noise * torch.eye(train.shape[0], dtype=torch.float64))
        out._alpha = torch.cholesky_solve(y[:, None], out._chol)[:, 0]
        out._train, out._y = train, y
        return out

    def posterior(self, graphs) -> Tuple[np.ndarray, np.ndarray]:
        """The latent function's posterior mean and standard deviation, on the values' scale
        (inf where that scale is beyond the float range)."""
        mean, std = self._posterior(graphs)
        return mean * self.unit, std * self.unit

    def _posterior(self, graphs) -> Tuple[np.ndarray, np.ndarray]:
        """The posterior in the fit's units: the values divided by ``unit``."""
        if self._train is None:
            raise RuntimeError("the Gaussian process is not fitted: call fit first")
        return self._posterior_in_chunks(self._encoded_chunks(graphs))

    def _encoded_chunks(self, graphs):
        """The encodings of ``graphs``, _CHUNK at a time (the kernel block is chunk x results)."""
        adj, ops, mask = graphs
        for start in range(0, adj.shape[0], _CHUNK):
            part = slice(start, start + _CHUNK)
            yield self._encode((adj[part], ops[part], mask[part]))

    def _posterior_in_chunks(self, chunks) -> Tuple[np.ndarray, np.ndarray]:
        parts = [self._posterior_of(x) for x in chunks]
        if not parts:
            return np.zeros(0), np.zeros(0)
        return np.concatenate([m for m, _ in parts]), np.concatenate([s for _, s in parts])

    def _posterior_of(self, x: torch.Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """The posterior at encodings ``x`` (at most _CHUNK rows at once), in the fit's units."""
        k = self._kernel(_squared_distances(x, self._train), self.length_scale)
        mean = (k @ self._alpha).numpy()
        v = torch.linalg.solve_triangular(self._chol, k.T, upper=False)
        var = (self.variance * (1.0 - (v * v).sum(0))).clamp_min(1e-12).numpy()
        return mean * self.scale + self.mean, np.sqrt(var) * self.scale

    def expected_improvement(self, graphs, best: float) -> np.ndarray:
        """log expected improvement over ``best`` (a log: far below the best, EI underflows to
        ties that a ranking cannot break)."""
        return self._log_improvement(*self._posterior(graphs), best)

    def _log_improvement(self, mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
        """log EI over ``best`` (on the values' scale) of a posterior in the fit's units."""
        return expected_improvement(mean, std, best / self.unit) + math.log(self.unit)

    def batch_scorer(self, graphs, best: float, pending=None):
        """``rescore(taken)``: log expected improvement over ``best`` of every one of ``graphs``
        under this process conditioned (:meth:`believe`) on ``pending`` (graphs of results still
        out) and on the graphs at positions ``taken``. The graphs are encoded once, for the many
        rescorings of a round."""
        base = self.believe(pending) if pending is not None else self
        chunks = list(self._encoded_chunks(graphs))

        def rescore(taken) -> np.ndarray:
            gp = base
            if len(taken):
                position = torch.as_tensor(list(taken), dtype=torch.int64)
                gp = base.believe(tuple(t[position] for t in graphs))
            return self._log_improvement(*gp._posterior_in_chunks(chunks), best)

        return rescore


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """log EI of a Gaussian ``(mean, std)`` over ``best`` (maximising): ``log std + log h(z)``
    with ``z = (mean - best) / std`` and ``h(z) = z Phi(z) + phi(z)``.

    Below z = -1 the two terms of h cancel (at z = -5.5 they agree to 1.5 digits, and torch's
    ``ndtr`` is off by 6e-10 there already), so h is written through the scaled complementary
    error function: ``h(z) = phi(z) (1 - |z| sqrt(pi/2) erfcx(|z| / sqrt 2))``, whose bracket
    loses only about ``log10(z^2)`` digits. Below z = -1e6 the bracket rounds to 0 and its
    leading term ``1 / z^2`` is exact to double precision."""
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if mean.shape != std.shape:
        raise ValueError(f"mean and std must have one shape, got {mean.shape} and {std.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and np.isfinite(best)):
        raise ValueError("mean, std and best must be finite")
    if (std <= 0).any():
        raise ValueError("std must be positive")
    z = torch.as_tensor((mean - best) / std)
    log_phi = -0.5 * z * z - 0.5 * math.log(2.0 * math.pi)
    near = z > -1.0
    far = z < -1e6
    middle = ~(near | far)
    out = torch.empty_like(z)
    zn = z[near]
    h = zn * 0.5 * torch.special.erfc(-zn / math.sqrt(2.0)) + torch.exp(log_phi[near])
    out[near] = torch.log(h)
    zm = -z[middle]
    out[middle] = log_phi[middle] + torch.log1p(-zm * math.sqrt(0.5 * math.pi) * torch.special.erfcx(zm / math.sqrt(2.0)))
    out[far] = log_phi[far] - 2.0 * torch.log(-z[far])
    return out.numpy() + np.log(std)
