"""The JSON Schemas of each spec version, and schema validation with uniform, short messages.

Two engines check a document against the schema: ``jsonschema-rs`` (fast; the default) and the
reference Python ``jsonschema``. Both report through :func:`schema_problems` with the same
messages, so their verdicts and pointers can be compared fixture by fixture.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Literal

from .errors import Problem
from .positions import join_pointer

KNOWN_VERSIONS: tuple[str, ...] = ("1.0",)
LATEST_VERSION = KNOWN_VERSIONS[-1]
SCHEMA_BASE = "https://experiment-manifest.org/schemas/"

Engine = Literal["rs", "python"]


def schema_dir() -> Path:
    """Where the schema files are: inside an installed wheel, or the repository's ``schemas/``."""
    packaged = Path(__file__).with_name("_schemas")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "schemas"


def schema_path(version: str = LATEST_VERSION) -> Path:
    if version not in KNOWN_VERSIONS:
        raise KeyError(version)
    return schema_dir() / f"manifest-{version}.schema.json"


def schema_id(version: str = LATEST_VERSION) -> str:
    return f"{SCHEMA_BASE}manifest-{version}.schema.json"


@lru_cache(maxsize=None)
def schema_text(version: str = LATEST_VERSION) -> str:
    return schema_path(version).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def load_schema(version: str = LATEST_VERSION) -> dict[str, Any]:
    """The JSON Schema of ``version`` as a dict (cached; do not modify)."""
    return json.loads(schema_text(version))


