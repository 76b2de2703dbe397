"""Import one manifest into MLflow as a new run: faithful where MLflow allows it, atomic, idempotent.

Order of work: (the manifest and its files were checked by :mod:`.prepare`) find or create the
experiment; refuse a duplicate; create the run (RUNNING); log params, tags, datasets, metrics,
models and artifacts; set the final status and end time. Any failure part-way marks the partial
run FAILED with a ``manifest.import.error`` tag and deletes it, so no half-made run looks finished.
"""

from __future__ import annotations

import hashlib
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from mlflow.entities import Dataset, DatasetInput, InputTag, Param, RunTag, ViewType
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

from ...core.params import param_text
from ...core.problems import ManifestError, NotFound, Problem, Refused
from ...core.text import one_line
from ...core.times import ts_to_ms
from ...core.uris import mask_uri
from ..capture import CREDIT_FIELDS, write_context_dir
from ..exporting.datasets import CAPTURED_DATA_FIELDS
from ..store import all_pages, mlflow_errors
from ..tags import (
    CONTEXT_DIR,
    CONTEXT_VERSION,
    LINKING_TAGS,
    MAPPED_TAGS,
    TAG_DERIVED_ID,
    TAG_DERIVED_RELATION,
    TAG_DERIVED_SHA256,
    TAG_IDENTITY,
    TAG_IMPORT_COMPLETE,
    TAG_IMPORT_ERROR,
    TAG_RUN_ERROR,
    TAG_SOURCE_EXPERIMENT,
    TAG_SOURCE_RUN,
    TAG_SOURCE_URI,
)
from .metrics import log_metrics
from .models import create_models, finish_models
from .options import MAX_PARAMS, MAX_TAGS, ImportOptions, chunks
from .prepare import Prepared
from .store_limits import check_store_limits


