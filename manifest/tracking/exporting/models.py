"""A run's models, with files and digests, flavors, params, metrics and registry versions.

MLflow 3 logs a model as a LoggedModel of its own, outside the run's artifacts. MLflow 2 logged it
as a directory of the run's artifacts holding ``MLmodel``, listed in the run tag
``mlflow.log-model.history``; an MLflow 2 server has no LoggedModels API at all (it answers 404),
so there the models are read from the run's artifacts. Runs MLflow 2 made in a store since
upgraded to MLflow 3 keep that tag, and their models are read the same way.
"""

from __future__ import annotations

import json
import re
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import mlflow.artifacts
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.mlflow_tags import MLFLOW_LOGGED_MODELS

from ...core.digests import DIR_HASH, dir_hash, file_digest, name_problem, regular_files
from ...core.names import normalize_name, safe_name
from ...core.params import type_params
from ...core.reals import json_real
from ...core.times import ms_to_timestamp
from ...document.reader import parse_text
from ..tags import CONTEXT_DIR
from .cards import model_card
from .options import Exported, ExportOptions
from .registry import run_artifact_path

#: Whether a client's store has MLflow 3's LoggedModels API, once known (asked once per client).
_LOGGED_MODELS_API: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_API_LOCK = threading.Lock()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Where MLflow 3 keeps a logged model's files (``.../models/m-<hex>/artifacts``).
_LOGGED_MODEL_LOCATION = re.compile(r"(^|/)models/m-[0-9a-f]+/artifacts/?$")


def models(client: Any, run: Any, tracking_uri: str, opts: ExportOptions, tmp: Path, out: Exported) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The run's models: its logged models, then the models among its artifacts (MLflow 2), with
    files, registry versions and metrics; and an environment read from the first model's files
    (for runs without a captured one)."""
    logged = _model_ids(client, run)
    legacy = _artifact_models(run, tracking_uri, scan=logged is None, out=out)
    ids = logged or []
    if not ids and not legacy:
        return [], None
    registered, registered_paths = _registered(client, run, {am.path for am in legacy}, out)
    found: list[dict[str, Any]] = []
    env: dict[str, Any] | None = None
    for model_id, step in ids:
        entry, files_dir = _logged_model_entry(client, model_id, step, tmp / "models" / model_id, tracking_uri, opts, out)
        if files_dir is not None and env is None:
            env = _env_from_model(files_dir)
        if registered.get(model_id):
            entry["registered"] = registered[model_id]
        found.append(entry)
    used = {e["id"] for e in found}
    for n, am in enumerate(legacy):
        entry, files_dir = _artifact_model_entry(run, am, tmp / "run-models" / str(n), tracking_uri, used, opts, out)
        used.add(entry["id"])
        if files_dir is not None and env is None:
            env = _env_from_model(files_dir)
        if registered_paths.get(am.path):
            entry["registered"] = registered_paths[am.path]
        found.append(entry)
    return found, env


def _logged_model_entry(client: Any, model_id: str, step: int | None, dst: Path, tracking_uri: str, opts: ExportOptions, out: Exported) -> tuple[dict[str, Any], Path | None]:
    """``models[]`` for an MLflow 3 logged model, and the directory its files were downloaded to."""
    lm = client.get_logged_model(model_id)
    entry: dict[str, Any] = {"name": lm.name, "id": lm.model_id, "uri": f"models:/{lm.model_id}"}
    if lm.creation_timestamp:
        entry["created_at"] = ms_to_timestamp(lm.creation_timestamp)
    if step is not None:
        entry["step"] = int(step)
    files_dir = _model_files(lm, dst, tracking_uri)
    if files_dir is None:
        out.warnings.append(f"could not download the files of model {model_id}; the manifest lists no files for it")
    else:
        _add_files(entry, files_dir, model_id, model_id, opts, out)
    if lm.params:
        entry["params"] = type_params(dict(lm.params))
    if lm.tags:
        entry["tags"] = dict(lm.tags)
    metrics = _model_metrics(lm)
    if metrics:
        entry["metrics"] = metrics
    return entry, files_dir


# --------------------------------------------------------------------------- MLflow 2: models among the run's artifacts


@dataclass
class _ArtifactModel:
    """A model MLflow 2 logged into the run's artifacts: its directory there, and what the
    ``mlflow.log-model.history`` tag says of it."""

    path: str
    uuid: str | None = None
    created_at: str | None = None


def _artifact_models(run: Any, tracking_uri: str, *, scan: bool, out: Exported) -> list[_ArtifactModel]:
    """The run's models that are artifact directories: those its ``mlflow.log-model.history``
    tag lists (entries without a model id: an MLflow 3 model is a LoggedModel), and, on a store
    without the LoggedModels API (``scan``), every directory holding ``MLmodel`` (a tag too long
    for the store, or a model saved and logged as plain artifacts, lists none)."""
    found = _history(run, out)
    if scan:
        repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=tracking_uri)
        for path in _mlmodel_dirs(repo, None, out, run.info.run_id):
            found.setdefault(path, _ArtifactModel(path))
    return [found[p] for p in sorted(found)]


def _history(run: Any, out: Exported) -> dict[str, _ArtifactModel]:
    raw = run.data.tags.get(MLFLOW_LOGGED_MODELS)
    if not raw:
        return {}
    try:
        items = json.loads(raw)
    except ValueError:
        items = None
    if not isinstance(items, list):
        out.warnings.append(f"run {run.info.run_id}: its tag {MLFLOW_LOGGED_MODELS} is not a JSON list; the models it names are found only as artifact directories holding MLmodel (on an MLflow 2 server)")
        return {}
    found: dict[str, _ArtifactModel] = {}
    for item in items:  # a path logged again replaces the model there: the last entry wins
        if not isinstance(item, dict) or item.get("model_id") or not isinstance(item.get("artifact_path"), str):
            continue
        if item.get("run_id") not in (None, run.info.run_id):
            continue
        path = item["artifact_path"].strip("/")
        if path:
            found[path] = _ArtifactModel(path, _uuid(item.get("model_uuid")), _created_at(item.get("utc_time_created")))
    return found


def _mlmodel_dirs(repo: Any, path: str | None, out: Exported, run_id: str) -> list[str]:
    """Directories of the run's artifacts holding an ``MLmodel`` file (one listing per directory;
    a model's own directory is not searched further)."""
    items = repo.list_artifacts(path)
    if any(not a.is_dir and a.path.rsplit("/", 1)[-1] == "MLmodel" for a in items):
        if path:
            return [path.strip("/")]
        out.warnings.append(f"run {run_id}: its artifact root holds an MLmodel file; a model at the root has no name, so it is not exported as a model (its files are among the artifacts)")
    found: list[str] = []
    for a in items:
        if a.is_dir and a.path != CONTEXT_DIR:
            found.extend(_mlmodel_dirs(repo, a.path, out, run_id))
    return found


