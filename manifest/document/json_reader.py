"""Strict JSON (RFC 8259): duplicate keys, ``NaN``/``Infinity`` literals and lone surrogates are
errors, with the position of the offending token."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..core.problems import InvalidManifest, Problem
from ..core.text import shorten
from .limits import check_depth, out_of_range, too_deep
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


#: Number literals that may be out of range: an integer of 16 or more digits, or a three-digit
#: exponent. Only texts holding one pay for checking every number (a Python call per number);
#: the long fractions of ordinary floats (``0.14285714285714285``) do not match.
_MAYBE_OUT_OF_RANGE = re.compile(r"(?<![0-9.])[0-9]{16,}(?![0-9.eE])|[eE][-+]?[0-9]{3}")


class _OutOfRange(Exception):
    def __init__(self, token: str) -> None:
        self.token = token


def _checked_int(token: str) -> int:
    if len(token.lstrip("-")) > 15 and out_of_range(token):
        raise _OutOfRange(token)
    return int(token)


def _checked_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):  # only an overflowing literal: JSON has no inf
        raise _OutOfRange(token)
    return value


def parse_json(text: str, name: str) -> Any:
    """The data of a strict JSON text; :class:`InvalidManifest` with a position otherwise."""
    data = _load_json(text, name)
    check_depth(data, name)
    if "\\u" in text and re.search(r"\\u[dD][89abAB]", text):
        _refuse_lone_surrogates(data, name)
    return data


#: From this size on, a text is parsed without the pairs hook: the hook's list of pairs lives next to
#: the object built from it, which for a mapping of 5 million members (a 64 MiB file) is 440 MB
#: more and 2 s slower. Duplicates are then found by counting instead (:func:`_no_duplicates`).
LEAN_FROM = 1 << 20
_SPACED_KEY_END = re.compile(r'"[ \t\r\n]+:')


def load_numbers(text: str) -> Any:
    """``json.loads`` that refuses duplicate keys, the NaN/Infinity literals and out-of-range numbers
    (:class:`_DuplicateKey`, :class:`ValueError` and :class:`_OutOfRange`), checking numbers only when
    one may be."""
    hooks: dict[str, Any] = {"parse_constant": bad_constant}
    if _MAYBE_OUT_OF_RANGE.search(text):
        hooks.update(parse_int=_checked_int, parse_float=_checked_float)
    if len(text) >= LEAN_FROM:
        data = json.loads(text, **hooks)
        if _no_duplicates(text, data):
            return data
    return json.loads(text, object_pairs_hook=_pairs_hook, **hooks)


def _no_duplicates(text: str, data: Any) -> bool:
    """Whether ``data``, parsed from ``text`` by a parser that keeps the last of duplicate keys, lost
    none: every key ends with a quote, optional white space and a colon, so counting those gives at
    least as many as there are keys in the text; if the parsed objects have as many members, there
    was no duplicate. (An escaped quote before a colon inside a string makes the count larger, and
    the text is then parsed again with the exact check.)"""
    bound = text.count('":') + sum(1 for _ in _SPACED_KEY_END.finditer(text))
    members, stack = 0, [data]
    while stack:
        x = stack.pop()
        if type(x) is dict:
            members += len(x)
            stack.extend(v for v in x.values() if type(v) is dict or type(v) is list)
        elif type(x) is list:
            stack.extend(v for v in x if type(v) is dict or type(v) is list)
    return bound == members


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
                raise InvalidManifest(Problem("encoding", f"string {shorten(repr(x), 42)} holds an unpaired UTF-16 surrogate escape; it is not valid Unicode text"), file=name) from None


def _load_json(text: str, name: str) -> Any:
    try:
        return load_numbers(text)
    except _OutOfRange as exc:
        problem = out_of_range(exc.token)
        assert problem is not None  # the hooks raise only for tokens out_of_range refuses
        raise InvalidManifest(problem.at(*_find_constant(text, exc.token)), file=name) from None
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
