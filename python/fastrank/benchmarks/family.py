"""Benchmark families: what fastrank knows about each kind of benchmark, declared once.

A family is the set of tables one loader reads: ``nb201`` (one table per dataset),
``tnb101_micro`` (one per task), ``nb101`` (a single table), ... Each is declared in a module of
its own (``nb201.py``, ``transnas.py``, ``nb101.py``, ``nb301.py``, ``nasbench_macro.py``,
``analognas.py``, ``nasbench_graph.py``) by ``register_family(Family(...))``, next to its loader,
and every reader takes what it needs from that declaration: ``load`` (a name to a loader call),
``catalog`` (what ``fastrank benchmarks`` prints), ``search.BenchmarkTask`` (which load option
gives the validation and which the test metric) and the PW loss's default pair
(``loss_spec.seed_task``). A benchmark is named ``<family>/<part>``, or ``<family>`` for a family
of one table.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, Mapping, Optional, Tuple, TypeVar, Union

from ..nn import SEED_PIECEWISE
from .tabular import TabularBenchmark

T = TypeVar("T")
# A fact that is the same for every part of a family (a value) or differs by part (a function of it).
PerPart = Union[T, Callable[[str], T]]


def _name(value, what: str) -> str:
    """A name that can stand in ``<family>/<part>``: a non-empty str without '/'."""
    if not isinstance(value, str) or not value or "/" in value:
        raise ValueError(f"{what} must be a non-empty str without '/', got {value!r}")
    return value


def _names(values, what: str) -> Tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, tuple):
        raise TypeError(f"{what} must be a tuple of str, got {values!r}")
    for value in values:
        _name(value, f"each of {what}")
    if len(set(values)) != len(values):
        raise ValueError(f"{what} repeat a name: {values!r}")
    return values


def _is_name(value) -> bool:
    return isinstance(value, str) and bool(value)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_names(value) -> bool:
    return isinstance(value, tuple) and all(map(_is_name, value))


@dataclass(frozen=True)
class CsvTable:
    """A family's CSV table: packaged as ``data/<file>.xz``; a folder the user names
    (``data_dir=`` / $FASTRANK_DATA) may hold ``<file>`` or ``<file>.xz`` instead. ``rows``: every
    architecture of the space, or the published sample's size, so a different count means a
    truncated download or another table under this name. ``distinct``: the distinct architectures
    of the packaged copy where fewer than its rows (a sample listing isomorphic cells as rows)."""

    file: str
    rows: int
    distinct: Optional[int] = None

    def __post_init__(self):
        if not isinstance(self.file, str) or not self.file.endswith(".csv") or "/" in self.file:
            raise ValueError(f"a CsvTable's file is a name like 'nb201.csv', got {self.file!r}")
        if not _is_count(self.rows):
            raise ValueError(f"{self.file}: rows must be a positive int, got {self.rows!r}")
        if self.distinct is not None and not (_is_count(self.distinct) and self.distinct < self.rows):
            raise ValueError(f"{self.file}: distinct must be None or an int in [1, rows), got {self.distinct!r}")


@dataclass(frozen=True)
class PyPIPackage:
    """A family read from the data files of a PyPI package (never imported): ``module`` is its
    import name, found with ``importlib.util.find_spec``; ``distribution`` its name on PyPI;
    ``extra`` the fastrank extra that installs it."""

    module: str
    distribution: str
    extra: str

    def __post_init__(self):
        for what in ("module", "distribution", "extra"):
            value = getattr(self, what)
            if not _is_name(value):
                raise ValueError(f"a PyPIPackage's {what} must be a non-empty str, got {value!r}")

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    @property
    def install_hint(self) -> str:
        return f"pip install 'fastrank[{self.extra}]'"


@dataclass(frozen=True)
class MetricSplit:
    """A family whose loader picks the validation or the test metric with one keyword option
    (``metric="valid"`` / ``"test"``); ``valid`` is that option's default."""

    option: str
    valid: str
    test: str

    def __post_init__(self):
        for what in ("option", "valid", "test"):
            value = getattr(self, what)
            if not _is_name(value):
                raise ValueError(f"a MetricSplit's {what} must be a non-empty str, got {value!r}")
        if self.valid == self.test:
            raise ValueError(f"a MetricSplit's valid and test values must differ, both are {self.valid!r}")


