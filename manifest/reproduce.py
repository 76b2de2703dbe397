"""Re-run a manifest's run and judge the result against its recorded metrics.

1. Obtain the code at the recorded commit: a clone of the local repository (``--repo``, or the
   one around the current directory) when it has the commit, else of the recorded repository URL,
   into the work directory. A run made with uncommitted changes is re-created only from its diff
   (``code.diff``, checked against its digest), never guessed.
2. Run ``code.command_template`` with each ``{param}`` replaced by the recorded value's text (the
   params rule of the spec), in ``code.working_directory``, with ``MLFLOW_TRACKING_URI`` and
   ``MLFLOW_RUN_ID`` set so that the script logs into a run created here, tagged with the
   manifest's id and digest (``manifest.derived_from.*``, relation ``reproduced``).
3. Compare every recorded metric with the new run's value: within the metric's tolerance
   (|new - recorded| <= max(absolute, relative * |recorded|)), or exactly when none is given.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from .errors import CannotRun, Problem
from .gitinfo import has_commit

TAG_REPRODUCES = "manifest.reproduces"


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
    run_id: str
    tracking_uri: str
    command: list[str]
    workdir: str
    metrics: list[MetricVerdict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.metrics) and all(m.verdict == "pass" for m in self.metrics)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "run_id": self.run_id, "tracking_uri": self.tracking_uri, "command": self.command, "workdir": self.workdir, "metrics": [asdict(m) for m in self.metrics]}


def fill_template(template: list[str], params: dict[str, Any]) -> list[str]:
    """Substitute ``{name}`` with the param's text; ``{{``/``}}`` are literal braces."""
    import re

    from .params import param_text

    def one(arg: str) -> str:
        def sub(m: re.Match[str]) -> str:
            tok = m.group(0)
            if tok == "{{":
                return "{"
            if tok == "}}":
                return "}"
            name = m.group(1)
            if name not in params:
                raise CannotRun(Problem("template-unknown-param", f"the command template names {{{name}}}, which is not a recorded param", "/code/command_template"))
            return param_text(params[name])

        return re.sub(r"\{\{|\}\}|\{([^{}]+)\}", sub, arg)

    return [one(a) for a in template]


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def obtain_code(code: dict[str, Any], workdir: Path, repo: Path | None, diff_file: Path | None, log: Callable[[str], None]) -> Path:
    """A checkout of the recorded commit (with the recorded diff applied) under ``workdir``."""
    commit = code.get("commit")
    if not commit:
        raise CannotRun(Problem("no-commit", "the manifest records no commit: the code cannot be obtained", "/code"))
    if shutil.which("git") is None:
        raise CannotRun(Problem("no-git", "git is not installed: the code cannot be obtained"))
    source: str | None = None
    candidates = [repo] if repo else [Path.cwd()]
    for cand in candidates:
        top = _git(cand, "rev-parse", "--show-toplevel") if cand and cand.exists() else None
        if top is not None and top.returncode == 0 and has_commit(Path(top.stdout.strip()), commit):
            source = top.stdout.strip()
            break
        if repo is not None and (top is None or top.returncode != 0):
            raise CannotRun(Problem("no-git", f"{repo} is not a git repository"))
    if source is None:
        source = code.get("repository")
        if not source:
            where = repo or Path.cwd()
            raise CannotRun(Problem("unknown-commit", f"commit {commit} is not in the repository at {where}, and the manifest names no repository to clone"))
    checkout = workdir / "checkout"
    if checkout.exists():
        shutil.rmtree(checkout)
    log(f"reproduce: cloning {source} at {commit[:12]} into {checkout}")
    r = _git(workdir, "clone", "--quiet", "--no-checkout", source, str(checkout))
    if r.returncode != 0:
        raise CannotRun(Problem("clone-failed", f"cannot clone {source}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'git clone failed'}"))
    if not has_commit(checkout, commit):
        raise CannotRun(Problem("unknown-commit", f"commit {commit} is not in the repository {source}", "/code/commit"))
    r = _git(checkout, "checkout", "--quiet", "--detach", commit)
    if r.returncode != 0:
        raise CannotRun(Problem("checkout-failed", f"cannot check out {commit}: {r.stderr.strip()}"))
    if code.get("dirty"):
        if diff_file is None:
            raise CannotRun(Problem("dirty-without-diff", "the original ran with uncommitted changes and the diff file is not next to the manifest (export it from the run, which keeps it as code.diff)", "/code/diff"))
        r = subprocess.run(["git", "apply", "--binary", "--whitespace=nowarn", str(diff_file.resolve())], cwd=checkout, capture_output=True, text=True)
        if r.returncode != 0:
            raise CannotRun(Problem("diff-does-not-apply", f"the recorded diff does not apply to {commit[:12]}: {r.stderr.strip()}", "/code/diff"))
        log("reproduce: applied the recorded uncommitted changes")
    return checkout


def compare_metric(name: str, metric: dict[str, Any], new: float | None) -> MetricVerdict:
    from .rules import to_float

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


