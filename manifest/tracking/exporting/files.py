"""Writing exported runs: one manifest (and the files that travel with it) per run, to standard
output, a file, or a directory, each file written atomically and checked valid first."""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ...core.names import safe_name
from ...core.problems import BadRequest, InvalidManifest, Problem, Refused
from ...core.progress import SILENT
from ...document.writer import dumps, write_all
from ...spec.export_index import INDEX_NAME
from ...spec.validation import validate_data
from ..store import mlflow_errors
from .index import write_index
from .options import Exported, ExportOptions
from .registry import ModelSelection
from .run import export_run, get_run


def write_exported(exported: Exported, target: Path, fmt: str) -> None:
    """The files that travel with the manifest and the manifest itself, all or nothing: a failed
    re-export leaves the previous manifest and its sidecars as they were."""
    files: list[tuple[Path, str | bytes | Path]] = [(target.parent / rel, content) for rel, content in exported.files.items()]
    write_all([*files, (target, dumps(exported.manifest, fmt))])  # the manifest last: it names the others


def run_file_stem(run: Any) -> str:
    """``RUNNAME-RUNID8``: the file name (without extension) of a run's manifest."""
    name = run.info.run_name or "run"
    return f"{safe_name(name)}-{run.info.run_id[:8]}"


def export_to_files(
    client: Any,
    run_ids: list[str],
    *,
    tracking_uri: str,
    output: str,
    fmt: str | None,
    options: ExportOptions,
    many: bool,
    log: Callable[[str], None] = lambda s: None,
    stdout: Any = None,
    force: bool = False,
    selection: dict[str, Any] | None = None,
    model: ModelSelection | None = None,
    runs: list[Any] | None = None,
) -> list[str]:
    """Export runs to ``output`` (``-``, a file, or a directory when ``many``); returns what was
    written. ``runs``: the runs of ``run_ids`` when the caller has them already (from a search).
    A manifest file that exists is replaced only with ``force``: checked for every run
    before the first is written, so a refused export writes nothing. A directory gets (or
    extends) its index (:mod:`.index`) last, naming what was exported and the registry state:
    ``selection`` is what was asked for, ``model`` the ``--model`` versions."""
    _check_output(output, many, options)
    run_ids = list(dict.fromkeys(run_ids))  # a run named twice is exported once
    if runs is None or [r.info.run_id for r in runs] != run_ids:
        runs = [get_run(client, run_id, tracking_uri) for run_id in run_ids]
    targets = [_target(run, output, many, fmt) for run in runs]
    refuse_existing([t for t, _ in targets if t is not None], force)
    indexed: list[tuple[Path, dict[str, Any]]] = []
    into = Path(output) if many else (targets[0][0].parent if targets and targets[0][0] is not None else None)

    def index() -> None:  # a directory export, or one run into a directory that has an index
        if indexed and into is not None and (many or (into / INDEX_NAME).is_file()):
            with mlflow_errors(tracking_uri, "(writing the export index)"):
                write_index(client, indexed, into, tracking_uri=tracking_uri, selection=selection or {"run_ids": run_ids}, models=[model] if model else [])

    try:
        written = export_runs(client, [(run, t, ext) for run, (t, ext) in zip(runs, targets)], tracking_uri=tracking_uri, options=options, log=log, stdout=stdout, indexed=indexed)
    except BaseException:
        with contextlib.suppress(Exception):  # the runs written so far stay listed; the first error is the one to show
            index()
        raise
    index()
    return written


def refuse_existing(targets: list[Path], force: bool) -> None:
    """Without ``force``, refuse (before anything is written) to replace a manifest file."""
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise Refused(Problem("output-exists", f"{existing[0]} exists{more}; pass --force to replace it"))


