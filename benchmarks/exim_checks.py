"""Checks of the export/import part: where the points of a timed run ended up (a store's database
read with SQL, our manifest and sidecars, the peer's ``run.json``) compared with what the generator
made; a failed check raises :class:`~benchmarks.common.RunFailed`."""

from __future__ import annotations

import json
import math
import re
import sqlite3
from pathlib import Path
from typing import Any

from .common import RunFailed, last_json, last_line
from .exim_stores import Stores
from .mlflow_task import points

Signature = dict[str, tuple[int, int, int, float]]


# --------------------------------------------------------------------------- signatures


def expected_signature(n_metrics: int, n_steps: int) -> Signature:
    """Per key: (points, sum of steps, sum of timestamps, sum of values), from the generator."""
    sig: dict[str, list[Any]] = {}
    for key, v, t, st in points(n_metrics, n_steps):
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


# --------------------------------------------------------------------------- a store's database


def db_connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)


def db_signature(db: Path, run_id: str) -> Signature:
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


# --------------------------------------------------------------------------- what a child printed


def run_id_on_last_line(r: dict[str, Any]) -> str:
    """The run id ``manifest import`` prints as its last line of standard output."""
    run_id = last_line(r["stdout_tail"]).strip()
    if not re.fullmatch(r"[0-9a-f]{32}", run_id):
        raise RunFailed(f"no run id on the last line of standard output: {run_id!r}")
    return run_id


def points_returned(r: dict[str, Any], keys: list[str], n_steps: int, what: str) -> dict[str, Any]:
    """The JSON report of a history-fetching task, which must have returned ``n_steps`` points per key."""
    j = last_json(r["stdout_tail"])
    want = {k: n_steps for k in keys}
    if j["counts"] != want:
        raise RunFailed(f"{what} returned {j['counts']}, expected {want}")
    return j


def kept_times(out: dict[str, Any], source_check: dict[str, Any]) -> bool:
    """Did the new run keep the source run's start and end times?"""
    return out["start_time"] == source_check["start_time"] and out["end_time"] == source_check["end_time"]


# --------------------------------------------------------------------------- the checks


class Checker:
    """The checks against the stores, the parameters every run must hold being ``want_params``."""

    def __init__(self, stores: Stores, want_params: dict[str, str]) -> None:
        self.stores = stores
        self.want_params = want_params

    def stored_run(self, store: str, run_id: str, want: dict[str, tuple], *, finished: bool = True) -> dict[str, Any]:
        """The run in ``store``'s database holds the points ``want`` and the params, and is FINISHED."""
        got = db_signature(self.stores.db(store), run_id)
        diff = same_signature(got, want)
        if diff:
            raise RunFailed(f"run {run_id}: {diff}")
        info = db_run(self.stores.db(store), run_id)
        self._params(run_id, info["params"])
        if finished and info["status"] != "FINISHED":
            raise RunFailed(f"run {run_id}: status {info['status']}, expected FINISHED")
        return {"run_id": run_id, "points": {k: v[0] for k, v in got.items()}, "params": len(info["params"]), "status": info["status"], "start_time": info["start_time"], "end_time": info["end_time"]}

    def _params(self, run_id: str, params: dict[str, str]) -> None:
        want = self.want_params
        if params != want:
            missing = len(set(want) - set(params))
            changed = sum(1 for k in want if k in params and params[k] != want[k])
            raise RunFailed(f"run {run_id}: {len(params)} params ({missing} missing, {changed} changed), expected {len(want)}")

    def ours_export(self, target: Path, want: dict[str, tuple], n_params: int) -> dict[str, Any]:
        """Our manifest ``target`` (and its sidecars) holds the points ``want`` and ``n_params`` params."""
        from manifest.document.reader import load_path

        if not target.is_file():
            raise RunFailed(f"{target} was not written")
        data = load_path(target).data
        got: dict[str, tuple] = {}
        sidecars = 0
        for key, m in (data.get("metrics") or {}).items():
            cols = _metric_columns(target, key, m)
            sidecars += "history_file" in m
            got[key] = columns_signature(cols)
        diff = same_signature(got, want)
        if diff:
            raise RunFailed(f"exported manifest: {diff}")
        if len(data.get("params") or {}) != n_params:
            raise RunFailed(f"exported manifest has {len(data.get('params') or {})} params, expected {n_params}")
        size = sum(f.stat().st_size for f in target.parent.rglob("*") if f.is_file())
        return {"points": {k: v[0] for k, v in got.items()}, "sidecars": sidecars, "bytes": size}

    def peer_export(self, out: Path, want: dict[str, tuple], n_params: int) -> dict[str, Any]:
        """The peer's ``out/run.json`` holds the points ``want`` and ``n_params`` params."""
        f = out / "run.json"
        if not f.is_file():
            raise RunFailed(f"{f} was not written")
        doc = json.loads(f.read_text(encoding="utf-8"))
        mlf = doc.get("mlflow", doc)
        got = {k: columns_signature({"step": [p["step"] for p in pts], "timestamp": [p["timestamp"] for p in pts], "value": [p["value"] for p in pts]}) for k, pts in mlf["metrics"].items()}
        diff = same_signature(got, want)
        if diff:
            raise RunFailed(f"run.json: {diff}")
        if len(mlf.get("params") or {}) != n_params:
            raise RunFailed(f"run.json has {len(mlf.get('params') or {})} params, expected {n_params}")
        size = sum(x.stat().st_size for x in out.rglob("*") if x.is_file())
        return {"points": {k: v[0] for k, v in got.items()}, "bytes": size}


def _metric_columns(target: Path, key: str, m: dict[str, Any]) -> dict[str, list[Any]]:
    """One metric's points in our manifest: its sidecar (which must hold the points it says), its
    inline history, or its single value."""
    if "history_file" in m:
        ref = m["history_file"]
        cols = json.loads((target.parent / ref["path"]).read_text(encoding="utf-8"))
        if ref["points"] != len(cols["step"]):
            raise RunFailed(f"sidecar of {key} holds {len(cols['step'])} points, the manifest says {ref['points']}")
        return cols
    if "history" in m:
        return m["history"]
    return {"step": [m.get("step", 0)], "timestamp": [m.get("timestamp", 0)], "value": [m["value"]]}
