"""experiment-manifest: a versioned, validated description of one reproducible ML run.

Import what you need; heavy parts load on first use::

    import manifest
    doc = manifest.load("run.yaml")           # parse YAML or JSON (safely)
    problems = manifest.validate(doc)         # schema + cross-field rules, with positions
    m = manifest.Manifest.from_data(doc.data)  # typed pydantic model
"""

from __future__ import annotations

import importlib
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

#: Public name -> (module, attribute). Loaded on first use: ``import manifest`` stays cheap for a
#: script that needs one function, and the pydantic models (~80 ms) only for those who use them.
_LAZY = {
    "KNOWN_VERSIONS": ("core.versions", "KNOWN_VERSIONS"),
    "Document": ("document.reader", "Document"),
    "Manifest": ("spec.models", "Manifest"),
    "ManifestError": ("core.problems", "ManifestError"),
    "InvalidManifest": ("core.problems", "InvalidManifest"),
    "UnreadableInput": ("core.problems", "UnreadableInput"),
    "Problem": ("core.problems", "Problem"),
    "validate_data": ("spec.validation", "validate_data"),
    "validate_file": ("checks.batch", "validate_file"),
    "dump": ("document.writer", "dump"),
    "dumps": ("document.writer", "dumps"),
    "canonical_json": ("document.canonical", "canonical_json"),
    "manifest_digest": ("document.canonical", "manifest_digest"),
}

if TYPE_CHECKING:
    from .checks.batch import validate_file
    from .core.problems import InvalidManifest, ManifestError, Problem, UnreadableInput
    from .core.versions import KNOWN_VERSIONS
    from .document.canonical import canonical_json, manifest_digest
    from .document.reader import Document
    from .document.writer import dump, dumps
    from .spec.models import Manifest
    from .spec.validation import validate_data


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'manifest' has no attribute {name!r}")


def load(path: str, *, max_bytes: int | None = None) -> "Document":
    """Read a manifest file (YAML or JSON, by extension) into a :class:`Document`."""
    from .document.limits import DEFAULT_MAX_BYTES  # lazy: see _LAZY
    from .document.reader import load_path  # lazy: see _LAZY

    return load_path(path, max_bytes=max_bytes or DEFAULT_MAX_BYTES)


def loads(text: str, format: str = "yaml") -> "Document":
    """Parse manifest text (``format`` is ``"yaml"`` or ``"json"``)."""
    from .document.reader import parse_text  # lazy: see _LAZY

    return parse_text(text, format)  # type: ignore[arg-type]


def validate(doc: "Document", *, check_sidecars: bool = True) -> list["Problem"]:
    """Every problem of a parsed document (schema, rules, sidecars), placed at line:column."""
    from .spec.validation import validate_document  # lazy: see _LAZY

    return validate_document(doc, check_sidecars=check_sidecars)
