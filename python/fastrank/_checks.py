"""Scalar argument checks, with one rule for the error type (as scikit-learn's check_scalar):
a value of the wrong type raises TypeError, a value of the right type out of range ValueError."""
from __future__ import annotations

from numbers import Integral, Real

import torch

# numbers that torch.compile traces symbolically pass as what they stand for
_INTS = (Integral, torch.SymInt)
_REALS = (Real, torch.SymFloat, torch.SymInt)


def check_int(value, name: str, min_value: int = 1) -> int:
    """An int (not a bool) >= min_value (1: "a positive int", 0: "a non-negative int")."""
    what = {1: "a positive int", 0: "a non-negative int"}.get(min_value, f"an int >= {min_value}")
    if isinstance(value, bool) or not isinstance(value, _INTS):
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}")
    if value < min_value:
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def check_number(value, name: str, what: str, *, low=None, high=None, low_open=False, high_open=False):
    """A finite real number (not a bool) in the interval given by low/high (open ends when
    asked); `what` describes it in the messages ("a positive number", "a fraction in (0, 1]")."""
    if isinstance(value, bool) or not isinstance(value, _REALS):
        raise TypeError(f"{name} must be {what}, got {value!r} of type {type(value).__name__}")
    if not value - value == 0:  # NaN or infinity, decided arithmetically (a SymFloat too)
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value

