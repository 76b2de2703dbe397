"""Logged models of a run (MLflow 3): files with digests, flavors, params, metrics, registry versions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mlflow.artifacts

from ...core.digests import DIR_HASH, dir_hash, file_digest, name_problem, regular_files
from ...core.names import normalize_name
from ...core.params import type_params
from ...core.reals import json_real
from ...core.times import ms_to_timestamp
from ...document.reader import parse_text
from .cards import model_card
from .options import Exported, ExportOptions


def models(client: Any, run: Any, tracking_uri: str, opts: ExportOptions, tmp: Path, out: Exported) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The run's logged models (with files, registry versions, metrics), and an environment read
    from the first model's files (for runs without a captured one)."""
    ids = _model_ids(client, run)
    if not ids:
        return [], None
    registered = _registered(client, run.info.run_id)
    found: list[dict[str, Any]] = []
    env: dict[str, Any] | None = None
    for model_id, step in ids:
        lm = client.get_logged_model(model_id)
        entry: dict[str, Any] = {"name": lm.name, "id": lm.model_id, "uri": f"models:/{lm.model_id}"}
        if lm.creation_timestamp:
            entry["created_at"] = ms_to_timestamp(lm.creation_timestamp)
        if step is not None:
            entry["step"] = int(step)
        files_dir = _model_files(lm, tmp / "models" / model_id, tracking_uri)
        if files_dir is None:
            out.warnings.append(f"could not download the files of model {model_id}; the manifest lists no files for it")
        else:
            _add_files(entry, files_dir, model_id, opts, out)
            if env is None:
                env = _env_from_model(files_dir)
        if lm.params:
            entry["params"] = type_params(dict(lm.params))
        if lm.tags:
            entry["tags"] = dict(lm.tags)
        metrics = _model_metrics(lm)
        if metrics:
            entry["metrics"] = metrics
        if registered.get(model_id):
            entry["registered"] = registered[model_id]
        found.append(entry)
    return found, env


def _add_files(entry: dict[str, Any], files_dir: Path, model_id: str, opts: ExportOptions, out: Exported) -> None:
    fl = _flavors(files_dir / "MLmodel") if (files_dir / "MLmodel").is_file() else None
    if fl:
        entry["flavors"] = fl
        card = model_card(files_dir / "MLmodel")
        if card:
            entry["card"] = card
    files = []
    for rel, p in regular_files(files_dir):
        size, digest = file_digest(p)
        files.append({"path": rel, "size": size, "digest": digest})
        if opts.with_models:
            out.files[f"models/{model_id}/{rel}"] = p
    entry["size"] = sum(f["size"] for f in files)
    unhashable = next((f["path"] for f in files if name_problem(f["path"])), None)
    if unhashable is None:
        entry["digest"] = {DIR_HASH: dir_hash((f["path"], f["digest"]["sha256"]) for f in files)}
    else:  # each file keeps its digest; the tree as a whole has none (spec 6.3)
        out.warnings.append(f"model {model_id}: the file name {unhashable!r} holds a line feed, so the model has no directory digest; each file's digest is recorded")
    entry["files"] = files
    if opts.with_models:
        entry["local_path"] = f"models/{model_id}"


def _model_metrics(lm: Any) -> list[dict[str, Any]]:
    mm = []
    for met in lm.metrics or []:
        item: dict[str, Any] = {"name": met.key, "value": json_real(float(met.value)), "step": int(met.step), "timestamp": int(met.timestamp)}
        if met.dataset_name:
            item["dataset"] = {"name": met.dataset_name}
            if met.dataset_digest:
                item["dataset"]["fingerprint"] = met.dataset_digest
        mm.append(item)
    return sorted(mm, key=lambda x: (x["name"], x["step"], x["timestamp"]))


def _model_ids(client: Any, run: Any) -> list[tuple[str, int | None]]:
    ids: dict[str, int | None] = {}
    for mo in (run.outputs.model_outputs if run.outputs else []) or []:
        ids[mo.model_id] = mo.step
    try:
        for lm in client.search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"):
            ids.setdefault(lm.model_id, None)
    except Exception:  # noqa: BLE001 - older servers lack logged-model search; outputs suffice
        pass
    return sorted(ids.items())


def _model_files(lm: Any, dst: Path, tracking_uri: str) -> Path | None:
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=lm.artifact_location, dst_path=str(dst), tracking_uri=tracking_uri))
    except Exception:  # noqa: BLE001 - reported as a warning by the caller
        return None


def _flavors(mlmodel: Path) -> list[str] | None:
    try:
        data = parse_text(mlmodel.read_text(encoding="utf-8"), "yaml").data
    except Exception:  # noqa: BLE001 - a model without a readable MLmodel has no flavors to list
        return None
    fl = data.get("flavors") if isinstance(data, dict) else None
    return sorted(fl) if isinstance(fl, dict) else None


def _registered(client: Any, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Registered versions of this run's models, by model id."""
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        versions = list(client.search_model_versions(f"run_id='{run_id}'"))
    except Exception:  # noqa: BLE001 - a store without a registry has no versions
        return out
    for mv in versions:
        try:
            mv = client.get_model_version(mv.name, mv.version)  # search results omit aliases
        except Exception:  # noqa: BLE001
            pass
        model_id = getattr(mv, "model_id", None) or (mv.source[len("models:/"):] if str(mv.source).startswith("models:/") else None)
        if not model_id:
            continue
        entry: dict[str, Any] = {"name": mv.name, "version": str(mv.version)}
        if mv.aliases:
            entry["aliases"] = sorted(mv.aliases)
        if mv.current_stage and mv.current_stage != "None":
            entry["stage"] = mv.current_stage
        if mv.description:
            entry["description"] = mv.description
        if mv.tags:
            entry["tags"] = dict(mv.tags)
        out.setdefault(model_id, []).append(entry)
    for v in out.values():
        v.sort(key=lambda e: (e["name"], int(e["version"]) if e["version"].isascii() and e["version"].isdigit() else 0))
    return out


def _env_from_model(files_dir: Path) -> dict[str, Any] | None:
    """Python version and pins from the model's own ``python_env.yaml`` and ``requirements.txt``."""
    env: dict[str, Any] = {}
    pe = files_dir / "python_env.yaml"
    if pe.is_file():
        try:
            data = parse_text(pe.read_text(encoding="utf-8"), "yaml").data
            if isinstance(data, dict) and data.get("python"):
                env["python"] = {"version": str(data["python"])}
        except Exception:  # noqa: BLE001 - optional information
            pass
    req = files_dir / "requirements.txt"
    if req.is_file():
        pkgs = {}
        for line in req.read_text(encoding="utf-8").splitlines():
            mt = re.fullmatch(r"\s*([A-Za-z0-9._-]+)\s*==\s*([^\s;#]+).*", line)
            if mt:
                pkgs[normalize_name(mt.group(1))] = mt.group(2)
        if pkgs:
            env["packages"] = dict(sorted(pkgs.items()))
    return env or None
