"""Importing many manifests: planned, then carried out (spec A.8).

Planning reads and checks every manifest and its files, checks that the target store takes every
value, and looks up every run's identity in the store, before anything is written: a run the store
already holds is refused up front (each named by its file) or, with ``--skip-existing``, skipped,
which is how an interrupted import is resumed. Then parents are imported before their children,
each new run id reported as soon as the run exists; a failure names its file and leaves the runs
imported before it in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.problems import ManifestError, Problem, Refused
from ...spec.export_index import INDEX_NAME, read_index
from ..store import mlflow_errors
from .options import ImportOptions
from .prepare import Prepared, prepare_paths
from .registry import ModelPlan, apply_registry, check_registry, models_of_run, plan_registry
from .run import check_target, find_imported, import_prepared, run_identity


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
    for p in order:
        if options.allow_duplicate:
            out.todo.append(p)
            continue
        identity = run_identity(p.data)
        if identity in first_of:
            refused.append(Problem("duplicate-import", f"the same run as {first_of[identity].doc.name} (one source run, exported twice); import one of them", file=p.doc.name))
            continue
        first_of[identity] = p
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
    ``options.imported`` when it exists."""
    prepared = [p for p in paths if isinstance(p, Prepared)] or prepare_paths([str(p) for p in paths])
    if indexes is None and not any(isinstance(p, Prepared) for p in paths):
        indexes = indexes_for([str(p) for p in paths])
    parent_map: dict[str, str] = {}
    out: list[tuple[Path, str]] = []
    try:
        todo = plan(client, prepared, tracking_uri=tracking_uri, options=options, parent_map=parent_map, indexes=indexes)
        created: dict[int, tuple[str, dict[int, str]]] = {}
        options.progress.start(len(todo.todo), "runs")
        for p in todo.todo:
            models: dict[int, str] = {}
            try:
                run_id = import_prepared(client, p, tracking_uri=tracking_uri, options=options, parent_map=parent_map, planned=True, models_out=models)
            except ManifestError as exc:
                raise _named(exc, p, out) from None
            created[id(p)] = (run_id, models)
            p.cleanup()  # its staged copies are uploaded
            if _source_run(p):
                parent_map[_source_run(p)] = run_id  # type: ignore[index]
            options.log(f"imported {p.doc.name} -> run {run_id}")
            options.imported(p.doc.name, run_id)
            out.append((Path(p.doc.name), run_id))
            options.progress.advance(p.data["name"])
        options.progress.finish()
        if todo.registry:
            with mlflow_errors(tracking_uri, "(recreating the model registry)"):
                for p in prepared:
                    if id(p) in todo.found:
                        created[id(p)] = (todo.found[id(p)], models_of_run(client, todo.found[id(p)], p))
                apply_registry(client, todo.registry, created, options)
    finally:
        options.progress.finish()
        for p in prepared:
            p.cleanup()
    return out


def _named(exc: ManifestError, p: Prepared, done: list[tuple[Path, str]]) -> ManifestError:
    """The error of one manifest, attributed to its file, saying which runs were imported before."""
    kept = f"; imported before it, and kept: {', '.join(f'{f} -> {r}' for f, r in done)}" if done else ""
    problems = [q if q.file else q.in_file(p.doc.name) for q in exc.problems]
    last = problems[-1]
    problems[-1] = Problem(last.code, last.message + kept, last.pointer, last.line, last.column, last.severity, last.file)
    return type(exc)(problems)
