"""Options written once: each field of a strategy's (or the driver's) options dataclass carries
its default, its check and its help text. The dataclass validates itself from them, and the
``fastrank search`` flags and the options table of the docs are generated from the same fields.

    @dataclass
    class MyOptions(Options):
        width: int = option(8, "hidden units", Int(1))
"""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .._checks import check_int, check_number


class Check:
    """A field's rule: ``check(value, name)`` raises TypeError/ValueError; ``parse(text)`` reads
    a command-line value; ``what`` says in words what is accepted."""

    what = "a value"

    def check(self, value, name: str):
        return value

    def parse(self, text: str):
        return text

    def argparse_type(self) -> Callable[[str], Any]:
        def convert(text: str):
            try:
                value = self.parse(text)
                self.check(value, "value")
            except (TypeError, ValueError):
                raise argparse.ArgumentTypeError(f"expected {self.what}, got {text!r}") from None
            return value

        convert.__name__ = self.what  # argparse names the type in its messages
        return convert


class Int(Check):
    def __init__(self, low: int = 1):
        self.low = low
        self.what = {1: "a positive int", 0: "a non-negative int"}.get(low, f"an int >= {low}")

    def check(self, value, name):
        return check_int(value, name, self.low)

    def parse(self, text):
        return int(text)


class Float(Check):
    def __init__(self, what: str, low=None, high=None, low_open=False, high_open=False):
        self.what, self.bounds = what, dict(low=low, high=high, low_open=low_open, high_open=high_open)

    def check(self, value, name):
        return check_number(value, name, self.what, **self.bounds)

    def parse(self, text):
        return float(text)


FRACTION = Float("a fraction in [0, 1]", low=0, high=1)
POSITIVE = Float("a positive number", low=0, low_open=True)


class Bool(Check):
    what = "a bool"

    def check(self, value, name):
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, got {value!r}")
        return value


class Choice(Check):
    def __init__(self, choices: Sequence[str]):
        self.choices = tuple(choices)
        self.what = "one of " + ", ".join(self.choices)

    def check(self, value, name):
        if value not in self.choices:
            raise ValueError(f"{name} must be {self.what}, got {value!r}")
        return value


class Optional_(Check):
    """None or what ``inner`` accepts."""

    def __init__(self, inner: Check, none_means: str):
        self.inner, self.none_means = inner, none_means
        self.what = inner.what

    def check(self, value, name):
        return None if value is None else self.inner.check(value, name)

    def parse(self, text):
        return self.inner.parse(text)


class OneOf(Check):
    """A value any of ``checks`` accepts, read from the command line by the first."""

    def __init__(self, *checks: Check, what: str):
        self.checks, self.what = checks, what

    def check(self, value, name):
        errors = []
        for c in self.checks:
            try:
                return c.check(value, name)
            except (TypeError, ValueError) as err:
                errors.append(err)
        raise errors[0]

    def parse(self, text):
        return self.checks[0].parse(text)


class Instance(Check):
    """A Python object of a given kind (a class, a mapping): no command-line form."""

    def __init__(self, predicate: Callable[[Any], bool], what: str):
        self.predicate, self.what = predicate, what

    def check(self, value, name):
        if not self.predicate(value):
            raise TypeError(f"{name} must be {self.what}, got {value!r}")
        return value


class Keywords(Check):
    """A dict of keyword arguments for ``target``; ``keys`` (name -> (check, help)) each get
    their own flag, which fills the dict (its default is the target's own)."""

    def __init__(self, what: str, target: Callable, keys: Dict[str, Tuple[Check, str]]):
        self.what, self.target, self.keys = what, target, keys

    def default(self, key: str):
        import inspect

        parameter = inspect.signature(self.target).parameters.get(key)
        return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default

    def check(self, value, name):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict of {self.what}, got {value!r}")
        for key, (rule, _) in self.keys.items():
            if key in value:
                rule.check(value[key], f"{name}[{key!r}]")
        return value


