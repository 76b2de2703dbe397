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
from typing import Any, Callable

from ruamel.yaml import YAML

from ..core.problems import Problem
from .reader import Document, Format, decode, format_for, parse_text, read_bytes
from .writer import atomic_write, dumps_json, normalize, ordered
from .yaml_core import RESERVED_WORDS, CoreResolver


def _rt_yaml() -> Any:
    y = YAML(typ="rt")
    y.Resolver = CoreResolver
    y.preserve_quotes = True
    y.allow_duplicate_keys = False
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 1 << 16
    y.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    y.representer.add_representer(str, _represent_str)
    return y


def _represent_str(representer: Any, value: str) -> Any:
    """Quote strings that YAML 1.1 readers would take for booleans, nulls or numbers."""
    style = '"' if value.lower() in RESERVED_WORDS else None
    return representer.represent_scalar("tag:yaml.org,2002:str", value, style=style)


class ManifestFile:
    """A manifest file opened for editing.

    ``check`` is what :meth:`save` runs on the new text before writing (with ``validate=True``);
    this layer knows only syntax, so the public :class:`manifest.edit.ManifestFile` sets it to
    full validation.
    """

    check: Callable[[Document], Any] | None = None

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
            return dumps_json(_plain(self.data))
        buf = io.StringIO()
        _rt_yaml().dump(self.data, buf)
        return buf.getvalue()

    def update(self, new: dict[str, Any]) -> None:
        """Make the document equal to ``new``, touching only the parts that differ."""
        self.data = _merge(self.data, ordered(normalize(new)))

    def save(self, path: str | os.PathLike[str] | None = None, *, validate: bool = True) -> None:
        """Write the document (atomically); with ``validate``, refuse to write an invalid one."""
        target = Path(path) if path is not None else self.path
        text = self.text()
        if validate:
            doc = parse_text(text, self.format, name=str(target))
            doc.path = target
            if self.check is not None:
                self.check(doc)
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
