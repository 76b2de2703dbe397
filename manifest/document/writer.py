"""Deterministic writing of manifests as JSON or YAML, and their canonical form and digest.

Key order follows the schema (the order of ``properties``); maps (params, metrics, tags, ...) are
sorted by key. Arrays of scalars are written on one line. Non-finite numbers become the strings
``"NaN"``, ``"Infinity"``, ``"-Infinity"``. The same data always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

from ..core.reals import json_real
from ..core.versions import LATEST_VERSION, load_schema, schema_id
from .yaml_core import RESERVED_WORDS

_ESCAPE_EXTRA = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


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


def _yaml_str(s: str) -> str:
    if _PLAIN.fullmatch(s) and s.lower() not in RESERVED_WORDS:
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
    """Deterministic text of a manifest in ``format`` (``yaml`` or ``json``)."""
    return dumps_json(data) if format == "json" else dumps_yaml(data)


def atomic_write(path: str | os.PathLike[str], content: str | bytes) -> None:
    """Write through a temporary file in the same directory, then rename: never a partial file."""
    write_all([(Path(path), content)])


def write_all(files: list[tuple[Path, str | bytes | Path]]) -> None:
    """Write several files so that either all are replaced or none is: each goes to a temporary
    file beside its target first (``Path`` contents are copied), and only when every one is
    complete are they renamed into place, in order (put the file that refers to the others
    last). A failure part-way (disk full, no permission) leaves every old file as it was."""
    staged: list[tuple[str, Path]] = []
    try:
        for target, content in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_write_temp(target, content), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise


def _write_temp(target: Path, content: str | bytes | Path) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(content, Path):
                with open(content, "rb") as src:
                    shutil.copyfileobj(src, fh, 1 << 20)
            else:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


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


def dumps_history(columns: dict[str, list[Any]]) -> bytes:
    """The canonical bytes of a history sidecar: compact JSON, keys ``step``, ``timestamp``, ``value``."""
    body = {
        "step": columns["step"],
        "timestamp": columns["timestamp"],
        "value": [json_real(v) for v in columns["value"]],
    }
    return (json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


#: Points per slice when a history is written piecewise (:func:`write_history`).
HISTORY_SLICE = 20_000


def write_history(columns: dict[str, Sequence[Any]], path: Path) -> tuple[int, str]:
    """:func:`dumps_history`'s exact bytes written to ``path`` a slice at a time, so that a long
    history never exists twice more as one string and its bytes; returns (size, SHA-256)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "wb") as f:

        def put(text: str) -> None:
            nonlocal size
            b = text.encode("utf-8")
            digest.update(b)
            f.write(b)
            size += len(b)

        for i, key in enumerate(("step", "timestamp", "value")):
            col = columns[key]
            put(("{" if i == 0 else ",") + json.dumps(key) + ":[")
            for start in range(0, len(col), HISTORY_SLICE):
                part = [json_real(v) for v in col[start : start + HISTORY_SLICE]] if key == "value" else [int(v) for v in col[start : start + HISTORY_SLICE]]
                put(("," if start else "") + json.dumps(part, separators=(",", ":"), ensure_ascii=False, allow_nan=False)[1:-1])
            put("]")
        put("}\n")
    return size, digest.hexdigest()
