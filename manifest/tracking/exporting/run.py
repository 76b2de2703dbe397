"""Export one MLflow run as a manifest: everything the run holds, plus what ``manifest.capture``
recorded. The mapping is the spec's Appendix A."""

from __future__ import annotations

import re
import tempfile
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

from ...__about__ import __version__
from ...core.digests import file_digest, regular_files
from ...core.names import safe_name
from ...core.params import type_params
from ...core.problems import NotFound, Problem, Refused
from ...core.reals import json_real, same_real
from ...core.templates import derive_template
from ...core.times import ms_to_timestamp, now_timestamp
from ...core.uris import EMBEDDED_URI, mask_uri, strip_credentials
from ...document.writer import write_history
from ...spec.rules.tags import RESERVED_PREFIXES
from ..capture import CREDIT_FIELDS
from ..histories import fetch_histories
from ..store import mlflow_errors
from ..tags import CONTEXT_DIR, CONTEXT_NAME, DIFF_NAME, MAPPED_TAGS, TAG_DERIVED_ID, TAG_DERIVED_RELATION, TAG_DERIVED_SHA256, TAG_RUN_ERROR
from .codefiles import code_files
from .datasets import data_inputs, json_or_none
from .models import models as run_models
from .options import Exported, ExportOptions


def manifest_id_for_run(run_id: str) -> str:
    """The manifest id of a run: a UUID5 of its run id, so re-exports of a run share an id."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'mlflow-run:{run_id}')}"


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
            _Build(client, run, tracking_uri, opts, stem, exported, tmp).build()
    except BaseException:
        exported.cleanup()
        raise
    return exported


@dataclass
class _Build:
    """One export in progress: the run, where it comes from, and what is being written."""

    client: Any
    run: Any
    tracking_uri: str
    opts: ExportOptions
    stem: str | None
    out: Exported
    tmp: Path
    #: set when the build ends: the history thread stops at its next history
    stopped: threading.Event = field(default_factory=threading.Event)

    def build(self) -> None:
        # The histories are the server's biggest job: start them first, and read everything else
        # (experiment, context, models, artifacts) while the server works on them.
        keys = sorted(self.run.data.metrics)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="manifest-histories")
        (self.tmp / "histories").mkdir()
        try:
            future = pool.submit(self._histories, keys) if keys else None
            self.out.manifest = self._manifest(keys, future)
        finally:
            # waited for even after a failure (it stops at its next history): its sidecars go to
            # the temporary directory that the caller removes next
            self.stopped.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _histories(self, keys: list[str]) -> dict[str, tuple[dict[str, Any], dict[str, Path]]]:
        """Each metric's entry (and its sidecar file, written to the temporary directory) made as
        its history arrives, so a run's points are never all in memory at once."""
        done = [0]
        lock = threading.Lock()
        place = {key: i for i, key in enumerate(keys)}

        def tick(n: int) -> None:  # called from the fetching threads
            with lock:
                done[0] += n
                self.opts.progress.detail(f"{self.run.info.run_name or self.run.info.run_id[:8]}: {done[0]}/{len(keys)} metric histories")

        def consume(key: str, cols: dict[str, list[Any]]) -> tuple[dict[str, Any], dict[str, Path]]:
            if self.stopped.is_set():
                raise RuntimeError("the export of this run stopped")
            return _metric(key, self.run.data.metrics[key], cols, self.opts, self.stem, self.tmp / "histories" / f"{place[key]}.json")

        return fetch_histories(self.client, self.run.info.run_id, keys, workers=self.opts.workers, progress=tick, log=self.out.warnings.append, consume=consume)

    def _manifest(self, keys: list[str], future: Future[dict[str, Any]] | None) -> dict[str, Any]:
        info, tags = self.run.info, dict(self.run.data.tags)
        store = _Artifacts(self.run, self.tracking_uri)
        ctx, diff_path, ctx_dir = _read_context(store, self.tmp)
        ctx = ctx or {}
        params = type_params(dict(self.run.data.params))
        m: dict[str, Any] = {"spec_version": "1.0", "id": manifest_id_for_run(info.run_id), "name": info.run_name or tags.get("mlflow.runName") or info.run_id}
        if tags.get("mlflow.note.content"):
            m["description"] = tags["mlflow.note.content"]
        m["provenance"] = self._provenance(tags)
        m["run"] = _run_section(info, tags)
        m["data"] = data_inputs(self.run, ctx.get("data") or [])
        m["code"] = _code(tags, ctx, params, diff_path, self.stem, self.out)
        m["code"].update(code_files(ctx.get("code") or {}, ctx_dir, self.stem, self.out))
        models, model_env = run_models(self.client, self.run, self.tracking_uri, self.opts, self.tmp, self.out)
        env = ctx.get("environment")
        if not env and model_env:
            env = model_env
            self.out.warnings.append("the run has no captured environment (manifest.capture.log_context); packages come from the model's requirements.txt, which pins only what the model needs")
        m["environment"] = env
        m["params"] = params
        metrics = future.result() if future is not None else {}
        m["metrics"] = {}
        for key in keys:
            m["metrics"][key], files = metrics[key]
            self.out.files.update(files)
        m["artifacts"] = _artifacts(store, self.opts, self.stem, self.tmp, self.out)
        m["models"] = models
        m["tags"] = {k: v for k, v in tags.items() if not k.startswith(RESERVED_PREFIXES)}  # the others come from fields
        for key in CREDIT_FIELDS:  # who made it, under which licence, how to cite it: as the run recorded
            if ctx.get(key):
                m[key] = ctx[key]
        if ctx.get("git", {}).get("available") is False:
            self.out.warnings.append(f"the training script was not in a git repository: {ctx['git'].get('reason')}")
        return {k: v for k, v in m.items() if v}

    def _provenance(self, tags: dict[str, str]) -> dict[str, Any]:
        info = self.run.info
        exp = _experiment(self.client, info.experiment_id)
        system_tags = {k: _without_credentials(v) for k, v in tags.items() if k.startswith("mlflow.") and k not in MAPPED_TAGS}
        source: dict[str, Any] = {
            "system": "mlflow", "system_version": mlflow.__version__, "tracking_uri": strip_credentials(self.tracking_uri),
            "experiment_id": info.experiment_id, "experiment_name": exp.name, "run_id": info.run_id,
        }
        if system_tags:
            source["system_tags"] = system_tags
        prov: dict[str, Any] = {"created_at": now_timestamp(), "created_by": {"name": "experiment-manifest", "version": __version__}, "source": source}
        derived = _derived_from(tags)
        if derived:
            prov["derived_from"] = derived
        return prov


