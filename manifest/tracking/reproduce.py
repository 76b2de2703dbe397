"""Re-run a manifest's run and judge the result against its recorded metrics.

1. Obtain the code at the recorded commit: a clone of the local repository (``--repo``, or the
   one around the current directory) when it has the commit, else of the recorded repository URL,
   into the work directory. A run made with uncommitted changes is re-created only from its diff
   (``code.diff``, checked against its digest), never guessed.
2. Run ``code.command_template`` with each ``{param}`` replaced by the recorded value's text (the
   params rule of the spec), in ``code.working_directory``, against a private store: a fresh SQLite
   database (and artifact root) in a temporary directory, holding one run, tagged with the
   manifest's id and digest (``manifest.derived_from.*``, relation ``reproduced``), in an experiment
   with the source's experiment name, so that a script's own ``mlflow.set_experiment(<that name>)``
   agrees with the run ``MLFLOW_RUN_ID`` hands it. Whatever the script does to its store (models,
   registrations, other experiments), the target store never sees it.
3. When the command ends (finished, failed, timed out, or interrupted: then marked KILLED), the
   re-run is copied into the target store with this tool's own export and import (models and
   artifacts included), into the experiment ``<source experiment> (reproductions)`` (or
   ``experiment``), and tagged there as a reproduction of the source run: a reproduction is its own
   run, never in the source's experiment, and bundle tables never count it as a replicate. The
   private store is removed afterwards.
4. Compare every recorded metric with the copied run's value: within the metric's tolerance
   (|new - recorded| <= max(absolute, relative * |recorded|)), or exactly when none is given.

What it trusts (spec 18): the command comes from the manifest, so it is shown first (a
:class:`Plan`: argv, working directory, repository, environment names) and run only when the
caller's ``confirm`` says yes; it runs without a shell, inside the checkout, with an environment
reduced to :data:`ENV_ALLOWLIST`, the tracking variables (naming the private store) and what the
caller passes on.
"""

from __future__ import annotations

import getpass
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator

from mlflow import MlflowClient
from mlflow.entities import RunTag
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

from ..bundle.contents import check_source, place_data
from ..bundle.layout import BundleContext, bundle_context
from ..core.digests import file_digest
from ..core.problems import CannotRun, ManifestError, Problem
from ..core.reals import to_float
from ..core.templates import fill_template, template_fields
from ..core.text import one_line
from ..core.uris import mask_uri
from ..document.canonical import manifest_digest
from ..document.reader import Document
from ..machine.git import GitFailed, apply_diff, checkout, clone, has_commit, toplevel
from ..spec.validation import load_valid
from .exporting.files import export_to_files
from .exporting.options import ExportOptions
from .importing.batch import import_paths
from .importing.options import ImportOptions
from .importing.run import experiment_for, signals_deferred
from .store import client as make_client
from .store import mlflow_errors, resolve_tracking_uri
from .tags import (
    TAG_DERIVED_ID,
    TAG_DERIVED_RELATION,
    TAG_DERIVED_SHA256,
    TAG_REPRODUCE_ERROR,
    TAG_REPRODUCES,
    TAG_SOURCE_EXPERIMENT,
    TAG_SOURCE_RUN,
    TAG_SOURCE_URI,
)

#: The experiment a reproduction goes to by default: ``<source experiment> (reproductions)``.
REPRODUCTIONS_SUFFIX = " (reproductions)"

#: Variables the re-run command gets from this environment (when set): what a Python training
#: script needs to start and to behave as recorded, and no credentials. ``LC_*`` too.
ENV_ALLOWLIST = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM",
    "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHASHSEED", "PYTHONIOENCODING", "MPLBACKEND", "MPLCONFIGDIR",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
    "CUDA_VISIBLE_DEVICES", "CUBLAS_WORKSPACE_CONFIG", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC",
    "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "GIT_CEILING_DIRECTORIES",
)


