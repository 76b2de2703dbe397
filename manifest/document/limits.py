"""Reader limits (spec 14): what a document may cost to read, and the problems past them."""

from __future__ import annotations

import math
from typing import Any

from ..core.params import MAX_SAFE_INTEGER
from ..core.problems import InvalidManifest, Problem
from ..core.text import shorten

#: Files larger than this are refused unless the caller raises the limit.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: YAML costs about four times what JSON does to read (a Python object per event), so the text the
#: YAML parser reads is held to this fraction of the file-size limit (16 MiB by default). One-line
#: lists of numbers (metric histories) are read as JSON and do not count.
YAML_SHARE = 4
#: How many nodes aliases may add to a YAML document beyond its own.
MAX_ALIAS_EXPANSION = 100_000
#: How many characters (of strings and keys) aliases may add to a YAML document beyond its own.
MAX_ALIAS_CHARACTERS = 1 << 20
#: Deepest nesting of arrays and objects accepted.
MAX_DEPTH = 64


def too_deep(name: str) -> InvalidManifest:
    """The error for a document nested deeper than :data:`MAX_DEPTH`."""
    return InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name)


def check_depth(obj: Any, name: str, depth: int = 0) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` (a tree, no aliases). Keys are strings by then:
    JSON has no others, and the YAML constructor refuses them."""
    if depth > MAX_DEPTH:
        raise too_deep(name)
    for v in obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ():
        if isinstance(v, (dict, list)):
            check_depth(v, name, depth + 1)


def out_of_range(token: str) -> Problem | None:
    """The problem with a number literal a manifest may not hold, or ``None`` for one it may.

    A literal that overflows binary64 (``1e400``) is refused rather than read as an infinity (write
    ``"Infinity"`` for that); an integer beyond ±(2^53 − 1) is refused, since readers would round it.
    The problem has no position: the reader that found the token places it.
    """
    shown = token if len(token) <= 40 else f"{token[:20]}…{token[-8:]} ({len(token)} characters)"
    if _is_integer(token):
        digits = len(token.lstrip("+-"))
        if digits > 20 or abs(int(token, 0) if token.lstrip("+-")[:2] in ("0x", "0o") else int(token)) > MAX_SAFE_INTEGER:
            return Problem("integer-out-of-range", f"integer {shown} is outside ±(2^53 − 1), the range a manifest allows (readers would round it)")
        return None
    try:
        value = float(token)
    except ValueError:
        return None
    if math.isinf(value):
        return Problem("number-out-of-range", f"number {shorten(token, 40)} is beyond the range of a binary64 number; write the string \"Infinity\" if infinity is meant")
    return None


def _is_integer(token: str) -> bool:
    t = token.lstrip("+-")
    return (t.isascii() and t.isdigit()) or (t[:2] in ("0x", "0o") and len(t) > 2)
