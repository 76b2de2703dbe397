"""Validation of manifests: version, schema, cross-field rules and sidecars, with positions."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .errors import ManifestError, Problem, Report, UnreadableInput
from .parse import DEFAULT_MAX_BYTES, Document, load_path
from .schema import KNOWN_VERSIONS, Engine, schema_problems

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: Below this many files, validation runs in this process; above, on every core.
PARALLEL_THRESHOLD = 48


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
    if v not in KNOWN_VERSIONS:
        return Problem("unknown-version", f"spec version {v!r} is not known to this tool, which knows {known}; a newer experiment-manifest may read it", "/spec_version")
    return None


def validate_data(data: Any, *, base_dir: Path | None = None, engine: Engine = "rs") -> list[Problem]:
    """Every problem of an in-memory manifest (no positions). Sidecars are read from ``base_dir``."""
    from .rules import check

    vp = version_problem(data)
    if vp:
        return [vp]
    problems = schema_problems(data, data["spec_version"], engine=engine)
    if problems:  # rules still run, so that one pass shows everything; sidecars wait for a valid manifest
        seen = {(p.pointer, p.code) for p in problems}
        return problems + [p for p in check(data, None) if (p.pointer, p.code) not in seen]
    return check(data, base_dir)


def require_valid(doc: Document) -> Document:
    """``doc`` itself, or :class:`InvalidManifest` with its errors (warnings pass)."""
    from .errors import InvalidManifest

    errors = [p for p in validate_document(doc) if p.severity == "error"]
    if errors:
        raise InvalidManifest(errors, file=doc.name)
    return doc


def load_valid(path: str | os.PathLike[str]) -> Document:
    """Read a manifest file and refuse it unless it is valid (schema, rules, sidecars)."""
    return require_valid(load_path(path))


_KEY_CODES = {"schema-additional-properties", "schema-property-names", "duplicate-key"}


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


def validate_file(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES, engine: Engine = "rs") -> Report:
    """Read and check one manifest file (``-`` for standard input)."""
    report, _, _ = _check_one((str(path), True), max_bytes, engine)
    assert report is not None
    return report


def _has_sidecars(data: Any) -> bool:
    metrics = data.get("metrics") if isinstance(data, dict) else None
    return isinstance(metrics, dict) and any(isinstance(m, dict) and "history_file" in m for m in metrics.values())


@dataclass
class Outcome:
    """What a validation of several paths found."""

    reports: list[Report] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    sidecars: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(r.valid for r in self.reports) and bool(self.reports)

    @property
    def unreadable(self) -> bool:
        return any(r.unreadable for r in self.reports)


def _candidates(paths: Sequence[str]) -> tuple[list[tuple[str, bool]], list[tuple[str, str]], list[Report]]:
    """Expand paths: ``(file, named explicitly)`` to check, files skipped, and unreadable paths."""
    files: list[tuple[str, bool]] = []
    skipped: list[tuple[str, str]] = []
    missing: list[Report] = []
    for raw in paths:
        if raw == "-":
            files.append(("-", True))
            continue
        p = Path(raw)
        if p.is_dir():
            found_any = False
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in sorted(filenames):
                    f = os.path.join(dirpath, fn)
                    if fn.lower().endswith(MANIFEST_SUFFIXES) and not fn.startswith("."):
                        files.append((f, False))
                        found_any = True
                    else:
                        skipped.append((f, "not a .yaml, .yml or .json file"))
            if not found_any:
                r = Report(file=raw, kind="directory", unreadable=True)
                r.problems.append(Problem("no-manifests", "directory holds no .yaml, .yml or .json file", file=raw))
                missing.append(r)
        elif p.exists():
            files.append((raw, True))
        else:
            r = Report(file=raw, unreadable=True)
            r.problems.append(Problem("not-found", "no such file or directory", file=raw))
            missing.append(r)
    return files, skipped, missing


def _check_one(item: tuple[str, bool], max_bytes: int, engine: Engine) -> tuple[Report | None, str | None, list[str]]:
    """Check one candidate (parsed once). A non-manifest found in a directory comes back as skipped."""
    from .rules import sidecar_paths

    name, explicit = item
    report = Report(file=name)
    if not explicit and _looks_like_sidecar(name):
        return None, "a metric history file (no spec_version): not a manifest", []
    try:
        doc = load_path(name, max_bytes=max_bytes)
    except ManifestError as exc:
        report.problems.extend(exc.problems)
        report.unreadable = isinstance(exc, UnreadableInput)
        return report, None, []
    is_mapping = isinstance(doc.data, dict)
    if not explicit and not (is_mapping and "spec_version" in doc.data):
        return None, "no spec_version at the top level: not a manifest", []
    report.problems.extend(validate_document(doc, check_sidecars=name != "-", engine=engine))
    if name == "-" and _has_sidecars(doc.data):
        report.problems.append(Problem("sidecar-not-present", "history files are not checked for a manifest read from standard input", None, severity="warning", file=name))
    sidecars = [str(s) for s in sidecar_paths(doc.data, Path(name).parent)] if is_mapping and name != "-" else []
    return report, None, sidecars


def _looks_like_sidecar(name: str) -> bool:
    """Canonical history sidecars start with ``{"step":[``; no manifest can (step is not a field)."""
    if not name.lower().endswith(".json"):
        return False
    try:
        with open(name, "rb") as fh:
            return fh.read(9) == b'{"step":['
    except OSError:
        return False


def validate_paths(paths: Sequence[str], *, max_bytes: int = DEFAULT_MAX_BYTES, engine: Engine = "rs", jobs: int = 0) -> Outcome:
    """Check files, directories (recursively) and ``-``; ``jobs=0`` picks the number of cores."""
    files, skipped, missing = _candidates(paths)
    outcome = Outcome(reports=list(missing))
    results: Iterable[tuple[Report | None, str | None, list[str]]]
    workers = jobs or os.cpu_count() or 1
    if workers > 1 and len(files) >= PARALLEL_THRESHOLD and "-" not in [f for f, _ in files]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            results = list(pool.map(partial(_check_one, max_bytes=max_bytes, engine=engine), files, chunksize=max(1, len(files) // (workers * 8))))
    else:
        results = [_check_one(f, max_bytes, engine) for f in files]
    referenced: set[str] = set()
    for (name, _), (report, reason, sidecars) in zip(files, results):
        if report is not None:
            outcome.reports.append(report)
            referenced.update(sidecars)
        elif reason:
            skipped.append((name, reason))
    for name, reason in skipped:
        resolved = str(Path(name).resolve())
        if resolved in referenced:
            outcome.sidecars.append(name)
        else:
            outcome.skipped.append((name, reason))
    from .bundle import check_bundle, is_bundle

    for raw in paths:
        if raw != "-" and Path(raw).is_dir() and is_bundle(Path(raw)):
            r = Report(file=raw, kind="bundle")
            r.problems.extend(check_bundle(Path(raw)))
            outcome.reports.append(r)
            outcome.skipped = [(n, why) for n, why in outcome.skipped if not _under(n, raw) or not _bundle_part(n, raw)]
    for raw in paths:
        if raw != "-" and Path(raw).is_dir() and not any(r.kind == "manifest" and _under(r.file, raw) for r in outcome.reports):
            if not any(r.file == raw for r in outcome.reports):
                r = Report(file=raw, kind="directory", unreadable=True)
                r.problems.append(Problem("no-manifests", "directory holds no manifest (see the skipped files)", file=raw))
                outcome.reports.append(r)
    return outcome


def _bundle_part(file: str, bundle: str) -> bool:
    """Files a bundle holds besides manifests: checked by the bundle check, not "skipped"."""
    rel = Path(file).resolve().relative_to(Path(bundle).resolve()).as_posix()
    return rel in ("index.json", "SHA256SUMS", "README.md", "results.md", "results.tex") or rel.startswith(("plots/", "manifests/"))


def _under(file: str, directory: str) -> bool:
    try:
        return Path(file).resolve().is_relative_to(Path(directory).resolve())
    except OSError:
        return False