@dataclass(frozen=True)
class Plan:
    """What a reproduction will run, shown before it runs."""

    argv: list[str]
    working_directory: str  # relative to the checkout root
    repository: str
    commit: str
    applies_diff: bool
    env_names: list[str]
    #: the check of a bundle's source archive, made before anything is confirmed or run
    code_check: str | None = None

    def describe(self) -> list[str]:
        wd = self.working_directory or "."
        diff = " with the recorded uncommitted changes" if self.applies_diff else ""
        return [
            f"reproduce: repository {one_line(self.repository)} at {self.commit}{diff}",
            *([f"reproduce: {one_line(self.code_check)}"] if self.code_check else []),
            f"reproduce: working directory <checkout>/{one_line(wd)}",
            f"reproduce: command {one_line(json.dumps(self.argv))} (run without a shell)",
            f"reproduce: environment {', '.join(self.env_names)} (nothing else; --pass-env NAME adds a variable)",
        ]


@dataclass
class MetricVerdict:
    metric: str
    original: Any
    reproduced: Any
    difference: float | None
    tolerance: str
    verdict: str  # "pass" | "fail" | "missing"


@dataclass
class Reproduction:
    run_id: str  # the re-run as copied into the target store
    tracking_uri: str
    command: list[str]
    workdir: str
    metrics: list[MetricVerdict] = field(default_factory=list)
    experiment: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.metrics) and all(m.verdict == "pass" for m in self.metrics)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "run_id": self.run_id, "tracking_uri": self.tracking_uri, "experiment": self.experiment, "command": self.command, "workdir": self.workdir, "metrics": [asdict(m) for m in self.metrics]}


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def _source_repository(code: dict[str, Any], commit: str, repo: Path | None) -> str:
    """Where to clone from: the local repository (``repo``, else around the current directory)
    when it holds the commit, else the recorded repository."""
    if shutil.which("git") is None:
        raise CannotRun(Problem("no-git", "git is not installed: the code cannot be obtained"))
    cand = repo if repo is not None else Path.cwd()
    top = toplevel(cand) if cand.exists() else None
    if top is not None and has_commit(top, commit):
        return str(top)
    if repo is not None and top is None:
        raise CannotRun(Problem("no-git", f"{repo} is not a git repository"))
    if not code.get("repository"):
        raise CannotRun(Problem("unknown-commit", f"commit {commit} is not in the repository at {cand}, and the manifest names no repository to clone"))
    return str(code["repository"])


def obtain_code(code: dict[str, Any], workdir: Path, repo: Path | None, diff_file: Path | None, log: Callable[[str], None]) -> Path:
    """A checkout of the recorded commit (with the recorded diff applied) under ``workdir``."""
    commit = code.get("commit")
    if not commit:
        raise CannotRun(Problem("no-commit", "the manifest records no commit: the code cannot be obtained", "/code"))
    source = _source_repository(code, commit, repo)
    dest = workdir / "checkout"
    if dest.exists():
        shutil.rmtree(dest)
    log(f"reproduce: cloning {source} at {commit[:12]} into {dest}")
    try:
        clone(source, dest, workdir)
    except GitFailed as exc:
        raise CannotRun(Problem("clone-failed", f"cannot clone {source}: {_last_line(str(exc)) or 'git clone failed'}")) from None
    if not has_commit(dest, commit):
        raise CannotRun(Problem("unknown-commit", f"commit {commit} is not in the repository {source}", "/code/commit"))
    try:
        checkout(dest, commit)
    except GitFailed as exc:
        raise CannotRun(Problem("checkout-failed", f"cannot check out {commit}: {exc}")) from None
    if code.get("dirty"):
        if diff_file is None:
            raise CannotRun(Problem("dirty-without-diff", "the original ran with uncommitted changes and the diff file is not next to the manifest (export it from the run, which keeps it as code.diff)", "/code/diff"))
        try:
            apply_diff(dest, diff_file)
        except GitFailed as exc:
            raise CannotRun(Problem("diff-does-not-apply", f"the recorded diff does not apply to {commit[:12]}: {exc}", "/code/diff")) from None
        log("reproduce: applied the recorded uncommitted changes")
    return dest


