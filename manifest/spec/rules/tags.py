"""Rule of ``tags`` (spec 15.8): user tags cannot take the tracking system's or this tool's names;
and the warning on the values of ``extensions`` namespaces, the other user-named metadata."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.pointers import join_pointer
from ...core.problems import Problem

#: Tag-name prefixes that belong to MLflow and to this tool: set from fields, never from ``tags``.
RESERVED_PREFIXES = ("mlflow.", "manifest.")


def reserved_tags(d: dict[str, Any]) -> Iterator[Problem]:
    for key in d.get("tags") or {}:
        if key.startswith(RESERVED_PREFIXES):
            yield Problem("reserved-tag", f"tag {key!r} uses a reserved prefix ({', '.join(RESERVED_PREFIXES)}); such tags come from the manifest's fields, never from tags", join_pointer(["tags", key]))


def extension_values(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``extension-not-object`` (spec 4.7, 7 Extensions): an object is RECOMMENDED under a
    namespace, so that its owner can add members (and a version) later without changing its type."""
    for tokens, ext in _extensions(d):
        for ns, value in ext.items() if isinstance(ext, dict) else ():
            if not isinstance(value, dict):
                yield Problem("extension-not-object", f"the value of namespace {ns!r} is not an object; an object is recommended (spec 4.7)", join_pointer([*tokens, ns]))


def _extensions(d: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every ``extensions`` object of the schema, with its pointer tokens."""
    yield ("extensions",), d.get("extensions")
    for key in ("code", "environment"):
        yield (key, "extensions"), (d.get(key) or {}).get("extensions")
    for key in ("data", "artifacts", "models"):
        for i, item in enumerate(d.get(key) or []):
            yield (key, i, "extensions"), item.get("extensions")
    for name, m in (d.get("metrics") or {}).items():
        yield ("metrics", name, "extensions"), m.get("extensions")
