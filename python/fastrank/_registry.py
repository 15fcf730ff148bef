"""Adding to one of fastrank's registries (strategies, spaces, objectives): the name rule, the
refusal to replace by accident, and the messages, written once."""
from __future__ import annotations

from typing import Any, Callable, Dict


def register(table: Dict[str, Any], kind: str, name: str, value: Any, *, replace: bool,
             valid_name: Callable[[str], bool], name_rule: str) -> None:
    """``table[name] = value``, unless the name breaks ``name_rule`` or (without ``replace``)
    names another entry already."""
    if not isinstance(name, str) or not valid_name(name):
        raise ValueError(f"a {kind} name is {name_rule}, got {name!r}")
    if name in table and table[name] is not value and not replace:
        raise ValueError(f"{kind} {name!r} is registered already (replace=True to override it)")
    table[name] = value