def restorable_system_tags(system_tags: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The recorded system tags an import may set, and why the others are not set.

    Only MLflow's own tags are restored, never those that fields of the manifest hold (they are set
    from the fields) nor those that link a run to another run or model by id: restored in another
    store, such an id would attach the new run to an unrelated run there.
    """
    kept: dict[str, str] = {}
    dropped: list[str] = []
    for k, v in system_tags.items():
        if not k.startswith("mlflow.") or k in MAPPED_TAGS or k in LINKING_TAGS:
            dropped.append(f"system tag {one_line(k)!r} is not restored ({'it links to a run of the source store' if k in LINKING_TAGS else 'not a tracking-system tag, or a field holds it'})")
        else:
            kept[k] = v
    return kept, dropped


def _run_tags(data: dict[str, Any], digest: str, parent_map: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    src = (data["provenance"].get("source") or {})
    tags, warnings = restorable_system_tags(src.get("system_tags") or {})
    tags.update(data.get("tags") or {})  # no reserved name: validation refused those (rule reserved-tag)
    tags["mlflow.runName"] = data["name"]
    run = data["run"]
    if run.get("user"):
        tags["mlflow.user"] = run["user"]
    if data.get("description"):
        tags["mlflow.note.content"] = data["description"]
    if run.get("error"):
        tags[TAG_RUN_ERROR] = run["error"]
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
    tags[TAG_IDENTITY] = run_identity(data)
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


def _context(data: dict[str, Any], code_files: dict[tuple[str, int], Path] | None = None) -> dict[str, Any]:
    """What the capture API would have recorded, rebuilt from the manifest (export reads it back).
    Code files travel as the staged copies that were checked (``_source``), when shipped."""
    code = data.get("code") or {}
    ctx_code = {k: code[k] for k in ("dirty", "diff_digest", "working_directory", "entry_point", "command", "command_template") if k in code}
    for key in ("config_files", "untracked_files"):
        if code.get(key):
            ctx_code[key] = [_code_file_entry(f, (code_files or {}).get((key, i))) for i, f in enumerate(code[key])]
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
    for key in CREDIT_FIELDS:
        if data.get(key):
            ctx[key] = data[key]
    return ctx


def run_identity(data: dict[str, Any]) -> str:
    """What makes two manifests the same run (spec A.8): the source system and run id, however
    often the run was re-exported and however its tracking URI was spelled; the manifest ``id``
    when there is no source run. Hashed for the tag (:data:`TAG_IDENTITY`)."""
    src = data["provenance"].get("source") or {}
    key = f"{str(src['system']).lower()}:{src['run_id']}" if src.get("system") and src.get("run_id") else f"manifest:{data['id']}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def find_imported(client: Any, identity: str) -> tuple[str, str] | None:
    """``(run id, experiment name)`` of an active run anywhere in the store imported completely
    with this identity; deleted runs and runs left by an interrupted import never count."""
    exps = {e.experiment_id: e.name for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)}
    ids = list(exps)
    for i in range(0, len(ids), 100):
        runs = client.search_runs(ids[i : i + 100], f"tags.`{TAG_IDENTITY}` = '{identity}'", run_view_type=ViewType.ACTIVE_ONLY, max_results=10)
        for r in runs:
            if r.data.tags.get(TAG_IMPORT_COMPLETE) == "true":
                return str(r.info.run_id), exps.get(r.info.experiment_id, r.info.experiment_id)
    return None


def _completed(r: Any) -> bool:
    return r.data.tags.get(TAG_IMPORT_COMPLETE) == "true"


def _legacy_complete(r: Any) -> bool:
    """A run imported before the completion tag existed: ended, without an error tag."""
    tags = r.data.tags
    return TAG_IMPORT_COMPLETE not in tags and TAG_IMPORT_ERROR not in tags and r.info.status != "RUNNING" and tags.get(TAG_DERIVED_RELATION) == "imported"


class ImportedRuns:
    """Every run the target store holds from an earlier import, read once (a page of 1,000 runs
    a request) instead of two searches per manifest: for an import of many runs, what
    :func:`find_imported` and :func:`find_duplicate` would each have found."""

    def __init__(self, client: Any) -> None:
        self.experiments = {e.experiment_id: e.name for e in all_pages(client.search_experiments, view_type=ViewType.ACTIVE_ONLY, max_results=1000)}
        self.ids_by_name = {name: eid for eid, name in self.experiments.items()}
        self.by_identity: dict[str, tuple[str, str]] = {}
        self.by_digest: dict[tuple[str, str], str] = {}
        ids = list(self.experiments)
        for i in range(0, len(ids), 100):
            for r in all_pages(client.search_runs, ids[i : i + 100], f"tags.`{TAG_DERIVED_SHA256}` LIKE '%'", run_view_type=ViewType.ACTIVE_ONLY, max_results=1000):
                tags = r.data.tags
                if _completed(r) and tags.get(TAG_IDENTITY):
                    self.by_identity.setdefault(tags[TAG_IDENTITY], (str(r.info.run_id), self.experiments.get(r.info.experiment_id, r.info.experiment_id)))
                if _completed(r) or _legacy_complete(r):
                    self.by_digest.setdefault((str(r.info.experiment_id), tags[TAG_DERIVED_SHA256]), str(r.info.run_id))

    def imported(self, identity: str) -> tuple[str, str] | None:
        return self.by_identity.get(identity)

    def duplicate(self, experiment: str, digest: str) -> str | None:
        eid = self.ids_by_name.get(experiment)
        return None if eid is None else self.by_digest.get((eid, digest))


def find_duplicate(client: Any, experiment_id: str, digest: str) -> str | None:
    """An active run of the experiment imported completely from a manifest with this digest.

    A run that an interrupted import left behind (killed before it could clean up) is not a
    duplicate: it lacks the completion tag, which an import sets last (runs imported before that
    tag existed count when they ended with a status other than RUNNING and carry no error tag).
    """
    runs = client.search_runs([experiment_id], f"tags.`{TAG_DERIVED_SHA256}` = '{digest}'", run_view_type=ViewType.ACTIVE_ONLY, max_results=100)
    for r in runs:
        if _completed(r) or _legacy_complete(r):
            return str(r.info.run_id)
    return None


def experiment_for(client: Any, name: str, uri: str) -> str:
    """The id of experiment ``name``, created when missing; refused when it is deleted."""
    exp = client.get_experiment_by_name(name)
    if exp is None:
        return str(client.create_experiment(name))
    if exp.lifecycle_stage == "deleted":
        raise NotFound(Problem("experiment-deleted", f"experiment {name!r} exists in {mask_uri(uri)} but is deleted; restore it, or import with --experiment OTHER"))
    return str(exp.experiment_id)


def experiment_name(prep: Prepared, options: ImportOptions) -> str:
    """The experiment the run goes to: ``--experiment``, else the source's, else ``Default``."""
    src = prep.data["provenance"].get("source") or {}
    return options.experiment or src.get("experiment_name") or "Default"


