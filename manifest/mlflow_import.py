"""Import manifests into MLflow as new runs: faithful where MLflow allows it, atomic, idempotent.

Order of work: validate the manifest (and every local file against its digest) before touching
the tracking store; find or create the experiment; refuse a duplicate; create the run (RUNNING);
log params, tags, datasets, metrics, models and artifacts; set the final status and end time.
Any failure part-way marks the partial run FAILED with a ``manifest.import.error`` tag and deletes
it, so no half-made run looks finished.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from .capture import CONTEXT_DIR, CONTEXT_VERSION
from .digest import file_digest
from .errors import IntegrityError, InvalidManifest, ManifestError, NotFound, Problem, Refused
from .mlflow_export import CAPTURED_DATA_FIELDS, TAG_DERIVED_ID, TAG_DERIVED_RELATION, TAG_DERIVED_SHA256
from .params import param_text
from .parse import Document, load_path
from .rules import relative_path_problem, to_float
from .tracking import mask_uri, mlflow_errors

TAG_SOURCE_RUN = "manifest.source.run_id"
TAG_SOURCE_EXPERIMENT = "manifest.source.experiment"
TAG_SOURCE_URI = "manifest.source.tracking_uri"
TAG_IMPORT_ERROR = "manifest.import.error"
MAX_PARAMS, MAX_TAGS, MAX_METRICS = 100, 100, 1000


@dataclass
class ImportOptions:
    experiment: str | None = None
    allow_duplicate: bool = False
    register_model: str | None = None
    #: ``log-batch`` requests in flight at once against a tracking server, each on its own
    #: connection so that a multi-process server spreads them over its workers (SQL stores are
    #: written in one transaction instead).
    workers: int = 4
    log: Callable[[str], None] = lambda s: None


@dataclass
class Prepared:
    """A manifest checked and ready to import: its data, histories and verified local files."""

    doc: Document
    data: dict[str, Any]
    digest: str
    histories: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    model_dirs: dict[int, Path] = field(default_factory=dict)
    artifact_files: dict[int, Path] = field(default_factory=dict)
    diff_file: Path | None = None
    #: ``requirements.txt`` / ``python_env.yaml`` rendered from ``environment`` (``manifest env``'s rules).
    env_files: dict[str, str] = field(default_factory=dict)


def _inside(base: Path, rel: str, what: str, pointer: str) -> Path:
    why = relative_path_problem(rel)
    if why:
        raise InvalidManifest(Problem("unsafe-path", f"{what} path {rel!r} {why}", pointer))
    p = base / PurePosixPath(rel)
    try:
        ok = p.resolve().is_relative_to(base.resolve())
    except OSError:
        ok = False
    if not ok:
        raise InvalidManifest(Problem("unsafe-path", f"{what} path {rel!r} resolves outside the manifest's directory (through a symbolic link?)", pointer))
    return p


def _verify(path: Path, size: int | None, digest: dict[str, str] | None, what: str, pointer: str) -> None:
    if path.is_symlink() and not path.resolve().exists():
        raise IntegrityError(Problem("missing-file", f"{what} {path} is a dangling link", pointer))
    if not path.is_file():
        raise IntegrityError(Problem("missing-file", f"{what} {path} is missing", pointer))
    algs = list(digest or {"sha256": ""})
    got_size, got = file_digest(path, algs)
    if size is not None and got_size != size:
        raise IntegrityError(Problem("size-mismatch", f"{what} {path} is {got_size} bytes; the manifest says {size}", pointer))
    for alg in digest or {}:
        if got[alg] != digest[alg]:  # type: ignore[index]
            raise IntegrityError(Problem("digest-mismatch", f"{what} {path} has {alg} {got[alg]}; the manifest says {digest[alg]}", pointer))  # type: ignore[index]


def prepare(path: str | Path) -> Prepared:
    """Read and fully check one manifest and everything it brings along. Touches no server."""
    from .envfile import render_python_env, render_requirements
    from .validate import load_valid
    from .write import manifest_digest

    doc = load_valid(path)
    data = doc.data
    base = doc.base_dir or Path(".")
    prep = Prepared(doc, data, manifest_digest(data)["sha256"])
    for name, m in (data.get("metrics") or {}).items():
        if "history" in m:
            prep.histories[name] = m["history"]
        elif "history_file" in m:
            ref = m["history_file"]
            side = _inside(base, ref["path"], "history file", f"/metrics/{name}/history_file/path")
            if not side.is_file():
                raise IntegrityError(Problem("missing-file", f"history file {ref['path']!r} of metric {name!r} is missing next to the manifest; the run cannot be recreated without it", f"/metrics/{name}/history_file/path"), file=str(path))
            _verify(side, ref["size"], ref["digest"], "history file", f"/metrics/{name}/history_file")
            prep.histories[name] = json.loads(side.read_text(encoding="utf-8"))
    code = data.get("code") or {}
    if "diff" in code:
        d = _inside(base, code["diff"]["path"], "diff", "/code/diff/path")
        if d.is_file():
            _verify(d, code["diff"]["size"], code["diff"]["digest"], "diff", "/code/diff")
            prep.diff_file = d
    for i, model in enumerate(data.get("models") or []):
        if "local_path" not in model:
            continue
        mdir = _inside(base, model["local_path"], "model", f"/models/{i}/local_path")
        if not mdir.is_dir():
            raise IntegrityError(Problem("missing-file", f"model directory {model['local_path']!r} is missing", f"/models/{i}/local_path"), file=str(path))
        for j, f in enumerate(model.get("files") or []):
            fp = _inside(mdir, f["path"], "model file", f"/models/{i}/files/{j}/path")
            _verify(fp, f["size"], f["digest"], "model file", f"/models/{i}/files/{j}")
        prep.model_dirs[i] = mdir
    for i, a in enumerate(data.get("artifacts") or []):
        if "local_path" not in a:
            continue
        fp = _inside(base, a["local_path"], "artifact", f"/artifacts/{i}/local_path")
        _verify(fp, a.get("size"), a.get("digest"), "artifact", f"/artifacts/{i}")
        prep.artifact_files[i] = fp
    env = data.get("environment") or {}
    if env.get("packages"):  # refused here, before the store is touched, if a name is not a plain pin
        prep.env_files["requirements.txt"] = render_requirements(data, str(path))
        if (env.get("python") or {}).get("version"):
            prep.env_files["python_env.yaml"] = render_python_env(data, str(path))
    return prep


# --------------------------------------------------------------------------- helpers


def ts_to_ms(ts: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` -> epoch milliseconds, exactly."""
    import calendar

    secs = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int(ts[20:23])


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i : i + n] for i in range(0, len(items), n)]