def compare_metric(name: str, metric: dict[str, Any], new: float | None) -> MetricVerdict:
    """The verdict on one metric: within its tolerance, outside it, or missing from the re-run."""
    recorded = to_float(metric["value"])
    tol = metric.get("tolerance") or {}
    absolute, relative = float(tol.get("absolute", 0.0)), float(tol.get("relative", 0.0))
    tol_text = ", ".join(f"{k} {v}" for k, v in (("abs", tol.get("absolute")), ("rel", tol.get("relative"))) if v is not None) or "exact"
    if new is None:
        return MetricVerdict(name, metric["value"], None, None, tol_text, "missing")
    if math.isnan(recorded) or math.isnan(new):
        ok = math.isnan(recorded) and math.isnan(new)
        return MetricVerdict(name, metric["value"], new, None, tol_text, "pass" if ok else "fail")
    diff = new - recorded
    allowed = max(absolute, relative * abs(recorded))
    return MetricVerdict(name, metric["value"], new, diff, tol_text, "pass" if abs(diff) <= allowed else "fail")


def plan(path: str | Path, *, repo: Path | None = None, pass_env: tuple[str, ...] = ()) -> tuple[Document, Plan, Path | None]:
    """Read and check the manifest, and say what a reproduction would run; runs nothing."""
    doc = load_valid(path)
    m = doc.data
    code = m.get("code") or {}
    template = code.get("command_template") or code.get("command")
    if not template:
        raise CannotRun(Problem("no-command", "the manifest records neither a command nor a command template", "/code"))
    if not m.get("metrics"):
        raise CannotRun(Problem("no-metrics", "the manifest records no metric to compare", "/metrics"))
    commit = code.get("commit")
    if not commit:
        raise CannotRun(Problem("no-commit", "the manifest records no commit: the code cannot be obtained", "/code"))
    diff_file = _diff_file(doc, code)
    argv = fill_template(list(template), m.get("params") or {})
    names = sorted([*_passed(pass_env), "MLFLOW_TRACKING_URI", "MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID"])
    bundle = _bundle_code(_context(doc), repo)
    source = f"{bundle.root / str(bundle.code['archive'])} (the bundle's source archive)" if bundle is not None and bundle.code else _source_repository(code, commit, repo)
    p = Plan(argv, code.get("working_directory") or "", source, commit, bool(code.get("dirty")), names, _precheck(bundle, code))
    return doc, p, diff_file


def _precheck(bundle: BundleContext | None, code: dict[str, Any]) -> str | None:
    """The bundle's source archive checked before the plan is shown, so that "yes" is said to code
    whose proof (or the lack of one) the user has seen; a failed check stops here."""
    if bundle is None or bundle.code is None:
        return None
    with tempfile.TemporaryDirectory(prefix="manifest-reproduce-check-") as tmp:
        result, _ = check_source(bundle.root, bundle.code, code, Path(tmp) / "source")
    if result.verdict == "fail":
        raise CannotRun(Problem("code-archive-mismatch", result.reason, "/code/commit"))
    return ("WARNING: " if result.verdict == "warn" else "") + result.reason + ("; a signed bundle (manifest verify . --signature --key KEY.pub) proves who made it" if result.verdict == "warn" else "")


def _context(doc: Document) -> BundleContext | None:
    """The bundle holding the manifest file, if any."""
    return bundle_context(Path(doc.name)) if doc.base_dir is not None and doc.name not in ("-", "<data>") else None


def _bundle_code(ctx: BundleContext | None, repo: Path | None) -> BundleContext | None:
    """The bundle, when it has the code and no ``--repo`` says otherwise."""
    return ctx if repo is None and ctx is not None and ctx.code is not None else None


def code_from_bundle(bundle: BundleContext, code: dict[str, Any], workdir: Path, log: Callable[[str], None]) -> Path:
    """The bundle's source archive unpacked under ``workdir``, once it is shown to be the recorded
    commit with the recorded diff (nothing unchecked is run)."""
    dest = workdir / "checkout"
    if dest.exists():
        shutil.rmtree(dest)
    assert bundle.code is not None
    result, src = check_source(bundle.root, bundle.code, code, dest)
    if result.verdict == "fail" or src is None:
        raise CannotRun(Problem("code-archive-mismatch", result.reason, "/code/commit"))
    log(f"reproduce: {'warning: ' if result.verdict == 'warn' else ''}{result.reason}")
    return src


