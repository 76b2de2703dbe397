"""Writing the index of an export directory (spec/export-1.0.md): the experiments, which manifest
holds which run (with its SHA-256), and the registered models with every version in order.

An index lists every run exported into its directory: a later export into the same directory
adds to it (a run exported again replaces its entry), so the directory and its index agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow

from ...__about__ import __version__
from ...core.digests import file_digest
from ...core.problems import ManifestError
from ...core.times import ms_to_timestamp, now_timestamp
from ...core.uris import strip_credentials
from ...document.reader import load_path
from ...document.writer import atomic_write, dumps_json
from ...spec.export_index import INDEX_NAME, check_new_index, consistency_problems, new_index, schema_problems, upgrade_index
from .registry import ModelSelection, all_versions, registered_model_entry, version_entry


def _registered_versions(written: list[tuple[Path, dict[str, Any]]], out_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """name -> version -> index entry, from the ``registered`` records of the exported models."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for path, data in written:
        run_id = (data["provenance"].get("source") or {}).get("run_id")
        for m in data.get("models") or []:
            for r in m.get("registered") or []:
                if not (r["version"].isascii() and r["version"].isdigit()):
                    continue
                entry: dict[str, Any] = {"version": str(int(r["version"])), "run_id": run_id, "model_id": m["id"], "file": path.relative_to(out_dir).as_posix()}
                entry.update({k: r[k] for k in ("description", "tags", "stage") if k in r and r[k] != "None"})
                found.setdefault(r["name"], {})[entry["version"]] = {k: v for k, v in entry.items() if v is not None}
    return found


def _registered_models(client: Any, by_name: dict[str, dict[str, dict[str, Any]]], models: list[ModelSelection]) -> list[dict[str, Any]]:
    """Each registered model's index entry, from its listed versions (number -> entry) and the
    registry as it is now (description, tags, the aliases of listed versions, completeness).
    ``models``: registered models asked for as such (``--model``, ``--all``), whose chosen
    versions are listed even when not exported, each with the reason."""
    for model in models:  # versions chosen but not exported (run deleted, or not a logged model)
        listed = by_name.setdefault(model.name, {})
        for mv in model.versions:
            if str(mv.version) not in listed:
                listed[str(mv.version)] = version_entry(mv, None, missing_reason(mv))
    chosen = {m.name: m for m in models}
    out = []
    for name in sorted(by_name):
        versions = list(by_name[name].values())
        complete = (name in chosen and chosen[name].complete) or {str(mv.version) for mv in all_versions(client, name)} <= set(by_name[name])
        out.append(registered_model_entry(client, name, versions, complete))
    return out


def missing_reason(mv: Any) -> str:
    """Why a registered version's model is not in the export."""
    if not mv.run_id:
        return "it has no run"
    if not getattr(mv, "model_id", None) and not str(mv.source or "").startswith("models:/"):
        return f"its source {mv.source!r} is not a logged model"
    return "its run is deleted or was not found"


def experiment_entry(exp: Any) -> dict[str, Any]:
    """An experiment as the index records it (index 1.1: with its description, creation time and
    artifact location)."""
    entry: dict[str, Any] = {"id": str(exp.experiment_id), "name": exp.name, "lifecycle_stage": exp.lifecycle_stage}
    tags = dict(exp.tags or {})
    if tags.get("mlflow.note.content"):
        entry["description"] = tags["mlflow.note.content"]
    if tags:
        entry["tags"] = dict(sorted(tags.items()))
    if getattr(exp, "creation_time", None):
        entry["creation_time"] = ms_to_timestamp(exp.creation_time)
    if getattr(exp, "artifact_location", None):
        entry["artifact_location"] = strip_credentials(exp.artifact_location)
    return entry


def _experiments(client: Any, written: list[tuple[Path, dict[str, Any]]]) -> list[dict[str, Any]]:
    ids = sorted({str(src["experiment_id"]) for _, d in written if (src := d["provenance"].get("source") or {}).get("experiment_id")})
    return [experiment_entry(client.get_experiment(eid)) for eid in ids]


def _previous(out_dir: Path) -> dict[str, Any] | None:
    """The directory's index as it was, when it is there and well-formed (its files are not
    checked: the export extending it is about to replace some of them)."""
    path = out_dir / INDEX_NAME
    if not path.is_file():
        return None
    try:
        data = load_path(path).data
    except ManifestError:
        return None
    return None if schema_problems(data) or consistency_problems(data) else upgrade_index(data)  # a 1.0 index is extended as the 1.1 index it is


def write_index(
    client: Any,
    written: list[tuple[Path, dict[str, Any]]],
    out_dir: Path,
    *,
    tracking_uri: str,
    selection: dict[str, Any],
    models: list[ModelSelection] | None = None,
    experiments: list[Any] | None = None,
    not_exported: list[dict[str, Any]] | None = None,
) -> Path:
    """Write (or extend) ``out_dir/export-index.json`` for the manifests just ``written``: the
    entries of runs exported again are replaced, the others kept while their files exist; a
    registered model keeps the versions of the kept runs and gains those just exported.
    ``experiments``: the experiments to describe (default: those of the written runs);
    ``not_exported``: what the export left out, with reasons."""
    index = new_index(
        created_at=now_timestamp(), tool={"name": "experiment-manifest", "version": __version__},
        source={"system": "mlflow", "version": mlflow.__version__, "tracking_uri": strip_credentials(tracking_uri)}, selection=selection,
    )
    runs = []
    for path, data in written:
        src = data["provenance"].get("source") or {}
        entry = {"file": path.relative_to(out_dir).as_posix(), "sha256": file_digest(path)[1]["sha256"], "run_id": src.get("run_id") or data["id"]}
        if src.get("experiment_id"):
            entry["experiment_id"] = str(src["experiment_id"])
        runs.append(entry)
    old = _previous(out_dir) or {}
    fresh_files, fresh_runs = {r["file"] for r in runs}, {r["run_id"] for r in runs}
    kept = [r for r in old.get("runs") or [] if r["file"] not in fresh_files and r["run_id"] not in fresh_runs and (out_dir / r["file"]).is_file()]
    kept_files = {r["file"] for r in kept}
    by_name: dict[str, dict[str, dict[str, Any]]] = {}
    for m in old.get("registered_models") or []:
        for v in m["versions"]:
            if "file" not in v or v["file"] in kept_files:
                by_name.setdefault(m["name"], {})[v["version"]] = v
    for name, versions in _registered_versions(written, out_dir).items():
        by_name.setdefault(name, {}).update(versions)
    described = {e["id"]: e for e in old.get("experiments") or []}
    described.update({e["id"]: e for e in (_experiments(client, written) if experiments is None else map(experiment_entry, experiments))})
    index["experiments"] = [described[k] for k in sorted(described, key=_id_order)]
    index["runs"] = sorted(kept + runs, key=lambda r: r["file"])
    registered = _registered_models(client, by_name, models or [])
    if registered:
        index["registered_models"] = registered
    if not_exported:
        index["not_exported"] = not_exported
    check_new_index(index)
    atomic_write(out_dir / INDEX_NAME, dumps_json(index, order=False))
    return out_dir / INDEX_NAME


def _id_order(experiment_id: str) -> tuple[int, str]:
    """Experiments in the order MLflow numbers them (ids are decimal strings in its SQL stores)."""
    return (int(experiment_id), "") if experiment_id.isascii() and experiment_id.isdigit() else (1 << 62, experiment_id)
