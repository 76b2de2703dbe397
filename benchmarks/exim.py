"""Export/import benchmarks: ``manifest export`` / ``manifest import`` against the peer
``mlflow-export-import`` 1.2.0 and against bare MLflow client loops (the floors).

Run through ``benchmarks/run.py --only export-import`` (or ``--only all``, the default). One run of
100 params + 5 metrics x 50,000 steps (250,000 points), made with ``MlflowClient.log_batch`` at 1000
metrics per call, is generated in each store:

* (A) a local ``mlflow server`` as MLflow starts it (SQLite backend, proxied artifacts, MLflow's
  default of 4 worker processes, ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``);
* (A1) the same with ``--workers 1`` (the configuration the test fixtures use): one process serves
  every request, so the server's own CPU time bounds everybody;
* (B) the embedded default: a SQLite store file (``sqlite:///...``).

Both servers are started and stopped here. Sections: 1. export (A, A1, B) with the export
concurrency sweep on A; 2. import (A, A1, B) with the import concurrency sweep on A; 3. peak
memory and wall time of ours for a 1,000,000-point run on A. Every
timed run is checked (exit code, and where the points ended up) before its figure is kept. The
results go to ``.bench/export_import.json``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import _mlflow_task as task  # noqa: E402  (benchmarks/_mlflow_task.py)

PY = sys.executable
BIN = Path(PY).parent
MANIFEST = str(BIN / "manifest")
MLFLOW = str(BIN / "mlflow")
CHILD = str(HERE / "_child.py")
TASK = str(HERE / "_mlflow_task.py")
PEER_VENV = ROOT / ".bench" / "peer-venv"
PEER_BIN = PEER_VENV / "bin"
PEER_PINS = ["mlflow==3.17.2", "mlflow-export-import==1.2.0", "tabulate"]
STORES = ("A", "A1", "B")
WHAT = {"A": "local server (MLflow's default: 4 workers)", "A1": "local server, --workers 1", "B": "embedded SQLite"}
SECTION = {"A": "a", "A1": "b", "B": "c"}

# Targets from the brief.
PEER_RATIO_TARGET = 2.0  # peer / ours >= 2
FLOOR_RATIO_TARGET = 1.0  # ours / floor <= 1 (never slower than the bare loop)


class RunFailed(Exception):
    pass


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONPYCACHEPREFIX": str(ROOT / ".bench" / "pycache")})
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# --------------------------------------------------------------------------- printing


def table(headers: list[str], rows: list[list[Any]], align: str | None = None) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(r, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.2f} s" if x < 100 else f"{x:.1f} s"


def mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:,.0f} MiB"


def loadavg() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "CPU model unknown"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------- the server (A)


class Server:
    """``mlflow server`` in its own process group (stopped by its id); ``workers=None`` keeps
    MLflow's default number of worker processes."""

    def __init__(self, home: Path, workers: int | None = None) -> None:
        self.home = home
        self.workers = workers
        self.db = home / "srv.db"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.start_s = 0.0
        self.cmd: list[str] = []

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.cmd = [
            MLFLOW, "server", "--backend-store-uri", f"sqlite:///{self.db}", "--artifacts-destination", str(self.home / "art"),
            "--serve-artifacts", "--host", "127.0.0.1", "--port", str(self.port),
        ] + (["--workers", str(self.workers)] if self.workers else [])
        env = base_env()
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        log = open(self.home / "server.log", "wb")  # noqa: SIM115 - closed with the process
        t = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, cwd=self.home, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = t + 120
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RunFailed(f"mlflow server exited with {self.proc.returncode}; see {self.home / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as r:
                    if r.status == 200:
                        self.start_s = time.perf_counter() - t
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RunFailed(f"mlflow server did not answer GET /health within 120 s; see {self.home / 'server.log'}")

    def cpu_s(self) -> float | None:
        """User + system CPU time of the server's processes so far (psutil), or None."""
        if self.proc is None:
            return None
        try:
            import psutil

            root = psutil.Process(self.proc.pid)
            total = 0.0
            for p in [root, *root.children(recursive=True)]:
                try:
                    c = p.cpu_times()
                    total += c.user + c.system + getattr(c, "children_user", 0.0) + getattr(c, "children_system", 0.0)
                except psutil.Error:
                    pass
            return total
        except Exception:  # noqa: BLE001
            return None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group this Popen created (start_new_session)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)


# --------------------------------------------------------------------------- checking results


def expected_signature(n_metrics: int, n_steps: int) -> dict[str, tuple[int, int, int, float]]:
    """Per key: (points, sum of steps, sum of timestamps, sum of values), from the generator."""
    sig: dict[str, list[Any]] = {}
    for key, v, t, st in task.points(n_metrics, n_steps):
        e = sig.setdefault(key, [0, 0, 0, []])
        e[0] += 1
        e[1] += st
        e[2] += t
        e[3].append(v)
    return {k: (e[0], e[1], e[2], math.fsum(e[3])) for k, e in sig.items()}


def columns_signature(cols: dict[str, list[Any]]) -> tuple[int, int, int, float]:
    return (len(cols["step"]), sum(int(x) for x in cols["step"]), sum(int(x) for x in cols["timestamp"]), math.fsum(float(x) for x in cols["value"]))


def same_signature(got: dict[str, tuple], want: dict[str, tuple]) -> str | None:
    """None if equal (value sums to 1e-9 relative), else what differs."""
    if set(got) != set(want):
        return f"metric keys {sorted(got)} != {sorted(want)}"
    for k in want:
        g, w = got[k], want[k]
        if tuple(g[:3]) != tuple(w[:3]) or not math.isclose(g[3], w[3], rel_tol=1e-9, abs_tol=1e-9):
            return f"metric {k!r}: (points, sum step, sum timestamp, sum value) = {tuple(g)} expected {tuple(w)}"
    return None


def db_connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
    return con


