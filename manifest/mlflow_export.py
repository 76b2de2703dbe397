"""Export MLflow runs as manifests: everything the run holds, plus what the capture API recorded.

The mapping is documented in the spec's appendix "Mapping from MLflow". Only this module (and
``mlflow_history``) reads MLflow run data; MLflow is imported inside functions.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tempfile
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from .__about__ import __version__
from .capture import CONTEXT_DIR
from .digest import file_digest, listing_digest, tree_files
from .errors import NotFound, Problem, Refused
from .params import param_text, type_params
from .rules import same_real
from .sidecar import dumps_history
from .tracking import mask_uri, mlflow_errors, strip_credentials
from .write import json_real

#: Histories longer than this many points go to a sidecar file (``--history auto``).
INLINE_MAX_POINTS = 10_000

#: MLflow tags that map into manifest fields (not kept among ``system_tags``).
MAPPED_TAGS = {
    "mlflow.runName", "mlflow.user", "mlflow.source.git.commit", "mlflow.source.git.branch",
    "mlflow.source.git.repoURL", "mlflow.source.name", "mlflow.source.type", "mlflow.parentRunId",
    "mlflow.note.content",
}
#: Tags this tool sets on imported runs; export turns them back into ``provenance.derived_from``.
TAG_DERIVED_ID = "manifest.derived_from.id"
TAG_DERIVED_SHA256 = "manifest.derived_from.sha256"
TAG_DERIVED_RELATION = "manifest.derived_from.relation"
LINEAGE_PREFIX = "manifest."

ROLES = {
    "train": "training", "training": "training", "val": "validation", "valid": "validation", "validation": "validation",
    "test": "test", "testing": "test", "eval": "evaluation", "evaluation": "evaluation", "inference": "inference",
}
HistoryMode = Literal["auto", "inline", "sidecar"]


@dataclass
class ExportOptions:
    history: HistoryMode = "auto"
    inline_max_points: int = INLINE_MAX_POINTS
    allow_running: bool = False
    #: Copy the models' files next to the manifest (``models/<id>/``) so an import can recreate them.
    with_models: bool = False
    #: Copy the run's artifacts next to the manifest (``artifacts/``).
    with_artifacts: bool = False
    #: History requests in flight at once (see ``mlflow_history.fetch_histories``).
    workers: int = 4
    progress: Callable[[str, int], None] | None = None


@dataclass
class Exported:
    """A manifest and the files that travel with it (relative path -> bytes or a file to copy)."""

    manifest: dict[str, Any]
    files: dict[str, bytes | Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tmp: Any = None

    def cleanup(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None


def ms_to_timestamp(ms: int) -> str:
    """Epoch milliseconds -> ``YYYY-MM-DDTHH:MM:SS.sssZ`` (exact, no float arithmetic)."""
    sec, milli = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{milli:03d}Z"


def manifest_id_for_run(run_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'mlflow-run:{run_id}')}"


def safe_name(name: str) -> str:
    """A file-name-safe form of a metric or run name (with a short hash when characters were lost)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "x"
    if s != name:
        s = f"{s[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return s


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def derive_template(command: list[str], params: dict[str, Any]) -> list[str] | None:
    """Replace argument values that equal a param's text (after ``--name`` or ``--name=``) by ``{name}``."""
    esc = [a.replace("{", "{{").replace("}", "}}") for a in command]
    norm = {re.sub(r"[-.]", "_", k).lower(): k for k in params}
    used = False
    for i, arg in enumerate(command):
        if not arg.startswith("-"):
            continue
        flag, eq, value = arg.partition("=")
        key = norm.get(re.sub(r"[-.]", "_", flag.lstrip("-")).lower())
        if key is None:
            continue
        text = param_text(params[key])
        if eq and value == text:
            esc[i] = f"{flag}={{{key}}}"
            used = True
        elif not eq and i + 1 < len(command) and command[i + 1] == text:
            esc[i + 1] = f"{{{key}}}"
            used = True
    return esc if used else None