def export_runs(
    client: Any,
    jobs: list[tuple[Any, Path | None, str]],
    *,
    tracking_uri: str,
    options: ExportOptions,
    log: Callable[[str], None],
    stdout: Any,
    indexed: list[tuple[Path, dict[str, Any]]],
) -> list[str]:
    """Export each (run, target, format), ``options.workers`` runs at a time, and write them in
    order as they are done (the index records of the written ones go to ``indexed``).

    Per-run overhead is the cost of exporting many runs: a run's dozen requests mostly wait on
    the server, so several runs are read at once (each with one history request at a time, the
    server's workers being shared out between runs), and at most twice that many wait to be
    written, so memory does not grow with the number of runs."""
    workers = max(1, options.workers) if len(jobs) > 1 else 1
    each = replace(options, workers=1, progress=SILENT) if workers > 1 else options
    written: list[str] = []
    pending: deque[tuple[Any, Path | None, str, Future[Exported]]] = deque()
    todo = iter(jobs)
    options.progress.start(len(jobs), "runs")
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="manifest-export")

    def submit() -> None:
        job = next(todo, None)
        if job is not None:
            run, target, ext = job
            pending.append((run, target, ext, pool.submit(export_run, client, run.info.run_id, tracking_uri=tracking_uri, options=each, stem=None if target is None else target.stem, run=run)))

    try:
        for _ in range(2 * workers):
            submit()
        while pending:
            run, target, ext, future = pending.popleft()
            where = _write_one(future.result(), run, target, ext, log=log, stdout=stdout, indexed=indexed)
            written.append(where)
            options.progress.advance(run.info.run_name or run.info.run_id)
            submit()
    finally:
        options.progress.finish()
        for *_, future in pending:
            future.cancel()
        pool.shutdown(wait=True)
        for *_, future in pending:  # exported but not written: their temporary files go
            if future.done() and not future.cancelled() and future.exception() is None:
                future.result().cleanup()
    return written


def _slim(data: dict[str, Any]) -> dict[str, Any]:
    """What the index needs of a written manifest (its source and registry records), so that
    thousands of exported runs are not all kept in memory for it."""
    models = [{"id": m["id"], "registered": m["registered"]} for m in data.get("models") or [] if m.get("registered")]
    return {"id": data["id"], "provenance": {"source": (data.get("provenance") or {}).get("source") or {}}, "models": models}


def _write_one(exported: Exported, run: Any, target: Path | None, ext: str, *, log: Callable[[str], None], stdout: Any, indexed: list[tuple[Path, dict[str, Any]]]) -> str:
    """Write one exported run (checked valid first); returns where it went."""
    run_id = run.info.run_id
    try:
        problems = [p for p in validate_data(exported.manifest) if p.severity == "error"]
        if problems:
            raise InvalidManifest([p.in_file(str(target or "-")) for p in problems])
        for w in exported.warnings:
            log(f"warning: run {run_id}: {w}")
        if target is None:
            out = stdout or sys.stdout
            out.write(dumps(exported.manifest, ext))
            out.flush()
            return "-"
        write_exported(exported, target, ext)
        indexed.append((target, _slim(exported.manifest)))
        n_metrics = len(exported.manifest.get("metrics", {}))
        log(f"exported run {run_id} -> {target} ({n_metrics} metrics, {len(exported.files)} files alongside)")
        return str(target)
    finally:
        exported.cleanup()


#: File names that say "one manifest", never a directory of them.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _check_output(output: str, many: bool, options: ExportOptions) -> None:
    """Refuse, before reading any run, an output that cannot hold what is asked for."""
    if many:
        if output == "-":
            raise BadRequest(Problem("usage", "several runs need -o DIRECTORY"))
        if output.lower().endswith(MANIFEST_SUFFIXES) and not Path(output).is_dir():
            raise BadRequest(Problem("usage", f"several runs cannot go to the one file {output}; give -o DIRECTORY"))
        if Path(output).exists() and not Path(output).is_dir():
            raise BadRequest(Problem("usage", f"{output} exists and is not a directory"))
        return
    if output == "-" and options.history == "sidecar":
        raise BadRequest(Problem("usage", "--history sidecar needs -o FILE or DIRECTORY (sidecar files cannot go to standard output)"))
    if output == "-" and (options.with_models or options.with_artifacts):
        raise BadRequest(Problem("usage", "--with-models and --with-artifacts need -o FILE or DIRECTORY"))


def _target(run: Any, output: str, many: bool, fmt: str | None) -> tuple[Path | None, str]:
    """Where a run's manifest goes (``None``: standard output), and in which format."""
    stem = run_file_stem(run)
    ext = fmt or "yaml"
    name = f"{stem}.{'json' if ext == 'json' else 'yaml'}"
    if many:
        return Path(output) / name, ext
    if output == "-":
        return None, ext
    target = Path(output)
    if target.is_dir() or output.endswith("/"):
        target = target / name
    return target, fmt or ("json" if target.suffix.lower() == ".json" else "yaml")
