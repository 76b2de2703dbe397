"""Rules of ``data`` (spec 15.4): unique names, splits of known inputs; and the warnings on what an
input says of itself: its role, an in-memory input's content, its key columns."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.problems import Problem

#: The roles of spec 7 (DataInput ``role``); another role is allowed, but a reader cannot tell what it means.
ROLES = frozenset({"training", "validation", "test", "evaluation", "inference", "calibration", "source", "other"})


def data_inputs(d: dict[str, Any]) -> Iterator[Problem]:
    inputs = d.get("data") or []
    seen: dict[str, int] = {}
    for i, inp in enumerate(inputs):
        if inp["name"] in seen:
            yield Problem("duplicate-name", f"data input name {inp['name']!r} is already used by /data/{seen[inp['name']]}", f"/data/{i}/name")
        seen.setdefault(inp["name"], i)
    for i, inp in enumerate(inputs):
        split = inp.get("split")
        if split and (split["of"] not in seen or split["of"] == inp["name"]):
            yield Problem("split-unknown-input", f"split.of {split['of']!r} names no other data input", f"/data/{i}/split/of")
        if inp.get("kind") == "memory" and "uri" in inp:
            yield Problem("memory-with-uri", "an in-memory input has a uri", f"/data/{i}/uri")


def data_annotations(d: dict[str, Any]) -> Iterator[Problem]:
    """Warnings ``unknown-role``, ``memory-with-content`` and ``unknown-key-field`` (spec 7, DataInput).

    A reader tells a test score from a training score by the input's role, so a role of the spec's
    list means the same to every reader. An in-memory input has no stored bytes, so its size and
    digest describe nothing a consumer could fetch and check. A key column that is not a column
    names nothing.
    """
    for i, inp in enumerate(d.get("data") or []):
        if isinstance(inp.get("role"), str) and inp["role"] and inp["role"] not in ROLES:
            yield Problem("unknown-role", f"role {inp['role']!r} is not one of {', '.join(sorted(ROLES))}", f"/data/{i}/role")
        if inp.get("kind") == "memory":
            for key in ("size", "digest"):
                if key in inp:
                    yield Problem("memory-with-content", f"an in-memory input has a {key}; it has no stored bytes to describe, so {key} should be omitted", f"/data/{i}/{key}")
        yield from _key_fields(i, inp.get("table_schema"))


def _key_fields(i: int, table: dict[str, Any] | None) -> Iterator[Problem]:
    """Each name of ``primary_key`` should be the name of a column of ``fields``."""
    keys = table.get("primary_key") if isinstance(table, dict) else None
    if not isinstance(keys, list) or not isinstance(table["fields"], list):
        return
    names = {f["name"] for f in table["fields"]}
    for k, key in enumerate(keys):
        if isinstance(key, str) and key not in names:
            yield Problem("unknown-key-field", f"primary key column {key!r} is not the name of an item of fields", f"/data/{i}/table_schema/primary_key/{k}")
