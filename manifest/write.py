"""Deterministic writing of manifests as JSON or YAML, and their canonical form and digest.

Key order follows the schema (the order of ``properties``); maps (params, metrics, tags, ...) are
sorted by key. Arrays of scalars are written on one line. Non-finite numbers become the strings
``"NaN"``, ``"Infinity"``, ``"-Infinity"``. The same data always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .schema import LATEST_VERSION, load_schema, schema_id

_ESCAPE_EXTRA = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def json_real(v: Any) -> Any:
    """A float as the manifest writes it: non-finite values as their strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def normalize(data: Any) -> Any:
    """A copy of ``data`` in the JSON data model: tuples become lists, non-finite floats strings."""
    if isinstance(data, dict):
        return {str(k): normalize(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [normalize(v) for v in data]
    if isinstance(data, float):
        return json_real(data)
    return data


# --------------------------------------------------------------------------- key order


def ordered(data: Any, version: str = LATEST_VERSION) -> Any:
    """``data`` with every object's keys in schema order (maps sorted), recursively."""
    schema = load_schema(version)
    return _order(data, schema, schema)


def _deref(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        node = root["$defs"][ref.rsplit("/", 1)[1]] if ref.startswith("#/$defs/") else {}
    return node if isinstance(node, dict) else {}


def _order(data: Any, node: Any, root: dict[str, Any]) -> Any:
    node = _deref(node, root)
    if isinstance(data, dict):
        props = node.get("properties")
        if props:
            keys = [k for k in props if k in data] + sorted(k for k in data if k not in props)
            return {k: _order(data[k], props.get(k, {}), root) for k in keys}
        extra = node.get("additionalProperties")
        sub = extra if isinstance(extra, dict) else {}
        return {k: _order(data[k], sub, root) for k in sorted(data)}
    if isinstance(data, list):
        items = node.get("items", {})
        return [_order(v, items, root) for v in data]
    return json_real(data) if isinstance(data, float) else data


# --------------------------------------------------------------------------- JSON


def _json_scalar(v: Any) -> str:
    text = json.dumps(json_real(v), ensure_ascii=False, allow_nan=False)
    return _ESCAPE_EXTRA.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if isinstance(v, str) else text


def _is_scalar_list(v: Any) -> bool:
    return isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)


def _json(v: Any, indent: str, out: list[str]) -> None:
    if isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{\n")
        for i, (k, x) in enumerate(v.items()):
            out.append(f"{inner}{_json_scalar(k)}: ")
            _json(x, inner, out)
            out.append(",\n" if i < len(v) - 1 else "\n")
        out.append(indent + "}")
    elif isinstance(v, list):
        if _is_scalar_list(v):
            out.append("[" + ", ".join(_json_scalar(x) for x in v) + "]")
            return
        inner = indent + "  "
        out.append("[\n")
        for i, x in enumerate(v):
            out.append(inner)
            _json(x, inner, out)
            out.append(",\n" if i < len(v) - 1 else "\n")
        out.append(indent + "]")
    else:
        out.append(_json_scalar(v))


def dumps_json(data: Any, *, order: bool = True) -> str:
    """Pretty, deterministic JSON text (2-space indent, scalar arrays on one line)."""
    out: list[str] = []
    _json(ordered(data) if order else normalize(data), "", out)
    out.append("\n")
    return "".join(out)


# --------------------------------------------------------------------------- YAML

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./@+()=-]*(?: [A-Za-z0-9_./@+()=-]+)*")
_RESERVED = {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity"}


def _yaml_str(s: str) -> str:
    if _PLAIN.fullmatch(s) and s.lower() not in _RESERVED:
        return s
    return _json_scalar(s)


def _yaml_scalar(v: Any) -> str:
    if isinstance(v, str):
        return _yaml_str(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        r = json_real(v)
        return _json_scalar(r) if isinstance(r, str) else repr(v)
    return str(v)


def _yaml(v: Any, indent: str, out: list[str]) -> None:
    """Append the block form of a dict or list (``out`` ends where its first line starts)."""
    if isinstance(v, dict):
        first = True
        for k, x in v.items():
            if not first:
                out.append(indent)
            first = False
            key = _yaml_str(k)
            if isinstance(x, dict) and x:
                out.append(f"{key}:\n{indent}  ")
                _yaml(x, indent + "  ", out)
            elif isinstance(x, list) and x and not _is_scalar_list(x):
                out.append(f"{key}:\n{indent}  ")
                _yaml(x, indent + "  ", out)
            else:
                out.append(f"{key}: {_yaml_inline(x)}\n")
    else:
        first = True
        for x in v:
            if not first:
                out.append(indent)
            first = False
            if isinstance(x, (dict, list)) and x and not _is_scalar_list(x):
                out.append("- ")
                _yaml(x, indent + "  ", out)
            else:
                out.append(f"- {_yaml_inline(x)}\n")


def _yaml_inline(v: Any) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    return _yaml_scalar(v)


def dumps_yaml(data: Any, *, order: bool = True, schema_comment: bool = True) -> str:
    """Deterministic YAML 1.2 text; starts with a ``yaml-language-server`` schema comment."""
    d = ordered(data) if order else normalize(data)
    out: list[str] = []
    if schema_comment:
        version = d.get("spec_version", LATEST_VERSION) if isinstance(d, dict) else LATEST_VERSION
        try:
            sid = schema_id(version)
        except KeyError:
            sid = schema_id()
        out.append(f"# yaml-language-server: $schema={sid}\n")
    if isinstance(d, (dict, list)) and d:
        _yaml(d, "", out)
    else:
        out.append(_yaml_inline(d) + "\n")
    return "".join(out)


def dumps(data: Any, format: str = "yaml") -> str:
    return dumps_json(data) if format == "json" else dumps_yaml(data)


def atomic_write(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write through a temporary file in the same directory, then rename: never a partial file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump(data: Any, path: str | os.PathLike[str], format: str | None = None) -> None:
    """Write a manifest (dict or model) to ``path``; the format follows the extension."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    fmt = format or ("json" if str(path).lower().endswith(".json") else "yaml")
    atomic_write(path, dumps(data, fmt))


# --------------------------------------------------------------------------- canonical form


def _es_number(x: float | int) -> str:
    """ECMAScript Number-to-String, as RFC 8785 (JCS) prescribes."""
    if isinstance(x, int) and abs(x) < 2**53:
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("non-finite numbers have no canonical JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    s = repr(abs(x))
    mant, _, exp = s.partition("e")
    ip, _, fp = mant.partition(".")
    digits = ip + fp
    point = len(ip) + (int(exp) if exp else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        body = (digits + es) if k == 1 else (digits[0] + "." + digits[1:] + es)
    return sign + body


def _jcs(v: Any, out: list[str]) -> None:
    if isinstance(v, dict):
        out.append("{")
        for i, k in enumerate(sorted(v, key=lambda s: s.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _jcs(v[k], out)
        out.append("}")
    elif isinstance(v, list):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _jcs(x, out)
        out.append("]")
    elif v is None or isinstance(v, (bool, str)):
        out.append(json.dumps(v, ensure_ascii=False))
    elif isinstance(v, (int, float)):
        out.append(_es_number(v))
    else:
        raise TypeError(f"not a JSON value: {type(v).__name__}")


def canonical_json(data: Any) -> bytes:
    """The RFC 8785 (JSON Canonicalization Scheme) bytes of a manifest."""
    out: list[str] = []
    _jcs(normalize(data), out)
    return "".join(out).encode("utf-8")


def manifest_digest(data: Any) -> dict[str, str]:
    """``{"sha256": hex}`` of the canonical form: equal for equal manifests, whatever the format."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    return {"sha256": hashlib.sha256(canonical_json(data)).hexdigest()}