def option(default, help: str, check: Check = Check(), *, cli: bool = True, factory: Optional[Callable] = None):
    """A dataclass field with its help text and check. ``cli=False``: no command-line flag (a
    Python object such as a class); ``factory``: a default made per instance (a dict)."""
    meta = {"help": help, "check": check, "cli": cli}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Options:
    """Base of every options dataclass: validates each field by its check."""

    def __post_init__(self):
        for f in fields(self):
            rule = f.metadata.get("check")
            if rule is not None:
                rule.check(getattr(self, f.name), f.name)

    @classmethod
    def taking(cls, strategy: str, options: dict) -> "Options":
        """``cls(**options)``, where an option the strategy does not take is refused by name, with
        the nearest one it takes and the list of them (not Python's "unexpected keyword")."""
        names = [f.name for f in fields(cls)]
        unknown = [k for k in options if k not in names]
        if unknown:
            import difflib

            near = difflib.get_close_matches(unknown[0], names, n=1)
            raise TypeError(f"the {strategy} strategy takes no option {unknown[0]!r}"
                            + (f" (did you mean {near[0]!r}?)" if near else "")
                            + (f"; its options: {', '.join(names)}" if names else "; it takes no options"))
        return cls(**options)

    @classmethod
    def described(cls) -> List[dataclasses.Field]:
        return [f for f in fields(cls) if "help" in f.metadata]

    def as_record(self) -> dict:
        """The options as JSON-able values (classes by qualified name): what a journal keeps."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, type):
                value = f"{value.__module__}.{value.__qualname__}"
            elif isinstance(value, dict):
                value = {str(k): _plain(v) for k, v in sorted(value.items())}
            else:
                value = _plain(value)
            out[f.name] = value
        return out


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays of weak labels
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    return repr(value)


def default_of(f: dataclasses.Field):
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass
class Flag:
    """One command-line flag and the option fields (of one or more dataclasses) it fills."""

    name: str  # the field name, or "<field>.<key>" for a Keywords key
    check: Check
    help: str
    owners: List[Tuple[str, Any]]  # (owner label, default there)
    helps: List[str] = None  # the distinct help texts of the fields it fills

    @property
    def field(self) -> str:
        return self.name.partition(".")[0]

    @property
    def key(self) -> Optional[str]:
        return self.name.partition(".")[2] or None

    @property
    def dest(self) -> str:
        return "opt_" + self.name.replace(".", "__")

    @property
    def option_string(self) -> str:
        return flag(self.key or self.field)

    def defaults(self) -> str:
        values = {repr(d) for _, d in self.owners}
        if len(values) == 1:
            return _show(self.owners[0][1])
        return "; ".join(f"{owner}: {_show(d)}" for owner, d in self.owners)


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def collect_flags(owners: Iterable[Tuple[str, type]]) -> List[Flag]:
    """The flags of several options dataclasses (label, class), merged by field name: a field
    that two strategies share (n_init) is one flag."""
    out: Dict[str, Flag] = {}
    for label, cls in owners:
        for f in cls.described():
            if not f.metadata["cli"]:
                continue
            rule = f.metadata["check"]
            entries = ([(f"{f.name}.{k}", r, h, rule.default(k)) for k, (r, h) in rule.keys.items()]
                       if isinstance(rule, Keywords) else [(f.name, rule, f.metadata["help"], default_of(f))])
            for name, r, h, d in entries:
                if name in out:
                    out[name].owners.append((label, d))
                    if h not in out[name].helps:
                        out[name].helps.append(h)
                        out[name].help = "; ".join(out[name].helps)
                else:
                    out[name] = Flag(name, r, h, [(label, d)], [h])
    return list(out.values())


def add_flags(parser: argparse.ArgumentParser, flags: Sequence[Flag], title: str) -> None:
    """Adds the flags, each defaulting to 'not given' so that a strategy keeps its own default."""
    group = parser.add_argument_group(title)
    for fl in flags:
        owners = ", ".join(o for o, _ in fl.owners if o)
        text = (f"{fl.help} [{owners}]" if owners else fl.help) + f" (default {fl.defaults()})"
        text = text.replace("%", "%%")
        if isinstance(fl.check, Bool):
            group.add_argument(fl.option_string, dest=fl.dest, action=argparse.BooleanOptionalAction,
                               default=None, help=text)
        elif isinstance(fl.check, Choice):
            group.add_argument(fl.option_string, dest=fl.dest, choices=fl.check.choices, default=None, help=text)
        else:
            group.add_argument(fl.option_string, dest=fl.dest, type=fl.check.argparse_type(), default=None,
                               metavar=fl.field.upper() if fl.key is None else fl.key.upper(), help=text)


def given(args: argparse.Namespace, flags: Sequence[Flag], cls: type) -> dict:
    """The options of ``cls`` that the command line set, as keyword arguments."""
    names = {f.name for f in fields(cls)}
    out: Dict[str, Any] = {}
    for fl in flags:
        value = getattr(args, fl.dest, None)
        if value is None or fl.field not in names:
            continue
        if fl.key is None:
            out[fl.field] = value
        else:
            out.setdefault(fl.field, {})[fl.key] = value
    return out


def markdown_table(flags: Sequence[Flag]) -> str:
    """The options table of the docs: flag, Python name, what it takes, default, meaning."""
    rows = ["| flag | Python | takes | default | meaning |", "|---|---|---|---|---|"]
    for fl in flags:
        python = fl.field if fl.key is None else f"{fl.field}[{fl.key!r}]"
        owners = ", ".join(o for o, _ in fl.owners if o)
        rows.append(f"| `{fl.option_string}` | `{python}` | {fl.check.what} | {fl.defaults()} | "
                    f"{fl.help}{f' ({owners})' if owners else ''} |")
    return "\n".join(rows)
