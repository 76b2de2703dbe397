"""Reader limits (spec 14): what a document may cost to read, and the problems past them."""

from __future__ import annotations

from typing import Any

from ..core.problems import InvalidManifest, Problem

#: Files larger than this are refused unless the caller raises the limit.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: How many nodes aliases may add to a YAML document beyond its own.
MAX_ALIAS_EXPANSION = 100_000
#: Deepest nesting of arrays and objects accepted.
MAX_DEPTH = 64
#: Integers a manifest may hold (I-JSON, RFC 7493): every reader can represent them exactly.
MAX_SAFE_INTEGER = 2**53 - 1


def too_deep(name: str) -> InvalidManifest:
    """The error for a document nested deeper than :data:`MAX_DEPTH`."""
    return InvalidManifest(Problem("too-deep", f"nesting is deeper than {MAX_DEPTH} levels"), file=name)


def non_string_key(key: Any, name: str) -> InvalidManifest:
    return InvalidManifest(Problem("non-string-key", f"mapping key {key!r} is not a string"), file=name)


def check_keys_depth(obj: Any, name: str, depth: int = 0) -> None:
    """Refuse non-string keys and nesting deeper than :data:`MAX_DEPTH` (a tree, no aliases)."""
    if depth > MAX_DEPTH:
        raise too_deep(name)
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise non_string_key(k, name)
            if isinstance(v, (dict, list)):
                check_keys_depth(v, name, depth + 1)
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)):
                check_keys_depth(v, name, depth + 1)


def number_problem(token: str, name: str, line: int | None = None, column: int | None = None) -> InvalidManifest | None:
    """The error for a number literal a manifest may not hold, or ``None`` for one it may.

    A literal that overflows binary64 (``1e400``) is refused rather than read as an infinity (write
    ``"Infinity"`` for that); an integer beyond ±(2^53 − 1) is refused, since readers would round it.
    """
    shown = token if len(token) <= 40 else f"{token[:20]}…{token[-8:]} ({len(token)} characters)"
    if _is_integer(token):
        digits = len(token.lstrip("+-"))
        if digits > 20 or abs(int(token, 0) if token.lstrip("+-")[:2] in ("0x", "0o") else int(token)) > MAX_SAFE_INTEGER:
            return InvalidManifest(Problem("integer-out-of-range", f"integer {shown} is outside ±(2^53 − 1), the range a manifest allows (readers would round it)", None, line, column), file=name)
        return None
    try:
        value = float(token)
    except ValueError:
        return None
    if value in (float("inf"), float("-inf")):
        return InvalidManifest(Problem("number-out-of-range", f"number {shown} is beyond the range of a binary64 number; write the string \"Infinity\" if infinity is meant", None, line, column), file=name)
    return None


def _is_integer(token: str) -> bool:
    t = token.lstrip("+-")
    return (t.isascii() and t.isdigit()) or (t[:2] in ("0x", "0o") and len(t) > 2)