def _artifact_model_entry(run: Any, am: _ArtifactModel, dst: Path, tracking_uri: str, used: set[str], opts: ExportOptions, out: Exported) -> tuple[dict[str, Any], Path | None]:
    """``models[]`` for a run-artifact model: ``name`` its artifact path, ``uri`` ``runs:/RUN_ID/PATH``,
    ``id`` its ``model_uuid`` (else the uri: MLflow 2 gave it no other id)."""
    run_id = run.info.run_id
    uri = f"runs:/{run_id}/{quote(am.path, safe='/')}"
    label = f"{am.path!r} of run {run_id}"
    files_dir = _run_model_files(run, am.path, dst, tracking_uri)
    mlmodel = _mlmodel(files_dir / "MLmodel") if files_dir is not None and (files_dir / "MLmodel").is_file() else {}
    uuid = am.uuid or _uuid(mlmodel.get("model_uuid"))
    model_id = uuid if uuid and uuid not in used else uri
    entry: dict[str, Any] = {"name": am.path, "id": model_id, "uri": uri}
    created_at = am.created_at or _created_at(mlmodel.get("utc_time_created"))
    if created_at:
        entry["created_at"] = created_at
    if files_dir is None:
        out.warnings.append(f"could not download the files of model {label}; the manifest lists no files for it")
        return entry, None
    if not mlmodel:
        out.warnings.append(f"model {label}: its directory holds no readable MLmodel file")
    _add_files(entry, files_dir, model_id if model_id == uuid else f"{run_id}-{safe_name(am.path)}", label, opts, out)
    return entry, files_dir


def _run_model_files(run: Any, path: str, dst: Path, tracking_uri: str) -> Path | None:
    """The model's directory downloaded from the run's artifact store itself (MLflow 3's
    ``runs:/`` download also asks the LoggedModels API, which an MLflow 2 server lacks)."""
    try:
        dst.mkdir(parents=True, exist_ok=True)
        repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=tracking_uri)
        local = Path(repo.download_artifacts(path, dst_path=str(dst)))
    except Exception:  # noqa: BLE001 - reported as a warning by the caller
        return None
    return local if local.is_dir() else None