@dataclass(frozen=True)
class Family:
    """One benchmark family, declared once.

    ``name``: the first part of its benchmarks' names; ``aliases``: other spellings ``load``
    accepts (never listed). ``loader``: its public load function, called as
    ``loader(part, path=data_dir, **options)``: the part only where the family has ``parts``,
    ``path`` only for a ``CsvTable`` family, options only unless ``ignores_options``. It must
    refuse a part or option it does not know with a clear error. ``parts``: the datasets or
    tasks (empty: one table, named by the family alone); ``default_part``: the one a bare name
    loads (None: the loader is given "" and refuses it).

    What ``catalog`` lists, per part: ``space`` (the search space's name), ``size`` (the
    table's rows), ``weak_labels`` and the metric: ``split`` for a family whose ``metric=``-like
    option gives the validation or the test metric (searches query one and report the other),
    else ``target``, the one column searches query and report. ``source``: where the tables come
    from. ``seed_pw``: the key of ``fastrank.nn.SEED_PIECEWISE`` (the seed study's PW loss pair)
    for the family and its space, ``seed_pw_by_part`` for parts with a pair of their own; a
    family with neither gets the PW default. ``ignores_options``: ``load`` drops the options it
    is given instead of passing them on, as it always has for the CSV tables that take none
    (scripts pass ``metric=`` to every name); a new family leaves it False.

    The direction of the target (``higher_is_better``) is set by the loader on the table it
    builds, and read from there."""

    name: str
    loader: Callable[..., TabularBenchmark]
    space: PerPart[str]
    size: PerPart[int]
    weak_labels: PerPart[Tuple[str, ...]]
    source: Union[CsvTable, PyPIPackage]
    target: Optional[PerPart[str]] = None
    split: Optional[MetricSplit] = None
    parts: Tuple[str, ...] = ()
    default_part: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    seed_pw: Optional[str] = None
    seed_pw_by_part: Mapping[str, str] = field(default_factory=dict)
    ignores_options: bool = False

    def __post_init__(self):
        _name(self.name, "a family's name")
        where = f"benchmark family {self.name!r}"
        _names(self.aliases, f"{where}: aliases")
        _names(self.parts, f"{where}: parts")
        if not callable(self.loader):
            raise TypeError(f"{where}: loader must be a function, got {self.loader!r}")
        if not isinstance(self.source, (CsvTable, PyPIPackage)):
            raise TypeError(f"{where}: source must be a CsvTable or a PyPIPackage, got {self.source!r}")
        if (self.target is None) == (self.split is None):
            raise ValueError(f"{where}: give exactly one of target (its one metric) and split (a valid and a test "
                             "metric)")
        if self.split is not None and not isinstance(self.split, MetricSplit):
            raise TypeError(f"{where}: split must be a MetricSplit, got {self.split!r}")
        if self.default_part is not None and self.default_part not in self.parts:
            raise ValueError(f"{where}: default_part {self.default_part!r} is not one of its parts {self.parts}")
        if not isinstance(self.seed_pw_by_part, Mapping):
            raise TypeError(f"{where}: seed_pw_by_part must map parts to seed pairs, got {self.seed_pw_by_part!r}")
        for key in (self.seed_pw, *self.seed_pw_by_part.values()):
            if key is not None and key not in SEED_PIECEWISE:
                raise ValueError(f"{where}: seed pair {key!r} is not a key of fastrank.nn.SEED_PIECEWISE "
                                 f"({', '.join(SEED_PIECEWISE)})")
        unknown = sorted(set(self.seed_pw_by_part) - set(self.parts))
        if unknown:
            raise ValueError(f"{where}: seed_pw_by_part names parts it does not have: {unknown}")
        if not isinstance(self.ignores_options, bool):
            raise TypeError(f"{where}: ignores_options must be a bool, got {self.ignores_options!r}")
        # Every per-part fact is evaluated once here, so a bad declaration fails at import.
        for part in self.part_names():
            for fact in (self.space_of, self.size_of, self.target_of, self.weak_labels_of):
                fact(part)

    def part_names(self) -> Tuple[str, ...]:
        """The parts, or ("",) for a family of one table."""
        return self.parts or ("",)

    def benchmark_name(self, part: str) -> str:
        return f"{self.name}/{part}" if part else self.name

    def _fact(self, value, part: str, what: str, valid: Callable[[object], bool], expected: str):
        out = value(part) if callable(value) else value
        if not valid(out):
            raise ValueError(f"benchmark family {self.name!r}: {what} of part {part!r} must be {expected}, "
                             f"got {out!r}")
        return out

    def space_of(self, part: str) -> str:
        return self._fact(self.space, part, "space", _is_name, "a space's name")

    def size_of(self, part: str) -> int:
        return self._fact(self.size, part, "size", _is_count, "a positive int")

    def target_of(self, part: str) -> Optional[str]:
        """The one metric column of a family without a split (None for one with)."""
        return None if self.target is None else self._fact(self.target, part, "target", _is_name, "a column name")

    def weak_labels_of(self, part: str) -> Tuple[str, ...]:
        return self._fact(self.weak_labels, part, "weak_labels", _is_names, "a tuple of column names")

    def metrics_of(self, part: str) -> Tuple[str, ...]:
        """What a listing shows as metrics: the split option's values (validation first, the
        default), else the target column."""
        return (self.split.valid, self.split.test) if self.split is not None else (self.target_of(part),)

    def spaces(self) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(self.space_of(p) for p in self.part_names()))

    def seed_pw_of(self, part: str) -> Optional[str]:
        return self.seed_pw_by_part.get(part, self.seed_pw)

    def load(self, part: str, data_dir: Optional[str] = None, **options) -> TabularBenchmark:
        """The table of ``part`` ("" for a family of one table), through the loader."""
        args = (part,) if self.parts else ()
        folder = {"path": data_dir} if isinstance(self.source, CsvTable) else {}
        return self.loader(*args, **folder, **({} if self.ignores_options else options))