def check_target(prep: Prepared, options: ImportOptions) -> None:
    """Refuse, before any write, what the target MLflow would refuse or truncate (:mod:`.store_limits`)."""
    tags, _ = _run_tags(prep.data, prep.digest, {})
    check_store_limits(prep.data, tags, experiment_name(prep, options), prep.doc.name)


def import_prepared(
    client: Any,
    prep: Prepared,
    *,
    tracking_uri: str,
    options: ImportOptions,
    parent_map: dict[str, str] | None = None,
    planned: bool = False,
    models_out: dict[int, str] | None = None,
    experiment_id: str | None = None,
    legacy_checked: bool = False,
) -> str:
    """Create the run in MLflow; returns the new run id. ``planned``: the batch planner has already
    looked the run's identity up (:func:`.batch.plan`), and with ``legacy_checked`` also the runs
    imported before identities were tagged; ``experiment_id``: the target experiment, when the
    caller has resolved it; ``models_out`` receives the new logged models' ids by the manifest's
    model index."""
    data = prep.data
    exp_name = experiment_name(prep, options)
    check_target(prep, options)
    if not options.allow_duplicate and not planned:
        with mlflow_errors(tracking_uri, "(looking for the run)"):
            found = find_imported(client, run_identity(data))
        if found:
            raise Refused(Problem("duplicate-import", f"this run was already imported, as run {found[0]} of experiment {found[1]!r}; pass --skip-existing to skip it or --allow-duplicate to import it again"), file=prep.doc.name)
    with mlflow_errors(tracking_uri, "(import)"):
        exp_id = experiment_id or experiment_for(client, exp_name, tracking_uri)
        dup = None if options.allow_duplicate or legacy_checked else find_duplicate(client, exp_id, prep.digest)  # runs imported before identities were tagged
    if dup:
        raise Refused(Problem("duplicate-import", f"this manifest was already imported into experiment {exp_name!r} as run {dup}; pass --allow-duplicate to import it again"), file=prep.doc.name)
    tags, warnings = _run_tags(data, prep.digest, parent_map or {})
    for w in warnings:
        options.log(f"warning: {w}")
    run = data["run"]
    with mlflow_errors(tracking_uri, "(creating the run)"):
        created = client.create_run(exp_id, start_time=ts_to_ms(run["start_time"]), tags={k: tags[k] for k in list(tags)[:MAX_TAGS]}, run_name=data["name"])
    run_id = created.info.run_id
    try:
        with mlflow_errors(tracking_uri, f"(importing into run {run_id})"):
            made = _fill(client, run_id, exp_id, prep, tags, options, get_artifact_repository(created.info.artifact_uri, tracking_uri=tracking_uri))
            status = run["status"]
            if status in ("FINISHED", "FAILED", "KILLED"):
                end = ts_to_ms(run["end_time"]) if run.get("end_time") else None
                client.set_terminated(run_id, status, end_time=end)
            client.set_tag(run_id, TAG_IMPORT_COMPLETE, "true")  # last: only a whole import counts as one
            if models_out is not None:
                models_out.update(made)
    except BaseException as exc:
        reason = exc.problems[0].message if isinstance(exc, ManifestError) else f"{type(exc).__name__}: {exc}"
        note = _abandon(client, run_id, reason)
        if isinstance(exc, ManifestError):
            raise type(exc)([Problem(p.code, f"{p.message}; {note}", p.pointer, p.line, p.column, p.severity, p.file) for p in exc.problems]) from None
        raise
    return run_id