def reproduce(
    path: str | Path,
    *,
    workdir: Path | None = None,
    tracking_uri: str | None = None,
    repo: Path | None = None,
    timeout: float | None = None,
    confirm: Callable[[Plan], bool] = lambda p: False,
    pass_env: tuple[str, ...] = (),
    log: Callable[[str], None] = lambda s: None,
    experiment: str | None = None,
) -> Reproduction:
    """Re-run the manifest's run from its recorded code and params, and judge every metric.

    The plan is logged first and run only if ``confirm(plan)`` is true (the default says no:
    running a command from a document is opt-in). The command logs into a private store; the
    re-run is then copied into the target store's ``experiment`` (by default
    ``<source experiment> (reproductions)``, created when missing), tagged as a reproduction
    (bundle tables never count it as a replicate), and judged there. A failed or timed-out
    command is copied as FAILED; on Ctrl-C or SIGTERM the command is stopped and the re-run
    copied as KILLED before the interrupt goes on.
    """
    doc, the_plan, diff_file = plan(path, repo=repo, pass_env=pass_env)
    m = doc.data
    code = m.get("code") or {}
    for line in the_plan.describe():
        log(line)
    if not confirm(the_plan):
        raise CannotRun(Problem("not-confirmed", "nothing was run: the command was not confirmed (pass --yes to run it)"))
    _warn_unused_params(m, code, log)
    own_tmp = workdir is None
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="manifest-reproduce-"))
    work.mkdir(parents=True, exist_ok=True)
    private_dir: Path | None = None
    try:  # a work directory of our own, and the private store, go away whatever happens
        ctx = _context(doc)
        bundle = _bundle_code(ctx, repo)
        checkout_dir = code_from_bundle(bundle, code, work.resolve(), log) if bundle is not None else obtain_code(code, work.resolve(), repo, diff_file, log)
        cwd = checkout_dir / PurePosixPath(the_plan.working_directory or ".")
        if not cwd.resolve().is_relative_to(checkout_dir.resolve()):
            raise CannotRun(Problem("unsafe-path", f"the working directory {the_plan.working_directory!r} resolves outside the checkout", "/code/working_directory"))
        if ctx is not None and ctx.data:
            placed = place_data(ctx.root, ctx.data, m, cwd)
            log(f"reproduce: the bundle's data copies put where the run read them: {', '.join(placed) or 'none (absolute or remote URIs)'}")
        target = TargetStore.open(_absolute_sqlite(resolve_tracking_uri(tracking_uri)), experiment or reproduction_experiment(m))
        private_dir = Path(tempfile.mkdtemp(prefix="manifest-reproduce-store-"))
        private = PrivateStore.create(private_dir, m)
        log(f"reproduce: the command logs into a private store; the re-run is then copied into experiment {one_line(target.experiment)!r} of {mask_uri(target.uri)}")
        run_id = _rerun(private, target, m, the_plan.argv, cwd, _child_env(private.uri, private.run_id, private.experiment_id, pass_env), timeout, log)
        with mlflow_errors(target.uri, "(reading the reproduced run)"):
            values = dict(target.client.get_run(run_id).data.metrics)
        result = Reproduction(run_id, mask_uri(target.uri), the_plan.argv, str(cwd), experiment=target.experiment)
        for name, metric in sorted(m["metrics"].items()):
            result.metrics.append(compare_metric(name, metric, values.get(name)))
        return result
    finally:
        if private_dir is not None:
            shutil.rmtree(private_dir, ignore_errors=True)
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


def _rerun(private: PrivateStore, target: TargetStore, m: dict[str, Any], argv: list[str], cwd: Path, env: dict[str, str], timeout: float | None, log: Callable[[str], None]) -> str:
    """Run the command against the private store, then copy the re-run into the target whatever
    the outcome; returns the copy's run id, or raises once it is copied (FAILED or KILLED)."""
    try:
        failure = _run_command(argv, cwd, env, timeout, log)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the CLI raises it as one): never a run left RUNNING
        private.end("KILLED")
        try:
            run_id = copy_rerun(private, target, m, "interrupted", log)
            log(f"reproduce: interrupted: run {run_id} of experiment {one_line(target.experiment)!r} marked KILLED")
        except ManifestError as exc:
            log(f"reproduce: interrupted, and the re-run could not be copied into {mask_uri(target.uri)}: {exc.problems[0].message}")
        raise
    if failure is None:
        private.end("FINISHED")
        return copy_rerun(private, target, m, None, log)
    why, message = failure
    private.end("FAILED")
    try:
        run_id = copy_rerun(private, target, m, why, log)
    except ManifestError as exc:
        raise CannotRun(Problem("command-failed", f"{message}; the failed re-run could not be copied into {mask_uri(target.uri)}: {exc.problems[0].message}", "/code/command_template")) from None
    raise CannotRun(Problem("command-failed", f"{message} (run {run_id} of experiment {one_line(target.experiment)!r} marked FAILED)", "/code/command_template"))


