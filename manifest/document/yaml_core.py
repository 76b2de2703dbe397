"""The YAML 1.2 core schema, exactly, for ruamel.yaml: what a plain scalar means, and which values
may be built (only those of the JSON data model; any other tag is refused, never constructed).

Shared by the safe reader and the comment-keeping editor, so both read a scalar the same way; the
writer quotes the words listed in :data:`RESERVED_WORDS` so that no reader takes them for others.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.nodes import MappingNode, ScalarNode
from ruamel.yaml.resolver import BaseResolver
from ruamel.yaml.tag import Tag

from ..core.problems import Problem
from ..core.reals import json_real
from ..core.text import shorten
from .limits import out_of_range

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_TAG = "tag:yaml.org,2002:"
_TAGS = {k: Tag(suffix=_TAG + k) for k in ("null", "bool", "int", "float", "str", "seq", "map")}

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
        if not implicit[0]:
            return _TAGS["str"]
        if _NULL.fullmatch(value):
            return _TAGS["null"]
        if value in _BOOL:
            return _TAGS["bool"]
        if _INT.fullmatch(value):
            return _TAGS["int"]
        if _FLOAT.fullmatch(value):
            return _TAGS["float"]
        return _TAGS["str"]

    @property
    def processing_version(self) -> Any:
        return (1, 2)


class ValueRefused(ConstructorError):
    """A scalar the core schema cannot build as tagged, or a number out of a manifest's range;
    ``code`` is its problem code."""

    def __init__(self, code: str, message: str, mark: Any) -> None:
        super().__init__(None, None, message, mark)
        self.code = code


def _refused(problem: Problem, node: Any) -> ValueRefused:
    return ValueRefused(problem.code, problem.message, node.start_mark)


def _mismatch(node: Any, kind: str) -> ValueRefused:
    tag = str(node.tag).replace(_TAG, "!!")
    return ValueRefused("tag-mismatch", f"{tag} is set on {shorten(repr(node.value), 42)}, which is not {kind} in the YAML 1.2 core schema", node.start_mark)


class CoreConstructor(SafeConstructor):
    """Builds only JSON data-model values; anything else is refused, never constructed."""

    yaml_constructors: dict[Any, Any] = {}

    def check_mapping_key(self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any) -> bool:
        if not isinstance(key, str):  # before ruamel hashes it: a list or mapping key would raise TypeError
            raise ValueRefused("non-string-key", f"mapping key {shorten(repr(key), 42)} is not a string (quote it)", key_node.start_mark)
        return bool(super().check_mapping_key(node, key_node, mapping, key, value))

    def construct_yaml_null(self, node: Any) -> None:
        if not _NULL.fullmatch(node.value):
            raise _mismatch(node, "a null")
        return None

    def construct_yaml_int(self, node: Any) -> int:
        v = node.value
        if not _INT.fullmatch(v):
            raise _mismatch(node, "an integer")
        refused = out_of_range(v)
        if refused is not None:
            raise _refused(refused, node)
        if v.startswith("0o"):
            return int(v[2:], 8)
        if v.startswith("0x"):
            return int(v[2:], 16)
        return int(v)

    def construct_yaml_float(self, node: Any) -> Any:
        if not _FLOAT.fullmatch(node.value):
            raise _mismatch(node, "a number")
        v = node.value.lower()
        if v.endswith(".nan"):
            return json_real(math.nan)
        if v.endswith(".inf"):
            return json_real(-math.inf if v.startswith("-") else math.inf)
        refused = out_of_range(node.value)  # a literal too large for binary64: refused, not read as an infinity
        if refused is not None:
            raise _refused(refused, node)
        return float(v)

    def construct_yaml_bool(self, node: Any) -> bool:
        if node.value not in _BOOL:
            raise _mismatch(node, "a boolean")
        return _BOOL[node.value]

    def construct_undefined(self, node: Any) -> Any:
        raise ConstructorError(None, None, f"tag {node.tag!s} is not allowed in a manifest (only JSON types are)", node.start_mark)


for _key, _fn in (
    ("null", CoreConstructor.construct_yaml_null),
    ("bool", CoreConstructor.construct_yaml_bool),
    ("int", CoreConstructor.construct_yaml_int),
    ("float", CoreConstructor.construct_yaml_float),
    ("str", SafeConstructor.construct_yaml_str),
    ("seq", SafeConstructor.construct_yaml_seq),
    ("map", SafeConstructor.construct_yaml_map),
):
    CoreConstructor.add_constructor(_TAG + _key, _fn)
CoreConstructor.add_constructor(None, CoreConstructor.construct_undefined)


def safe_loader() -> YAML:
    """A ruamel.yaml loader for the core schema: the C parser when installed, duplicate keys refused."""
    try:
        y = YAML(typ="safe", pure=False)
        from ruamel.yaml import CParser  # noqa: F401  # lazy: only a probe for the optional C extension
    except ImportError:
        y = YAML(typ="safe", pure=True)
    y.Resolver = CoreResolver
    y.Constructor = CoreConstructor
    y.allow_duplicate_keys = False
    return y


def composer() -> YAML:
    """A pure-Python loader used only to compose nodes (with their marks) for error positions."""
    return YAML(typ="safe", pure=True)
