"""Where a JSON pointer lands in the source text: 1-based line and column, for error messages.

Only used on the error path, so it re-reads the text: YAML through ruamel.yaml's composer (nodes
carry marks), JSON with a small scanner that skips uninteresting values with the C decoder.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from ruamel.yaml.nodes import MappingNode, SequenceNode

from ..core.pointers import join_pointer, split_pointer
from .yaml_core import composer

Locator = Callable[..., "tuple[int, int] | None"]


def locator_for(text: str, fmt: str) -> Locator:
    """A function from JSON pointer to ``(line, column)`` in ``text``."""
    return _yaml_locator(text) if fmt == "yaml" else _json_locator(text)


# --------------------------------------------------------------------------- YAML


def _yaml_locator(text: str) -> Locator:
    try:
        root = composer().compose(text)
    except Exception:  # the text parsed once already; a composer quirk must not hide the real error
        root = None

    def locate(pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        node = root
        if node is None:
            return None
        tokens = split_pointer(pointer)
        key_node = None
        for tok in tokens:
            key_node = None
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    if getattr(k, "value", None) == tok:
                        key_node, node = k, v
                        break
                else:
                    return _mark(node)
            elif isinstance(node, SequenceNode):
                if not (tok.isascii() and tok.isdigit()) or int(tok) >= len(node.value):
                    return _mark(node)
                node = node.value[int(tok)]
            else:
                return _mark(node)
        return _mark(key_node if key and key_node is not None else node)

    return locate


def _mark(node: Any) -> tuple[int, int]:
    m = node.start_mark
    return m.line + 1, m.column + 1


# --------------------------------------------------------------------------- JSON

_WS = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _skip_value(text: str, pos: int) -> int:
    _, end = _decoder.raw_decode(text, pos)
    return end


def _json_locator(text: str) -> Locator:
    def locate(pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        try:
            return _locate_json(text, split_pointer(pointer), key)
        except (ValueError, IndexError):
            return None

    return locate


def _locate_json(text: str, tokens: list[str], want_key: bool) -> tuple[int, int] | None:
    pos = _ws(text, 0)
    key_pos = None
    for tok in tokens:
        ch = text[pos]
        if ch == "{":
            found = _object_member(text, pos, tok)
            if found is None:
                return _line_col(text, pos)
            key_pos, pos = found
        elif ch == "[":
            if not (tok.isascii() and tok.isdigit()):
                return _line_col(text, pos)
            item = _array_item(text, pos, int(tok))
            if item is None:
                return None
            if text[item] == "]":
                return _line_col(text, item)
            pos, key_pos = item, None
        else:
            return _line_col(text, pos)
    if want_key and key_pos is not None:
        return _line_col(text, key_pos)
    return _line_col(text, pos)


def _ws(text: str, pos: int) -> int:
    """The position after the white space at ``pos``."""
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _object_member(text: str, pos: int, name: str) -> tuple[int, int] | None:
    """(key position, value position) of member ``name`` of the object at ``pos``, if present."""
    pos = _ws(text, pos + 1)
    while text[pos] != "}":
        kstart = pos
        k, pos = _scanstring(text, pos + 1)
        pos = _ws(text, _ws(text, pos) + 1)  # past ':'
        if k == name:
            return kstart, pos
        pos = _ws(text, _skip_value(text, pos))
        if text[pos] == ",":
            pos = _ws(text, pos + 1)
    return None


def _array_item(text: str, pos: int, index: int) -> int | None:
    """Position of item ``index`` of the array at ``pos`` (or of its closing bracket if shorter)."""
    pos = _ws(text, pos + 1)
    for _ in range(index):
        if text[pos] == "]":
            return pos
        pos = _ws(text, _skip_value(text, pos))
        if text[pos] == ",":
            pos = _ws(text, pos + 1)
    return pos


def find_json_duplicate(text: str) -> tuple[str, int, int] | None:
    """Pointer and position of the first duplicated key in a JSON text."""

    def scan(pos: int, path: list[str]) -> tuple[int, tuple[str, int, int] | None]:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        ch = text[pos]
        if ch == "{":
            seen: set[str] = set()
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            while text[pos] != "}":
                kstart = pos
                k, pos = _scanstring(text, pos + 1)
                if k in seen:
                    return pos, (join_pointer([*path, k]), *_line_col(text, kstart))
                seen.add(k)
                pos = _WS.match(text, pos).end() + 1  # type: ignore[union-attr]
                pos, hit = scan(pos, [*path, k])
                if hit:
                    return pos, hit
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                if text[pos] == ",":
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            return pos + 1, None
        if ch == "[":
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            i = 0
            while text[pos] != "]":
                pos, hit = scan(pos, [*path, str(i)])
                if hit:
                    return pos, hit
                i += 1
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                if text[pos] == ",":
                    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            return pos + 1, None
        return _skip_value(text, pos), None

    try:
        return scan(0, [])[1]
    except (ValueError, IndexError, RecursionError):
        return None
