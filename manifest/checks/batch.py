"""Checking many paths at once: files, directories (recursively), bundles and ``-``, on every core
when there are many files; the outcome is what the reporters print."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..bundle.checking import check_bundle
from ..bundle.layout import is_bundle, is_bundle_part
from ..core.problems import ManifestError, Problem, Report, UnreadableInput
from ..document.limits import DEFAULT_MAX_BYTES
from ..document.reader import load_path
from ..spec.engines import Engine
from ..spec.export_index import INDEX_NAME, index_problems, is_export_part, is_index
from ..spec.sidecars import sidecar_paths
from ..spec.validation import validate_document
from .discovery import discover, looks_like_sidecar

#: Below this many files, validation runs in this process; above, on every core.
PARALLEL_THRESHOLD = 48


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


def _check_one(item: tuple[str, bool], max_bytes: int, engine: Engine) -> tuple[Report | None, str | None, list[str]]:
    """Check one candidate (parsed once). A non-manifest found in a directory comes back as skipped."""
    name, explicit = item
    report = Report(file=name)
    if not explicit and looks_like_sidecar(name):
        return None, "a metric history file (no spec_version): not a manifest", []
    try:
        doc = load_path(name, max_bytes=max_bytes)
    except ManifestError as exc:
        report.problems.extend(exc.problems)
        report.unreadable = isinstance(exc, UnreadableInput)
        return report, None, []
    is_mapping = isinstance(doc.data, dict)
    if is_index(name, doc.data):  # an export directory's index: its own schema, and the files it lists
        report.kind = "export index"
        report.problems.extend(index_problems(doc))
        return report, None, []
    if not explicit and not (is_mapping and "spec_version" in doc.data):
        return None, "no spec_version at the top level: not a manifest", []
    report.problems.extend(validate_document(doc, check_sidecars=name != "-", engine=engine))
    if name == "-" and _has_sidecars(doc.data):
        report.problems.append(Problem("sidecar-not-present", "history files are not checked for a manifest read from standard input", None, file=name))
    sidecars = [str(s) for s in sidecar_paths(doc.data, Path(name).parent)] if is_mapping and name != "-" else []
    return report, None, sidecars


def validate_paths(paths: Sequence[str], *, max_bytes: int = DEFAULT_MAX_BYTES, engine: Engine = "rs", jobs: int = 0) -> Outcome:
    """Check files, directories (recursively) and ``-``; ``jobs=0`` picks the number of cores."""
    files, skipped, missing = discover(paths)
    outcome = Outcome(reports=list(missing))
    referenced: set[str] = set()
    for (name, _), (report, reason, sidecars) in zip(files, _check_all(files, max_bytes, engine, jobs)):
        if report is not None:
            outcome.reports.append(report)
            referenced.update(sidecars)
        elif reason:
            skipped.append((name, reason))
    for name, reason in skipped:  # a file skipped as "not a manifest" may be a manifest's sidecar
        if str(Path(name).resolve()) in referenced:
            outcome.sidecars.append(name)
        else:
            outcome.skipped.append((name, reason))
    directories = [raw for raw in paths if raw != "-" and Path(raw).is_dir()]
    for d in directories:
        if is_bundle(Path(d)):
            _add_bundle(outcome, d)
        if (Path(d) / INDEX_NAME).is_file():  # the models' and artifacts' files of an export: part of it
            outcome.skipped = [(n, why) for n, why in outcome.skipped if not _under(n, d) or not is_export_part(_relative(n, d))]
    for d in directories:
        _add_if_empty(outcome, d)
    return outcome


_Result = tuple[Report | None, str | None, list[str]]


def _check_all(files: list[tuple[str, bool]], max_bytes: int, engine: Engine, jobs: int) -> Iterable[_Result]:
    workers = jobs or os.cpu_count() or 1
    if workers > 1 and len(files) >= PARALLEL_THRESHOLD and "-" not in [f for f, _ in files]:
        import multiprocessing  # lazy: ~40 ms with the pool, and only many files use processes
        from concurrent.futures import ProcessPoolExecutor  # lazy: as above

        ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            return list(pool.map(partial(_check_one, max_bytes=max_bytes, engine=engine), files, chunksize=max(1, len(files) // (workers * 8))))
    return [_check_one(f, max_bytes, engine) for f in files]


def _add_bundle(outcome: Outcome, d: str) -> None:
    """The bundle's checksums and index; its non-manifest files are part of it, not "skipped"."""
    r = Report(file=d, kind="bundle")
    r.problems.extend(check_bundle(Path(d)))
    outcome.reports.append(r)
    outcome.skipped = [(n, why) for n, why in outcome.skipped if not _under(n, d) or not is_bundle_part(_relative(n, d))]


def _add_if_empty(outcome: Outcome, raw: str) -> None:
    if any(r.kind == "manifest" and _under(r.file, raw) for r in outcome.reports) or any(r.file == raw for r in outcome.reports):
        return
    r = Report(file=raw, kind="directory", unreadable=True)
    r.problems.append(Problem("no-manifests", "directory holds no manifest (see the skipped files)", file=raw))
    outcome.reports.append(r)


def _under(file: str, directory: str) -> bool:
    try:
        return Path(file).resolve().is_relative_to(Path(directory).resolve())
    except OSError:
        return False


def _relative(file: str, directory: str) -> str:
    return Path(file).resolve().relative_to(Path(directory).resolve()).as_posix()
