"""Rendering validation outcomes for people (text) and for machines (JSON)."""

from __future__ import annotations

import json
from typing import Any, Callable

from ..core.text import one_line
from .batch import Outcome


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary(outcome: Outcome) -> str:
    manifests = [r for r in outcome.reports if r.kind == "manifest" and not r.unreadable]
    bundles = [r for r in outcome.reports if r.kind == "bundle"]
    invalid = [r for r in manifests if not r.valid]
    unreadable = [r for r in outcome.reports if r.unreadable]
    errors = sum(len(r.errors) for r in outcome.reports)
    warnings = sum(len(r.warnings) for r in outcome.reports)
    parts = [f"{_plural(len(manifests), 'manifest')} checked: {len(manifests) - len(invalid)} valid, {len(invalid)} invalid"]
    if errors or warnings:
        parts[0] += f" ({_plural(errors, 'error')}, {_plural(warnings, 'warning')})"
    if bundles:
        bad = sum(1 for b in bundles if not b.valid)
        parts.append(f"{_plural(len(bundles), 'bundle')} checked ({_plural(bad, 'with checksum or index problems', 'with checksum or index problems')})" if bad else f"{_plural(len(bundles), 'bundle')} checked: checksums and index intact")
    indexes = [r for r in outcome.reports if r.kind == "export index"]
    if indexes:
        bad = sum(1 for r in indexes if not r.valid)
        parts.append(f"{_plural(len(indexes), 'export index', 'export indexes')} checked: " + (f"{bad} with problems" if bad else "every listed manifest intact"))
    if unreadable:
        parts.append(f"{_plural(len(unreadable), 'path')} unreadable")
    if outcome.sidecars:
        parts.append(f"{_plural(len(outcome.sidecars), 'history file')} checked with their manifests")
    if outcome.skipped:
        parts.append(f"{_plural(len(outcome.skipped), 'file')} skipped")
    return "; ".join(parts)


def render_text(outcome: Outcome, *, verbose: bool = False) -> str:
    lines: list[str] = []
    for r in outcome.reports:
        for p in r.problems:
            lines.append((p if p.file else p.in_file(r.file)).format())
        if verbose and r.valid and not r.problems:
            lines.append(f"{one_line(r.file)}: ok")
    for name, reason in outcome.skipped:
        lines.append(f"{one_line(name)}: skipped: {reason}")
    lines.append(summary(outcome))
    return "\n".join(lines) + "\n"


def render_json(outcome: Outcome, *, verbose: bool = False) -> str:
    """The outcome as one JSON document (``verbose`` changes nothing: every file is listed)."""
    doc: dict[str, Any] = {
        "valid": outcome.valid,
        "files": [
            {
                "path": r.file,
                "kind": r.kind,
                "valid": r.valid,
                "errors": [p.to_dict() for p in r.errors],
                "warnings": [p.to_dict() for p in r.warnings],
            }
            for r in outcome.reports
        ],
        "history_files": outcome.sidecars,
        "skipped": [{"path": n, "reason": why} for n, why in outcome.skipped],
        "summary": summary(outcome),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#: The validation reporters, by ``--format``.
REPORTERS: dict[str, Callable[..., str]] = {"text": render_text, "json": render_json}
