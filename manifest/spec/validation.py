"""Validation of one manifest (spec 16.1): version, schema, cross-field rules and sidecars,
each problem placed at its line and column."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.problems import InvalidManifest, Problem
from ..core.versions import KNOWN_VERSIONS
from ..document.reader import Document, load_path
from .engines import Engine, schema_problems
from .forward import known_part, reading_version
from .rules import check
from .sidecars import check_sidecars


def version_problem(data: Any) -> Problem | None:
    """The problem with a document's top level or ``spec_version``, if any."""
    known = ", ".join(KNOWN_VERSIONS)
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", type(None): "null"}.get(type(data), "a scalar")
        return Problem("not-a-mapping", f"the top level must be a mapping (object), not {kind}", "")
    if "spec_version" not in data:
        return Problem("missing-version", f"spec_version is missing; this tool knows spec version {known}", "")
    v = data["spec_version"]
    if not isinstance(v, str):
        return Problem("unknown-version", f"spec_version must be a string such as \"{KNOWN_VERSIONS[-1]}\" (quote it in YAML), got {v!r}", "/spec_version")
    if reading_version(v) is None:
        return Problem("unknown-version", f"spec version {v!r} is not known to this tool, which knows {known} (and reads later minor versions of those); a newer experiment-manifest may read it", "/spec_version")
    return None


def validate_data(data: Any, *, base_dir: Path | None = None, engine: Engine = "rs") -> list[Problem]:
    """Every problem of an in-memory manifest (no positions). Sidecars are read from ``base_dir``."""
    vp = version_problem(data)
    if vp:
        return [vp]
    notes: list[Problem] = []
    known = reading_version(data["spec_version"])
    if known != data["spec_version"]:  # a later minor version: validate what this tool knows of it
        data, notes = known_part(data, known)  # type: ignore[arg-type]
    problems = schema_problems(data, data["spec_version"], engine=engine)
    if problems:  # rules still run, so that one pass shows everything; sidecars wait for a valid manifest
        seen = {(p.pointer, p.code) for p in problems}
        return notes + problems + [p for p in check(data, schema_valid=False) if (p.pointer, p.code) not in seen]
    found = notes + check(data)
    if base_dir is not None:
        found.extend(check_sidecars(data, base_dir))
    return found


def require_valid(doc: Document) -> Document:
    """``doc`` itself, or :class:`InvalidManifest` with its errors (warnings pass)."""
    errors = [p for p in validate_document(doc) if p.severity == "error"]
    if errors:
        raise InvalidManifest(errors, file=doc.name)
    return doc


def load_valid(path: str | os.PathLike[str]) -> Document:
    """Read a manifest file and refuse it unless it is valid (schema, rules, sidecars)."""
    return require_valid(load_path(path))


_KEY_CODES = {"schema-additional-properties", "schema-property-names", "duplicate-key", "unknown-member"}


def validate_document(doc: Document, *, check_sidecars: bool = True, engine: Engine = "rs") -> list[Problem]:
    """Every problem of a parsed document, each placed at its line and column in the source."""
    problems = validate_data(doc.data, base_dir=doc.base_dir if check_sidecars else None, engine=engine)
    out = []
    for p in problems:
        if p.file is None:
            p = p.in_file(doc.name)
            if p.pointer is not None and p.line is None:
                pos = doc.locate(p.pointer, key=p.code in _KEY_CODES)
                if pos:
                    p = p.at(*pos)
        out.append(p)
    out.sort(key=lambda p: (p.file != doc.name, p.line or 0, p.column or 0))
    return out
