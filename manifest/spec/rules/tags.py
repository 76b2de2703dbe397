"""Rule of ``tags`` (spec 15.8): user tags cannot take the tracking system's or this tool's names."""

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
