"""The typing rule for tracking-system string parameters (spec: "Params").

A string ``s`` becomes a typed value ``v`` only when ``param_text(v) == s`` byte for byte, so that
import restores every original string exactly: ``"0.10"``, ``"1e5"``, ``"true"`` and ``" 1"`` stay
strings; ``"100"`` becomes 100, ``"0.1"`` becomes 0.1, ``"True"`` becomes true, ``"None"`` null.
"""

from __future__ import annotations

import math
import re
from typing import Any, Union

Scalar = Union[str, int, float, bool, None]
MAX_SAFE_INTEGER = 2**53 - 1
_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT_CHARS = re.compile(r"-?[0-9][0-9.e+-]*")


def param_text(value: Scalar) -> str:
    """The text a typed parameter value stands for (what a Python tracker records)."""
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def type_param(text: str) -> Scalar:
    """The typed value of a parameter string, or the string itself when typing would lose bytes."""
    if text == "None":
        return None
    if text == "True":
        return True
    if text == "False":
        return False
    if _INT.fullmatch(text) and text != "-0":
        n = int(text)
        if abs(n) <= MAX_SAFE_INTEGER:
            return n
        return text
    if _FLOAT_CHARS.fullmatch(text):
        try:
            f = float(text)
        except ValueError:
            return text
        if math.isfinite(f) and repr(f) == text:
            return f
    return text


def type_params(params: dict[str, str]) -> dict[str, Any]:
    return {k: type_param(v) for k, v in params.items()}