def _experiment(client: Any, experiment_id: str) -> Any:
    """The run's experiment, fetched once per client (an export of many runs asks for it each run)."""
    cache: dict[str, Any] = client.__dict__.setdefault("_manifest_experiments", {})
    if experiment_id not in cache:
        cache[experiment_id] = client.get_experiment(experiment_id)
    return cache[experiment_id]


def _without_credentials(value: str) -> str:
    """A tag value that is a URI, with its credentials removed (MLflow records some URIs as given)."""
    return strip_credentials(value) if EMBEDDED_URI.fullmatch(value) else value


def _derived_from(tags: dict[str, str]) -> dict[str, Any] | None:
    """``provenance.derived_from`` from the lineage tags this tool set on an imported run."""
    if not tags.get(TAG_DERIVED_ID):
        return None
    derived: dict[str, Any] = {"id": tags[TAG_DERIVED_ID]}
    if re.fullmatch(r"[0-9a-f]{64}", tags.get(TAG_DERIVED_SHA256, "")):
        derived["digest"] = {"sha256": tags[TAG_DERIVED_SHA256]}
    if tags.get(TAG_DERIVED_RELATION) in ("imported", "reproduced"):
        derived["relation"] = tags[TAG_DERIVED_RELATION]
    return derived


def _run_section(info: Any, tags: dict[str, str]) -> dict[str, Any]:
    r: dict[str, Any] = {"status": info.status, "start_time": ms_to_timestamp(info.start_time)}
    if info.end_time and info.status not in ("RUNNING", "SCHEDULED"):
        r["end_time"] = ms_to_timestamp(info.end_time)
    user = tags.get("mlflow.user") or info.user_id
    if user:
        r["user"] = user
    if tags.get("mlflow.parentRunId"):
        r["parent"] = {"run_id": tags["mlflow.parentRunId"]}
    if tags.get(TAG_RUN_ERROR) and info.status in ("FAILED", "KILLED"):
        r["error"] = tags[TAG_RUN_ERROR]
    return r


def _code(tags: dict[str, str], ctx: dict[str, Any], params: dict[str, Any], diff_path: Path | None, stem: str | None, out: Exported) -> dict[str, Any]:
    """The manifest's ``code``: MLflow's source tags, completed by the captured context."""
    cc = ctx.get("code") or {}
    c = _git_fields(tags, cc, out)
    if "dirty" in cc:
        c["dirty"] = bool(cc["dirty"])
    c.update(_diff_fields(cc, diff_path, stem, out))
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


def _git_fields(tags: dict[str, str], cc: dict[str, Any], out: Exported) -> dict[str, Any]:
    """Repository, commit and branch: MLflow's tags first (what MLflow saw), the capture's otherwise."""
    c: dict[str, Any] = {}
    repo = cc.get("repository") or tags.get("mlflow.source.git.repoURL")
    if repo:
        c["repository"] = strip_credentials(repo)
    mlflow_commit = tags.get("mlflow.source.git.commit")
    commit = mlflow_commit or cc.get("commit")
    if cc.get("commit") and mlflow_commit and cc["commit"] != mlflow_commit:
        out.warnings.append(f"MLflow recorded commit {mlflow_commit} but the capture saw {cc['commit']}; the manifest keeps MLflow's")
    if commit and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        c["commit"] = commit
    branch = tags.get("mlflow.source.git.branch") or cc.get("branch")
    if branch:
        c["branch"] = branch
    return c


