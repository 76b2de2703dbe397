"""Schema validation with uniform, short messages.

Two engines check a document against the schema: ``jsonschema-rs`` (fast; the default) and the
reference Python ``jsonschema``. Both report through :func:`schema_problems` with the same
messages, so their verdicts and pointers can be compared fixture by fixture.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Literal

import jsonschema_rs

from ..core.problems import Problem
from ..core.versions import LATEST_VERSION, load_schema
from .messages import RawError, describe, walk

Engine = Literal["rs", "python"]


@lru_cache(maxsize=None)
def _rs_validator(version: str, ref: str) -> Any:
    schema = load_schema(version)
    if ref:
        schema = {"$schema": schema["$schema"], "$ref": "#" + ref, "$defs": schema["$defs"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@lru_cache(maxsize=None)
def _py_validator(version: str, ref: str) -> Any:
    from jsonschema import Draft202012Validator  # lazy: 85 ms, and only --engine python needs it

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
    return _described(data, raw, schema, engine, prefix)


def validator_problems(data: Any, validator: Any, schema: dict[str, Any]) -> list[Problem]:
    """Problems of ``data`` under any jsonschema-rs ``validator`` of ``schema`` (the export
    index has its own), in the same words and order as :func:`schema_problems`."""
    return _described(data, _rs_errors(data, validator, schema), schema, "rs", "")


def _described(data: Any, raw: Iterable[RawError], schema: dict[str, Any], engine: Engine, prefix: str) -> list[Problem]:
    problems: dict[tuple[str, str, str], Problem] = {}
    for err in raw:
        if "propertyNames" in err.spath:
            # jsonschema (python) reports the propertyNames sub-schema itself; jsonschema-rs a resolved path
            names_schema = err.sub if engine == "python" else walk(schema, err.spath[: err.spath.index("propertyNames") + 1])
            err = RawError("propertyNames", err.path, {}, names_schema, _resolve(data, err.path), err.spath)
        for p in describe(err):
            p = Problem(p.code, p.message, prefix + (p.pointer or ""), severity=p.severity)
            problems.setdefault((p.pointer or "", p.code, p.message), p)
    return sorted(problems.values(), key=lambda p: (_pointer_key(p.pointer or ""), p.code, p.message))


def _pointer_key(pointer: str) -> list[Any]:
    return [(0, int(t)) if t.isascii() and t.isdigit() else (1, t) for t in pointer.split("/")]


def _resolve(data: Any, path: list[Any]) -> Any:
    for seg in path:
        data = data[int(seg)] if isinstance(data, list) else data[seg]
    return data


def _rs_errors(data: Any, validator: Any, schema: dict[str, Any]) -> Iterable[RawError]:
    for e in validator.iter_errors(data):
        spath = list(e.schema_path)
        keyword = str(spath[-1]) if spath else ""
        try:
            sub = walk(schema, spath[:-1])
            value = sub[keyword] if isinstance(sub, dict) and keyword in sub else None
        except (KeyError, IndexError, TypeError, ValueError):
            sub, value = {}, None
        yield RawError(keyword, list(e.instance_path), sub, value, e.instance, spath)


def _py_errors(data: Any, validator: Any) -> Iterable[RawError]:
    for e in validator.iter_errors(data):
        yield RawError(str(e.validator), list(e.absolute_path), e.schema, e.validator_value, e.instance, list(e.absolute_schema_path))