# Every registered family by name, in registration order: the order ``catalog`` lists them.
FAMILIES: Dict[str, Family] = {}


def _spelled(family: Family) -> Iterator[str]:
    yield family.name
    yield from family.aliases


def register_family(family: Family) -> Family:
    """Adds a family to ``load``, ``catalog``, the search's protocols and the PW default;
    returns it. A name or alias another family holds, or a second family declaring a space's
    seed pair, is refused."""
    if not isinstance(family, Family):
        raise TypeError(f"register_family takes a Family, got {type(family).__name__}")
    taken = {spelling: other.name for other in FAMILIES.values() for spelling in _spelled(other)}
    for spelling in _spelled(family):
        if spelling in taken:
            raise ValueError(f"benchmark family name {spelling!r} is taken by family {taken[spelling]!r}")
    if family.seed_pw is not None:
        # a space name resolves to the one family declaring a pair for it (see seed_pw_key)
        claimed = {space: other.name for other in FAMILIES.values() if other.seed_pw is not None
                   for space in other.spaces()}
        for space in family.spaces():
            if space in claimed:
                raise ValueError(f"benchmark family {family.name!r}: family {claimed[space]!r} already declares the "
                                 f"seed pair of space {space!r}")
    FAMILIES[family.name] = family
    return family


def _named(head: str) -> Optional[Family]:
    return next((f for f in FAMILIES.values() if head in _spelled(f)), None)


def _benchmark_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a benchmark name is a str such as 'nb201/cifar10', got {type(name).__name__}")
    return name


def family_of(name: str) -> Tuple[Family, str]:
    """The family a benchmark name belongs to and the part it names (the family's default
    part where it names none). The part itself is checked by the family's loader."""
    head, _, part = _benchmark_name(name).partition("/")
    family = _named(head)
    if family is None or (part and not family.parts):
        raise ValueError(f"unknown benchmark {name!r}; see fastrank.benchmarks.load's documentation")
    return family, part or family.default_part or ""


def seed_pw_key(name: str) -> Optional[str]:
    """The key of ``fastrank.nn.SEED_PIECEWISE`` for a benchmark name (``nb201/cifar10``) or a
    space name (``darts``, what a Predictor knows: the pair of the family that declares one
    for that space), or None where no family declares one."""
    head, _, part = _benchmark_name(name).partition("/")
    family = _named(head)
    if family is None:
        family = next((f for f in FAMILIES.values() if f.seed_pw is not None and head in f.spaces()), None)
    return None if family is None else family.seed_pw_of(part)
