"""The index of an export directory (spec/export-1.0.md): checked against its own schema, against
itself and against the manifest files it names, before an import writes anything.

The index is what a directory of manifests cannot say by itself: which manifest holds which run,
and the registry as it was (every version in order, aliases, tags, descriptions). It has its own
JSON Schema, versioned like the manifest's, so that the whole-store export can extend it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema_rs

from ..core.digests import file_digest
from ..core.problems import IntegrityError, InvalidManifest, Problem
from ..core.versions import INDEX_VERSION, INDEX_VERSIONS, index_schema_id, load_index_schema
from ..document.reader import Document, load_path
from .engines import validator_problems

#: The index's file name, at the top of an export directory.
INDEX_NAME = "export-index.json"
#: Folders of an export directory that hold the files of its models and artifacts (not manifests).
EXPORT_PART_DIRS = ("models/", "artifacts/")
#: Folders named after a manifest (``RUNNAME-RUNID8.artifacts/``, ...) that hold its files.
EXPORT_PART_SUFFIXES = (".artifacts", ".code", ".history")


def is_export_part(rel: str) -> bool:
    """Whether a file of an export directory (``rel``: its path from the index's directory) is
    part of a manifest's files rather than a manifest: under ``models/`` or ``artifacts/``, or a
    folder named after a manifest, at the top or (a whole-store export) in ``experiments/ID-NAME/``."""
    parts = rel.split("/")
    if len(parts) > 2 and parts[0] == "experiments":
        parts = parts[2:]
    return len(parts) > 1 and (f"{parts[0]}/" in EXPORT_PART_DIRS or parts[0].endswith(EXPORT_PART_SUFFIXES))


@lru_cache(maxsize=None)
def _validator(version: str) -> Any:
    return jsonschema_rs.validator_for(load_index_schema(version), validate_formats=True)


def schema_problems(data: Any) -> list[Problem]:
    """Schema violations of an index, with pointers, in the manifest's own words."""
    version = data.get("index_version") if isinstance(data, dict) else None
    if version not in INDEX_VERSIONS:
        known = ", ".join(INDEX_VERSIONS)
        return [Problem("unknown-version", f"index_version {version!r} is not known to this tool, which knows {known}", "/index_version" if isinstance(data, dict) else "")]
    return validator_problems(data, _validator(version), load_index_schema(version))


def _dupes(items: list[Any], key: str) -> Iterator[tuple[int, Any]]:
    seen: set[Any] = set()
    for i, item in enumerate(items):
        if item.get(key) in seen:
            yield i, item.get(key)
        seen.add(item.get(key))


def consistency_problems(data: dict[str, Any]) -> list[Problem]:
    """What the schema cannot say: unique files, runs, names and versions; versions ascending;
    every alias and version file pointing at something the index lists."""
    out: list[Problem] = []
    runs = data.get("runs") or []
    for key in ("file", "run_id"):
        out += [Problem("index-inconsistent", f"{key} {v!r} is listed twice", f"/runs/{i}/{key}") for i, v in _dupes(runs, key)]
    files = {r["file"] for r in runs}
    models = data.get("registered_models") or []
    out += [Problem("index-inconsistent", f"registered model {v!r} is listed twice", f"/registered_models/{i}/name") for i, v in _dupes(models, "name")]
    for i, m in enumerate(models):
        numbers = [int(v["version"]) for v in m["versions"]]
        if numbers != sorted(set(numbers)):
            out.append(Problem("index-inconsistent", "versions must be listed once each, in ascending number", f"/registered_models/{i}/versions"))
        for j, v in enumerate(m["versions"]):
            if "file" in v and v["file"] not in files:
                out.append(Problem("index-inconsistent", f"version {v['version']} names {v['file']!r}, which runs[] does not list", f"/registered_models/{i}/versions/{j}/file"))
            if "file" in v and "missing" in v:
                out.append(Problem("index-inconsistent", f"version {v['version']} has both a manifest and a reason it is missing", f"/registered_models/{i}/versions/{j}"))
        for alias, version in (m.get("aliases") or {}).items():
            if int(version) not in numbers:
                out.append(Problem("index-inconsistent", f"alias {alias!r} points at version {version}, which versions[] does not list", f"/registered_models/{i}/aliases/{alias}"))
    return out


def index_problems(doc: Document) -> list[Problem]:
    """Every problem of a parsed index, placed at file:line:column: its schema, its rules, and
    each listed manifest present with the recorded SHA-256 (checked only for a sound index)."""
    problems = schema_problems(doc.data) or consistency_problems(doc.data)
    if not problems and doc.path is not None:
        base = doc.path.parent
        for i, r in enumerate(doc.data["runs"]):
            f = base / r["file"]
            if not f.is_file():
                problems.append(Problem("index-mismatch", f"{r['file']} is listed but missing", f"/runs/{i}/file"))
            elif file_digest(f)[1]["sha256"] != r["sha256"]:
                problems.append(Problem("index-mismatch", f"{r['file']} differs from its SHA-256 in the index (changed after export?)", f"/runs/{i}/sha256"))
    return [_placed(doc, p) for p in problems]


def is_index(name: str, data: Any) -> bool:
    """Whether a file found in a directory is an export index (by its name and first member)."""
    return Path(name).name == INDEX_NAME and isinstance(data, dict) and "index_version" in data


def read_index(path: Path) -> Document:
    """An index file read and checked (:func:`index_problems`): an invalid index is exit 1, a
    listed manifest missing or changed exit 6."""
    doc = load_path(path)
    problems = index_problems(doc)
    if any(p.code != "index-mismatch" for p in problems):
        raise InvalidManifest(problems)
    if problems:
        raise IntegrityError(problems)
    return doc


def _placed(doc: Document, p: Problem) -> Problem:
    p = p.in_file(doc.name)
    pos = doc.locate(p.pointer, key=p.code == "schema-additional-properties") if p.pointer is not None else None
    return p.at(*pos) if pos else p


def new_index(*, created_at: str, tool: dict[str, str], source: dict[str, str], selection: dict[str, Any]) -> dict[str, Any]:
    """The top of an index, in the schema's key order; the exporter adds the lists."""
    return {
        "$schema": index_schema_id(INDEX_VERSION), "index_version": INDEX_VERSION, "created_at": created_at,
        "tool": tool, "source": source, "selection": {k: v for k, v in selection.items() if v},
    }


def upgrade_index(data: dict[str, Any]) -> dict[str, Any]:
    """A 1.0 index as the 1.1 index it is (spec/export-1.1.md, Section 7): 1.1 only adds
    OPTIONAL members, so only ``index_version`` and ``$schema`` change; a 1.1 index is returned as it is."""
    if data.get("index_version") != "1.0":
        return data
    out = dict(data)
    out["index_version"] = "1.1"
    if "$schema" in out:
        out["$schema"] = index_schema_id("1.1")
    return out


def check_new_index(data: dict[str, Any]) -> None:
    """A written index must be valid: a bug here is caught before the file exists."""
    problems = schema_problems(data) or consistency_problems(data)
    if problems:
        raise InvalidManifest([p.in_file(INDEX_NAME) for p in problems])
