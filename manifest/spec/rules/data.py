"""Rules of ``data`` (spec 15.4): unique names, splits of known inputs."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.problems import Problem


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
