"""Values near the float range. A finite value beyond 1e150 (a result of 1e308 is one) has a
square that overflows float64, so a mean and a spread taken from it turn to inf and NaN. Every
place that standardises such values divides them by their largest magnitude first, by the one
rule here."""
from __future__ import annotations

import numpy as np

HUGE = 1e150  # beyond this magnitude a value's square overflows float64


def overflow_scale(values, axis=None, keepdims: bool = False):
    """What to divide ``values`` by before taking their mean and spread: their largest magnitude
    (along ``axis``, NaN ignored) where it is beyond HUGE, else 1."""
    largest = np.nanmax(np.abs(values), axis=axis, keepdims=keepdims)
    return np.where(largest > HUGE, largest, 1.0)
