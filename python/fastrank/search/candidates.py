"""Where a search draws the architectures it may query.

A *fixed* pool is a known list: the rows of a benchmark table (all of NB201; only a sample of
NB101 or DARTS), or every architecture of an enumerable space. It is encoded into graphs once
and scored whole after every fit. An *open* pool (a space too large to list, such as DARTS
with a user's own evaluate) is drawn each round: mutations of the best architectures so far
plus random samples.
"""
from __future__ import annotations

from typing import Dict, Hashable, List, Optional, Sequence

import numpy as np
import torch

from ..graph.encoding import encode_architectures, natively_encoded, whole_space_graphs
from ..spaces import SearchSpace
from .history import History

_TABLE_POOLS: dict = {}  # (id(space), id(archs)) -> (archs, space, pool): the objects keep the ids valid


class CandidatePool:
    @classmethod
    def of_table(cls, space: SearchSpace, archs: List) -> "CandidatePool":
        """The pool of a benchmark table's rows, built (and its graphs encoded) once per
        process: the tables are cached, and a grid of runs searches the same few."""
        key = (id(space), id(archs))
        held = _TABLE_POOLS.get(key)
        if held is None or held[0] is not archs or held[1] is not space:
            if len(_TABLE_POOLS) >= 8:
                _TABLE_POOLS.pop(next(iter(_TABLE_POOLS)))
            held = _TABLE_POOLS[key] = (archs, space, cls(space, archs))
        return held[2]

    def __init__(self, space: SearchSpace, archs: Optional[Sequence] = None):
        self.space = space
        if archs is None and space.size is not None:
            archs = [space.decode(c) for c in range(space.size)]
        self.archs: Optional[List] = list(archs) if archs is not None else None
        self._index: Dict[Hashable, List[int]] = {}  # identity -> every row holding it
        if self.archs is not None:
            for i, a in enumerate(self.archs):
                self._index.setdefault(space.identity(a), []).append(i)
        self._graphs = {}

    @property
    def fixed(self) -> bool:
        return self.archs is not None

    def __len__(self) -> int:
        return len(self.archs) if self.fixed else 0

    def contains(self, arch) -> bool:
        return not self.fixed or self.space.identity(arch) in self._index

    # --- fixed pools ----------------------------------------------------------------------
    def graphs(self, dtype: torch.dtype = torch.float32):
        """The whole pool's graph batch, encoded once (natively where the space allows)."""
        if dtype not in self._graphs:
            if natively_encoded(self.space):  # rows of the whole space's encoding, which predictors share
                codes = torch.from_numpy(np.fromiter((self.space.encode(a) for a in self.archs), np.int64,
                                                     len(self.archs)))
                self._graphs[dtype] = tuple(t[codes] for t in whole_space_graphs(type(self.space), dtype))
            else:
                self._graphs[dtype] = encode_architectures(self.space, self.archs, dtype)
        return self._graphs[dtype]

    def unlabelled(self, history: History) -> np.ndarray:
        """Indices of the pool's architectures neither queried nor in flight. A queried architecture takes
        every row of the same identity with it (a table may list isomorphic NB101 cells twice):
        a row left free would be picked again, answered from the cache for nothing, and a round
        that pays for nothing would repeat for ever."""
        free = np.ones(len(self.archs), dtype=bool)
        for key in history.taken():
            free[self._index.get(key, [])] = False
        return np.flatnonzero(free)

    # --- both -----------------------------------------------------------------------------
    def draw(self, history: History, rng: np.random.Generator, n: int) -> List:
        """Up to n distinct unqueried architectures, uniformly at random."""
        if self.fixed:
            free = self.unlabelled(history)
            return [self.archs[i] for i in rng.permutation(free)[:n]]
        out, keys = [], set()
        for _ in range(50 * n):  # a space this large runs out of fresh samples only by bad luck
            if len(out) == n:
                break
            arch = self.space.sample(rng)
            key = self.space.identity(arch)
            if key not in keys and not history.seen(arch):
                keys.add(key)
                out.append(arch)
        return out

    def mutants(self, parents: Sequence, history: History, rng: np.random.Generator, per_parent: Optional[int]) -> List:
        """Unqueried neighbours of the parents that the pool holds (all of them, or
        ``per_parent`` drawn at random from each parent's), without repeats. A fixed pool gives
        its own row for a neighbour: a mutation can write an isomorphic cell differently from
        the table (NB101), and the table answers only its own rows."""
        out, keys = [], set()
        for parent in parents:
            options = self.space.neighbours(parent)
            if per_parent is not None and len(options) > per_parent:
                options = [options[i] for i in rng.choice(len(options), per_parent, replace=False)]
            for arch in options:
                key = self.space.identity(arch)
                if key in keys or history.seen(arch) or not self.contains(arch):
                    continue
                keys.add(key)
                out.append(self.archs[self._index[key][0]] if self.fixed else arch)
        return out