# --------------------------------------------------------------------------- reading MLflow


def _download(client: Any, run_id: str, path: str, dst: Path) -> Path | None:
    try:
        return Path(client.download_artifacts(run_id, path, str(dst)))
    except Exception:  # noqa: BLE001 - absence is an answer here
        return None


def _read_context(client: Any, run_id: str, tmp: Path) -> tuple[dict[str, Any] | None, Path | None]:
    names = {Path(a.path).name for a in client.list_artifacts(run_id, CONTEXT_DIR)}
    if "context.json" not in names:
        return None, None
    d = _download(client, run_id, CONTEXT_DIR, tmp / "context")
    if d is None:
        return None, None
    ctx = _json_or_none((d / "context.json").read_text(encoding="utf-8"))
    diff = d / "git.diff"
    return (ctx if isinstance(ctx, dict) else None), (diff if diff.is_file() else None)


def _table_schema(schema_text: str | None) -> dict[str, Any] | None:
    s = _json_or_none(schema_text)
    if not isinstance(s, dict):
        return None
    cols = s.get("mlflow_colspec") or s.get("mlflow_tensorspec", {}).get("features")
    if isinstance(cols, str):
        cols = _json_or_none(cols)
    if not isinstance(cols, list):
        return None
    fields = []
    for c in cols:
        if isinstance(c, dict) and "name" in c:
            f: dict[str, Any] = {"name": str(c["name"])}
            t = c.get("type")
            if isinstance(t, str) and t:
                f["type"] = t
            fields.append(f)
    return {"fields": fields} if fields else None


CAPTURED_DATA_FIELDS = ("kind", "media_type", "size", "digest", "split", "license", "description")


