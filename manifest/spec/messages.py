"""Schema errors as problems people can read: one small function per JSON Schema keyword.

Both engines' raw errors arrive as :class:`RawError`; :func:`describe` looks the keyword up in
:data:`DESCRIBERS` (as ``jsonschema`` registers one function per keyword), so each message is
written once and the two engines report the same words at the same pointers.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable, Iterable, NamedTuple

import jsonschema_rs

from ..core.codes import schema_code
from ..core.pointers import join_pointer
from ..core.problems import Problem
from ..core.versions import KNOWN_VERSIONS


class RawError(NamedTuple):
    """One engine error: the failing keyword, where (instance path), and the schema around it."""

    keyword: str
    path: list[Any]
    sub: Any  # the sub-schema that holds the keyword
    value: Any  # the keyword's value in it
    instance: Any
    spath: list[Any]  # the schema path


Describer = Callable[[RawError, str, str], "list[Problem]"]

_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def walk(schema: Any, path: Iterable[Any]) -> Any:
    """The node of ``schema`` at a schema path."""
    node: Any = schema
    for seg in path:
        node = node[seg if not isinstance(node, list) else int(seg)]
    return node


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, (dict, list)):
        return f"an {_type_name(value)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- one per keyword


def _required(e: RawError, code: str, ptr: str) -> list[Problem]:
    missing = [k for k in (e.value or []) if isinstance(e.instance, dict) and k not in e.instance]
    return [Problem(code, f"missing required property {json.dumps(k)}", ptr) for k in missing]


def _additional_properties(e: RawError, code: str, ptr: str) -> list[Problem]:
    known = set(e.sub.get("properties", {})) if isinstance(e.sub, dict) else set()
    extra = [k for k in e.instance if k not in known] if isinstance(e.instance, dict) else []
    if e.value is False:
        return [Problem(code, f"unknown property {json.dumps(k, ensure_ascii=False)}", join_pointer([*e.path, k])) for k in extra]
    return [Problem(code, "property value does not fit", ptr)]


def _property_names(e: RawError, code: str, ptr: str) -> list[Problem]:
    bad = [k for k in e.instance if not _name_ok(e.value, k)] if isinstance(e.instance, dict) else []
    rule = _name_rule(e.value)
    return [Problem(code, f"property name {json.dumps(k, ensure_ascii=False)} {rule}", join_pointer([*e.path, k])) for k in bad] or [Problem(code, f"a property name {rule}", ptr)]


def _type(e: RawError, code: str, ptr: str) -> list[Problem]:
    expected = e.value if isinstance(e.value, str) else " or ".join(e.value or [])
    return [Problem(code, f"expected {expected}, got {_type_name(e.instance)}", ptr)]


def _enum(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"{_show(e.instance)} is not one of {', '.join(json.dumps(v) for v in e.value or [])}", ptr)]


def _const(e: RawError, code: str, ptr: str) -> list[Problem]:
    extra = f" (this tool knows {', '.join(KNOWN_VERSIONS)})" if e.path == ["spec_version"] else ""
    return [Problem(code, f"must be {json.dumps(e.value)}, got {_show(e.instance)}{extra}", ptr)]


def _pattern(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"{_show(e.instance)} is not {_form(e.sub, e.value)}", ptr)]


def _format(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"{_show(e.instance)} is not a valid {e.value}", ptr)]


def _length(e: RawError, code: str, ptr: str) -> list[Problem]:
    if isinstance(e.sub, dict) and "pattern" in e.sub and e.sub.get("minLength") == e.sub.get("maxLength"):
        return [Problem("schema-pattern", f"{_show(e.instance)} is not {_form(e.sub, e.sub['pattern'])}", ptr)]
    if e.keyword == "minLength" and e.value == 1:
        return [Problem(code, "must not be empty", ptr)]
    word = "at least" if e.keyword == "minLength" else "at most"
    return [Problem(code, f"must be {word} {e.value} characters long", ptr)]


_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _bound(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"{_show(e.instance)} is not {_BOUNDS[e.keyword]} {e.value}", ptr)]


def _min_items(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"must have at least {e.value} item{'s' if e.value != 1 else ''}", ptr)]


def _min_properties(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"must have at least {e.value} propert{'ies' if e.value != 1 else 'y'}", ptr)]


def _any_of(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, _any_of_message(e.value, e.instance), ptr)]


def _not(e: RawError, code: str, ptr: str) -> list[Problem]:
    both = list(e.value.get("required", [])) if isinstance(e.value, dict) else []
    if len(e.spath) >= 3 and e.spath[-3] == "dependentSchemas" and both:
        return [Problem("schema-exclusive", f"{json.dumps(e.spath[-2])} and {json.dumps(both[0])} must not both be present", ptr)]
    return [Problem(code, "matches a form that is not allowed", ptr)]


def _other(e: RawError, code: str, ptr: str) -> list[Problem]:
    return [Problem(code, f"fails schema keyword {e.keyword!r}", ptr)]


#: keyword -> the function that words its errors.
DESCRIBERS: dict[str, Describer] = {
    "required": _required,
    "additionalProperties": _additional_properties,
    "propertyNames": _property_names,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "format": _format,
    "minLength": _length,
    "maxLength": _length,
    "minimum": _bound,
    "maximum": _bound,
    "exclusiveMinimum": _bound,
    "exclusiveMaximum": _bound,
    "minItems": _min_items,
    "minProperties": _min_properties,
    "anyOf": _any_of,
    "not": _not,
}


def describe(e: RawError) -> list[Problem]:
    """Turn one raw schema error into problems with uniform messages and precise pointers."""
    return DESCRIBERS.get(e.keyword, _other)(e, schema_code(e.keyword), join_pointer(e.path))


# --------------------------------------------------------------------------- wording helpers


def _any_of_message(options: Any, instance: Any) -> str:
    types: list[str] = []
    enums: list[str] = []
    lengths: list[int] = []
    for opt in options or []:
        if "type" in opt:
            types.append(f"a {opt['type']}" if isinstance(opt["type"], str) else " or ".join(opt["type"]))
        elif "enum" in opt:
            enums.extend(json.dumps(v) for v in opt["enum"])
        elif "minLength" in opt and opt.get("minLength") == opt.get("maxLength"):
            lengths.append(opt["minLength"])
    if lengths and not types and not enums:
        got = len(instance) if isinstance(instance, str) else "?"
        return f"must be {' or '.join(map(str, lengths))} characters long, got {got}"
    forms = types + ([f"one of {', '.join(enums)}"] if enums else [])
    return f"{_show(instance)} is not {' or '.join(forms) if forms else 'of an allowed form'}"


#: The words for a pattern, by the ``title`` of the sub-schema that holds it.
_FORMS = {
    "Timestamp": "a UTC timestamp of the form YYYY-MM-DDTHH:MM:SS.sssZ",
    "ORCID": "an ORCID iD URL (https://orcid.org/0000-0000-0000-0000)",
    "Commit": "a lowercase hexadecimal commit id",
    "Directory hash": "a directory hash: 64 lowercase hex digits (spec 6.3)",
}


def _form(sub: Any, pattern: Any) -> str:
    title = sub.get("title") if isinstance(sub, dict) else None
    if title in _FORMS:
        return _FORMS[title]
    if isinstance(title, str) and title.endswith(" digest"):
        return f"a lowercase hexadecimal {title[:-7]} digest of {sub.get('maxLength')} digits"
    return f"matching {pattern}"


def _name_rule(names_schema: Any) -> str:
    if isinstance(names_schema, dict) and "pattern" in names_schema:
        return "is not a reverse-domain namespace such as org.example.tool"
    return "must not be empty"


@lru_cache(maxsize=64)
def _names_validator(schema_json: str) -> Any:
    return jsonschema_rs.validator_for(json.loads(schema_json))


def _name_ok(names_schema: Any, name: str) -> bool:
    return bool(_names_validator(json.dumps(names_schema, sort_keys=True)).is_valid(name))