def _abandon(client: Any, run_id: str, reason: str) -> str:
    """Mark a partial run FAILED with the reason, then delete it; say what was done. A second
    Ctrl-C or SIGTERM waits until this is done (the clean-up is what the first one asked for)."""
    with signals_deferred():
        return _clean_up(client, run_id, reason)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM held back (in the main thread) for the duration, then delivered."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {s: signal.signal(s, lambda n, f: caught.append(n)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if caught:
            signal.raise_signal(caught[0])


def _clean_up(client: Any, run_id: str, reason: str) -> str:
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


#: MLflow keeps one dataset per (experiment, name, digest), looked up then inserted: two runs of one
#: experiment logging the same dataset at once both insert it, and one fails (``UNIQUE constraint
#: failed: datasets.experiment_id, datasets.name, datasets.digest``, seen importing runs in parallel).
#: One ``log_inputs`` at a time in this process.
_DATASETS = threading.Lock()


def _fill(client: Any, run_id: str, exp_id: str, prep: Prepared, tags: dict[str, str], options: ImportOptions, repo: Any) -> dict[int, str]:
    """Everything the new run holds; ``repo``: its artifact repository, from the ``artifact_uri``
    the created run has (``MlflowClient.log_artifact`` would fetch the run again to find it)."""
    data = prep.data
    options.check_stop()
    params = [Param(k, param_text(v)) for k, v in (data.get("params") or {}).items()]
    rest_tags = [RunTag(k, v) for k, v in list(tags.items())[MAX_TAGS:]]
    for chunk in chunks(params, MAX_PARAMS)[1:]:  # the first 100 of each go with the first metric points
        client.log_batch(run_id, params=chunk)
    for chunk in chunks(rest_tags, MAX_TAGS)[1:]:
        client.log_batch(run_id, tags=chunk)
    inputs = _dataset_inputs(data)
    if inputs:
        with _DATASETS:
            client.log_inputs(run_id, datasets=inputs)
    model_ids = create_models(client, run_id, exp_id, prep, options)
    options.check_stop()
    log_metrics(client, run_id, prep, options, model_ids, first={"params": params[:MAX_PARAMS], "tags": rest_tags[:MAX_TAGS]})
    options.check_stop()
    finish_models(client, run_id, prep, options, model_ids)
    _log_artifacts(repo, prep)
    return model_ids


def _code_file_entry(f: dict[str, Any], staged: Path | None) -> dict[str, Any]:
    entry = {k: f[k] for k in ("path", "size", "digest")}
    if staged is not None:
        entry["_source"] = str(staged)
    return entry


def _dataset_inputs(data: dict[str, Any]) -> list[DatasetInput]:
    """The MLflow dataset inputs recorded under ``data[].tracking``."""
    inputs = []
    for d in data.get("data") or []:
        t = d.get("tracking")
        if not t or "fingerprint" not in t:
            continue
        ds = Dataset(name=t.get("name", d["name"]), digest=t["fingerprint"], source_type=t.get("source_type", "code"), source=t.get("source", ""), schema=t.get("schema"), profile=t.get("profile"))
        inputs.append(DatasetInput(ds, [InputTag(k, v) for k, v in (t.get("tags") or {}).items()]))
    return inputs


def _log_artifacts(repo: Any, prep: Prepared) -> None:
    """The staged copies of the artifacts (what was checked), then the capture context."""
    data = prep.data
    for i, staged in prep.artifact_files.items():
        a = data["artifacts"][i]
        if staged.is_dir():
            repo.log_artifacts(str(staged), a["path"])
        else:
            parent = str(PurePosixPath(a["path"]).parent)
            repo.log_artifact(str(staged), None if parent == "." else parent)
    with tempfile.TemporaryDirectory() as tmp:
        d = write_context_dir(Path(tmp), _context(data, prep.code_files), prep.diff_bytes)
        for name, text in prep.env_files.items():
            (d / name).write_text(text, encoding="utf-8")
        name = "manifest.json" if prep.doc.format == "json" else "manifest.yaml"
        (d / name).write_text(prep.doc.text, encoding="utf-8")
        repo.log_artifacts(str(d), CONTEXT_DIR)
