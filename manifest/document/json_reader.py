"""Strict JSON (RFC 8259): duplicate keys, ``NaN``/``Infinity`` literals and lone surrogates are
errors, with the position of the offending token."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..core.problems import InvalidManifest, Problem
from ..core.reals import json_real
from .limits import check_keys_depth, too_deep
from .positions import find_json_duplicate


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return d


def bad_constant(token: str) -> Any:
    """``parse_constant`` hook: refuse the non-standard NaN and Infinity literals."""
    raise ValueError(token)


_BIG_EXPONENT = re.compile(r"[eE]\+?[0-9]{3,}")


def parse_json(text: str, name: str) -> Any:
    """The data of a strict JSON text; :class:`InvalidManifest` with a position otherwise."""
    data = _load_json(text, name)
    check_keys_depth(data, name)
    if _BIG_EXPONENT.search(text):  # 1e400 parses as inf: write it as YAML does, "Infinity"
        data = _finite_or_string(data)
    if "\\u" in text and re.search(r"\\u[dD][89abAB]", text):
        _refuse_lone_surrogates(data, name)
    return data


def _finite_or_string(v: Any) -> Any:
    if isinstance(v, float) and math.isinf(v):
        return json_real(v)
    if isinstance(v, dict):
        return {k: _finite_or_string(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite_or_string(x) for x in v]
    return v


def _refuse_lone_surrogates(v: Any, name: str) -> None:
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidManifest(Problem("encoding", f"string {x[:40]!r} holds an unpaired UTF-16 surrogate escape; it is not valid Unicode text"), file=name) from None


def _load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=bad_constant)
    except json.JSONDecodeError as exc:
        raise InvalidManifest(Problem("json-syntax", f"invalid JSON: {exc.msg}", None, exc.lineno, exc.colno), file=name) from None
    except _DuplicateKey as exc:
        found = find_json_duplicate(text)
        pointer, line, col = found if found else (None, None, None)
        raise InvalidManifest(Problem("duplicate-key", f"duplicate key {json.dumps(exc.key, ensure_ascii=False)}", pointer, line, col), file=name) from None
    except ValueError as exc:
        token = str(exc)
        pos = _find_constant(text, token)
        hint = {"NaN": '"NaN"', "Infinity": '"Infinity"', "-Infinity": '"-Infinity"'}.get(token, "a string")
        raise InvalidManifest(Problem("json-syntax", f"invalid JSON: {token} is not a JSON value; write non-finite numbers as the string {hint}", None, *pos), file=name) from None
    except RecursionError:
        raise too_deep(name) from None


def _find_constant(text: str, token: str) -> tuple[int | None, int | None]:
    m = re.search(r"(?<![\"\w])" + re.escape(token) + r"(?![\"\w])", text)
    if not m:
        return None, None
    line = text.count("\n", 0, m.start()) + 1
    return line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
