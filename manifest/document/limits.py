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
