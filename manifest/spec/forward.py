"""Reading a document of a newer minor version (spec 4.5): what this reader knows of it.

Minor versions only add OPTIONAL members (spec 4.3), so a 1.x document (x beyond what this tool
knows) minus the members the known version does not define is a document of the known version: it
is validated as one, and each member left out is reported once, as a warning with its pointer.
Maps whose entries are free (``params``, ``tags``, ``extensions``, ...) keep every entry; only
objects whose members the schema lists lose members.
"""

from __future__ import annotations

from typing import Any

from ..core.pointers import join_pointer
from ..core.problems import Problem
from ..core.text import shorten
from ..core.versions import KNOWN_VERSIONS, load_schema


def reading_version(version: str) -> str | None:
    """The known version a document stating ``version`` is read as, or ``None`` if it is not readable:
    itself when known, else the latest known minor of the same major when ``version`` is a later minor."""
    if version in KNOWN_VERSIONS:
        return version
    parts = version.split(".")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and (p == "0" or not p.startswith("0")) for p in parts):
        return None
    same_major = [k for k in KNOWN_VERSIONS if k.split(".")[0] == parts[0]]
    if same_major and int(parts[1]) > max(int(k.split(".")[1]) for k in same_major):
        return max(same_major, key=lambda k: int(k.split(".")[1]))
    return None


def known_part(data: dict[str, Any], known: str) -> tuple[dict[str, Any], list[Problem]]:
    """``data`` without the members version ``known`` does not define, with ``spec_version`` set to
    ``known`` (so that its schema applies), and an ``unknown-member`` warning for each member removed."""
    schema = load_schema(known)
    notes: list[Problem] = []
    pruned = _prune(data, schema, schema, [], notes, f"spec {known}, the latest version this tool knows (the document is {data['spec_version']})")
    pruned["spec_version"] = known
    return pruned, notes


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/$defs/"):
        node = root["$defs"][node["$ref"][len("#/$defs/") :]]
    return node


def _prune(value: Any, node: Any, root: dict[str, Any], path: list[str], notes: list[Problem], versions: str) -> Any:
    if not isinstance(node, dict):
        return value
    node = _resolve(node, root)
    if isinstance(value, dict):
        props = node.get("properties")
        extra = node.get("additionalProperties", True)
        out = {}
        for k, v in value.items():
            if props is not None and k in props:
                out[k] = _prune(v, props[k], root, [*path, k], notes, versions)
            elif props is not None and extra is False:
                notes.append(Problem("unknown-member", f"member {shorten(repr(k), 60)} is not in {versions}; it is ignored", join_pointer([*path, k])))
            else:
                out[k] = _prune(v, extra, root, [*path, k], notes, versions)
        return out
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_prune(v, node["items"], root, [*path, str(i)], notes, versions) for i, v in enumerate(value)]
    return value
