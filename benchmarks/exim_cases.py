"""One timed competitor of the export/import part (:class:`EximCase`): its command is built per sample
by a :class:`Job`, run in a fresh process under ``_child.py`` (with the server's CPU time around it),
and checked before its figure is kept; :func:`run_rounds` runs a section's cases round-robin."""

from __future__ import annotations

import re
from typing import Any, Callable, Protocol

from .common import HERE, ROOT, RunFailed, base_env, child_report, median, short, spawn_child, spread
from .exim_servers import Server

TASK = str(HERE / "mlflow_task.py")  # run by path, from the stores' working directory: it imports no sibling module
Built = tuple[list[str], dict[str, str], dict[str, Any]]  # argv, extra environment, context for the check ("cwd", ...)


class Job(Protocol):
    """How to build a competitor's command for round ``rnd``, and how to check one sample of it."""

    def build(self, rnd: int) -> Built: ...

    def check(self, r: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]: ...


def error_line(r: dict[str, Any]) -> str:
    lines = [ln.strip() for ln in (r.get("stderr_tail", "") + "\n" + r.get("stdout_tail", "")).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r"(Error|Exception|error:|ERROR|Traceback)", ln):
            return ln[:300]
    return (lines[-1] if lines else f"exit code {r.get('rc')}")[:300]


class EximCase:
    """One competitor: its job (command and check), how many samples, the server whose CPU time counts."""

    def __init__(self, key: str, label: str, reps: int, job: Job, *, server: Server | None = None, optional: bool = False) -> None:
        self.key, self.label, self.reps = key, label, reps
        self.job = job
        self.server = server
        self.optional = optional  # the peer: a failure is a finding, not the end of the benchmark
        self.samples: list[dict[str, Any]] = []
        self.failure: dict[str, Any] | None = None
        self.command = ""

    def _server_cpu_s(self) -> float | None:
        return self.server.cpu_s() if self.server else None

    def measure(self, rnd: int) -> dict[str, Any]:
        cmd, env_extra, ctx = self.job.build(rnd)
        self.command = short(cmd)
        env = base_env()
        env.update(env_extra)
        cpu0 = self._server_cpu_s()
        p = spawn_child(cmd, cwd=ctx.get("cwd") or ROOT, env=env)
        cpu1 = self._server_cpu_s()
        r = child_report(p, self.label)
        r["round"] = rnd
        r["server_cpu_s"] = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        if self._judge(r, ctx):
            self.samples.append(r)
        return r

    def _judge(self, r: dict[str, Any], ctx: dict[str, Any]) -> bool:
        """Check the sample (True: keep it). A failed check ends the benchmark, except for an
        optional case, which records the failure and drops out."""
        try:
            if r["rc"] != 0:
                raise RunFailed(f"exit code {r['rc']}")
            r["check"] = self.job.check(r, ctx)
            r["ok"] = True
            return True
        except RunFailed as exc:
            r["ok"] = False
            r["error"] = str(exc)
            r["error_line"] = error_line(r)
            if self.optional:
                self.failure = r
                return False
            raise RunFailed(
                f"{self.label} (round {r['round']}): {exc}\ncommand: {self.command}\nstdout (tail): {r['stdout_tail'][-1500:]}\nstderr (tail): {r['stderr_tail'][-1500:]}"
            ) from None

    def active(self) -> bool:
        return self.failure is None and len(self.samples) < self.reps

    def stats(self) -> dict[str, Any]:
        walls = [x["wall_s"] for x in self.samples]
        wall = spread(walls)
        out: dict[str, Any] = {
            "label": self.label,
            "command": self.command,
            "reps": len(walls),
            "wall_s": walls,
            "median_s": wall["median"],
            "min_s": wall["min"],
            "max_s": wall["max"],
            "client_cpu_s_median": median(x.get("cpu_s") for x in self.samples),
            "server_cpu_s_median": median(x.get("server_cpu_s") for x in self.samples),
            "peak_rss_kib": [x["maxrss_kib"] for x in self.samples],
            "peak_rss_kib_median": median(x.get("maxrss_kib") for x in self.samples),
            "exit_codes": [x["rc"] for x in self.samples],
            "checks": [x.get("check") for x in self.samples],
        }
        for key in ("loop_s", "call_s"):
            xs = [x["check"][key] for x in self.samples if key in x.get("check", {})]
            if xs:
                sp = spread(xs)
                out[f"{key}_samples"] = xs
                out[f"{key}_median"] = sp["median"]
                out[f"{key}_min"] = sp["min"]
                out[f"{key}_max"] = sp["max"]
        if self.failure is not None:
            out["failed"] = self._failed()
        return out

    def _failed(self) -> dict[str, Any]:
        f = self.failure or {}
        return {"rc": f["rc"], "error": f.get("error"), "error_line": f.get("error_line"), "wall_s": f["wall_s"], "stderr_tail": f["stderr_tail"][-1500:], "stdout_tail": f["stdout_tail"][-800:]}


def _round_line(rnd: int, c: EximCase, r: dict[str, Any]) -> str:
    head = f"    round {rnd}: {c.label:<46} {r['wall_s']:7.2f} s  rc={r['rc']}"
    if not r.get("ok"):
        return f"{head}  FAILED: {r.get('error_line')}"
    ck = r["check"]
    extra = ""
    if "loop_s" in ck:
        extra = f"  (loop alone {ck['loop_s']:.2f} s)"
    if "call_s" in ck:
        extra = f"  (the call alone {ck['call_s']:.2f} s)"
    if r.get("server_cpu_s") is not None:
        extra += f"  server CPU {r['server_cpu_s']:.1f} s"
    return f"{head}  client CPU {r['cpu_s']:.1f} s{extra}  ok"


def run_rounds(cases: list[EximCase], log: Callable[[str], None]) -> None:
    """Round-robin until every case has its samples (a failed optional case drops out)."""
    rnd = 0
    while any(c.active() for c in cases):
        rnd += 1
        for c in cases:
            if c.active():
                log(_round_line(rnd, c, c.measure(rnd)))