def _diff_fields(cc: dict[str, Any], diff_path: Path | None, stem: str | None, out: Exported) -> dict[str, Any]:
    """The recorded diff: a file next to the manifest (``stem.diff``), or only its digest inline."""
    if cc.get("dirty") and diff_path is not None:
        if stem is None:
            return {"diff_digest": file_digest(diff_path)[1]}
        rel = f"{stem}.diff"
        size, digest = file_digest(diff_path)
        out.files[rel] = diff_path
        return {"diff": {"path": rel, "size": size, "digest": digest, "media_type": "text/x-diff"}}
    if cc.get("diff_digest"):
        return {"diff_digest": cc["diff_digest"]}
    return {}


def _metric(key: str, latest: float, cols: dict[str, list[Any]], opts: ExportOptions, stem: str | None, scratch: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """A metric's manifest entry from its history, and the sidecar file that holds the history
    (written to ``scratch`` now, copied next to the manifest later) when it goes to one."""
    steps, times, values = cols["step"], cols["timestamp"], cols["value"]
    n = len(steps)
    if n == 0:
        return {"value": json_real(float(latest))}, {}
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
    if n == 1:
        return metric, {}
    sidecar = opts.history == "sidecar" or (opts.history == "auto" and n > opts.inline_max_points)
    if not (sidecar and stem is not None):
        metric["history"] = {"step": list(steps), "timestamp": list(times), "value": [json_real(v) for v in values]}
        return metric, {}
    rel = f"{stem}.history/{safe_name(key)}.json"
    size, sha256 = write_history(cols, scratch)
    metric["history_file"] = {"path": rel, "size": size, "digest": {"sha256": sha256}, "points": n}
    return metric, {rel: scratch}


def _artifacts(store: _Artifacts, opts: ExportOptions, stem: str | None, tmp: Path, out: Exported) -> list[dict[str, Any]]:
    top = [a for a in store.top() if a.path.split("/")[0] != CONTEXT_DIR]
    if not top:
        return []
    root = tmp / "run-artifacts"
    root.mkdir()
    for a in top:
        store.download(a.path, root)
    result = []
    for rel, p in regular_files(root):  # one entry per file: a line feed in a name is no problem here
        size, digest = file_digest(p)
        entry: dict[str, Any] = {"path": rel, "kind": "file", "size": size, "digest": digest}
        if opts.with_artifacts:  # one folder per run: runs exported into one directory keep their own files
            local = f"{stem}.artifacts/{rel}" if stem else f"artifacts/{rel}"
            out.files[local] = p
            entry["local_path"] = local
        result.append(entry)
    return result


# --------------------------------------------------------------------------- reading MLflow


class _Artifacts:
    """A run's artifacts, read through the repository its ``artifact_uri`` names.

    ``MlflowClient.list_artifacts`` and ``download_artifacts`` first fetch the run again to find
    that URI (and MLflow 3 lists a sub-path through the LoggedModels API as well): four requests a
    run that the run object at hand makes unnecessary. The root is listed once."""

    def __init__(self, run: Any, tracking_uri: str) -> None:
        self.repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=tracking_uri)
        self._top: list[Any] | None = None

    def top(self) -> list[Any]:
        if self._top is None:
            self._top = list(self.repo.list_artifacts())
        return self._top

    def download(self, path: str, dst: Path) -> Path | None:
        dst.mkdir(parents=True, exist_ok=True)
        try:
            return Path(self.repo.download_artifacts(path, dst_path=str(dst)))
        except Exception:  # noqa: BLE001 - absence is an answer here
            return None


def _read_context(store: _Artifacts, tmp: Path) -> tuple[dict[str, Any] | None, Path | None, Path | None]:
    """The captured context, its diff file and the directory they were downloaded to."""
    # The root is listed, not CONTEXT_DIR: MLflow 3 lists a sub-path through the LoggedModels API,
    # which an MLflow 2 server does not have (404); the root listing needs only the run's artifacts.
    if not any(a.path == CONTEXT_DIR and a.is_dir for a in store.top()):
        return None, None, None
    d = store.download(CONTEXT_DIR, tmp / "context")
    if d is None or not (d / CONTEXT_NAME).is_file():
        return None, None, None
    ctx = json_or_none((d / CONTEXT_NAME).read_text(encoding="utf-8"))
    diff = d / DIFF_NAME
    return (ctx if isinstance(ctx, dict) else None), (diff if diff.is_file() else None), d
