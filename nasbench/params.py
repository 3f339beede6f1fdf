"""Checks of hyperparameters (strategies, predictors): one-line errors naming the field."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or an InvalidParameterError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidParameterError(f"{name}: must be a positive integer, got {value!r}")
    return int(value)


def number_at_least(name: str, value: Any, low: float, strict: bool = False) -> float:
    """``value`` as a finite float >= ``low`` (> with ``strict``), or a named error."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or (value <= low if strict else value < low):
        raise InvalidParameterError(f"{name}: expected a number {'>' if strict else '>='} {low:g}, got {value!r}")
    return float(value)
