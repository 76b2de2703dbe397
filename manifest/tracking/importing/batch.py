"""Importing many manifests: planned, then carried out (spec A.8).

Planning reads and checks every manifest and its files, checks that the target store takes every
value, and looks up every run's identity in the store, before anything is written: a run the store
already holds is refused up front (each named by its file) or, with ``--skip-existing``, skipped,
which is how an interrupted import is resumed. Then parents are imported before their children,
each new run id reported as soon as the run exists; a failure names its file and leaves the runs
imported before it in place.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...core.problems import ManifestError, Problem, Refused
from ...spec.export_index import INDEX_NAME, read_index
from ..store import mlflow_errors
from .experiments import delete_again, is_whole_store, recreate_experiments
from .options import ImportOptions
from .prepare import Prepared, prepare_paths
from .registry import ModelPlan, apply_registry, check_registry, models_of_run, plan_registry
from .run import ImportedRuns, check_target, experiment_for, experiment_name, find_imported, import_prepared, run_identity, signals_deferred

#: Above this many manifests, the store's earlier imports are read in one pass
#: (:class:`.run.ImportedRuns`) rather than looked up with two searches per manifest.
BULK_LOOKUP = 20


def check_targets(prepared: list[Prepared], options: ImportOptions) -> None:
    """Every manifest fits the target store (:mod:`.store_limits`), checked before the first is
    imported, and before the store is opened when the caller asks first."""
    for p in prepared:
        check_target(p, options)


def _source_run(p: Prepared) -> str | None:
    return (p.data["provenance"].get("source") or {}).get("run_id")


def _parents_first(prepared: list[Prepared]) -> list[Prepared]:
    by_source = {_source_run(p): p for p in prepared}
    order: list[Prepared] = []
    seen: set[int] = set()

    def visit(p: Prepared, depth: int = 0) -> None:
        if id(p) in seen or depth > 100:
            return
        parent = (p.data["run"].get("parent") or {}).get("run_id")
        if parent and parent in by_source:
            visit(by_source[parent], depth + 1)
        seen.add(id(p))
        order.append(p)

    for p in prepared:
        visit(p)
    return order


@dataclass
class Plan:
    """What an import will do: the runs to import in order, the runs the store already holds
    (skipped: id(prepared) -> run id), and the registered models to recreate."""

    todo: list[Prepared]
    found: dict[int, str] = field(default_factory=dict)
    registry: list[ModelPlan] = field(default_factory=list)
    #: the store's earlier imports, read at once (many manifests), else looked up run by run
    store: ImportedRuns | None = None


def indexes_for(paths: list[str]) -> list[tuple[Path, dict[str, Any]]]:
    """The export indexes of the directories imported, each checked against the manifests it lists
    (:func:`manifest.spec.export_index.read_index`) before anything is written."""
    found = []
    for raw in paths:
        d = Path(raw)
        for index in (d / INDEX_NAME, d / "manifests" / INDEX_NAME):  # an export directory, or a bundle's manifests
            if d.is_dir() and index.is_file():
                found.append((index, read_index(index).data))
    return found


def _warn_unlisted(prepared: list[Prepared], indexes: list[tuple[Path, dict[str, Any]]], options: ImportOptions) -> None:
    """A manifest in an indexed directory that its index does not list was not checked by it."""
    for path, index in indexes:
        root = path.parent.resolve()
        listed = {(path.parent / r["file"]).resolve() for r in index["runs"]}
        for p in prepared:
            f = Path(p.doc.name).resolve()
            if f.is_relative_to(root) and f not in listed:
                options.log(f"warning: {p.doc.name}: {path} does not list it (added after the export?); it is imported without the index's check")


def plan(client: Any, prepared: list[Prepared], *, tracking_uri: str, options: ImportOptions, parent_map: dict[str, str], indexes: list[tuple[Path, dict[str, Any]]] | None = None) -> Plan:
    """The manifests to import, in order; runs the store already holds are refused together, or
    skipped with ``skip_existing`` (their ids go into ``parent_map``, so children link to them);
    the registered models checked against the store (:func:`.registry.check_registry`)."""
    order = _parents_first(prepared)
    check_targets(order, options)
    _warn_unlisted(prepared, indexes or [], options)
    out = Plan([])
    refused: list[Problem] = []
    first_of: dict[str, Prepared] = {}
    store: ImportedRuns | None = None
    if len(order) > BULK_LOOKUP and not options.allow_duplicate:
        with mlflow_errors(tracking_uri, "(looking for runs imported before)"):
            store = out.store = ImportedRuns(client)
    for p in order:
        if options.allow_duplicate:
            out.todo.append(p)
            continue
        identity = run_identity(p.data)
        if identity in first_of:
            refused.append(Problem("duplicate-import", f"the same run as {first_of[identity].doc.name} (one source run, exported twice); import one of them", file=p.doc.name))
            continue
        first_of[identity] = p
        if store is not None:
            found = store.imported(identity)
            dup = store.duplicate(experiment_name(p, options), p.digest)  # runs imported before identities were tagged
            if found is None and dup is not None:
                refused.append(Problem("duplicate-import", f"this manifest was already imported into experiment {experiment_name(p, options)!r} as run {dup}; pass --allow-duplicate to import it again", file=p.doc.name))
                continue
        else:
            with mlflow_errors(tracking_uri, "(looking for the run)"):
                found = find_imported(client, identity)
        if found is None:
            out.todo.append(p)
        elif options.skip_existing:
            options.log(f"skipped {p.doc.name}: already imported as run {found[0]} of experiment {found[1]!r}")
            options.skipped(p.doc.name, found[0])
            out.found[id(p)] = found[0]
            if _source_run(p):
                parent_map[_source_run(p)] = found[0]  # type: ignore[index]
        else:
            refused.append(Problem("duplicate-import", f"this run was already imported, as run {found[0]} of experiment {found[1]!r}; pass --skip-existing to skip it (or --allow-duplicate to import it again)", file=p.doc.name))
    if refused:
        raise Refused(refused)
    if options.registry:
        out.registry = plan_registry(prepared, indexes or [])
        with mlflow_errors(tracking_uri, "(looking at the model registry)"):
            check_registry(client, out.registry, options, out.found)
    return out


def import_paths(client: Any, paths: list[str] | list[Prepared], *, tracking_uri: str, options: ImportOptions, indexes: list[tuple[Path, dict[str, Any]]] | None = None) -> list[tuple[Path, str]]:
    """Import every manifest under ``paths`` (or already prepared), parents before children, then
    the registered models; returns (file, new run id) pairs, each also reported to
    ``options.imported`` when it exists. The experiments of a whole-store export are recreated
    first (:mod:`.experiments`)."""
    prepared = [p for p in paths if isinstance(p, Prepared)] or prepare_paths([str(p) for p in paths])
    if indexes is None and not any(isinstance(p, Prepared) for p in paths):
        indexes = indexes_for([str(p) for p in paths])
    parent_map: dict[str, str] = {}
    out: list[tuple[Path, str]] = []
    try:
        todo = plan(client, prepared, tracking_uri=tracking_uri, options=options, parent_map=parent_map, indexes=indexes)
        with mlflow_errors(tracking_uri, "(creating the experiments)"):
            deleted = [eid for _, index in indexes or [] if is_whole_store(index) for eid in recreate_experiments(client, index, tracking_uri=tracking_uri, log=options.log, created=options.experiment_created)]
            experiments = {name: experiment_for(client, name, tracking_uri) for name in dict.fromkeys(experiment_name(p, options) for p in todo.todo)}
        runner = _Runs(client, tracking_uri, options, parent_map, experiments, legacy_checked=todo.store is not None)
        created = runner.run(todo.todo, out)
        failed = {id(p) for p, _ in runner.failed}
        registry = [mp for mp in todo.registry if not any(v.prep is not None and id(v.prep) in failed for v in mp.versions)]
        for mp in todo.registry:
            if mp not in registry:  # recreated without the failed run's version, its number would be lost
                options.log(f"warning: registered model {mp.name!r} is not recreated now: a run with one of its versions failed; import again with --skip-existing to recreate it")
        if registry:
            with mlflow_errors(tracking_uri, "(recreating the model registry)"):
                for p in prepared:
                    if id(p) in todo.found:
                        created[id(p)] = (todo.found[id(p)], models_of_run(client, todo.found[id(p)], p))
                apply_registry(client, registry, created, options)
        if deleted:
            with mlflow_errors(tracking_uri, "(deleting the experiments deleted in the source)"):
                delete_again(client, deleted)
        if runner.failed:  # keep_going: the registry and experiments are done for the runs that are in
            raise _all_failures(runner.failed, out, len(todo.todo))
    finally:
        options.progress.finish()
        for p in prepared:
            p.cleanup()
    return out


class _Runs:
    """The runs of a plan imported ``options.workers`` at a time (parents before children: one
    wave per depth of nesting), each announced in order as soon as it exists.

    Per-run overhead is the cost of a big import: a run's requests mostly wait on the server, so
    several runs are written at once (each sending one batch at a time). A failure stops the
    import (the runs already imported stay, and are named), or with ``keep_going`` is recorded in
    ``failed`` and the others go on; each failed run was cleaned up by :func:`.run.import_prepared`. Ctrl-C or
    SIGTERM sets ``options.stop``: runs being imported stop at their next request and clean up."""

    def __init__(self, client: Any, uri: str, options: ImportOptions, parent_map: dict[str, str], experiments: dict[str, str], *, legacy_checked: bool) -> None:
        self.client, self.uri, self.options, self.parent_map, self.experiments = client, uri, options, parent_map, experiments
        self.legacy_checked = legacy_checked
        self.created: dict[int, tuple[str, dict[int, str]]] = {}
        self.failed: list[tuple[Prepared, ManifestError]] = []
        self.lost: set[str] = set()  # source runs that failed: their children are not imported

    def run(self, todo: list[Prepared], out: list[tuple[Path, str]]) -> dict[int, tuple[str, dict[int, str]]]:
        self.options.progress.start(len(todo), "runs")
        # SQLite takes one writer at a time (a run's points go in one transaction: a second writer
        # would wait, then fail with "database is locked"); --register-model appends versions in order.
        serial = self.uri.startswith("sqlite:") or bool(self.options.register_model)
        workers = max(1, self.options.workers) if len(todo) > 1 and not serial else 1
        each = replace(self.options, workers=1) if workers > 1 else self.options
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="manifest-import") if workers > 1 else None
        try:
            for wave in _waves(todo):
                self._wave(wave, out, pool, each)
        except BaseException:
            self.options.stop.set()  # Ctrl-C, SIGTERM or a failure: the runs in flight clean up
            if pool is not None:
                with signals_deferred():
                    pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        return self.created

    def _wave(self, wave: list[Prepared], out: list[tuple[Path, str]], pool: ThreadPoolExecutor | None, each: ImportOptions) -> None:
        pending: deque[tuple[Prepared, Future[tuple[str, dict[int, str]]] | None]] = deque()
        todo = iter(wave)

        def submit() -> None:
            p = next(todo, None)
            if p is None:
                return
            parent = (p.data["run"].get("parent") or {}).get("run_id")
            if parent in self.lost:
                pending.append((p, None))
            elif pool is None:
                f: Future[tuple[str, dict[int, str]]] = Future()
                try:
                    f.set_result(self._one(p, each))
                except ManifestError as exc:
                    f.set_exception(exc)
                pending.append((p, f))
            else:
                pending.append((p, pool.submit(self._one, p, each)))

        for _ in range(2 * (pool._max_workers if pool is not None else 1)):  # noqa: SLF001 - the pool's own size
            submit()
        while pending:
            p, future = pending.popleft()
            try:
                if future is None:
                    raise Refused(Problem("parent-not-imported", "not imported: its parent run failed to import", file=p.doc.name))
                self._done(p, *future.result(), out)
            except ManifestError as exc:
                self._failed(p, exc, out)
            submit()

    def _done(self, p: Prepared, run_id: str, models: dict[int, str], out: list[tuple[Path, str]]) -> None:
        self.created[id(p)] = (run_id, models)
        p.cleanup()  # its staged copies are uploaded
        if _source_run(p):
            self.parent_map[_source_run(p)] = run_id  # type: ignore[index]
        self.options.log(f"imported {p.doc.name} -> run {run_id}")
        self.options.imported(p.doc.name, run_id)
        out.append((Path(p.doc.name), run_id))
        self.options.progress.advance(p.data["name"])

    def _failed(self, p: Prepared, exc: ManifestError, out: list[tuple[Path, str]]) -> None:
        if _source_run(p):
            self.lost.add(_source_run(p))  # type: ignore[arg-type]
        if not self.options.keep_going:
            raise _named(exc, p, out) from None
        self.failed.append((p, exc))
        self.options.log(f"error: {p.doc.name}: {exc.problems[0].message}")
        self.options.progress.advance(p.data["name"])

    def _one(self, p: Prepared, options: ImportOptions) -> tuple[str, dict[int, str]]:
        models: dict[int, str] = {}
        run_id = import_prepared(self.client, p, tracking_uri=self.uri, options=options, parent_map=self.parent_map, planned=True, models_out=models, experiment_id=self.experiments.get(experiment_name(p, options)), legacy_checked=self.legacy_checked)
        return run_id, models


def _waves(todo: list[Prepared]) -> list[list[Prepared]]:
    """The runs by depth of nesting among themselves (``todo`` lists parents first)."""
    depth: dict[str, int] = {}
    waves: list[list[Prepared]] = []
    for p in todo:
        parent = (p.data["run"].get("parent") or {}).get("run_id")
        d = depth[parent] + 1 if parent in depth else 0
        if _source_run(p):
            depth[_source_run(p)] = d  # type: ignore[index]
        while len(waves) <= d:
            waves.append([])
        waves[d].append(p)
    return waves


def _all_failures(failed: list[tuple[Prepared, ManifestError]], done: list[tuple[Path, str]], total: int) -> ManifestError:
    """One error for every run that failed (``keep_going``), of the first failure's kind."""
    problems = [q if q.file else q.in_file(p.doc.name) for p, exc in failed for q in exc.problems]
    last = problems[-1]
    note = f"; {len(failed)} of {total} runs were not imported ({len(done)} were); import again with --skip-existing once fixed"
    problems[-1] = Problem(last.code, last.message + note, last.pointer, last.line, last.column, last.severity, last.file)
    return type(failed[0][1])(problems)


def _named(exc: ManifestError, p: Prepared, done: list[tuple[Path, str]]) -> ManifestError:
    """The error of one manifest, attributed to its file, saying which runs were imported before."""
    kept = f"; imported before it, and kept: {', '.join(f'{f} -> {r}' for f, r in done)}" if done else ""
    problems = [q if q.file else q.in_file(p.doc.name) for q in exc.problems]
    last = problems[-1]
    problems[-1] = Problem(last.code, last.message + kept, last.pointer, last.line, last.column, last.severity, last.file)
    return type(exc)(problems)
