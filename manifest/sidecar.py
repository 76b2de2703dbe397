"""Metric-history sidecar files: reading, writing and checking them against their manifest."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from .errors import ManifestError, Problem
from .parse import DEFAULT_MAX_BYTES, load_path

#: Sidecars may be larger than manifests: they hold long histories.
SIDECAR_MAX_BYTES = 4 * DEFAULT_MAX_BYTES
HISTORY_REF = "/$defs/historyColumns"


def check_sidecar(base_dir: Path, ref: dict[str, Any], metric: dict[str, Any], metric_ptr: str) -> Iterator[Problem]:
    """Check one ``history_file`` reference: presence, size, digest, form, rules, final value."""
    from .digest import file_digest
    from .rules import final_value_problems, history_problems, relative_path_problem
    from .schema import schema_problems

    rel = ref["path"]
    ptr = f"{metric_ptr}/history_file"
    if relative_path_problem(rel):
        return  # reported by the path rule
    path = base_dir / PurePosixPath(rel)
    shown = str(path)
    try:
        inside = path.resolve().is_relative_to(base_dir.resolve())
    except OSError:
        inside = False
    if not inside:
        yield Problem("unsafe-path", f"history file {rel!r} resolves outside the manifest's directory", f"{ptr}/path")
        return
    if not path.is_file():
        yield Problem("sidecar-not-present", f"history file {rel!r} is not present next to the manifest; not checked", f"{ptr}/path", severity="warning")
        return
    algs = [a for a in ref["digest"]]
    size, digests = file_digest(path, algs)
    if size != ref["size"]:
        yield Problem("sidecar-size-mismatch", f"history file {rel!r} is {size} bytes, the manifest says {ref['size']}", f"{ptr}/size")
    for alg in algs:
        if digests[alg] != ref["digest"][alg]:
            yield Problem("sidecar-digest-mismatch", f"history file {rel!r} has {alg} {digests[alg]}, the manifest says {ref['digest'][alg]}", f"{ptr}/digest/{alg}")
    try:
        doc = load_path(path, max_bytes=SIDECAR_MAX_BYTES, format="json")
    except ManifestError as exc:
        yield from exc.problems
        return
    problems = schema_problems(doc.data, ref=HISTORY_REF) if isinstance(doc.data, dict) else [Problem("not-a-mapping", "a history file must hold a JSON object", "")]
    if not problems:
        problems = list(history_problems(doc.data, ""))
    for p in problems:
        yield _place(p, doc).in_file(shown)
    if problems:
        return
    n = len(doc.data["step"])
    if n != ref["points"]:
        yield Problem("sidecar-points-mismatch", f"history file {rel!r} holds {n} points, the manifest says {ref['points']}", f"{ptr}/points")
    yield from final_value_problems(doc.data, metric, metric_ptr)


def _place(p: Problem, doc: Any) -> Problem:
    if p.pointer is None or p.line is not None:
        return p
    pos = doc.locate(p.pointer)
    return p.at(*pos) if pos else p


def dumps_history(columns: dict[str, list[Any]]) -> bytes:
    """The canonical bytes of a sidecar: compact JSON, keys ``step``, ``timestamp``, ``value``."""
    from .write import json_real

    body = {
        "step": columns["step"],
        "timestamp": columns["timestamp"],
        "value": [json_real(v) for v in columns["value"]],
    }
    return (json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
