"""experiment-manifest: a versioned, validated description of one reproducible ML run.

Import what you need; heavy parts load on first use::

    import manifest
    doc = manifest.load("run.yaml")           # parse YAML or JSON (safely)
    problems = manifest.validate(doc)         # schema + cross-field rules, with positions
    m = manifest.Manifest.from_data(doc.data)  # typed pydantic model
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .__about__ import __version__

__all__ = [
    "__version__",
    "KNOWN_VERSIONS",
    "Document",
    "Manifest",
    "ManifestError",
    "InvalidManifest",
    "UnreadableInput",
    "Problem",
    "load",
    "loads",
    "validate",
    "validate_data",
    "validate_file",
    "dump",
    "dumps",
    "canonical_json",
    "manifest_digest",
]

_LAZY = {
    "KNOWN_VERSIONS": ("schema", "KNOWN_VERSIONS"),
    "Document": ("parse", "Document"),
    "Manifest": ("model", "Manifest"),
    "ManifestError": ("errors", "ManifestError"),
    "InvalidManifest": ("errors", "InvalidManifest"),
    "UnreadableInput": ("errors", "UnreadableInput"),
    "Problem": ("errors", "Problem"),
    "validate_data": ("validate", "validate_data"),
    "validate_file": ("validate", "validate_file"),
    "dump": ("write", "dump"),
    "dumps": ("write", "dumps"),
    "canonical_json": ("write", "canonical_json"),
    "manifest_digest": ("write", "manifest_digest"),
}

if TYPE_CHECKING:
    from .errors import InvalidManifest, ManifestError, Problem, UnreadableInput
    from .model import Manifest
    from .parse import Document
    from .schema import KNOWN_VERSIONS
    from .validate import validate_data, validate_file
    from .write import canonical_json, dump, dumps, manifest_digest


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'manifest' has no attribute {name!r}")


def load(path: str, *, max_bytes: int | None = None) -> "Document":
    """Read a manifest file (YAML or JSON, by extension) into a :class:`Document`."""
    from .parse import DEFAULT_MAX_BYTES, load_path

    return load_path(path, max_bytes=max_bytes or DEFAULT_MAX_BYTES)


def loads(text: str, format: str = "yaml") -> "Document":
    """Parse manifest text (``format`` is ``"yaml"`` or ``"json"``)."""
    from .parse import parse_text

    return parse_text(text, format)  # type: ignore[arg-type]


def validate(doc: "Document", *, check_sidecars: bool = True) -> list["Problem"]:
    """Every problem of a parsed document (schema, rules, sidecars), placed at line:column."""
    from .validate import validate_document

    return validate_document(doc, check_sidecars=check_sidecars)