@lru_cache(maxsize=None)
def _rs_validator(version: str, ref: str) -> Any:
    import jsonschema_rs

    schema = load_schema(version)
    if ref:
        schema = {"$schema": schema["$schema"], "$ref": "#" + ref, "$defs": schema["$defs"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@lru_cache(maxsize=None)
def _py_validator(version: str, ref: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = load_schema(version)
    if ref:
        schema = {"$schema": schema["$schema"], "$ref": "#" + ref, "$defs": schema["$defs"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def is_valid(data: Any, version: str = LATEST_VERSION, *, engine: Engine = "rs", ref: str = "") -> bool:
    """Whether ``data`` satisfies the schema (``ref``: a sub-schema such as ``/$defs/historyColumns``)."""
    v = _rs_validator(version, ref) if engine == "rs" else _py_validator(version, ref)
    return bool(v.is_valid(data))


def schema_problems(data: Any, version: str = LATEST_VERSION, *, engine: Engine = "rs", ref: str = "", prefix: str = "") -> list[Problem]:
    """Every schema violation in ``data`` as problems with pointers (empty when valid)."""
    if is_valid(data, version, engine=engine, ref=ref):
        return []
    schema = load_schema(version)
    if engine == "rs":
        raw = _rs_errors(data, _rs_validator(version, ref), schema)
    else:
        raw = _py_errors(data, _py_validator(version, ref))
    problems: dict[tuple[str, str, str], Problem] = {}
    for keyword, path, sub, value, instance, spath in raw:
        if "propertyNames" in spath:
            # jsonschema (python) reports the propertyNames sub-schema itself; jsonschema-rs a resolved path
            names_schema = sub if engine == "python" else _walk(schema, spath[: spath.index("propertyNames") + 1])
            obj = _resolve(data, path)
            keyword, sub, value, instance = "propertyNames", {}, names_schema, obj
        for p in _describe(keyword, list(path), sub, value, instance, spath):
            p = Problem(p.code, p.message, prefix + (p.pointer or ""), severity=p.severity)
            problems.setdefault((p.pointer or "", p.code, p.message), p)
    return sorted(problems.values(), key=lambda p: (_pointer_key(p.pointer or ""), p.code, p.message))


def _pointer_key(pointer: str) -> list[Any]:
    return [(0, int(t)) if t.isdigit() else (1, t) for t in pointer.split("/")]


def _resolve(data: Any, path: list[Any]) -> Any:
    for seg in path:
        data = data[int(seg)] if isinstance(data, list) else data[seg]
    return data


def _walk(schema: dict[str, Any], path: Iterable[Any]) -> Any:
    node: Any = schema
    for seg in path:
        node = node[seg if not isinstance(node, list) else int(seg)]
    return node


def _rs_errors(data: Any, validator: Any, schema: dict[str, Any]) -> Iterable[tuple[str, list[Any], Any, Any, Any, list[Any]]]:
    for e in validator.iter_errors(data):
        spath = list(e.schema_path)
        keyword = str(spath[-1]) if spath else ""
        try:
            sub = _walk(schema, spath[:-1])
            value = sub[keyword] if isinstance(sub, dict) and keyword in sub else None
        except (KeyError, IndexError, TypeError, ValueError):
            sub, value = {}, None
        yield keyword, list(e.instance_path), sub, value, e.instance, spath


def _py_errors(data: Any, validator: Any) -> Iterable[tuple[str, list[Any], Any, Any, Any, list[Any]]]:
    for e in validator.iter_errors(data):
        yield str(e.validator), list(e.absolute_path), e.schema, e.validator_value, e.instance, list(e.absolute_schema_path)


_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, (dict, list)):
        return f"an {_type_name(value)}"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(keyword: str, path: list[Any], sub: Any, value: Any, instance: Any, spath: list[Any]) -> list[Problem]:
    """Turn one raw schema error into problems with uniform messages and precise pointers."""
    ptr = join_pointer(path)
    code = f"schema-{re.sub(r'(?<!^)(?=[A-Z])', '-', keyword).lower()}" if keyword else "schema"
    if keyword == "required":
        missing = [k for k in (value or []) if isinstance(instance, dict) and k not in instance]
        return [Problem(code, f"missing required property {json.dumps(k)}", ptr) for k in missing]
    if keyword == "additionalProperties":
        known = set(sub.get("properties", {})) if isinstance(sub, dict) else set()
        extra = [k for k in instance if k not in known] if isinstance(instance, dict) else []
        if value is False:
            return [Problem(code, f"unknown property {json.dumps(k, ensure_ascii=False)}", join_pointer([*path, k])) for k in extra]
        return [Problem(code, "property value does not fit", ptr)]
    if keyword == "propertyNames":
        bad = [k for k in instance if not _rs_name_ok(value, k)] if isinstance(instance, dict) else []
        rule = _name_rule(value)
        return [Problem(code, f"property name {json.dumps(k, ensure_ascii=False)} {rule}", join_pointer([*path, k])) for k in bad] or [Problem(code, f"a property name {rule}", ptr)]
    if keyword == "type":
        expected = value if isinstance(value, str) else " or ".join(value or [])
        return [Problem(code, f"expected {expected}, got {_type_name(instance)}", ptr)]
    if keyword == "enum":
        return [Problem(code, f"{_show(instance)} is not one of {', '.join(json.dumps(v) for v in value or [])}", ptr)]
    if keyword == "const":
        extra = ""
        if path == ["spec_version"]:
            extra = f" (this tool knows {', '.join(KNOWN_VERSIONS)})"
        return [Problem(code, f"must be {json.dumps(value)}, got {_show(instance)}{extra}", ptr)]
    if keyword == "pattern":
        return [Problem(code, f"{_show(instance)} is not {_form(sub, value)}", ptr)]
    if keyword == "format":
        return [Problem(code, f"{_show(instance)} is not a valid {value}", ptr)]
    if keyword in ("minLength", "maxLength"):
        if isinstance(sub, dict) and "pattern" in sub and sub.get("minLength") == sub.get("maxLength"):
            return [Problem("schema-pattern", f"{_show(instance)} is not {_form(sub, sub['pattern'])}", ptr)]
        if keyword == "minLength" and value == 1:
            return [Problem(code, "must not be empty", ptr)]
        word = "at least" if keyword == "minLength" else "at most"
        return [Problem(code, f"must be {word} {value} characters long", ptr)]
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[keyword]
        return [Problem(code, f"{_show(instance)} is not {op} {value}", ptr)]
    if keyword == "minItems":
        return [Problem(code, f"must have at least {value} item{'s' if value != 1 else ''}", ptr)]
    if keyword == "minProperties":
        return [Problem(code, f"must have at least {value} propert{'ies' if value != 1 else 'y'}", ptr)]
    if keyword == "anyOf":
        return [Problem(code, _any_of_message(value, instance), ptr)]
    if keyword == "not":
        both = list(value.get("required", [])) if isinstance(value, dict) else []
        if len(spath) >= 3 and spath[-3] == "dependentSchemas" and both:
            return [Problem("schema-exclusive", f"{json.dumps(spath[-2])} and {json.dumps(both[0])} must not both be present", ptr)]
        return [Problem(code, "matches a form that is not allowed", ptr)]
    return [Problem(code, f"fails schema keyword {keyword!r}", ptr)]


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


def _form(sub: Any, pattern: Any) -> str:
    title = sub.get("title") if isinstance(sub, dict) else None
    if title == "Timestamp":
        return "a UTC timestamp of the form YYYY-MM-DDTHH:MM:SS.sssZ"
    if isinstance(title, str) and title.endswith(" digest"):
        return f"a lowercase hexadecimal {title[:-7]} digest of {sub.get('maxLength')} digits"
    if title == "ORCID":
        return "an ORCID iD URL (https://orcid.org/0000-0000-0000-0000)"
    if title == "Commit":
        return "a lowercase hexadecimal commit id"
    return f"matching {pattern}"


def _name_rule(names_schema: Any) -> str:
    if isinstance(names_schema, dict) and "pattern" in names_schema:
        return "is not a reverse-domain namespace such as org.example.tool"
    return "must not be empty"


@lru_cache(maxsize=64)
def _names_validator(schema_json: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(json.loads(schema_json))


def _rs_name_ok(names_schema: Any, name: str) -> bool:
    return bool(_names_validator(json.dumps(names_schema, sort_keys=True)).is_valid(name))
