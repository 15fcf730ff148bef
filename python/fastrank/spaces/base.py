"""What every search space offers: string form, sampling, mutation, neighbours, graph form."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Hashable, List, Mapping, Optional, Sequence, Tuple

import numpy as np


class InvalidArchitecture(ValueError):
    """An architecture string or object that its search space does not contain."""


@dataclass(frozen=True)
class Graph:
    """Operations on nodes: ``ops[i]`` is node i's operation id in the space's ``node_ops``
    vocabulary, ``adjacency[i, j] = 1`` for an edge i → j (a DAG, nodes in topological order)."""

    ops: np.ndarray  # (N,) int64
    adjacency: np.ndarray  # (N, N) uint8


class SearchSpace:
    """Base class. Subclasses define how architectures are parsed, written, varied and drawn.

    Architectures are immutable, hashable Python values (tuples); ``parse``/``to_string``
    convert to and from the benchmark's canonical string. Enumerable spaces also map
    architectures to integer codes 0..size-1 (``encode``/``decode``).
    """

    name: str = ""
    #: node operation names of the graph form; ids index this list
    node_ops: Sequence[str] = ()
    #: the largest graph of the space (nodes)
    max_nodes: int = 0
    #: number of architectures, or None when the space is not enumerated here
    size: Optional[int] = None

    # --- to implement -------------------------------------------------------------
    def parse(self, text: str):
        raise NotImplementedError

    def to_string(self, arch) -> str:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator):
        raise NotImplementedError

    def neighbours(self, arch) -> List:
        """Every architecture one mutation away (one op or one edge changed)."""
        raise NotImplementedError

    def graph(self, arch) -> Graph:
        raise NotImplementedError

    def to_module(self, arch, num_classes: int = 10, **sizes):
        """The architecture as a plain ``torch.nn.Module`` (a ``fastrank.models.Network``): by
        default the benchmark's own network, other sizes as keyword arguments."""
        raise NotImplementedError(f"the {self.name or type(self).__name__} space does not build networks")

    # --- shared -------------------------------------------------------------------
    def check(self, arch):
        """Returns arch if the space contains it, else raises InvalidArchitecture."""
        return self.parse(self.to_string(arch))

    def identity(self, arch) -> Hashable:
        """A key equal for architectures that compute the same function (isomorphic
        cells, where the space has them); by default the architecture itself."""
        return arch

    def mutate(self, arch, rng: np.random.Generator):
        """A uniformly chosen neighbour."""
        options = self.neighbours(arch)
        return options[int(rng.integers(len(options)))]

    def sample_many(self, n: int, rng: np.random.Generator, unique: bool = True) -> List:
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        if unique and self.size is not None and n > self.size:
            raise ValueError(f"cannot draw {n} distinct architectures from {self.size}")
        out, seen = [], set()
        misses = 0  # draws in a row that found nothing new: a space of unknown size may be exhausted
        while len(out) < n:
            arch = self.sample(rng)
            key = self.identity(arch)
            if unique and key in seen:
                misses += 1
                if misses > 1000 + 100 * n:
                    raise ValueError(f"drew {len(out)} distinct architectures and no new one in {misses} draws: "
                                     f"the space seems to hold fewer than {n}")
                continue
            misses = 0
            seen.add(key)
            out.append(arch)
        return out

    # Enumerable spaces override these.
    def encode(self, arch) -> int:
        raise TypeError(f"{self.name} is not enumerated: architectures have no integer code")

    def decode(self, code: int):
        raise TypeError(f"{self.name} is not enumerated: architectures have no integer code")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ListedSpace(SearchSpace):
    """A space held as the list of its architectures: an architecture's code is its position.
    Subclasses call ``_list(archs)`` once and define ``_member(arch)``, which returns arch if
    the list has it and otherwise raises InvalidArchitecture saying what the space's
    architectures look like."""

    def _list(self, archs) -> None:
        self._archs = list(archs)
        self._index = {a: i for i, a in enumerate(self._archs)}
        self.size = len(self._archs)

    def _member(self, arch):
        raise NotImplementedError

    def encode(self, arch) -> int:
        return self._index[self._member(arch)]

    def decode(self, code: int):
        return self._archs[check_code(code, self.size)]

    def sample(self, rng: np.random.Generator):
        return self._archs[int(rng.integers(self.size))]


def check_code(code, size: int) -> int:
    if isinstance(code, bool) or not isinstance(code, (int, np.integer)):
        raise TypeError(f"an architecture code must be an int, got {type(code).__name__}")
    if not 0 <= int(code) < size:
        raise ValueError(f"architecture code {code} is outside 0..{size - 1}")
    return int(code)


def declared_choices(choices, argument: str, what: str) -> Tuple[Tuple[str, ...], Optional[dict]]:
    """The names of a declared space's choices (``CellSpace``'s ops, ``ChainSpace``'s blocks)
    and, when they come as a mapping name -> constructor, the constructors; checked."""
    if isinstance(choices, str) or not isinstance(choices, (Sequence, Mapping)):
        raise TypeError(f"{argument} is a list of {what} names or a mapping name -> constructor, got {choices!r}")
    names = tuple(choices)
    if not names:
        raise ValueError(f"a declared space needs at least one {what}")
    # names appear in architecture strings, between separators
    bad = [n for n in names if not isinstance(n, str) or not re.fullmatch(r"[A-Za-z0-9_]+", n)]
    if bad:
        raise ValueError(f"{what} names are letters, digits and underscores, got {bad}")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names repeat: {names}")
    if not isinstance(choices, Mapping):
        return names, None
    not_callable = [n for n, f in choices.items() if not callable(f)]
    if not_callable:
        raise TypeError(f"the constructors of {not_callable} are not callable")
    return names, dict(choices)


def choice_constructors(names, given: Optional[dict], known: Mapping, what: str, example: str) -> dict:
    """The constructor of every choice: those given, else the ones ``known`` by name."""
    constructors = given if given is not None else {n: known[n] for n in names if n in known}
    missing = sorted(set(names) - set(constructors))
    if missing:
        raise ValueError(f"no constructor for {what}(s) {missing}: give {example}; names known without one: "
                         f"{sorted(known)}")
    return constructors