def _diff_file(doc: Document, code: dict[str, Any]) -> Path | None:
    """The recorded diff next to the manifest, checked against its digest (``None`` when absent)."""
    if "diff" not in code or doc.base_dir is None:
        return None
    cand = doc.base_dir / PurePosixPath(code["diff"]["path"])
    if cand.is_symlink():
        raise CannotRun(Problem("not-a-regular-file", f"the diff file {cand} is a symbolic link; reproduce applies only a regular file next to the manifest", "/code/diff/path"))
    if not cand.is_file():
        return None
    if file_digest(cand, list(code["diff"]["digest"]))[1] != code["diff"]["digest"]:
        raise CannotRun(Problem("digest-mismatch", f"the diff file {cand} does not match its digest", "/code/diff/digest"))
    return cand


def _warn_unused_params(m: dict[str, Any], code: dict[str, Any], log: Callable[[str], None]) -> None:
    used, _ = template_fields(list(code.get("command_template") or []))
    unused = sorted(set(m.get("params") or {}) - set(used))
    if unused:
        log(f"reproduce: warning: params not passed to the command (the command template does not name them; changing them has no effect): {', '.join(unused)}")


def _absolute_sqlite(uri: str) -> str:
    """A relative ``sqlite:///`` URI made absolute: the command runs in another directory."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        return f"sqlite:///{(Path.cwd() / uri[len('sqlite:///'):]).resolve()}"
    return uri


def script_experiment(m: dict[str, Any]) -> str:
    """The experiment of the private store's run: the source run's, by name, which is the one a
    script that calls ``mlflow.set_experiment`` sets (MLflow refuses a run of another experiment)."""
    src = m["provenance"].get("source") or {}
    return str(src.get("experiment_name") or "Default")


def reproduction_experiment(m: dict[str, Any]) -> str:
    """Where a reproduction goes by default: ``<source experiment> (reproductions)``, next to the
    source's experiment and never in it (its runs are the source's replicates)."""
    return script_experiment(m) + REPRODUCTIONS_SUFFIX


def reproduction_tags(m: dict[str, Any], why: str | None = None) -> dict[str, str]:
    """The tags that make a run a reproduction of the manifest's run (``provenance.derived_from``
    with relation ``reproduced`` once exported; :func:`manifest.bundle.tables.is_reproduction`)."""
    src = m["provenance"].get("source") or {}
    tags = {TAG_DERIVED_ID: m["id"], TAG_DERIVED_SHA256: manifest_digest(m)["sha256"], TAG_DERIVED_RELATION: "reproduced", TAG_REPRODUCES: m["id"]}
    for key, tag in (("run_id", TAG_SOURCE_RUN), ("experiment_name", TAG_SOURCE_EXPERIMENT), ("tracking_uri", TAG_SOURCE_URI)):
        if src.get(key):
            tags[tag] = str(src[key])
    if why:
        tags[TAG_REPRODUCE_ERROR] = why
    return tags


@dataclass
class TargetStore:
    """The store the re-run is copied into, and the experiment there (created when missing)."""

    uri: str
    client: Any
    experiment: str
    experiment_id: str

    @classmethod
    def open(cls, uri: str, experiment: str) -> TargetStore:
        cl = make_client(uri, check=not uri.startswith("sqlite:"))
        with mlflow_errors(uri, "(reproduce)"):  # before anything runs: a deleted experiment is refused now
            if uri.startswith("sqlite:///") and cl.get_experiment_by_name(experiment) is None:
                # artifacts beside the database, not in ./mlruns of wherever the reviewer stands (a bundle, say)
                db = Path(uri.removeprefix("sqlite:///"))
                cl.create_experiment(experiment, artifact_location=(db.parent / f"{db.stem}-artifacts").as_uri())
            exp_id = experiment_for(cl, experiment, uri)
        return cls(uri, cl, experiment, exp_id)


@dataclass
class PrivateStore:
    """The private store the command logs into: a fresh SQLite database with its artifact root in
    a temporary directory, holding the run that ``MLFLOW_RUN_ID`` names."""

    root: Path
    uri: str
    client: Any
    experiment_id: str
    run_id: str

    @classmethod
    def create(cls, root: Path, m: dict[str, Any]) -> PrivateStore:
        uri = f"sqlite:///{root / 'reproduce.db'}"
        artifacts = (root / "artifacts").as_uri()
        name = script_experiment(m)
        with mlflow_errors(uri, "(creating the private store)"), _quiet_migrations():
            # created with its own artifact root, so that even the Default experiment's files stay in here
            SqlAlchemyStore(uri, artifacts).engine.dispose()
            cl = MlflowClient(tracking_uri=uri, registry_uri=uri)
            exp = cl.get_experiment_by_name(name)
            exp_id = exp.experiment_id if exp is not None else cl.create_experiment(name, artifact_location=f"{artifacts}/reproduction")
            run_name = f"reproduce {m['name']}"
            run = cl.create_run(exp_id, tags={**reproduction_tags(m), "mlflow.runName": run_name, **_user()}, run_name=run_name)
        return cls(root, uri, cl, str(exp_id), run.info.run_id)

    def end(self, status: str) -> None:
        """End the run: FINISHED unless the script ended it itself; FAILED or KILLED whatever it
        says (a killed script leaves it RUNNING). Best effort: a run left RUNNING is not copied,
        and the copy says why."""
        try:
            if status != "FINISHED" or self.client.get_run(self.run_id).info.status == "RUNNING":
                self.client.set_terminated(self.run_id, status)
        except Exception:  # noqa: BLE001 - reported by the export, which refuses a RUNNING run
            pass


def _user() -> dict[str, str]:
    """``mlflow.user``: who re-ran it (``create_run`` sets no context tags; MLflow's would be this)."""
    try:
        return {"mlflow.user": getpass.getuser()}
    except Exception:  # noqa: BLE001 - no user name to be had
        return {}


@contextmanager
def _quiet_migrations() -> Iterator[None]:
    """No "Creating initial MLflow database tables" on standard error for the private store."""
    loggers = [logging.getLogger(n) for n in ("mlflow.store.db.utils", "alembic")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def copy_rerun(private: PrivateStore, target: TargetStore, m: dict[str, Any], why: str | None, log: Callable[[str], None]) -> str:
    """Export the re-run from the private store (models and artifacts included) and import it into
    the target's experiment, tagged as a reproduction of ``m``; returns the new run's id.

    Models the script registered stay in the private store (``registry=False``): a re-run never
    touches the target's registry. The import tags a run as an import of the private run; those
    tags are replaced by the reproduction's at once. Interrupted half-way, the import deletes a
    partial run itself, and a whole one it made is still re-tagged (signals held back meanwhile):
    no copy ever passes for a replicate, or for an import of a store that no longer exists.
    """
    started = time.monotonic()
    out = private.root / "export" / "reproduction.yaml"
    source = make_client(private.uri, check=False)  # also MLflow's process-wide default while exporting
    try:
        export_to_files(source, [private.run_id], tracking_uri=private.uri, output=str(out), fmt="yaml", options=ExportOptions(with_models=True, with_artifacts=True), many=False, log=lambda s: _forward(s, log))
    finally:
        cl = make_client(target.uri, check=False)  # the default again: the private store is about to go
    tags = reproduction_tags(m, why)
    try:
        [(_, run_id)] = import_paths(cl, [str(out)], tracking_uri=target.uri, options=ImportOptions(experiment=target.experiment, allow_duplicate=True, registry=False, log=lambda s: _forward(s, log)))
        _mark(cl, target.uri, run_id, tags)
    except BaseException:
        with signals_deferred():
            retag_left_behind(cl, target, private.run_id, tags)
        raise
    log(f"reproduce: copied the re-run into experiment {one_line(target.experiment)!r} of {mask_uri(target.uri)} as run {run_id} ({time.monotonic() - started:.1f} s)")
    return str(run_id)


def _forward(line: str, log: Callable[[str], None]) -> None:
    """The export's and import's warnings (their progress lines name the private store: not shown)."""
    if line.startswith("warning:"):
        log(f"reproduce: {line}")


def _mark(client: Any, uri: str, run_id: str, tags: dict[str, str]) -> None:
    """Tag a copied run as the reproduction: the import's lineage tags name the private run."""
    with mlflow_errors(uri, f"(tagging run {run_id} as a reproduction)"):
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
        existing = client.get_run(run_id).data.tags
        for tag in (TAG_SOURCE_EXPERIMENT, TAG_SOURCE_URI):  # the source names none: the private store's would mislead
            if tag not in tags and tag in existing:
                client.delete_tag(run_id, tag)


def retag_left_behind(client: Any, target: TargetStore, private_run: str, tags: dict[str, str]) -> None:
    """After an interrupted copy: re-tag a run the import made before it was stopped."""
    try:
        runs = client.search_runs([target.experiment_id], f"tags.`{TAG_SOURCE_RUN}` = '{private_run}'", max_results=10)
        for r in runs:
            _mark(client, target.uri, r.info.run_id, tags)
    except Exception:  # noqa: BLE001 - best effort: the store may be what failed
        pass


def _passed(pass_env: tuple[str, ...]) -> list[str]:
    """Names of the variables of this environment that the command gets."""
    return [k for k in os.environ if k in ENV_ALLOWLIST or k.startswith("LC_") or k in pass_env]


def _child_env(uri: str, run_id: str, exp_id: str, pass_env: tuple[str, ...]) -> dict[str, str]:
    """The allow-listed variables, those the caller passes on, and where to log; nothing else."""
    env = {k: os.environ[k] for k in _passed(pass_env)}
    env.update(MLFLOW_TRACKING_URI=uri, MLFLOW_RUN_ID=run_id, MLFLOW_EXPERIMENT_ID=exp_id)
    return env


def _run_command(command: list[str], cwd: Path, env: dict[str, str], timeout: float | None, log: Callable[[str], None]) -> tuple[str, str] | None:
    """Run the command; ``None`` when it succeeds, else (why, message) for the FAILED run and the error."""
    log(f"reproduce: running {' '.join(command)} in {cwd}")
    argv = [sys.executable, *command[1:]] if command and command[0] == "python" else command
    started = time.monotonic()
    try:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=sys.stderr, stderr=subprocess.PIPE, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        return f"cannot start {command[0]}: {exc}", f"cannot start the command {command[0]!r}: {exc.strerror}"
    except subprocess.TimeoutExpired:
        return "timed out", f"the command did not finish within {timeout} s"
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        return f"exit code {proc.returncode}", f"the command failed with exit code {proc.returncode} after {time.monotonic() - started:.0f} s: {_last_line(proc.stderr)}"
    return None


def render_text(r: Reproduction) -> str:
    """The verdict table, then one summary line."""
    rows = [("metric", "original", "reproduced", "difference", "tolerance", "verdict")]
    for v in r.metrics:
        rows.append((one_line(v.metric), _num(v.original), _num(v.reproduced), _num(v.difference), v.tolerance, v.verdict.upper()))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    failed = [v.metric for v in r.metrics if v.verdict != "pass"]
    where = f" (experiment {one_line(r.experiment)!r})" if r.experiment else ""
    lines.append(f"reproduced run {r.run_id}{where}: " + ("every metric within tolerance" if not failed else f"{len(failed)} of {len(r.metrics)} metrics not reproduced: {one_line(', '.join(failed))}"))
    return "\n".join(lines) + "\n"


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def render_json(r: Reproduction) -> str:
    return json.dumps(r.to_dict(), indent=2) + "\n"


#: The reproduce reporters, by ``--format``.
REPORTERS: dict[str, Callable[[Reproduction], str]] = {"text": render_text, "json": render_json}
