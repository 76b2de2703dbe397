"""Metric-history sidecar files (spec 9.5, 15.7), checked against the manifest that names them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from ..core.digests import file_digest
from ..core.pointers import join_pointer
from ..core.problems import ManifestError, Problem
from ..document.limits import DEFAULT_MAX_BYTES
from ..document.reader import Document, load_path
from .engines import schema_problems
from .rules.metrics import final_value_problems, history_problems
from .rules.paths import relative_path_problem

#: Sidecars may be larger than manifests: they hold long histories.
SIDECAR_MAX_BYTES = 4 * DEFAULT_MAX_BYTES
HISTORY_REF = "/$defs/historyColumns"


def check_sidecar(base_dir: Path, ref: dict[str, Any], metric: dict[str, Any], metric_ptr: str) -> Iterator[Problem]:
    """Check one ``history_file`` reference: presence, size, digest, form, rules, final value."""
    rel = ref["path"]
    ptr = f"{metric_ptr}/history_file"
    if relative_path_problem(rel):
        return  # reported by the path rule
    path = base_dir / PurePosixPath(rel)
    if not _inside(path, base_dir):
        yield Problem("unsafe-path", f"history file {rel!r} resolves outside the manifest's directory", f"{ptr}/path")
        return
    if not path.is_file():
        yield Problem("sidecar-not-present", f"history file {rel!r} is not present next to the manifest; not checked", f"{ptr}/path")
        return
    yield from _check_bytes(path, ref, ptr)
    try:
        doc = load_path(path, max_bytes=SIDECAR_MAX_BYTES, format="json")
    except ManifestError as exc:
        yield from exc.problems
        return
    problems = _form_problems(doc)
    for p in problems:
        yield _place(p, doc).in_file(str(path))
    if problems:
        return
    n = len(doc.data["step"])
    if n != ref["points"]:
        yield Problem("sidecar-points-mismatch", f"history file {rel!r} holds {n} points, the manifest says {ref['points']}", f"{ptr}/points")
    yield from final_value_problems(doc.data, metric, metric_ptr)


def _inside(path: Path, base_dir: Path) -> bool:
    try:
        return path.resolve().is_relative_to(base_dir.resolve())
    except OSError:
        return False


def _check_bytes(path: Path, ref: dict[str, Any], ptr: str) -> Iterator[Problem]:
    """The file's size and every recorded digest."""
    rel = ref["path"]
    algs = list(ref["digest"])
    size, digests = file_digest(path, algs)
    if size != ref["size"]:
        yield Problem("sidecar-size-mismatch", f"history file {rel!r} is {size} bytes, the manifest says {ref['size']}", f"{ptr}/size")
    for alg in algs:
        if digests[alg] != ref["digest"][alg]:
            yield Problem("sidecar-digest-mismatch", f"history file {rel!r} has {alg} {digests[alg]}, the manifest says {ref['digest'][alg]}", f"{ptr}/digest/{alg}")


def _form_problems(doc: Document) -> list[Problem]:
    """The sidecar against ``#/$defs/historyColumns``, then the history rules."""
    if not isinstance(doc.data, dict):
        return [Problem("not-a-mapping", "a history file must hold a JSON object", "")]
    return schema_problems(doc.data, ref=HISTORY_REF) or list(history_problems(doc.data, ""))


def _place(p: Problem, doc: Document) -> Problem:
    if p.pointer is None or p.line is not None:
        return p
    pos = doc.locate(p.pointer)
    return p.at(*pos) if pos else p


def sidecar_paths(d: dict[str, Any], base_dir: Path) -> list[Path]:
    """Files referenced as history sidecars (resolved; only safe paths)."""
    out: list[Path] = []
    metrics = d.get("metrics")
    if not isinstance(metrics, dict):
        return out
    for m in metrics.values():
        hf = m.get("history_file") if isinstance(m, dict) else None
        if isinstance(hf, dict) and isinstance(hf.get("path"), str) and relative_path_problem(hf["path"]) is None:
            out.append((base_dir / PurePosixPath(hf["path"])).resolve())
    return out


def check_sidecars(d: dict[str, Any], base_dir: Path) -> Iterator[Problem]:
    for name, m in (d.get("metrics") or {}).items():
        if "history_file" in m:
            yield from check_sidecar(base_dir, m["history_file"], m, join_pointer(["metrics", name]))
