"""Ranking losses as torch custom ops (``torch.ops.fastrank.*``) with autograd.

Each op is declared once, by the :class:`~fastrank.ops._custom_ops.OpSpec` beside its public
function; ``LIST_OPS`` holds every declared op by name. Every public module here is imported, so
that its ops register and its ``__all__`` joins this package's: a new op module needs no entry.
"""
import importlib as _importlib
import pkgutil as _pkgutil

from ._custom_ops import LIST_OPS as LIST_OPS  # re-exported; __all__ lists the public functions only

__all__ = []
for _module in sorted(m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")):
    _loaded = _importlib.import_module(f".{_module}", __name__)
    for _name in getattr(_loaded, "__all__", ()):
        globals()[_name] = getattr(_loaded, _name)
        __all__.append(_name)
