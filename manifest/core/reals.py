"""Manifest reals: JSON numbers, or the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.

JSON has no non-finite numbers, so a manifest writes them as those three strings. This module is
the one place that maps between the two forms.
"""

from __future__ import annotations

import math
from typing import Any

#: The strings that stand for non-finite numbers, and their values.
NON_FINITE: dict[str, float] = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def to_float(v: Any) -> float:
    """A manifest real (number, or "NaN"/"Infinity"/"-Infinity") as a float."""
    return NON_FINITE[v] if isinstance(v, str) else float(v)


def json_real(v: Any) -> Any:
    """A float as the manifest writes it: non-finite values as their strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def same_real(a: Any, b: Any) -> bool:
    """Equality of manifest reals, where ``"NaN"`` equals ``"NaN"`` and NaN floats equal each other."""
    fa, fb = to_float(a), to_float(b)
    return fa == fb or (math.isnan(fa) and math.isnan(fb))