def _data_inputs(run: Any, ctx_data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MLflow dataset inputs, completed by the captured data entries that describe them.

    A captured entry describes a dataset input when their names are equal, or else when it is the
    only captured entry with the input's source URI and the input is the only one with that URI
    (a split of a file has the file's URI but not its bytes).
    """
    inputs = list(run.inputs.dataset_inputs) if run.inputs else []
    names = [di.dataset.name for di in inputs]
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    sources = []
    for di in inputs:
        src = _json_or_none(di.dataset.source)
        uri = (src.get("uri") or src.get("url") or src.get("path")) if isinstance(src, dict) else None
        sources.append(uri if isinstance(uri, str) and uri else None)
    matched: set[int] = set()
    for idx, di in enumerate(inputs):
        ds = di.dataset
        tags = {t.key: t.value for t in di.tags}
        context = tags.get("mlflow.data.context")
        name = ds.name
        if names.count(name) > 1 or name in used:
            name = f"{ds.name}-{context}" if context and f"{ds.name}-{context}" not in used else f"{ds.name}-{ds.digest}"
        used.add(name)
        entry: dict[str, Any] = {"name": name}
        if context:
            entry["role"] = ROLES.get(context.lower(), context)
        uri = sources[idx]
        if uri:
            entry["uri"] = strip_credentials(uri)
        cap_i = next((i for i, c in enumerate(ctx_data) if i not in matched and c.get("name") == name), None)
        if cap_i is None and uri and sources.count(uri) == 1:
            same = [i for i, c in enumerate(ctx_data) if i not in matched and c.get("uri") == uri]
            cap_i = same[0] if len(same) == 1 else None
        if cap_i is not None:
            matched.add(cap_i)
            for k in CAPTURED_DATA_FIELDS:
                if k in ctx_data[cap_i]:
                    entry[k] = ctx_data[cap_i][k]
            if entry.get("kind") == "memory":
                entry.pop("uri", None)  # the source URI names where the rows came from, not these bytes
        profile = _json_or_none(ds.profile)
        if isinstance(profile, dict) and isinstance(profile.get("num_rows"), int):
            entry["rows"] = profile["num_rows"]
        ts = _table_schema(ds.schema)
        if ts:
            entry["table_schema"] = ts
        if isinstance(profile, dict):
            entry["profile"] = profile
        tracking: dict[str, Any] = {}
        if name != ds.name:
            tracking["name"] = ds.name
        tracking["fingerprint"] = ds.digest
        tracking["source_type"] = ds.source_type
        tracking["source"] = strip_source_credentials(ds.source or "")
        if ds.schema:
            tracking["schema"] = ds.schema
        if ds.profile:
            tracking["profile"] = ds.profile
        if tags:
            tracking["tags"] = tags
        entry["tracking"] = {k: v for k, v in tracking.items() if v not in (None, "") or k == "source"}
        out.append(entry)
    for i, d in enumerate(ctx_data):
        if i not in matched:
            extra = dict(d)
            while extra["name"] in used:
                extra["name"] = f"{extra['name']}-captured"
            used.add(extra["name"])
            out.append(extra)
    return out


def strip_source_credentials(source: str) -> str:
    """A dataset source JSON with credentials removed from every URI-like string in it."""
    data = _json_or_none(source)
    if data is None:
        return source

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, str) and "://" in v:
            return strip_credentials(v)
        return v

    cleaned = clean(data)
    return source if cleaned == data else json.dumps(cleaned)


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


def _model_files(client: Any, lm: Any, dst: Path, tracking_uri: str) -> Path | None:
    import mlflow.artifacts

    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=lm.artifact_location, dst_path=str(dst), tracking_uri=tracking_uri))
    except Exception:  # noqa: BLE001 - reported as a warning by the caller
        return None


def _flavors(mlmodel: Path) -> list[str] | None:
    from .parse import parse_text

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
        v.sort(key=lambda e: (e["name"], int(e["version"]) if e["version"].isdigit() else 0))
    return out


# --------------------------------------------------------------------------- the export


def get_run(client: Any, run_id: str, tracking_uri: str) -> Any:
    """The run, or :class:`NotFound` naming it and the store (credentials masked)."""
    with mlflow_errors(tracking_uri, f"(run {run_id})"):
        try:
            return client.get_run(run_id)
        except Exception as exc:  # noqa: BLE001 - classified here and by mlflow_errors
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST" or "does not exist" in str(exc).lower() or "not found" in str(exc).lower():
                raise NotFound(Problem("run-not-found", f"run {run_id} was not found in {mask_uri(tracking_uri)}")) from None
            raise


def export_run(client: Any, run_id: str, *, tracking_uri: str, options: ExportOptions | None = None, stem: str | None = None, run: Any = None) -> Exported:
    """Read one run and build its manifest; ``stem`` names sidecar files (``None``: all inline)."""
    import mlflow

    opts = options or ExportOptions()
    run = run if run is not None else get_run(client, run_id, tracking_uri)
    if run.info.lifecycle_stage == "deleted":
        raise NotFound(Problem("run-deleted", f"run {run_id} is deleted; restore it in MLflow before exporting"))
    status = run.info.status
    if status in ("RUNNING", "SCHEDULED") and not opts.allow_running:
        raise Refused(Problem("run-running", f"run {run_id} is still {status}; wait for it to end, or pass --allow-running to export it as it is now"))
    exported = Exported({})
    exported.tmp = tempfile.TemporaryDirectory(prefix="manifest-export-")
    tmp = Path(exported.tmp.name)
    try:
        with mlflow_errors(tracking_uri, f"(run {run_id})"):
            _build(client, run, tracking_uri, opts, stem, exported, tmp, mlflow.__version__)
    except BaseException:
        exported.cleanup()
        raise
    return exported


def _build(client: Any, run: Any, tracking_uri: str, opts: ExportOptions, stem: str | None, out: Exported, tmp: Path, mlflow_version: str) -> None:
    # The histories are the server's biggest job: start them first, and read everything else
    # (experiment, context, models, artifacts) while the server works on them.
    keys = sorted(run.data.metrics)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="manifest-histories")
    try:
        future = pool.submit(_histories, client, run.info.run_id, keys, opts) if keys else None
        _build_with(client, run, tracking_uri, opts, stem, out, tmp, mlflow_version, keys, future)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _histories(client: Any, run_id: str, keys: list[str], opts: ExportOptions) -> dict[str, Any]:
    from .mlflow_history import fetch_histories

    progress = (lambda n: opts.progress("metrics", n)) if opts.progress else None
    return fetch_histories(client, run_id, keys, workers=opts.workers, progress=progress)


def _build_with(client: Any, run: Any, tracking_uri: str, opts: ExportOptions, stem: str | None, out: Exported, tmp: Path, mlflow_version: str, keys: list[str], future: Future[dict[str, Any]] | None) -> None:
    info, tags = run.info, dict(run.data.tags)
    exp = client.get_experiment(info.experiment_id)
    ctx, diff_path = _read_context(client, info.run_id, tmp)
    ctx = ctx or {}
    params = type_params(dict(run.data.params))

    m: dict[str, Any] = {"spec_version": "1.0", "id": manifest_id_for_run(info.run_id), "name": info.run_name or tags.get("mlflow.runName") or info.run_id}
    if tags.get("mlflow.note.content"):
        m["description"] = tags["mlflow.note.content"]

    system_tags = {k: v for k, v in tags.items() if k.startswith("mlflow.") and k not in MAPPED_TAGS}
    source: dict[str, Any] = {
        "system": "mlflow", "system_version": mlflow_version, "tracking_uri": strip_credentials(tracking_uri),
        "experiment_id": info.experiment_id, "experiment_name": exp.name, "run_id": info.run_id,
    }
    if system_tags:
        source["system_tags"] = system_tags
    prov: dict[str, Any] = {"created_at": ms_to_timestamp(int(time.time() * 1000)), "created_by": {"name": "experiment-manifest", "version": __version__}, "source": source}
    if tags.get(TAG_DERIVED_ID):
        derived: dict[str, Any] = {"id": tags[TAG_DERIVED_ID]}
        if re.fullmatch(r"[0-9a-f]{64}", tags.get(TAG_DERIVED_SHA256, "")):
            derived["digest"] = {"sha256": tags[TAG_DERIVED_SHA256]}
        if tags.get(TAG_DERIVED_RELATION) in ("imported", "reproduced"):
            derived["relation"] = tags[TAG_DERIVED_RELATION]
        prov["derived_from"] = derived
    m["provenance"] = prov

    r: dict[str, Any] = {"status": info.status, "start_time": ms_to_timestamp(info.start_time)}
    if info.end_time and info.status not in ("RUNNING", "SCHEDULED"):
        r["end_time"] = ms_to_timestamp(info.end_time)
    user = tags.get("mlflow.user") or info.user_id
    if user:
        r["user"] = user
    if tags.get("mlflow.parentRunId"):
        r["parent"] = {"run_id": tags["mlflow.parentRunId"]}
    m["run"] = r

    data = _data_inputs(run, ctx.get("data") or [])
    if data:
        m["data"] = data

    code = _code(tags, ctx, params, diff_path, stem, out)
    if code:
        m["code"] = code

    env = ctx.get("environment")
    models, model_env = _models(client, run, tracking_uri, opts, tmp, out)
    if not env and model_env:
        env = model_env
        out.warnings.append("the run has no captured environment (manifest.capture.log_context); packages come from the model's requirements.txt, which pins only what the model needs")
    if env:
        m["environment"] = env
    if params:
        m["params"] = params

    histories = future.result() if future is not None else {}
    metrics: dict[str, Any] = {}
    for key in keys:
        metrics[key] = _metric(key, run.data.metrics[key], histories[key], opts, stem, out)
    if metrics:
        m["metrics"] = metrics

    artifacts = _artifacts(client, info.run_id, opts, tmp, out)
    if artifacts:
        m["artifacts"] = artifacts
    if models:
        m["models"] = models
    user_tags = {k: v for k, v in tags.items() if not k.startswith("mlflow.") and not k.startswith(LINEAGE_PREFIX)}
    if user_tags:
        m["tags"] = user_tags
    if ctx.get("git", {}).get("available") is False:
        out.warnings.append(f"the training script was not in a git repository: {ctx['git'].get('reason')}")
    out.manifest = m


def _code(tags: dict[str, str], ctx: dict[str, Any], params: dict[str, Any], diff_path: Path | None, stem: str | None, out: Exported) -> dict[str, Any]:
    c: dict[str, Any] = {}
    cc = ctx.get("code") or {}
    repo = cc.get("repository") or tags.get("mlflow.source.git.repoURL")
    if repo:
        c["repository"] = strip_credentials(repo)
    commit = tags.get("mlflow.source.git.commit") or cc.get("commit")
    if cc.get("commit") and tags.get("mlflow.source.git.commit") and cc["commit"] != tags["mlflow.source.git.commit"]:
        out.warnings.append(f"MLflow recorded commit {tags['mlflow.source.git.commit']} but the capture saw {cc['commit']}; the manifest keeps MLflow's")
    if commit and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        c["commit"] = commit
    branch = tags.get("mlflow.source.git.branch") or cc.get("branch")
    if branch:
        c["branch"] = branch
    if "dirty" in cc:
        c["dirty"] = bool(cc["dirty"])
    if cc.get("dirty") and diff_path is not None:
        if stem is not None:
            rel = f"{stem}.diff"
            size, digest = file_digest(diff_path)
            out.files[rel] = diff_path
            c["diff"] = {"path": rel, "size": size, "digest": digest, "media_type": "text/x-diff"}
        else:
            c["diff_digest"] = file_digest(diff_path)[1]
    elif cc.get("diff_digest"):
        c["diff_digest"] = cc["diff_digest"]
    for key in ("working_directory", "entry_point", "command", "command_template"):
        if key in cc and cc[key] not in (None, []):
            c[key] = cc[key]
    if "entry_point" not in c and tags.get("mlflow.source.name"):
        c["entry_point"] = Path(tags["mlflow.source.name"]).name
    if "command_template" not in c and c.get("command"):
        tpl = derive_template(c["command"], params)
        if tpl:
            c["command_template"] = tpl
    if tags.get("mlflow.source.type"):
        c["source_type"] = tags["mlflow.source.type"]
    if tags.get("mlflow.source.name"):
        c["source_name"] = tags["mlflow.source.name"]
    return c


def _metric(key: str, latest: float, cols: dict[str, list[Any]], opts: ExportOptions, stem: str | None, out: Exported) -> dict[str, Any]:
    steps, times, values = cols["step"], cols["timestamp"], cols["value"]
    n = len(steps)
    if n == 0:
        return {"value": json_real(float(latest))}
    last = n - 1
    i = last
    while i >= 0 and steps[i] == steps[last] and times[i] == times[last]:
        if same_real(values[i], float(latest)):
            last = i
            break
        i -= 1
    if last != n - 1:  # make the point MLflow reports as latest the last of its (step, timestamp) group
        for k in ("step", "timestamp", "value"):
            col = cols[k]
            col.append(col.pop(last))
        last = n - 1
    metric: dict[str, Any] = {"value": json_real(values[last]), "step": steps[last], "timestamp": times[last]}
    if n > 1:
        sidecar = opts.history == "sidecar" or (opts.history == "auto" and n > opts.inline_max_points)
        if sidecar and stem is not None:
            rel = f"{stem}.history/{safe_name(key)}.json"
            body = dumps_history(cols)
            out.files[rel] = body
            metric["history_file"] = {"path": rel, "size": len(body), "digest": {"sha256": hashlib.sha256(body).hexdigest()}, "points": n}
        else:
            metric["history"] = {"step": steps, "timestamp": times, "value": [json_real(v) for v in values]}
    return metric


def _artifacts(client: Any, run_id: str, opts: ExportOptions, tmp: Path, out: Exported) -> list[dict[str, Any]]:
    top = [a for a in client.list_artifacts(run_id) if a.path.split("/")[0] != CONTEXT_DIR]
    if not top:
        return []
    root = tmp / "run-artifacts"
    root.mkdir()
    for a in top:
        _download(client, run_id, a.path, root)
    result = []
    for rel, p in tree_files(root):
        size, digest = file_digest(p)
        entry: dict[str, Any] = {"path": rel, "kind": "file", "size": size, "digest": digest}
        if opts.with_artifacts:
            local = f"artifacts/{rel}"
            out.files[local] = p
            entry["local_path"] = local
        result.append(entry)
    return result


def _models(client: Any, run: Any, tracking_uri: str, opts: ExportOptions, tmp: Path, out: Exported) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    ids = _model_ids(client, run)
    if not ids:
        return [], None
    registered = _registered(client, run.info.run_id)
    models: list[dict[str, Any]] = []
    env: dict[str, Any] | None = None
    for model_id, step in ids:
        lm = client.get_logged_model(model_id)
        entry: dict[str, Any] = {"name": lm.name, "id": lm.model_id, "uri": f"models:/{lm.model_id}"}
        if lm.creation_timestamp:
            entry["created_at"] = ms_to_timestamp(lm.creation_timestamp)
        if step is not None:
            entry["step"] = int(step)
        files_dir = _model_files(client, lm, tmp / "models" / model_id, tracking_uri)
        if files_dir is None:
            out.warnings.append(f"could not download the files of model {model_id}; the manifest lists no files for it")
        else:
            fl = _flavors(files_dir / "MLmodel") if (files_dir / "MLmodel").is_file() else None
            if fl:
                entry["flavors"] = fl
            files = []
            for rel, p in tree_files(files_dir):
                size, digest = file_digest(p)
                files.append({"path": rel, "size": size, "digest": digest})
                if opts.with_models:
                    out.files[f"models/{model_id}/{rel}"] = p
            entry["size"] = sum(f["size"] for f in files)
            entry["digest"] = {"sha256": listing_digest((f["path"], f["digest"]["sha256"]) for f in files)}
            entry["files"] = files
            if opts.with_models:
                entry["local_path"] = f"models/{model_id}"
            if env is None:
                env = _env_from_model(files_dir)
        if lm.params:
            entry["params"] = type_params(dict(lm.params))
        if lm.tags:
            entry["tags"] = dict(lm.tags)
        mm = []
        for met in lm.metrics or []:
            item: dict[str, Any] = {"name": met.key, "value": json_real(float(met.value)), "step": int(met.step), "timestamp": int(met.timestamp)}
            if met.dataset_name:
                item["dataset"] = {"name": met.dataset_name}
                if met.dataset_digest:
                    item["dataset"]["fingerprint"] = met.dataset_digest
            mm.append(item)
        if mm:
            entry["metrics"] = sorted(mm, key=lambda x: (x["name"], x["step"], x["timestamp"]))
        if registered.get(model_id):
            entry["registered"] = registered[model_id]
        models.append(entry)
    return models, env


def _env_from_model(files_dir: Path) -> dict[str, Any] | None:
    from .parse import parse_text
    from .sysinfo import normalize_name

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


# --------------------------------------------------------------------------- writing


def write_exported(exported: Exported, target: Path, fmt: str) -> None:
    """Write the files that travel with the manifest, then the manifest (each atomically)."""
    import shutil

    from .write import atomic_write, dumps

    written: list[Path] = []
    try:
        for rel, content in exported.files.items():
            dest = target.parent / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                tmp = dest.with_name(f".{dest.name}.tmp")
                shutil.copyfile(content, tmp)
                tmp.replace(dest)
            else:
                atomic_write(dest, content)
            written.append(dest)
        atomic_write(target, dumps(exported.manifest, fmt))
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise


def run_file_stem(run: Any) -> str:
    name = run.info.run_name or "run"
    return f"{safe_name(name)}-{run.info.run_id[:8]}"


def progress_printer() -> Callable[[str, int], None] | None:
    """A progress callback drawing on standard error when it is a terminal (not when piped)."""
    if not sys.stderr.isatty():
        return None
    counts: dict[str, int] = {}

    def tick(what: str, n: int) -> None:
        counts[what] = counts.get(what, 0) + n
        sys.stderr.write(f"\r  {what}: {counts[what]} fetched")
        sys.stderr.flush()

    return tick


# --------------------------------------------------------------------------- several runs


def find_runs(client: Any, experiment: str, filter_string: str | None, tracking_uri: str) -> list[Any]:
    """The active runs of an experiment (by name, or id when no name matches), oldest first."""
    from mlflow.entities import ViewType

    with mlflow_errors(tracking_uri, f"(experiment {experiment!r})"):
        exp = client.get_experiment_by_name(experiment)
        if exp is None and experiment.isdigit():
            try:
                exp = client.get_experiment(experiment)
            except Exception:  # noqa: BLE001
                exp = None
        if exp is None:
            raise NotFound(Problem("experiment-not-found", f"experiment {experiment!r} was not found in {mask_uri(tracking_uri)}"))
        if exp.lifecycle_stage == "deleted":
            raise NotFound(Problem("experiment-deleted", f"experiment {experiment!r} is deleted"))
        runs: list[Any] = []
        token = None
        while True:
            page = client.search_runs([exp.experiment_id], filter_string or "", run_view_type=ViewType.ACTIVE_ONLY, max_results=1000, order_by=["attributes.start_time ASC"], page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                break
    if not runs:
        what = f" matching {filter_string!r}" if filter_string else ""
        raise NotFound(Problem("no-runs", f"experiment {experiment!r} has no runs{what}"))
    return runs


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
) -> list[str]:
    """Export runs to ``output`` (``-``, a file, or a directory when ``many``); returns what was written."""
    from .errors import BadRequest, InvalidManifest
    from .validate import validate_data
    from .write import dumps

    written: list[str] = []
    out_dir = Path(output) if many else None
    if many:
        if output == "-":
            raise BadRequest(Problem("usage", "several runs need -o DIRECTORY"))
        if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
            raise BadRequest(Problem("usage", f"{output} exists and is not a directory"))
    for run_id in run_ids:
        to_stdout = not many and output == "-"
        if to_stdout and options.history == "sidecar":
            raise BadRequest(Problem("usage", "--history sidecar needs -o FILE or DIRECTORY (sidecar files cannot go to standard output)"))
        if to_stdout and (options.with_models or options.with_artifacts):
            raise BadRequest(Problem("usage", "--with-models and --with-artifacts need -o FILE or DIRECTORY"))
        run = get_run(client, run_id, tracking_uri)
        stem = run_file_stem(run)
        ext = fmt or "yaml"
        if to_stdout:
            target = None
        elif many:
            target = out_dir / f"{stem}.{'json' if ext == 'json' else 'yaml'}"  # type: ignore[operator]
        else:
            target = Path(output)
            if target.is_dir() or output.endswith("/"):
                target = target / f"{stem}.{'json' if ext == 'json' else 'yaml'}"
            ext = fmt or ("json" if target.suffix.lower() == ".json" else "yaml")
        exported = export_run(client, run_id, tracking_uri=tracking_uri, options=options, stem=None if target is None else target.stem, run=run)
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
                written.append("-")
            else:
                write_exported(exported, target, ext)
                written.append(str(target))
                n_metrics = len(exported.manifest.get("metrics", {}))
                log(f"exported run {run_id} -> {target} ({n_metrics} metrics, {len(exported.files)} files alongside)")
        finally:
            exported.cleanup()
    return written
