"""Editing a manifest file in place: comments, quoting and layout of untouched parts survive.

    from manifest.edit import ManifestFile
    mf = ManifestFile.open("run.yaml")
    mf.data["description"] = "Re-run with the fixed split"
    mf.save()                      # validates first; writes atomically

``update()`` merges a whole new document (for example ``model.to_dict()``) into the file, changing
only what differs.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from .errors import Problem
from .parse import Format, decode, format_for, parse_text, read_bytes


def _rt_yaml() -> Any:
    from ruamel.yaml import YAML

    from .parse import _yaml_classes

    resolver, _ = _yaml_classes()
    y = YAML(typ="rt")
    y.Resolver = resolver
    y.preserve_quotes = True
    y.allow_duplicate_keys = False
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 1 << 16
    y.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    y.representer.add_representer(str, _represent_str)
    return y


def _represent_str(representer: Any, value: str) -> Any:
    """Quote strings that YAML 1.1 readers would take for booleans, nulls or numbers."""
    from .write import _RESERVED

    style = '"' if value.lower() in _RESERVED else None
    return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class ManifestFile:
    """A manifest file opened for editing."""

    def __init__(self, path: Path, data: Any, format: Format) -> None:
        self.path = path
        self.data = data
        self.format = format

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> ManifestFile:
        p = Path(path)
        text = decode(read_bytes(p), str(p))
        fmt = format_for(str(p), text)
        parse_text(text, fmt, name=str(p))  # the same safety checks as validation, first
        data = _rt_yaml().load(text) if fmt == "yaml" else parse_text(text, fmt, name=str(p)).data
        return cls(p, data, fmt)

    def text(self) -> str:
        """The document as it would be saved."""
        if self.format == "json":
            from .write import dumps_json

            return dumps_json(_plain(self.data))
        buf = io.StringIO()
        _rt_yaml().dump(self.data, buf)
        return buf.getvalue()

    def update(self, new: dict[str, Any]) -> None:
        """Make the document equal to ``new``, touching only the parts that differ."""
        from .write import normalize, ordered

        self.data = _merge(self.data, ordered(normalize(new)))

    def save(self, path: str | os.PathLike[str] | None = None, *, validate: bool = True) -> None:
        """Write the document (atomically); with ``validate``, refuse to write an invalid one."""
        from .validate import require_valid
        from .write import atomic_write

        target = Path(path) if path is not None else self.path
        text = self.text()
        if validate:
            doc = parse_text(text, self.format, name=str(target))
            doc.path = target
            require_valid(doc)
        atomic_write(target, text)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (so 1, 1.0 and true are three different values)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, float) != isinstance(b, float):
        return False
    return bool(a == b)


def _merge(target: Any, new: Any) -> Any:
    if isinstance(target, dict) and isinstance(new, dict):
        for k in [k for k in target if k not in new]:
            del target[k]
        keys = list(new)
        for i, (k, v) in enumerate(new.items()):
            if k in target:
                target[k] = _merge(target[k], v)
            elif hasattr(target, "insert"):
                # place a new key after the previous key of the new document that the target has
                pos = 0
                for prev in reversed(keys[:i]):
                    if prev in target:
                        pos = list(target).index(prev) + 1
                        break
                target.insert(pos, k, v)
            else:
                target[k] = v
        return target
    if isinstance(target, list) and isinstance(new, list):
        for i, v in enumerate(new):
            if i < len(target):
                target[i] = _merge(target[i], v)
            else:
                target.append(v)
        del target[len(new):]
        return target
    return target if _same(target, new) else new


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, str):
        return str(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, int):
        return int(data)
    return data


__all__ = ["ManifestFile", "Problem"]