def reproduce(path: str | Path, *, workdir: Path | None = None, tracking_uri: str | None = None, repo: Path | None = None, timeout: float | None = None, log: Callable[[str], None] = lambda s: None) -> Reproduction:
    from .mlflow_export import TAG_DERIVED_ID, TAG_DERIVED_RELATION, TAG_DERIVED_SHA256
    from .mlflow_import import TAG_SOURCE_RUN, experiment_for
    from .tracking import client as make_client
    from .tracking import mlflow_errors, resolve_tracking_uri
    from .validate import load_valid
    from .write import manifest_digest

    doc = load_valid(path)
    m = doc.data
    code = m.get("code") or {}
    template = code.get("command_template") or code.get("command")
    if not template:
        raise CannotRun(Problem("no-command", "the manifest records neither a command nor a command template", "/code"))
    if not m.get("metrics"):
        raise CannotRun(Problem("no-metrics", "the manifest records no metric to compare", "/metrics"))
    diff_file = None
    if "diff" in code and doc.base_dir is not None:
        cand = doc.base_dir / PurePosixPath(code["diff"]["path"])
        if cand.is_file():
            from .digest import file_digest

            if file_digest(cand, list(code["diff"]["digest"]))[1] != code["diff"]["digest"]:
                raise CannotRun(Problem("digest-mismatch", f"the diff file {cand} does not match its digest", "/code/diff/digest"))
            diff_file = cand
    own_tmp = workdir is None
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="manifest-reproduce-"))
    work.mkdir(parents=True, exist_ok=True)
    try:  # a work directory of our own goes away whatever happens
        checkout = obtain_code(code, work.resolve(), repo, diff_file, log)
        cwd = checkout / PurePosixPath(code.get("working_directory") or ".")
        command = fill_template(list(template), m.get("params") or {})
        from .rules import template_fields

        used, _ = template_fields(list(code.get("command_template") or []))
        unused = sorted(set(m.get("params") or {}) - set(used))
        if unused:
            log(f"reproduce: warning: params not passed to the command (the command template does not name them; changing them has no effect): {', '.join(unused)}")
        uri = resolve_tracking_uri(tracking_uri)
        if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
            uri = f"sqlite:///{(Path.cwd() / uri[len('sqlite:///'):]).resolve()}"  # the command runs elsewhere
        cl = make_client(uri, check=not uri.startswith("sqlite:"))
        src = m["provenance"].get("source") or {}
        with mlflow_errors(uri, "(reproduce)"):
            exp_id = experiment_for(cl, src.get("experiment_name") or "Default", uri)
            tags = {TAG_DERIVED_ID: m["id"], TAG_DERIVED_SHA256: manifest_digest(m)["sha256"], TAG_DERIVED_RELATION: "reproduced", TAG_REPRODUCES: m["id"], "mlflow.runName": f"reproduce {m['name']}"}
            if src.get("run_id"):
                tags[TAG_SOURCE_RUN] = src["run_id"]
            run = cl.create_run(exp_id, tags=tags, run_name=f"reproduce {m['name']}")
        run_id = run.info.run_id
        env = dict(os.environ, MLFLOW_TRACKING_URI=uri, MLFLOW_RUN_ID=run_id, MLFLOW_EXPERIMENT_ID=exp_id)
        env.pop("MLFLOW_EXPERIMENT_NAME", None)
        log(f"reproduce: running {' '.join(command)} in {cwd} (run {run_id})")
        if command and command[0] == "python":
            command_to_run = [sys.executable, *command[1:]]
        else:
            command_to_run = command
        started = time.monotonic()
        try:
            proc = subprocess.run(command_to_run, cwd=cwd, env=env, stdout=sys.stderr, stderr=subprocess.PIPE, text=True, timeout=timeout)
        except FileNotFoundError as exc:
            _fail(cl, run_id, f"cannot start {command[0]}: {exc}")
            raise CannotRun(Problem("command-failed", f"cannot start the command {command[0]!r}: {exc.strerror}", "/code/command_template")) from None
        except subprocess.TimeoutExpired:
            _fail(cl, run_id, "timed out")
            raise CannotRun(Problem("command-failed", f"the command did not finish within {timeout} s", "/code/command_template")) from None
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            _fail(cl, run_id, f"exit code {proc.returncode}")
            last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            raise CannotRun(Problem("command-failed", f"the command failed with exit code {proc.returncode} after {time.monotonic() - started:.0f} s: {last} (run {run_id} marked FAILED)", "/code/command_template"))
        with mlflow_errors(uri, "(reading the reproduced run)"):
            new = cl.get_run(run_id)
            if new.info.status == "RUNNING":
                cl.set_terminated(run_id, "FINISHED")
            values = dict(new.data.metrics)
        result = Reproduction(run_id, uri, command, str(cwd))
        for name, metric in sorted(m["metrics"].items()):
            result.metrics.append(compare_metric(name, metric, values.get(name)))
        return result
    finally:
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


def _fail(client: Any, run_id: str, why: str) -> None:
    try:
        client.set_tag(run_id, "manifest.reproduce.error", why)
        client.set_terminated(run_id, "FAILED")
    except Exception:  # noqa: BLE001 - best effort; the error itself is reported
        pass


def render_text(r: Reproduction) -> str:
    rows = [("metric", "original", "reproduced", "difference", "tolerance", "verdict")]
    for v in r.metrics:
        rows.append((v.metric, _num(v.original), _num(v.reproduced), _num(v.difference), v.tolerance, v.verdict.upper()))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    failed = [v.metric for v in r.metrics if v.verdict != "pass"]
    lines.append(f"reproduced run {r.run_id}: " + ("every metric within tolerance" if not failed else f"{len(failed)} of {len(r.metrics)} metrics not reproduced: {', '.join(failed)}"))
    return "\n".join(lines) + "\n"


def _num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return repr(v)
    return str(v)
