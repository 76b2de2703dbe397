"""The YAML 1.2 core schema, exactly, for ruamel.yaml: what a plain scalar means, and which values
may be built (only those of the JSON data model; any other tag is refused, never constructed).

Shared by the safe reader and the comment-keeping editor, so both read a scalar the same way; the
writer quotes the words listed in :data:`RESERVED_WORDS` so that no reader takes them for others.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode
from ruamel.yaml.resolver import BaseResolver
from ruamel.yaml.tag import Tag

from ..core.reals import json_real
from ..core.text import shorten
from .limits import out_of_range

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
#: The first characters of every plain scalar the core schema reads as other than a string (the
#: resolver is called for every scalar, so most strings are told apart by one set lookup).
_NOT_ONLY_TEXT = frozenset("-+.0123456789~nNtTfF")
TAG_PREFIX = "tag:yaml.org,2002:"
_TAGS = {k: Tag(suffix=TAG_PREFIX + k) for k in ("null", "bool", "int", "float", "str", "seq", "map")}

#: Plain words that a YAML 1.2 or 1.1 reader would take for a null, boolean or number: the writer
#: and the environment files quote them.
RESERVED_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity", "~"})


class CoreResolver(BaseResolver):
    """The YAML 1.2 core schema, exactly (no timestamps, no merge keys, no ``1_000``)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        super().__init__(loadumper=loadumper or loader)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is MappingNode:
            return _TAGS["map"]
        if kind is not ScalarNode:
            return _TAGS["seq"]
        return _TAGS["str"] if not implicit[0] else _TAGS[plain_kind(value)]

    @property
    def processing_version(self) -> Any:
        return (1, 2)


class ValueRefused(MarkedYAMLError):
    """A scalar the core schema cannot build as tagged, or a number out of a manifest's range;
    ``code`` is its problem code."""

    def __init__(self, code: str, message: str, mark: Any) -> None:
        super().__init__(None, None, message, mark)
        self.code = code


def plain_kind(value: str) -> str:
    """What the core schema reads an untagged plain scalar as: null, bool, int, float or str (one
    definition for the reader and for the comment-keeping editor's resolver)."""
    if value and value[0] not in _NOT_ONLY_TEXT:
        return "str"
    if _NULL.fullmatch(value):
        return "null"
    if value in _BOOL:
        return "bool"
    if _INT.fullmatch(value):
        return "int"
    return "float" if _FLOAT.fullmatch(value) else "str"


def plain_value(value: str, mark: Any) -> Any:
    """The value of an untagged plain scalar: a null, boolean, integer or number where the core
    schema says so, else the string itself."""
    kind = plain_kind(value)
    if kind == "str":
        return value
    if kind == "null":
        return None
    if kind == "bool":
        return _BOOL[value]
    return _integer(value, mark) if kind == "int" else _number(value, mark)


def tagged_value(tag: str, value: str, mark: Any) -> Any:
    """The value of a scalar with an explicit core-schema tag; any other tag is refused."""
    if tag == _STR:
        return value
    kind = _TAGGED.get(tag)
    if kind is None:
        raise ValueRefused("forbidden-tag", f"YAML tag refused: tag {shorten(tag, 60)} is not allowed in a manifest (only JSON types are)", mark)
    pattern, what, build = kind
    if not pattern.fullmatch(value):
        raise ValueRefused("tag-mismatch", f"{tag.replace(TAG_PREFIX, '!!')} is set on {shorten(repr(value), 42)}, which is not {what} in the YAML 1.2 core schema", mark)
    return build(value, mark)


def _integer(v: str, mark: Any) -> int:
    refused = out_of_range(v)
    if refused is not None:
        raise ValueRefused(refused.code, refused.message, mark)
    if v.startswith("0o"):
        return int(v[2:], 8)
    if v.startswith("0x"):
        return int(v[2:], 16)
    return int(v)


def _number(v: str, mark: Any) -> Any:
    low = v.lower()
    if low.endswith(".nan"):
        return json_real(math.nan)
    if low.endswith(".inf"):
        return json_real(-math.inf if low.startswith("-") else math.inf)
    refused = out_of_range(v)  # a literal too large for binary64: refused, not read as an infinity
    if refused is not None:
        raise ValueRefused(refused.code, refused.message, mark)
    return float(low)


_STR = TAG_PREFIX + "str"
_TAGGED: dict[str, tuple[re.Pattern[str], str, Callable[[str, Any], Any]]] = {
    TAG_PREFIX + "null": (_NULL, "a null", lambda v, m: None),
    TAG_PREFIX + "bool": (re.compile("|".join(_BOOL)), "a boolean", lambda v, m: _BOOL[v]),
    TAG_PREFIX + "int": (_INT, "an integer", _integer),
    TAG_PREFIX + "float": (_FLOAT, "a number", _number),
}


def events(text: str) -> Iterator[Any]:
    """The parser's events for ``text``: the C parser when it is installed, else the pure one."""
    try:
        y = YAML(typ="safe", pure=False)
        from ruamel.yaml import CParser  # noqa: F401  # lazy: only a probe for the optional C extension
    except ImportError:
        y = YAML(typ="safe", pure=True)
    return iter(y.parse(text))


def composer() -> YAML:
    """A pure-Python loader used only to compose nodes (with their marks) for error positions."""
    return YAML(typ="safe", pure=True)