def _run_tags(data: dict[str, Any], digest: str, parent_map: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    tags: dict[str, str] = {}
    warnings: list[str] = []
    src = (data["provenance"].get("source") or {})
    tags.update(src.get("system_tags") or {})
    tags.update(data.get("tags") or {})
    tags["mlflow.runName"] = data["name"]
    run = data["run"]
    if run.get("user"):
        tags["mlflow.user"] = run["user"]
    if data.get("description"):
        tags["mlflow.note.content"] = data["description"]
    code = data.get("code") or {}
    for key, tag in (("commit", "mlflow.source.git.commit"), ("branch", "mlflow.source.git.branch"), ("repository", "mlflow.source.git.repoURL"), ("source_name", "mlflow.source.name"), ("source_type", "mlflow.source.type")):
        if code.get(key):
            tags[tag] = str(code[key])
    parent = (run.get("parent") or {}).get("run_id")
    if parent:
        if parent in parent_map:
            tags["mlflow.parentRunId"] = parent_map[parent]
        else:
            warnings.append(f"parent run {parent} is not part of this import; the run is imported without its parent link")
    tags[TAG_DERIVED_ID] = data["id"]
    tags[TAG_DERIVED_SHA256] = digest
    tags[TAG_DERIVED_RELATION] = "imported"
    if src.get("run_id"):
        tags[TAG_SOURCE_RUN] = src["run_id"]
    if src.get("experiment_name") or src.get("experiment_id"):
        tags[TAG_SOURCE_EXPERIMENT] = src.get("experiment_name") or src["experiment_id"]
    if src.get("tracking_uri"):
        tags[TAG_SOURCE_URI] = src["tracking_uri"]
    return tags, warnings


def _context(data: dict[str, Any]) -> dict[str, Any]:
    """What the capture API would have recorded, rebuilt from the manifest (export reads it back)."""
    code = data.get("code") or {}
    ctx_code = {k: code[k] for k in ("dirty", "diff_digest", "working_directory", "entry_point", "command", "command_template") if k in code}
    if "diff" in code and "diff_digest" not in ctx_code:
        ctx_code["diff_digest"] = code["diff"]["digest"]
    ctx_data = []
    for d in data.get("data") or []:
        if "tracking" in d:
            kept = {k: d[k] for k in ("name", "uri", *CAPTURED_DATA_FIELDS) if k in d}
            if set(kept) - {"name", "uri"}:
                ctx_data.append(kept)
        else:
            ctx_data.append(d)
    ctx: dict[str, Any] = {"context_version": CONTEXT_VERSION, "imported": True, "code": ctx_code, "data": ctx_data}
    if data.get("environment"):
        ctx["environment"] = data["environment"]
    return ctx


def _metric_entities(name: str, metric: dict[str, Any], cols: dict[str, list[Any]] | None) -> list[Any]:
    from mlflow.entities import Metric

    if cols:
        return [Metric(name, to_float(v), int(t), int(s)) for s, t, v in zip(cols["step"], cols["timestamp"], cols["value"])]
    return [Metric(name, to_float(metric["value"]), int(metric.get("timestamp", 0)) or int(time.time() * 1000), int(metric.get("step", 0)))]


# --------------------------------------------------------------------------- the import


def find_duplicate(client: Any, experiment_id: str, digest: str) -> str | None:
    from mlflow.entities import ViewType

    runs = client.search_runs([experiment_id], f"tags.`{TAG_DERIVED_SHA256}` = '{digest}'", run_view_type=ViewType.ACTIVE_ONLY, max_results=1)
    return runs[0].info.run_id if runs else None


def experiment_for(client: Any, name: str, uri: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return str(client.create_experiment(name))
    if exp.lifecycle_stage == "deleted":
        raise NotFound(Problem("experiment-deleted", f"experiment {name!r} exists in {mask_uri(uri)} but is deleted; restore it, or import with --experiment OTHER"))
    return str(exp.experiment_id)


def import_prepared(client: Any, prep: Prepared, *, tracking_uri: str, options: ImportOptions, parent_map: dict[str, str] | None = None) -> str:
    """Create the run in MLflow; returns the new run id."""
    data = prep.data
    src = data["provenance"].get("source") or {}
    exp_name = options.experiment or src.get("experiment_name") or "Default"
    with mlflow_errors(tracking_uri, "(import)"):
        exp_id = experiment_for(client, exp_name, tracking_uri)
        dup = find_duplicate(client, exp_id, prep.digest)
    if dup and not options.allow_duplicate:
        raise Refused(Problem("duplicate-import", f"this manifest was already imported into experiment {exp_name!r} as run {dup}; pass --allow-duplicate to import it again"))
    tags, warnings = _run_tags(data, prep.digest, parent_map or {})
    for w in warnings:
        options.log(f"warning: {w}")
    run = data["run"]
    with mlflow_errors(tracking_uri, "(creating the run)"):
        created = client.create_run(exp_id, start_time=ts_to_ms(run["start_time"]), tags={k: tags[k] for k in list(tags)[:MAX_TAGS]}, run_name=data["name"])
    run_id = created.info.run_id
    try:
        with mlflow_errors(tracking_uri, f"(importing into run {run_id})"):
            _fill(client, run_id, exp_id, prep, tags, options)
            status = run["status"]
            if status in ("FINISHED", "FAILED", "KILLED"):
                end = ts_to_ms(run["end_time"]) if run.get("end_time") else None
                client.set_terminated(run_id, status, end_time=end)
    except BaseException as exc:
        reason = exc.problems[0].message if isinstance(exc, ManifestError) else f"{type(exc).__name__}: {exc}"
        note = _abandon(client, run_id, reason)
        if isinstance(exc, ManifestError):
            raise type(exc)([Problem(p.code, f"{p.message}; {note}", p.pointer, p.line, p.column, p.severity, p.file) for p in exc.problems]) from None
        raise
    return run_id


def _abandon(client: Any, run_id: str, reason: str) -> str:
    """Mark a partial run FAILED with the reason, then delete it; say what was done."""
    done = []
    try:
        client.set_tag(run_id, TAG_IMPORT_ERROR, reason[:5000])
        client.set_terminated(run_id, "FAILED")
        done.append("marked FAILED")
        client.delete_run(run_id)
        return f"the partial run {run_id} was marked FAILED and deleted"
    except Exception:  # noqa: BLE001 - the store may be what failed
        if done:
            return f"the partial run {run_id} was marked FAILED (with tag {TAG_IMPORT_ERROR}) but could not be deleted"
        return f"the partial run {run_id} could not be cleaned up (the store is unreachable); delete it when it is back"


def _fill(client: Any, run_id: str, exp_id: str, prep: Prepared, tags: dict[str, str], options: ImportOptions) -> None:
    from mlflow.entities import Dataset, DatasetInput, InputTag, Param, RunTag

    data = prep.data
    params = [Param(k, param_text(v)) for k, v in (data.get("params") or {}).items()]
    rest_tags = [RunTag(k, v) for k, v in list(tags.items())[MAX_TAGS:]]
    for chunk in _chunks(params, MAX_PARAMS):
        client.log_batch(run_id, params=chunk)
    for chunk in _chunks(rest_tags, MAX_TAGS):
        client.log_batch(run_id, tags=chunk)
    inputs = []
    for d in data.get("data") or []:
        t = d.get("tracking")
        if not t or "fingerprint" not in t:
            continue
        ds = Dataset(name=t.get("name", d["name"]), digest=t["fingerprint"], source_type=t.get("source_type", "code"), source=t.get("source", ""), schema=t.get("schema"), profile=t.get("profile"))
        inputs.append(DatasetInput(ds, [InputTag(k, v) for k, v in (t.get("tags") or {}).items()]))
    if inputs:
        client.log_inputs(run_id, datasets=inputs)
    model_ids = _create_models(client, run_id, exp_id, prep, options)
    _log_metrics(client, run_id, prep, options, model_ids)
    _finish_models(client, run_id, prep, options, model_ids)
    _log_artifacts(client, run_id, prep)


def _log_metrics(client: Any, run_id: str, prep: Prepared, options: ImportOptions, model_ids: dict[int, str]) -> None:
    from mlflow.entities import Metric

    entities: list[Any] = []
    for name, metric in (prep.data.get("metrics") or {}).items():
        entities.extend(_metric_entities(name, metric, prep.histories.get(name)))
    # A model metric is, in MLflow, a run metric point linked to the model (and a dataset): link
    # the matching run point rather than logging a second point.
    at = {(m.key, m.step, m.timestamp): i for i, m in enumerate(entities)}
    linked: set[int] = set()
    for i, model in enumerate(prep.data.get("models") or []):
        if i not in model_ids:
            continue
        for x in model.get("metrics") or []:
            ds = x.get("dataset") or {}
            key = (x["name"], int(x.get("step", 0)), int(x.get("timestamp", 0)))
            j = at.get(key)
            if j is not None and j not in linked:
                e = entities[j]
                entities[j] = Metric(e.key, e.value, e.timestamp, e.step, model_id=model_ids[i], dataset_name=ds.get("name"), dataset_digest=ds.get("fingerprint"), run_id=run_id)
                linked.add(j)
            else:
                entities.append(Metric(x["name"], to_float(x["value"]), key[2], key[1], model_id=model_ids[i], dataset_name=ds.get("name"), dataset_digest=ds.get("fingerprint"), run_id=run_id))
    bulk = _sql_bulk_store(client)
    if bulk is not None:
        linked_keys = {e.key for e in entities if getattr(e, "model_id", None)}
        plain = [e for e in entities if e.key not in linked_keys]
        _bulk_insert_metrics(bulk, run_id, plain)
        entities = [e for e in entities if e.key in linked_keys]
    batches = _chunks(entities, MAX_METRICS)
    if not batches:
        return
    from .mlflow_history import rest_store

    rest = rest_store(client)
    workers = 1 if rest is None else max(1, options.workers)

    def send(batch: list[Any]) -> None:
        if rest is not None and not any(getattr(e, "model_id", None) for e in batch):
            _post_metrics(rest, run_id, batch)
        else:
            client.log_batch(run_id, metrics=batch, synchronous=True)

    if workers == 1:
        for b in batches:
            send(b)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(send, b) for b in batches]
        try:
            for f in futures:
                f.result()
        except BaseException:
            for f in futures:  # a failed batch ends the import: do not send (and retry) the rest
                f.cancel()
            raise


def _post_metrics(store: Any, run_id: str, batch: list[Any]) -> None:
    """One ``runs/log-batch`` request built straight from the points, with the store's own
    credentials, TLS settings and retries. The server stores exactly what
    ``MlflowClient.log_batch`` would send (the protobuf JSON form: ``"NaN"``, ``"Infinity"``),
    without a protobuf message and two JSON round trips per batch on this side."""
    from mlflow.utils.rest_utils import http_request, verify_rest_response

    from .mlflow_history import FRESH_CONNECTION
    from .write import json_real

    metrics = [{"key": e.key, "value": json_real(e.value), "timestamp": e.timestamp, "step": e.step} for e in batch]
    endpoint = "/api/2.0/mlflow/runs/log-batch"
    resp = http_request(store.get_host_creds(), endpoint, "POST", json={"run_id": run_id, "metrics": metrics}, extra_headers=FRESH_CONNECTION)
    verify_rest_response(resp, endpoint)


METRICS_COLUMNS = {"key", "value", "timestamp", "run_uuid", "step", "is_nan"}


def _sql_bulk_store(client: Any) -> Any:
    """MLflow's SQL store, when its metric tables have exactly the layout this code writes."""
    from .mlflow_history import tracking_store

    store = tracking_store(client)
    try:
        import sqlalchemy as sa
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        if not isinstance(store, SqlAlchemyStore) or not hasattr(store, "sanitize_metric_value"):
            return None
        inspector = sa.inspect(store.engine)
        for table in ("metrics", "latest_metrics"):
            if {c["name"] for c in inspector.get_columns(table)} != METRICS_COLUMNS:
                return None
    except Exception:  # noqa: BLE001 - any doubt: the public API
        return None
    return store


def _bulk_insert_metrics(store: Any, run_id: str, entities: list[Any]) -> None:
    """Write a new run's metric points in one transaction, as ``log_batch`` would have.

    Same stored values (NaN as 0 with ``is_nan``, infinities as +/-1.797e308), the same
    de-duplication of identical points, and the same "latest" value per key (greatest
    (step, timestamp, value), the first of equals), but one INSERT for all points instead of a
    session and commit per 1,000: on SQLite about ten times faster.
    """
    import sqlalchemy as sa
    from mlflow.utils.validation import _validate_metric

    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    latest: dict[str, dict[str, Any]] = {}
    checked: set[str] = set()
    for e in entities:
        if e.key not in checked:
            _validate_metric(e.key, e.value, e.timestamp, e.step)
            checked.add(e.key)
        is_nan, value = store.sanitize_metric_value(e.value)
        ident = (e.key, e.timestamp, e.step, value, is_nan)
        if ident in seen:
            continue
        seen.add(ident)
        row = {"key": e.key, "value": value, "timestamp": e.timestamp, "run_uuid": run_id, "step": e.step, "is_nan": is_nan}
        rows.append(row)
        cur = latest.get(e.key)
        if cur is None or (e.step, e.timestamp, value) > (cur["step"], cur["timestamp"], cur["value"]):
            latest[e.key] = row
    if not rows:
        return
    cols = "key, value, timestamp, run_uuid, step, is_nan"
    vals = ":key, :value, :timestamp, :run_uuid, :step, :is_nan"
    with store.engine.begin() as conn:
        for chunk in _chunks(rows, 50_000):
            conn.execute(sa.text(f"INSERT INTO metrics ({cols}) VALUES ({vals})"), chunk)
        conn.execute(sa.text(f"INSERT INTO latest_metrics ({cols}) VALUES ({vals})"), list(latest.values()))


def _rewrite_mlmodel(model_dir: Path, model_id: str, run_id: str) -> None:
    from mlflow.models import Model

    mlmodel = model_dir / "MLmodel"
    if not mlmodel.is_file():
        return
    m = Model.load(str(mlmodel))
    m.run_id = run_id
    if hasattr(m, "model_id"):
        m.model_id = model_id
    m.save(str(mlmodel))


def _create_models(client: Any, run_id: str, exp_id: str, prep: Prepared, options: ImportOptions) -> dict[int, str]:
    """Create the logged models whose files came with the manifest; returns index -> new model id."""
    ids: dict[int, str] = {}
    for i, model in enumerate(prep.data.get("models") or []):
        if i not in prep.model_dirs:
            options.log(f"warning: model {model['name']!r} has no files next to the manifest (export with --with-models); it is not recreated")
            continue
        params = {k: param_text(v) for k, v in (model.get("params") or {}).items()}
        lm = client.create_logged_model(exp_id, name=model["name"], source_run_id=run_id, tags=model.get("tags") or None, params=params or None)
        ids[i] = lm.model_id
    return ids


def _finish_models(client: Any, run_id: str, prep: Prepared, options: ImportOptions, model_ids: dict[int, str]) -> None:
    """Upload each model's files (MLmodel rewritten to the new ids), finalize, link, register."""
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus

    for i, model_id in model_ids.items():
        model = prep.data["models"][i]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / "model"
            shutil.copytree(prep.model_dirs[i], work, symlinks=False)
            _rewrite_mlmodel(work, model_id, run_id)
            client.log_model_artifacts(model_id, str(work))
        client.finalize_logged_model(model_id, LoggedModelStatus.READY)
        client.log_outputs(run_id, [LoggedModelOutput(model_id, int(model.get("step", 0)))])
        if options.register_model:
            from mlflow.exceptions import MlflowException

            try:
                client.create_registered_model(options.register_model)
            except MlflowException as exc:
                if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                    raise
            source = client.get_logged_model(model_id).artifact_location
            mv = client.create_model_version(options.register_model, source, run_id=run_id, model_id=model_id)
            options.log(f"registered model {options.register_model!r} version {mv.version} -> {model_id}")


def _log_artifacts(client: Any, run_id: str, prep: Prepared) -> None:
    data = prep.data
    for i, path in prep.artifact_files.items():
        a = data["artifacts"][i]
        parent = str(PurePosixPath(a["path"]).parent)
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / PurePosixPath(a["path"]).name
            shutil.copyfile(path, target)
            client.log_artifact(run_id, str(target), None if parent == "." else parent)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / CONTEXT_DIR
        d.mkdir()
        (d / "context.json").write_text(json.dumps(_context(data), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if prep.diff_file is not None:
            shutil.copyfile(prep.diff_file, d / "git.diff")
        for name, text in prep.env_files.items():
            (d / name).write_text(text, encoding="utf-8")
        name = "manifest.json" if prep.doc.format == "json" else "manifest.yaml"
        (d / name).write_text(prep.doc.text, encoding="utf-8")
        client.log_artifacts(run_id, str(d), CONTEXT_DIR)


# --------------------------------------------------------------------------- several manifests


def manifest_paths(paths: list[str]) -> list[Path]:
    """Manifest files named, or found (recursively) in directories (files with ``spec_version``)."""
    from .validate import _candidates  # the same discovery rules as validate

    files, _, missing = _candidates(paths)
    if missing:
        from .errors import UnreadableInput

        raise UnreadableInput([p for r in missing for p in r.problems])
    out = []
    for name, explicit in files:
        if name == "-":
            raise InvalidManifest(Problem("usage", "import reads files (sidecars and model files lie next to them), not standard input"))
        if not explicit:
            try:
                data = load_path(name).data
            except ManifestError:
                out.append(Path(name))  # let prepare() report it
                continue
            if not (isinstance(data, dict) and "spec_version" in data):
                continue
        out.append(Path(name))
    return out


def prepare_paths(paths: list[str]) -> list[Prepared]:
    """Every manifest under ``paths``, read and checked (with its files) before anything is written."""
    files = manifest_paths(paths)
    if not files:
        raise NotFound(Problem("no-manifests", "no manifest found in " + ", ".join(paths)))
    return [prepare(f) for f in files]


def import_paths(client: Any, paths: list[str] | list[Prepared], *, tracking_uri: str, options: ImportOptions) -> list[tuple[Path, str]]:
    """Import every manifest under ``paths`` (or already prepared), parents before children;
    returns (file, new run id) pairs."""
    prepared = [p for p in paths if isinstance(p, Prepared)] or prepare_paths([str(p) for p in paths])
    by_source = {(p.data["provenance"].get("source") or {}).get("run_id"): p for p in prepared}
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
    parent_map: dict[str, str] = {}
    out = []
    for p in order:
        run_id = import_prepared(client, p, tracking_uri=tracking_uri, options=options, parent_map=parent_map)
        src = (p.data["provenance"].get("source") or {}).get("run_id")
        if src:
            parent_map[src] = run_id
        options.log(f"imported {p.doc.name} -> run {run_id}")
        out.append((Path(p.doc.name), run_id))
    return out


__all__ = ["ImportOptions", "Prepared", "import_paths", "import_prepared", "prepare", "prepare_paths"]