def db_signature(db: Path, run_id: str) -> dict[str, tuple[int, int, int, float]]:
    """The run's points as MLflow's ``metrics`` table holds them (what get_metric_history returns)."""
    with db_connect(db) as con:
        rows = con.execute("SELECT key, COUNT(*), SUM(step), SUM(timestamp), SUM(value) FROM metrics WHERE run_uuid = ? GROUP BY key", (run_id,)).fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def db_run(db: Path, run_id: str) -> dict[str, Any]:
    with db_connect(db) as con:
        row = con.execute("SELECT status, start_time, end_time, lifecycle_stage FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
        params = dict(con.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)).fetchall())
    if row is None:
        raise RunFailed(f"run {run_id} is not in {db}")
    return {"status": row[0], "start_time": row[1], "end_time": row[2], "lifecycle_stage": row[3], "params": params}


def db_runs_of_experiment(db: Path, name: str) -> list[str]:
    with db_connect(db) as con:
        return [r[0] for r in con.execute("SELECT r.run_uuid FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id WHERE e.name = ?", (name,)).fetchall()]


# --------------------------------------------------------------------------- one timed command


class Case:
    """One competitor: how to build its command for a sample, and how to check the sample."""

    def __init__(self, key: str, label: str, reps: int, build: Callable[[int], tuple[list[str], dict[str, str], dict[str, Any]]], check: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]], *, server: Server | None = None, optional: bool = False) -> None:
        self.key, self.label, self.reps = key, label, reps
        self.build, self.check = build, check
        self.server = server
        self.optional = optional  # the peer: a failure is a finding, not the end of the benchmark
        self.samples: list[dict[str, Any]] = []
        self.failure: dict[str, Any] | None = None
        self.command = ""

    def measure(self, rnd: int) -> dict[str, Any]:
        cmd, env_extra, ctx = self.build(rnd)
        self.command = " ".join(_short(c) for c in cmd)
        env = base_env()
        env.update(env_extra)
        cwd = ctx.get("cwd") or ROOT
        cpu0 = self.server.cpu_s() if self.server else None
        p = subprocess.run([PY, CHILD, *cmd], cwd=cwd, env=env, capture_output=True, text=True)
        cpu1 = self.server.cpu_s() if self.server else None
        if p.returncode != 0:
            raise RunFailed(f"measurement helper failed for {self.label}:\n{p.stderr}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if r["maxrss_before_kib"] != 0:
            raise RunFailed("the helper process had a child before the measurement; its RSS figure would be wrong")
        r["round"] = rnd
        r["server_cpu_s"] = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        try:
            if r["rc"] != 0:
                raise RunFailed(f"exit code {r['rc']}")
            r["check"] = self.check(r, ctx)
            r["ok"] = True
        except RunFailed as exc:
            r["ok"] = False
            r["error"] = str(exc)
            r["error_line"] = error_line(r)
            if self.optional:
                self.failure = r
                return r
            raise RunFailed(
                f"{self.label} (round {rnd}): {exc}\ncommand: {self.command}\nstdout (tail): {r['stdout_tail'][-1500:]}\nstderr (tail): {r['stderr_tail'][-1500:]}"
            ) from None
        self.samples.append(r)
        return r

    def active(self) -> bool:
        return self.failure is None and len(self.samples) < self.reps

    def stats(self) -> dict[str, Any]:
        def med(key: str) -> float | None:
            xs = [x[key] for x in self.samples if x.get(key) is not None]
            return statistics.median(xs) if xs else None

        walls = [x["wall_s"] for x in self.samples]
        out: dict[str, Any] = {
            "label": self.label,
            "command": self.command,
            "reps": len(walls),
            "wall_s": walls,
            "median_s": statistics.median(walls) if walls else None,
            "min_s": min(walls) if walls else None,
            "max_s": max(walls) if walls else None,
            "client_cpu_s_median": med("cpu_s"),
            "server_cpu_s_median": med("server_cpu_s"),
            "peak_rss_kib": [x["maxrss_kib"] for x in self.samples],
            "peak_rss_kib_median": med("maxrss_kib"),
            "exit_codes": [x["rc"] for x in self.samples],
            "checks": [x.get("check") for x in self.samples],
        }
        for key in ("loop_s", "call_s"):
            xs = [x["check"][key] for x in self.samples if key in x.get("check", {})]
            if xs:
                out[f"{key}_samples"] = xs
                out[f"{key}_median"] = statistics.median(xs)
                out[f"{key}_min"] = min(xs)
                out[f"{key}_max"] = max(xs)
        if self.failure is not None:
            out["failed"] = {"rc": self.failure["rc"], "error": self.failure.get("error"), "error_line": self.failure.get("error_line"), "wall_s": self.failure["wall_s"], "stderr_tail": self.failure["stderr_tail"][-1500:], "stdout_tail": self.failure["stdout_tail"][-800:]}
        return out


def error_line(r: dict[str, Any]) -> str:
    lines = [ln.strip() for ln in (r.get("stderr_tail", "") + "\n" + r.get("stdout_tail", "")).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"(Error|Exception|error:|ERROR|Traceback)", ln):
            return ln[:300]
    return (lines[-1] if lines else f"exit code {r.get('rc')}")[:300]


def _short(c: str) -> str:
    for prefix, shown in ((str(PEER_BIN) + "/", ".bench/peer-venv/bin/"), (str(BIN) + "/", ".venv/bin/"), (str(ROOT) + "/", "")):
        if c.startswith(prefix):
            return shown + c[len(prefix):]
    if c == PY:
        return ".venv/bin/python"
    return c


def run_rounds(cases: list[Case], log: Callable[[str], None]) -> None:
    """Round-robin until every case has its samples (a failed optional case drops out)."""
    rnd = 0
    while any(c.active() for c in cases):
        rnd += 1
        for c in cases:
            if c.active():
                r = c.measure(rnd)
                extra = ""
                if r.get("ok"):
                    ck = r["check"]
                    if "loop_s" in ck:
                        extra = f"  (loop alone {ck['loop_s']:.2f} s)"
                    if "call_s" in ck:
                        extra = f"  (the call alone {ck['call_s']:.2f} s)"
                    if r.get("server_cpu_s") is not None:
                        extra += f"  server CPU {r['server_cpu_s']:.1f} s"
                    log(f"    round {rnd}: {c.label:<46} {r['wall_s']:7.2f} s  rc={r['rc']}  client CPU {r['cpu_s']:.1f} s{extra}  ok")
                else:
                    log(f"    round {rnd}: {c.label:<46} {r['wall_s']:7.2f} s  rc={r['rc']}  FAILED: {r.get('error_line')}")


# --------------------------------------------------------------------------- the benchmark


class Bench:
    def __init__(self, *, quick: bool, reps: int, fetch_reps: int, import_reps: int, sweep_reps: int, big_reps: int, log: Callable[[str], None]) -> None:
        self.n_params, self.n_metrics = 100, 5
        self.n_steps = 20_000 if quick else 50_000
        self.big_steps = 40_000 if quick else 200_000
        self.reps, self.fetch_reps, self.import_reps, self.sweep_reps = reps, fetch_reps, import_reps, sweep_reps
        self.log = log
        self.work = ROOT / ".bench" / ("exim-quick" if quick else "exim")
        self.cwd = self.work / "cwd"  # children run here: MLflow's default ./mlruns lands here, never in the repository
        self.server = Server(self.work / "srv")  # (A): MLflow's defaults
        self.server1 = Server(self.work / "srv1", workers=1)  # (A1)
        self.emb_db = self.work / "emb" / "emb.db"
        self.keys = task.metric_keys(self.n_metrics)
        self.want = expected_signature(self.n_metrics, self.n_steps)
        self.want_params = task.params(self.n_params)
        self.results: dict[str, Any] = {}
        self.stores: dict[str, dict[str, Any]] = {}
        self.findings: list[str] = []
        self.all_cases: list[tuple[str, Case]] = []

    # ------------------------------------------------------------------ helpers

    def srv(self, store: str) -> Server | None:
        return {"A": self.server, "A1": self.server1}.get(store)

    def uri(self, store: str) -> str:
        srv = self.srv(store)
        return srv.uri if srv else f"sqlite:///{self.emb_db}"

    def db(self, store: str) -> Path:
        srv = self.srv(store)
        return srv.db if srv else self.emb_db

    def fresh(self, what: str) -> str:
        return f"bench-{what}-{uuid.uuid4().hex[:8]}"

    def out_dir(self, *parts: str) -> Path:
        d = self.work.joinpath("out", *parts)
        if d.exists():
            shutil.rmtree(d)
        d.parent.mkdir(parents=True, exist_ok=True)
        return d

    def check_run(self, store: str, run_id: str, want: dict[str, tuple], *, finished: bool = True) -> dict[str, Any]:
        got = db_signature(self.db(store), run_id)
        diff = same_signature(got, want)
        if diff:
            raise RunFailed(f"run {run_id}: {diff}")
        info = db_run(self.db(store), run_id)
        if info["params"] != self.want_params:
            missing = len(set(self.want_params) - set(info["params"]))
            changed = sum(1 for k in self.want_params if k in info["params"] and info["params"][k] != self.want_params[k])
            raise RunFailed(f"run {run_id}: {len(info['params'])} params ({missing} missing, {changed} changed), expected {len(self.want_params)}")
        if finished and info["status"] != "FINISHED":
            raise RunFailed(f"run {run_id}: status {info['status']}, expected FINISHED")
        return {"run_id": run_id, "points": {k: v[0] for k, v in got.items()}, "params": len(info["params"]), "status": info["status"], "start_time": info["start_time"], "end_time": info["end_time"]}

    # ------------------------------------------------------------------ set-up

    def ensure_peer(self) -> dict[str, Any]:
        created = False
        t = time.perf_counter()
        if not (PEER_BIN / "export-run").exists():
            self.log(f"creating the peer's separate virtualenv {_short(str(PEER_VENV))} (once; not timed): python3 -m venv + pip install {' '.join(PEER_PINS)}")
            subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
            p = subprocess.run([str(PEER_BIN / "pip"), "install", "-q", "--disable-pip-version-check", *PEER_PINS], capture_output=True, text=True)
            if p.returncode != 0:
                raise RunFailed(f"could not install the peer into {PEER_VENV}:\n{p.stderr[-2000:]}")
            created = True
        p = subprocess.run([str(PEER_BIN / "python"), "-c", "import importlib.metadata as m, sys; print(m.version('mlflow'), m.version('mlflow-export-import'), sys.version.split()[0])"], capture_output=True, text=True, env=base_env())
        if p.returncode != 0:
            raise RunFailed(f"the peer's virtualenv {PEER_VENV} is broken:\n{p.stderr[-1500:]}")
        mv, pv, pyv = p.stdout.split()
        return {"venv": str(PEER_VENV), "created_now": created, "setup_s": time.perf_counter() - t if created else 0.0, "mlflow": mv, "mlflow_export_import": pv, "python": pyv}

    def warm(self) -> None:
        """Fill the page cache and the bytecode cache once per venv (untimed), so round 1 is not penalised."""
        env = base_env()
        for cmd in ([PY, "-c", "import mlflow, mlflow.server"], [MANIFEST, "--version"], [str(PEER_BIN / "python"), "-c", "import mlflow, mlflow_export_import.run.export_run, mlflow_export_import.run.import_run"]):
            subprocess.run(cmd, cwd=self.cwd, env=env, capture_output=True)

    def generate(self) -> None:
        """The 250,000-point source run in each store, at once (not timed: none competes with the others' figures)."""
        self.log(f"generating the source run in A, A1 and B in parallel (untimed): {self.n_params} params + {self.n_metrics} metrics x {self.n_steps:,} steps with MlflowClient.log_batch, 1000 metrics per call")
        env = base_env()
        procs = {}
        for store in STORES:
            procs[store] = subprocess.Popen([PY, TASK, "make", self.uri(store), "bench-source", "source", str(self.n_params), str(self.n_metrics), str(self.n_steps)], cwd=self.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for store, p in procs.items():
            out, err = p.communicate()
            if p.returncode != 0:
                raise RunFailed(f"generating the source run in {store} failed:\n{err[-2000:]}")
            made = json.loads(out.strip().splitlines()[-1])
            made["check"] = self.check_run(store, made["run_id"], self.want)
            self.stores[store]["source"] = made
            self.log(f"  {store}: run {made['run_id']}: {made['points']:,} points + {made['params']} params in {made['calls']} log_batch calls, {made['loop_s']:.1f} s (the stores were filled at once, so this is not a floor figure); checked in the store")

    # ------------------------------------------------------------------ checks of each competitor

    def check_ours_export(self, target: Path, want: dict[str, tuple], n_params: int) -> dict[str, Any]:
        from manifest.parse import load_path

        if not target.is_file():
            raise RunFailed(f"{target} was not written")
        data = load_path(target).data
        got: dict[str, tuple] = {}
        sidecars = 0
        for key, m in (data.get("metrics") or {}).items():
            if "history_file" in m:
                ref = m["history_file"]
                cols = json.loads((target.parent / ref["path"]).read_text(encoding="utf-8"))
                if ref["points"] != len(cols["step"]):
                    raise RunFailed(f"sidecar of {key} holds {len(cols['step'])} points, the manifest says {ref['points']}")
                sidecars += 1
            elif "history" in m:
                cols = m["history"]
            else:
                cols = {"step": [m.get("step", 0)], "timestamp": [m.get("timestamp", 0)], "value": [m["value"]]}
            got[key] = columns_signature(cols)
        diff = same_signature(got, want)
        if diff:
            raise RunFailed(f"exported manifest: {diff}")
        if len(data.get("params") or {}) != n_params:
            raise RunFailed(f"exported manifest has {len(data.get('params') or {})} params, expected {n_params}")
        size = sum(f.stat().st_size for f in target.parent.rglob("*") if f.is_file())
        return {"points": {k: v[0] for k, v in got.items()}, "sidecars": sidecars, "bytes": size}

    def check_peer_export(self, out: Path) -> dict[str, Any]:
        f = out / "run.json"
        if not f.is_file():
            raise RunFailed(f"{f} was not written")
        doc = json.loads(f.read_text(encoding="utf-8"))
        mlf = doc.get("mlflow", doc)
        got = {k: columns_signature({"step": [p["step"] for p in pts], "timestamp": [p["timestamp"] for p in pts], "value": [p["value"] for p in pts]}) for k, pts in mlf["metrics"].items()}
        diff = same_signature(got, self.want)
        if diff:
            raise RunFailed(f"run.json: {diff}")
        if len(mlf.get("params") or {}) != self.n_params:
            raise RunFailed(f"run.json has {len(mlf.get('params') or {})} params, expected {self.n_params}")
        size = sum(x.stat().st_size for x in out.rglob("*") if x.is_file())
        return {"points": {k: v[0] for k, v in got.items()}, "bytes": size}

    # ------------------------------------------------------------------ 1. export

    def export_cases(self, store: str) -> list[Case]:
        src = self.stores[store]["source"]["run_id"]
        uri = self.uri(store)
        srv = self.srv(store)
        keep: dict[str, Path] = self.stores[store].setdefault("exports", {})

        def ours_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            d = self.out_dir(store, f"ours-export-{rnd}")
            return [MANIFEST, "export", src, "--tracking-uri", uri, "-o", str(d / "m.yaml")], {}, {"cwd": self.cwd, "dir": d, "rnd": rnd}

        def ours_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            out = self.check_ours_export(ctx["dir"] / "m.yaml", self.want, self.n_params)
            self._keep_or_drop(keep, "ours", ctx["dir"])
            return out

        def peer_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            d = self.out_dir(store, f"peer-export-{rnd}")
            return [str(PEER_BIN / "export-run"), "--run-id", src, "--output-dir", str(d)], {"MLFLOW_TRACKING_URI": uri}, {"cwd": self.cwd, "dir": d}

        def peer_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            out = self.check_peer_export(ctx["dir"])
            self._keep_or_drop(keep, "peer", ctx["dir"])
            return out

        def floor_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            return [PY, TASK, "history", uri, src, ",".join(self.keys)], {}, {"cwd": self.cwd}

        def floor_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            j = json.loads(r["stdout_tail"].strip().splitlines()[-1])
            want = {k: self.n_steps for k in self.keys}
            if j["counts"] != want:
                raise RunFailed(f"get_metric_history returned {j['counts']}, expected {want}")
            return {"loop_s": j["loop_s"], "points": j["counts"]}

        return [
            Case(f"ours_export_{store}", "ours: manifest export RUN -o DIR/m.yaml", self.reps, ours_build, ours_check, server=srv),
            Case(f"peer_export_{store}", "peer: export-run --run-id ID --output-dir DIR", self.reps, peer_build, peer_check, server=srv, optional=True),
            Case(f"floor_export_{store}", "floor: get_metric_history loop (fresh process)", self.reps, floor_build, floor_check, server=srv),
        ]

    def _keep_or_drop(self, keep: dict[str, Path], who: str, d: Path) -> None:
        """Keep the first good export of each tool (the import input); delete the others (disk)."""
        if who not in keep:
            keep[who] = d
        elif keep[who] != d:
            shutil.rmtree(d, ignore_errors=True)

    def fetch_sweep_cases(self, workers: list[int]) -> list[Case]:
        src = self.stores["A"]["source"]["run_id"]
        uri = self.uri("A")
        cases = []
        for n in workers:
            def build(rnd: int, n: int = n) -> tuple[list[str], dict[str, str], dict[str, Any]]:
                return [PY, TASK, "fetch-api", uri, src, ",".join(self.keys), str(n)], {}, {"cwd": self.cwd}

            def check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
                j = json.loads(r["stdout_tail"].strip().splitlines()[-1])
                want = {k: self.n_steps for k in self.keys}
                if j["counts"] != want:
                    raise RunFailed(f"fetch_histories returned {j['counts']}, expected {want}")
                return {"call_s": j["s"], "points": j["counts"]}

            cases.append(Case(f"fetch_sweep_{n}", f"fetch_histories(workers={n})", self.fetch_reps, build, check, server=self.server))
        return cases

    # ------------------------------------------------------------------ 2. import

    def import_cases(self, store: str) -> list[Case]:
        uri = self.uri(store)
        srv = self.srv(store)
        exports = self.stores[store].get("exports", {})
        cases: list[Case] = []
        manifest_path = exports["ours"] / "m.yaml"

        def ours_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            exp = self.fresh(f"ours-{store}-{rnd}")
            return [MANIFEST, "import", str(manifest_path), "--tracking-uri", uri, "--experiment", exp], {}, {"cwd": self.cwd, "exp": exp}

        def ours_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            run_id = (r["stdout_tail"].strip().splitlines() or [""])[-1].strip()
            if not re.fullmatch(r"[0-9a-f]{32}", run_id):
                raise RunFailed(f"no run id on the last line of standard output: {run_id!r}")
            out = self.check_run(store, run_id, self.want)
            out["kept_times"] = out["start_time"] == self.stores[store]["source"]["check"]["start_time"] and out["end_time"] == self.stores[store]["source"]["check"]["end_time"]
            return out

        cases.append(Case(f"ours_import_{store}", "ours: manifest import DIR/m.yaml --experiment NEW", self.import_reps, ours_build, ours_check, server=srv))

        peer_dir = exports.get("peer") or next((self.stores[o].get("exports", {}).get("peer") for o in STORES if self.stores.get(o, {}).get("exports", {}).get("peer")), None)
        if peer_dir is None:
            self.findings.append(f"peer import on {store}: not run, the peer produced no export to import")
        else:
            def peer_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
                exp = self.fresh(f"peer-{store}-{rnd}")
                return [str(PEER_BIN / "import-run"), "--input-dir", str(peer_dir), "--experiment-name", exp], {"MLFLOW_TRACKING_URI": uri}, {"cwd": self.cwd, "exp": exp}

            def peer_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
                runs = db_runs_of_experiment(self.db(store), ctx["exp"])
                if len(runs) != 1:
                    raise RunFailed(f"experiment {ctx['exp']} holds {len(runs)} runs after the import, expected 1")
                out = self.check_run(store, runs[0], self.want)
                out["kept_times"] = out["start_time"] == self.stores[store]["source"]["check"]["start_time"] and out["end_time"] == self.stores[store]["source"]["check"]["end_time"]
                return out

            cases.append(Case(f"peer_import_{store}", "peer: import-run --input-dir DIR --experiment-name NEW", self.import_reps, peer_build, peer_check, server=srv, optional=True))

        def floor_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            exp = self.fresh(f"floor-{store}-{rnd}")
            return [PY, TASK, "make", uri, exp, "floor", str(self.n_params), str(self.n_metrics), str(self.n_steps)], {}, {"cwd": self.cwd}

        def floor_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            j = json.loads(r["stdout_tail"].strip().splitlines()[-1])
            out = self.check_run(store, j["run_id"], self.want)
            out["loop_s"] = j["loop_s"]
            out["calls"] = j["calls"]
            return out

        cases.append(Case(f"floor_import_{store}", "floor: log_batch loop 1000/100 per call (fresh)", self.import_reps, floor_build, floor_check, server=srv))
        return cases

    def import_sweep_cases(self, workers: list[int]) -> list[Case]:
        uri = self.uri("A")
        path = self.stores["A"]["exports"]["ours"] / "m.yaml"
        cases = []
        for n in workers:
            def build(rnd: int, n: int = n) -> tuple[list[str], dict[str, str], dict[str, Any]]:
                return [PY, TASK, "import-api", uri, str(path), self.fresh(f"sweep{n}-{rnd}"), str(n)], {}, {"cwd": self.cwd}

            def check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
                j = json.loads(r["stdout_tail"].strip().splitlines()[-1])
                out = self.check_run("A", j["run_id"], self.want)
                out["call_s"] = j["s"]
                return out

            cases.append(Case(f"import_sweep_{n}", f"import_paths(workers={n})", self.sweep_reps, build, check, server=self.server))
        return cases

    # ------------------------------------------------------------------ 3. the 1M-point run

    def big_manifest(self) -> tuple[Path, dict[str, tuple]]:
        """A manifest like ours' export of the source run, with 5 x big_steps points in sidecars
        (written with the package's own writers), checked by ``manifest validate``."""
        from manifest.digest import digest_bytes
        from manifest.sidecar import dumps_history
        from manifest.write import dumps

        src = self.stores["A"]["exports"]["ours"] / "m.yaml"
        from manifest.parse import load_path

        data = copy.deepcopy(load_path(src).data)
        d = self.out_dir("big", "manifest")
        d.mkdir(parents=True)
        cols: dict[str, dict[str, list[Any]]] = {k: {"step": [], "timestamp": [], "value": []} for k in self.keys}
        for key, v, t, st in task.points(self.n_metrics, self.big_steps):
            c = cols[key]
            c["step"].append(st)
            c["timestamp"].append(t)
            c["value"].append(v)
        metrics = {}
        for key, c in cols.items():
            body = dumps_history(c)
            rel = f"m.history/{key}.json"
            (d / "m.history").mkdir(exist_ok=True)
            (d / rel).write_bytes(body)
            metrics[key] = {"value": c["value"][-1], "step": c["step"][-1], "timestamp": c["timestamp"][-1], "history_file": {"path": rel, "size": len(body), "digest": digest_bytes(body), "points": len(c["step"])}}
        data["metrics"] = metrics
        data["id"] = f"urn:uuid:{uuid.uuid4()}"
        data["name"] = "source-1m"
        (d / "m.yaml").write_text(dumps(data, "yaml"), encoding="utf-8")
        p = subprocess.run([MANIFEST, "validate", str(d / "m.yaml")], capture_output=True, text=True, env=base_env(), cwd=self.cwd)
        if p.returncode != 0:
            raise RunFailed(f"the generated 1M-point manifest is not valid:\n{p.stdout[-1500:]}\n{p.stderr[-1500:]}")
        return d / "m.yaml", {k: columns_signature(c) for k, c in cols.items()}

    # ------------------------------------------------------------------ printing

    def print_group(self, title: str, cases: list[Case], *, loop_col: bool = False, call_col: bool = False) -> None:
        headers = ["case", "n", "median", "min", "max"]
        if loop_col:
            headers.append("loop alone (median)")
        if call_col:
            headers.append("call alone (median, min-max)")
        headers += ["client CPU", "server CPU", "server CPU/wall", "peak RSS"]
        rows = []
        for c in cases:
            st = c.stats()
            if c.failure is not None and not c.samples:
                rows.append([c.label, 0, "FAILED", "", "", *([""] if loop_col else []), *([""] if call_col else []), "", "", "", ""])
                continue
            r = [c.label, st["reps"], s(st["median_s"]), s(st["min_s"]), s(st["max_s"])]
            if loop_col:
                r.append(s(st.get("loop_s_median")) if st.get("loop_s_median") is not None else "-")
            if call_col:
                r.append(f"{s(st.get('call_s_median'))} ({st['call_s_min']:.2f}-{st['call_s_max']:.2f})" if st.get("call_s_median") is not None else "-")
            share = f"{100 * st['server_cpu_s_median'] / st['median_s']:.0f} %" if st["server_cpu_s_median"] is not None else "-"
            r += [s(st["client_cpu_s_median"]), s(st["server_cpu_s_median"]), share, mib(st["peak_rss_kib_median"])]
            rows.append(r)
        self.log(f"\n{title}")
        self.log(table(headers, rows))

    def ratios(self, ours: Case, peer: Case | None, floor: Case) -> dict[str, Any]:
        o = ours.stats()
        f = floor.stats()
        out: dict[str, Any] = {"ours_median_s": o["median_s"], "floor_process_median_s": f["median_s"], "floor_loop_median_s": f.get("loop_s_median")}
        lines = []
        if peer is not None and peer.samples:
            p = peer.stats()
            r = p["median_s"] / o["median_s"]
            out.update(peer_median_s=p["median_s"], peer_over_ours=r, peer_target=PEER_RATIO_TARGET, peer_target_met=r >= PEER_RATIO_TARGET)
            lines.append(f"peer / ours:                       {r:5.2f}x   target >= {PEER_RATIO_TARGET:.0f}x -> {verdict(r >= PEER_RATIO_TARGET)}")
        elif peer is not None:
            out.update(peer_failed=peer.stats().get("failed"), peer_target_met=None)
            lines.append(f"peer / ours:                       n/a     the peer failed: {peer.failure.get('error_line') if peer.failure else '?'}")
        r1 = o["median_s"] / f["median_s"]
        out.update(ours_over_floor_process=r1, floor_target_met=r1 <= FLOOR_RATIO_TARGET)
        lines.append(f"ours / floor (process vs process): {r1:5.2f}x   target <= 1.00x (never slower) -> {verdict(r1 <= FLOOR_RATIO_TARGET)}")
        if f.get("loop_s_median"):
            r2 = o["median_s"] / f["loop_s_median"]
            out.update(ours_over_floor_loop=r2, floor_loop_target_met=r2 <= FLOOR_RATIO_TARGET)
            lines.append(f"ours (whole process) / floor loop alone: {r2:5.2f}x   stricter reading -> {verdict(r2 <= FLOOR_RATIO_TARGET)}")
        for ln in lines:
            self.log(ln)
        return out

    # ------------------------------------------------------------------ main


def run(*, quick: bool, reps: int, fetch_reps: int, import_reps: int, sweep_reps: int, big_reps: int, json_out: Path, log: Callable[[str], None], keep: bool = False) -> int:
    b = Bench(quick=quick, reps=reps, fetch_reps=fetch_reps, import_reps=import_reps, sweep_reps=sweep_reps, big_reps=big_reps, log=log)
    started = time.perf_counter()
    res: dict[str, Any] = b.results
    res["parameters"] = {
        "quick": quick, "params": b.n_params, "metrics": b.n_metrics, "steps": b.n_steps, "points": b.n_metrics * b.n_steps,
        "big_points": b.n_metrics * b.big_steps, "reps_export": reps, "reps_export_sweep": fetch_reps, "reps_import": import_reps, "reps_import_sweep": sweep_reps, "reps_big": big_reps,
    }
    la0 = loadavg()
    res["loadavg_at_start"] = la0
    log("== Export / import: machine and set-up")
    log(f"load average at start: {la0}   (cores: {os.cpu_count()}, {cpu_model()}; the machine is shared: cases run round-robin)   MLFLOW_DISABLE_TELEMETRY=true for every process")
    if b.work.exists():
        shutil.rmtree(b.work)
    b.cwd.mkdir(parents=True)
    b.emb_db.parent.mkdir(parents=True)
    try:
        peer = b.ensure_peer()
        res["peer"] = peer
        main_has_peer = find_spec("mlflow_export_import") is not None
        res["main_venv_has_peer"] = main_has_peer
        log(
            f"ours: experiment-manifest {metadata.version('experiment-manifest')}, mlflow {metadata.version('mlflow')} ({_short(PY)});  "
            f"peer: mlflow-export-import {peer['mlflow_export_import']}, mlflow {peer['mlflow']} (separate venv {_short(str(PEER_VENV))}{', created now' if peer['created_now'] else ''}); "
            f"main venv has mlflow-export-import: {'YES (it should not)' if main_has_peer else 'no'}"
        )
        b.warm()
        res["servers"] = {}
        for store in ("A", "A1"):
            srv = b.srv(store)
            srv.start()
            res["servers"][store] = {"command": " ".join(_short(c) for c in srv.cmd), "env": "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false", "start_s": srv.start_s, "uri": srv.uri}
            log(f"({store}) {WHAT[store]}: {res['servers'][store]['command']}  [{res['servers'][store]['env']}]: /health answered after {srv.start_s:.1f} s")
        log(f"(B) embedded: sqlite:///{_short(str(b.emb_db))}")
        b.stores = {st: {"uri": b.uri(st)} for st in STORES}
        b.generate()
        res["source_runs"] = {k: v["source"] for k, v in b.stores.items()}
        # one REST payload, for the "where time goes" note
        t = time.perf_counter()
        with urllib.request.urlopen(f"{b.server.uri}/api/2.0/mlflow/metrics/get-history?run_id={b.stores['A']['source']['run_id']}&metric_key={b.keys[0]}", timeout=120) as r:
            body = r.read()
        res["rest_payload_one_metric"] = {"bytes": len(body), "points": b.n_steps, "s": time.perf_counter() - t}
        log(f"REST payload of one {b.n_steps:,}-point history (GET get-history, not paginated): {len(body) / 1e6:.1f} MB JSON, {len(body) / b.n_steps:.0f} B/point, {time.perf_counter() - t:.2f} s")
        res["setup_s"] = time.perf_counter() - started

        # ---------------------------------------------------------------- 1. export
        res["export"] = {}
        for store in STORES:
            t0 = time.perf_counter()
            sweep = b.fetch_sweep_cases([1, 2, 4, 8]) if store == "A" else []
            cases = b.export_cases(store)
            what = WHAT[store]
            extra = f" + the fetch_histories sweep (workers 1, 2, 4, 8; {fetch_reps} run{'s' if fetch_reps != 1 else ''} each, in a fresh process)" if sweep else ""
            log(f"\n== 1{SECTION[store]}. Export of the {b.n_metrics * b.n_steps:,}-point run from ({store}) {what}: {reps} runs each, round-robin{extra}")
            run_rounds(cases + sweep, log)
            b.all_cases += [(f"1 export {store}", c) for c in cases + sweep]
            b.print_group(f"export from ({store}) {what}; wall time of a fresh process", cases, loop_col=True)
            rat = b.ratios(cases[0], cases[1], cases[2])
            peer_c = cases[1]
            if peer_c.failure is not None:
                b.findings.append(f"peer export-run on ({store}): failed (exit code {peer_c.failure['rc']}): {peer_c.failure.get('error_line')}")
            sizes = {c.key: c.samples[0]["check"].get("bytes") for c in cases[:2] if c.samples}
            if sizes:
                log("export size on disk: " + "; ".join(f"{'ours' if k.startswith('ours') else 'peer'} {v / 1e6:.1f} MB" for k, v in sizes.items() if v))
            entry: dict[str, Any] = {"cases": {c.key: c.stats() for c in cases}, "ratios": rat, "sizes_bytes": sizes, "elapsed_s": time.perf_counter() - t0}
            if sweep:
                b.print_group("export concurrency sweep on (A): manifest.mlflow_history.fetch_histories(client, run_id, keys, workers=N) in a fresh process", sweep, call_col=True)
                base = next(c for c in sweep if c.key == "fetch_sweep_4").stats()["call_s_median"]
                log("relative to workers=4 (the export default, --jobs 4): " + ", ".join(f"N={c.key.rsplit('_', 1)[1]}: {c.stats()['call_s_median'] / base:.2f}x" for c in sweep))
                entry["fetch_sweep"] = {c.key: c.stats() for c in sweep}
            res["export"][store] = entry
            log(f"(section 1{SECTION[store]} took {entry['elapsed_s']:.0f} s)")

        # ---------------------------------------------------------------- 2. import
        res["import"] = {}
        for store in STORES:
            t0 = time.perf_counter()
            sweep = b.import_sweep_cases([1, 2, 4, 8]) if store == "A" else []
            cases = b.import_cases(store)
            what = WHAT[store]
            extra = f" + the import_paths sweep (workers 1, 2, 4, 8; {sweep_reps} run{'s' if sweep_reps != 1 else ''} each)" if sweep else ""
            log(f"\n== 2{SECTION[store]}. Import of the same run into ({store}) {what}, a fresh experiment each time: {import_reps} runs each, round-robin{extra}")
            log(f"   inputs: ours {_short(str(b.stores[store]['exports']['ours'] / 'm.yaml'))}; peer {_short(str(b.stores[store]['exports'].get('peer', '(none)')))}")
            run_rounds(cases + sweep, log)
            b.all_cases += [(f"2 import {store}", c) for c in cases + sweep]
            b.print_group(f"import into ({store}) {what}; wall time of a fresh process", cases, loop_col=True)
            peer_c = next((c for c in cases if c.key.startswith("peer")), None)
            rat = b.ratios(cases[0], peer_c, cases[-1])
            if peer_c is not None and peer_c.failure is not None:
                b.findings.append(f"peer import-run into ({store}): failed (exit code {peer_c.failure['rc']}): {peer_c.failure.get('error_line')}")
            kept = {c.key: all(x["check"].get("kept_times") for x in c.samples) for c in cases if c.samples and "kept_times" in c.samples[0]["check"]}
            log("run start/end times kept from the source: " + ", ".join(f"{'ours' if k.startswith('ours') else 'peer'} {'yes' if v else 'NO'}" for k, v in kept.items()))
            entry = {"cases": {c.key: c.stats() for c in cases}, "ratios": rat, "times_kept": kept, "elapsed_s": time.perf_counter() - t0}
            if sweep:
                b.print_group("import concurrency sweep on (A): import_paths(client(uri, check=False), [path], options=ImportOptions(experiment=NEW, workers=N)) in a fresh process", sweep, call_col=True)
                base = next(c for c in sweep if c.key == "import_sweep_4").stats()["call_s_median"]
                log("relative to workers=4 (the import default, --jobs 4): " + ", ".join(f"N={c.key.rsplit('_', 1)[1]}: {c.stats()['call_s_median'] / base:.2f}x" for c in sweep))
                entry["import_sweep"] = {c.key: c.stats() for c in sweep}
            res["import"][store] = entry
            log(f"(section 2{SECTION[store]} took {entry['elapsed_s']:.0f} s)")

        # ---------------------------------------------------------------- 3. 1M points
        t0 = time.perf_counter()
        big_path, big_sig = b.big_manifest()
        n_big = b.n_metrics * b.big_steps
        log(f"\n== 3. Peak memory of ours, {n_big:,}-point run ({b.n_metrics} metrics x {b.big_steps:,}) on (A): {big_reps} run{'s' if big_reps != 1 else ''} each")
        log("   peak RSS = getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per measurement (the manifest process; its threads included)")
        log(f"   import input: {_short(str(big_path))} (5 sidecars, written with the package's writers, checked by manifest validate); the imported run is then exported")
        big_runs: list[str] = []

        def big_import_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            return [MANIFEST, "import", str(big_path), "--tracking-uri", b.uri("A"), "--experiment", b.fresh(f"big-{rnd}")], {}, {"cwd": b.cwd}

        def big_import_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            run_id = (r["stdout_tail"].strip().splitlines() or [""])[-1].strip()
            if not re.fullmatch(r"[0-9a-f]{32}", run_id):
                raise RunFailed(f"no run id on the last line of standard output: {run_id!r}")
            out = b.check_run("A", run_id, big_sig)
            big_runs.append(run_id)
            return out

        big_import = Case("big_import", f"ours: manifest import ({n_big:,} points)", big_reps, big_import_build, big_import_check, server=b.server)
        run_rounds([big_import], log)

        def big_export_build(rnd: int) -> tuple[list[str], dict[str, str], dict[str, Any]]:
            d = b.out_dir("big", f"export-{rnd}")
            return [MANIFEST, "export", big_runs[0], "--tracking-uri", b.uri("A"), "-o", str(d / "m.yaml")], {}, {"cwd": b.cwd, "dir": d}

        def big_export_check(r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            out = b.check_ours_export(ctx["dir"] / "m.yaml", big_sig, b.n_params)
            shutil.rmtree(ctx["dir"], ignore_errors=True)
            return out

        big_export = Case("big_export", f"ours: manifest export ({n_big:,} points)", big_reps, big_export_build, big_export_check, server=b.server)
        run_rounds([big_export], log)
        b.all_cases += [(f"3 {n_big:,} pts", big_import), (f"3 {n_big:,} pts", big_export)]
        b.print_group(f"{n_big:,} points on (A); wall time of a fresh process", [big_import, big_export])
        small = {"import": res["import"]["A"]["cases"]["ours_import_A"], "export": res["export"]["A"]["cases"]["ours_export_A"]}
        for what, c in (("import", big_import), ("export", big_export)):
            st, sm = c.stats(), small[what]
            log(f"{what}: {n_big:,} points {s(st['median_s'])}, {mib(st['peak_rss_kib_median'])}  vs  {b.n_metrics * b.n_steps:,} points {s(sm['median_s'])}, {mib(sm['peak_rss_kib_median'])}  "
                f"(time x{st['median_s'] / sm['median_s']:.2f}, RSS x{st['peak_rss_kib_median'] / sm['peak_rss_kib_median']:.2f} for x{n_big / (b.n_metrics * b.n_steps):.0f} the points)")
        res["big"] = {"points": n_big, "rss_method": "getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per measurement (KiB)", "cases": {"import": big_import.stats(), "export": big_export.stats()}, "elapsed_s": time.perf_counter() - t0}
        log(f"(section 3 took {res['big']['elapsed_s']:.0f} s)")
    except RunFailed as exc:
        log(f"\nBENCHMARK INVALID (export/import): {exc}")
        res["error"] = str(exc)
        res["exit_codes"] = {c.key: [x["rc"] for x in c.samples] for _, c in b.all_cases}
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(res, indent=2, default=str))
        return 1
    finally:
        b.server.stop()
        b.server1.stop()

    # -------------------------------------------------------------------- 4. checks
    log("\n== 4. Exit codes and checks of every timed run (export-import)")
    rows = []
    for sec, c in b.all_cases:
        codes = [x["rc"] for x in c.samples] + ([c.failure["rc"]] if c.failure else [])
        rows.append([sec, c.label, " ".join(map(str, codes)), "yes" if c.samples and c.failure is None else ("FAILED (finding)" if c.failure else "NO"), _check_text(c)])
    log(table(["", "run", "exit codes", "checked ok", "what was checked"], rows, align="lllll"))
    n_ok = sum(len(c.samples) for _, c in b.all_cases)
    res["kept_runs"] = n_ok
    log(f"{n_ok} timed runs kept, each exited 0 and passed its check; runs that failed a check are never in the figures")
    if b.findings:
        log("findings: " + "\n          ".join(b.findings))
    res["findings"] = b.findings

    log("\n== Summary (export/import)")
    for sec in ("export", "import"):
        for store in STORES:
            r = res[sec][store]["ratios"]
            peer_txt = f"peer/ours {r['peer_over_ours']:.2f}x ({verdict(r['peer_target_met'])} vs >= 2x)" if r.get("peer_over_ours") else "peer failed"
            log(
                f"{sec} ({store}, {WHAT[store]}): ours {s(r['ours_median_s'])}, {peer_txt}; ours/floor {r['ours_over_floor_process']:.2f}x process-vs-process "
                f"({verdict(r['floor_target_met'])}), {r.get('ours_over_floor_loop', float('nan')):.2f}x vs the loop alone ({verdict(r.get('floor_loop_target_met', False))})"
            )
    bg = res["big"]["cases"]
    log(f"{res['big']['points']:,} points on (A): import {s(bg['import']['median_s'])}, peak RSS {mib(bg['import']['peak_rss_kib_median'])}; export {s(bg['export']['median_s'])}, peak RSS {mib(bg['export']['peak_rss_kib_median'])}")
    la1 = loadavg()
    res["loadavg_at_end"] = la1
    res["elapsed_s"] = time.perf_counter() - started
    log(f"load average at end: {la1} (at start: {la0})")
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(res, indent=2, default=str))
    log(f"results written to {_short(str(json_out))}; export/import wall time {res['elapsed_s']:.0f} s")
    if not keep:  # the stores hold millions of points (about 1 GB): drop them once the figures are in
        shutil.rmtree(b.work, ignore_errors=True)
    return 0


def _check_text(c: Case) -> str:
    k = c.key
    if k.startswith(("ours_export", "big_export")):
        return "manifest + sidecars: points, step/timestamp/value sums per metric, 100 params"
    if k.startswith("peer_export"):
        return "run.json: points, step/timestamp/value sums per metric, 100 params"
    if k.startswith(("floor_export", "fetch_sweep")):
        return "points per metric returned"
    return "new run in the store (SQL on its db): points and sums per metric, 100 params equal, FINISHED"