def _mlmodel(path: Path) -> dict[str, Any]:
    try:
        data = parse_text(path.read_text(encoding="utf-8"), "yaml").data
    except Exception:  # noqa: BLE001 - an unreadable MLmodel states nothing; the caller warns
        return {}
    return data if isinstance(data, dict) else {}


def _uuid(value: Any) -> str | None:
    """A model_uuid as MLflow writes it (32 hex digits), else ``None``."""
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value) else None


def _created_at(value: Any) -> str | None:
    """MLflow 2's ``utc_time_created`` (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC) as a timestamp."""
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return ms_to_timestamp((dt - _EPOCH) // timedelta(milliseconds=1))


# --------------------------------------------------------------------------- files, metrics, ids


def _add_files(entry: dict[str, Any], files_dir: Path, local: str, label: str, opts: ExportOptions, out: Exported) -> None:
    """Flavors, card, files with digests and the directory digest; with ``--with-models`` the
    files travel in ``models/<local>/``."""
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
            out.files[f"models/{local}/{rel}"] = p
    entry["size"] = sum(f["size"] for f in files)
    unhashable = next((f["path"] for f in files if name_problem(f["path"])), None)
    if unhashable is None:
        entry["digest"] = {DIR_HASH: dir_hash((f["path"], f["digest"]["sha256"]) for f in files)}
    else:  # each file keeps its digest; the tree as a whole has none (spec 6.3)
        out.warnings.append(f"model {label}: the file name {unhashable!r} holds a line feed, so the model has no directory digest; each file's digest is recorded")
    entry["files"] = files
    if opts.with_models:
        entry["local_path"] = f"models/{local}"


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


def _model_ids(client: Any, run: Any) -> list[tuple[str, int | None]] | None:
    """The run's logged models (id, step), or ``None`` when the store has no LoggedModels API."""
    if _logged_models_api(client) is False:
        return None
    ids: dict[str, int | None] = {}
    for mo in (run.outputs.model_outputs if run.outputs else []) or []:
        ids[mo.model_id] = mo.step
    try:
        for lm in client.search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"):
            ids.setdefault(lm.model_id, None)
    except Exception as exc:  # noqa: BLE001 - an MLflow 2 server has no LoggedModels API; on others the outputs suffice
        if getattr(exc, "error_code", "") == "ENDPOINT_NOT_FOUND" and not ids:
            _remember_api(client, False)
            return None
    else:
        _remember_api(client, True)
    return sorted(ids.items())


def _logged_models_api(client: Any) -> bool | None:
    with _API_LOCK:
        try:
            return _LOGGED_MODELS_API.get(client)
        except TypeError:  # a client that cannot be weakly referenced: ask each time
            return None


def _remember_api(client: Any, present: bool) -> None:
    with _API_LOCK:
        try:
            _LOGGED_MODELS_API[client] = present
        except TypeError:
            pass


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


def _registered(client: Any, run: Any, paths: set[str], out: Exported) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Registered versions of this run's models: by logged-model id, and (MLflow 2 versions,
    which have none) by the run-artifact directory their source names. A version whose source is
    neither is named in a warning."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    by_path: dict[str, list[dict[str, Any]]] = {}
    run_id = run.info.run_id
    try:
        versions = list(client.search_model_versions(f"run_id='{run_id}'"))
    except Exception:  # noqa: BLE001 - a store without a registry has no versions
        return by_id, by_path
    for mv in versions:
        try:
            mv = client.get_model_version(mv.name, mv.version)  # search results omit aliases
        except Exception:  # noqa: BLE001
            pass
        model_id = getattr(mv, "model_id", None) or (mv.source[len("models:/"):] if str(mv.source).startswith("models:/") else None)
        path = None if model_id else run_artifact_path(str(mv.source or ""), run_id, run.info.artifact_uri)
        if not model_id and path not in paths:
            if _LOGGED_MODEL_LOCATION.search(str(mv.source or "")):
                continue  # an MLflow 3 version made from a logged model's location: skipped, as before
            out.warnings.append(f"registered model {mv.name!r} version {mv.version}: its source {mv.source!r} is neither a logged model nor a model directory among the artifacts of run {run_id}; the manifest does not record it")
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
        (by_id if model_id else by_path).setdefault(model_id or path or "", []).append(entry)
    for v in [*by_id.values(), *by_path.values()]:
        v.sort(key=lambda e: (e["name"], int(e["version"]) if e["version"].isascii() and e["version"].isdigit() else 0))
    return by_id, by_path


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
