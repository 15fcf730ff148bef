"""Peer libraries timed beside fastrank in the same run.

allRank (allegro/allRank, PyPI ``allrank``) pins torch 1.x, so it is installed with
``pip install --no-deps allrank``. Its package imports torchvision, gcsfs and
pkg_resources at load time for data loading we do not use; those are stubbed before
``allrank.models.losses`` is imported.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def _stub(name: str, **attrs) -> None:
    if name in sys.modules:
        return
    try:
        importlib.import_module(name)
        return
    except Exception:
        pass
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = module


def allrank_losses():
    """allrank.models.losses, or None when allRank is not installed."""
    try:
        importlib.util.find_spec("allrank")
    except (ImportError, ValueError):
        return None
    if importlib.util.find_spec("allrank") is None:
        return None
    _stub("torchvision")
    _stub("torchvision.transforms", Compose=object)
    sys.modules["torchvision"].transforms = sys.modules["torchvision.transforms"]
    _stub("gcsfs")
    _stub("pkg_resources", Requirement=object, resource_filename=lambda *a, **k: "")
    return importlib.import_module("allrank.models.losses")
