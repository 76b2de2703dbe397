"""Checks of the many-runs part (``--only bulk``), made after the clock: what an export directory holds
(ours: the export index and every manifest; the peer: its run directories), and what an experiment
holds in a server's own database (SQL: SQLite file or PostgreSQL) and artifact directory, run by
run against what :mod:`bulk_task`'s generator made. A failed check raises
:class:`~benchmarks.common.RunFailed` with a count of each kind of problem and a few examples."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from .bulk_task import ARTIFACT_NAME, artifact_bytes, run_index, run_params, run_points, run_tags, run_times
from .common import HERE, PY, RunFailed, base_env, last_json

BULK_TASK = str(HERE / "bulk_task.py")  # run by path: it imports no sibling module
#: Artifacts our import adds to every run (the manifest and its context), not the source's.
OURS_OWN_ARTIFACTS = "manifest-context/"
Sig = tuple[int, int, int, float]  # points, sum of steps, sum of timestamps, sum of values
MAX_EXAMPLES = 5


# --------------------------------------------------------------------------- what the generator made


def expected_metrics(i: int) -> dict[str, Sig]:
    acc: dict[str, list[Any]] = {}
    for key, v, t, s in run_points(i):
        e = acc.setdefault(key, [0, 0, 0, []])
        e[0] += 1
        e[1] += s
        e[2] += t
        e[3].append(v)
    return {k: (e[0], e[1], e[2], math.fsum(e[3])) for k, e in acc.items()}


def columns_sig(step: list[Any], timestamp: list[Any], value: list[Any]) -> Sig:
    return (len(step), sum(int(x) for x in step), sum(int(x) for x in timestamp), math.fsum(float(x) for x in value))


def same_metrics(got: dict[str, Sig], i: int) -> bool:
    want = expected_metrics(i)
    if set(got) != set(want):
        return False
    return all(tuple(got[k][:3]) == tuple(want[k][:3]) and math.isclose(got[k][3], want[k][3], rel_tol=1e-9, abs_tol=1e-12) for k in want)


class Problems:
    """Problems found, counted by kind, with the first few examples."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, kind: str, example: str) -> None:
        self.counts[kind] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{kind}: {example}")

    def raise_if_any(self, what: str) -> None:
        if self.counts:
            kinds = ", ".join(f"{k} x{v}" for k, v in sorted(self.counts.items()))
            raise RunFailed(f"{what}: {kinds}; e.g. " + "; ".join(self.examples))


# --------------------------------------------------------------------------- a server's database


class SqliteDb:
    """The SQLite file of server (S), opened read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.what = f"sqlite {path.name}"

    def rows(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60)) as con:
            return con.execute(query, args).fetchall()


class PostgresDb:
    """The PostgreSQL database of server (P), through psycopg (``?`` placeholders become ``%s``)."""

    def __init__(self, cluster: Any, name: str) -> None:
        self.cluster, self.name = cluster, name
        self.what = f"postgresql {name}"

    def rows(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.cluster.connect(self.name) as con:
            return con.execute(query.replace("?", "%s"), args).fetchall()


_OF_EXP = "JOIN runs r ON x.run_uuid = r.run_uuid JOIN experiments e ON r.experiment_id = e.experiment_id WHERE e.name = ? AND r.lifecycle_stage = 'active'"
Q_RUNS = "SELECT r.run_uuid, r.name, r.status, r.lifecycle_stage, r.artifact_uri, r.start_time, r.end_time FROM runs r JOIN experiments e ON r.experiment_id = e.experiment_id WHERE e.name = ?"
Q_PARAMS = f"SELECT x.run_uuid, x.key, x.value FROM params x {_OF_EXP}"
Q_TAGS = f"SELECT x.run_uuid, x.key, x.value FROM tags x {_OF_EXP}"
Q_METRICS = f"SELECT x.run_uuid, x.key, COUNT(*), SUM(x.step), SUM(x.timestamp), SUM(x.value) FROM metrics x {_OF_EXP} GROUP BY x.run_uuid, x.key"


def _by_run(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for run, key, *rest in rows:
        out.setdefault(run, {})[key] = rest[0] if len(rest) == 1 else (int(rest[0]), int(rest[1]), int(rest[2]), float(rest[3]))
    return out


def _files(d: Path) -> dict[str, bytes]:
    return {f.relative_to(d).as_posix(): f.read_bytes() for f in sorted(d.rglob("*")) if f.is_file()} if d.is_dir() else {}


def artifact_dir(art_root: Path, artifact_uri: str) -> Path:
    """Where a proxied run's artifacts lie: ``mlflow-artifacts:/1/RUN/artifacts`` -> ``ART/1/RUN/artifacts``."""
    return art_root / artifact_uri.split(":", 1)[1].lstrip("/")


class StoredRuns:
    """The active runs of one experiment as the database holds them (one query per table)."""

    def __init__(self, db: SqliteDb | PostgresDb, experiment: str) -> None:
        self.all = db.rows(Q_RUNS, (experiment,))
        self.active = [r for r in self.all if r[3] == "active"]
        self.params = _by_run(db.rows(Q_PARAMS, (experiment,)))
        self.tags = _by_run(db.rows(Q_TAGS, (experiment,)))
        self.metrics = _by_run(db.rows(Q_METRICS, (experiment,)))


def _run_problems(runs: StoredRuns, row: tuple[Any, ...], i: int, art_root: Path, p: Problems, tally: Counter[str]) -> None:
    run_id, name, status = row[0], row[1], row[2]
    if runs.params.get(run_id, {}) != run_params(i):
        p.add("params differ", f"{name} ({run_id}): {len(runs.params.get(run_id, {}))} params")
    tags = runs.tags.get(run_id, {})
    want_tags = run_tags(i)
    if {k: v for k, v in tags.items() if k in want_tags} != want_tags:
        p.add("tags differ", f"{name} ({run_id}): {sorted(k for k in tags if not k.startswith('mlflow.'))}")
    tally["other tags"] += len(set(tags) - set(want_tags))
    if not same_metrics(runs.metrics.get(run_id, {}), i):
        p.add("metric points differ", f"{name} ({run_id}): {runs.metrics.get(run_id, {})}")
    if status != "FINISHED":
        p.add("not FINISHED", f"{name} ({run_id}): {status}")
    tally["times kept"] += (row[5], row[6]) == run_times(i)
    files = _files(artifact_dir(art_root, row[4]))
    own = {k for k in files if k.startswith(OURS_OWN_ARTIFACTS)}
    tally["tool's own artifact files"] += len(own)
    if {k: v for k, v in files.items() if k not in own} != {ARTIFACT_NAME: artifact_bytes(i)}:
        p.add("artifact differs", f"{name} ({run_id}): files {sorted(files)}")


def stored_experiment(db: SqliteDb | PostgresDb, experiment: str, n: int, art_root: Path) -> dict[str, Any]:
    """Exactly ``n`` active runs in ``experiment``, one per source run (by name), none twice, each
    with the source's 20 params, 5 tags, 5 metrics x 20 points (counts and sums) and artifact bytes,
    FINISHED. Returns the counts, or raises :class:`RunFailed`."""
    runs = StoredRuns(db, experiment)
    p = Problems()
    tally: Counter[str] = Counter()
    seen: Counter[int] = Counter()
    for row in runs.active:
        i = run_index(row[1] or "")
        if i is None or i >= n:
            p.add("run not from the source", f"{row[1]!r} ({row[0]})")
            continue
        seen[i] += 1
        _run_problems(runs, row, i, art_root, p, tally)
    dupes = sum(c - 1 for c in seen.values())
    missing = n - len(seen)
    out = {"runs": len(runs.all), "active": len(runs.active), "duplicates": dupes, "missing": missing, "times_kept": tally["times kept"],
           "other_tags": tally["other tags"], "tool_artifact_files": tally["tool's own artifact files"], "metric_rows": sum(v[0] for m in runs.metrics.values() for v in m.values())}
    if dupes:
        p.add("duplicate runs", f"{dupes} source runs are there more than once")
    if missing:
        p.add("missing runs", f"{missing} of {n} source runs are not there")
    if len(runs.active) != n:
        p.add("active runs", f"{len(runs.active)}, expected {n}")
    p.raise_if_any(f"experiment {experiment!r} in {db.what}")
    return out


def listed_artifacts(uri: str, runs: list[tuple[str, int]], cwd: Path) -> dict[str, Any]:
    """``list_artifacts`` (recursive, in a fresh process) of ``runs`` (run id, source index): each
    lists the source's artifact with its size."""
    p = subprocess.run([PY, BULK_TASK, "artifacts", uri, ",".join(r for r, _ in runs)], capture_output=True, text=True, env=base_env(), cwd=cwd)
    if p.returncode != 0:
        raise RunFailed(f"list_artifacts failed:\n{p.stderr[-1500:]}")
    listed = last_json(p.stdout)["listed"]
    bad = [r for r, i in runs if [x for x in listed[r] if not x[0].startswith(OURS_OWN_ARTIFACTS)] != [[ARTIFACT_NAME, len(artifact_bytes(i))]]]
    if bad:
        raise RunFailed(f"list_artifacts: {len(bad)} of {len(runs)} runs do not list {ARTIFACT_NAME} with its size, e.g. {bad[0]}: {listed[bad[0]]}")
    return {"sampled": len(runs)}


def sample(runs: list[tuple[str, int]], k: int) -> list[tuple[str, int]]:
    """``k`` of ``runs``, evenly spread (all when there are no more than ``k``)."""
    if len(runs) <= k:
        return runs
    return [runs[j * len(runs) // k] for j in range(k)]


def active_runs(db: SqliteDb | PostgresDb, experiment: str) -> list[tuple[str, int]]:
    """(run id, source index) of the experiment's active runs, by index."""
    rows = [(r[0], run_index(r[1] or "")) for r in db.rows(Q_RUNS, (experiment,)) if r[3] == "active"]
    return sorted(((r, i) for r, i in rows if i is not None), key=lambda x: x[1])


# --------------------------------------------------------------------------- export directories


def _manifest_metrics(path: Path, data: dict[str, Any]) -> dict[str, Sig]:
    out = {}
    for key, m in (data.get("metrics") or {}).items():
        if "history_file" in m:
            cols = json.loads((path.parent / m["history_file"]["path"]).read_text(encoding="utf-8"))
        else:
            cols = m.get("history") or {"step": [m.get("step", 0)], "timestamp": [m.get("timestamp", 0)], "value": [m["value"]]}
        out[key] = columns_sig(cols["step"], cols["timestamp"], cols["value"])
    return out


def _same_param(got: Any, want: str) -> bool:
    if isinstance(got, str):
        return got == want
    try:
        return float(want) == float(got)
    except (TypeError, ValueError):
        return False


def _manifest_problems(path: Path, data: dict[str, Any], i: int, p: Problems) -> None:
    params, want = data.get("params") or {}, run_params(i)
    if set(params) != set(want) or not all(_same_param(params[k], want[k]) for k in want):
        p.add("params differ", f"{path.name}: {len(params)} params")
    if (data.get("tags") or {}) != run_tags(i):
        p.add("tags differ", f"{path.name}: {sorted(data.get('tags') or {})}")
    if not same_metrics(_manifest_metrics(path, data), i):
        p.add("metric points differ", path.name)
    arts = data.get("artifacts") or []
    ok = len(arts) == 1 and arts[0].get("path") == ARTIFACT_NAME and "local_path" in arts[0] and (path.parent / arts[0]["local_path"]).is_file()
    if not ok or (path.parent / arts[0]["local_path"]).read_bytes() != artifact_bytes(i):
        p.add("artifact differs", f"{path.name}: {arts}")


def ours_export(d: Path, source: dict[str, int]) -> dict[str, Any]:
    """Our export directory ``d`` of the source experiment (``source``: run id -> index): the index
    lists every source run once, and each manifest holds its params, tags, points and artifact copy."""
    from manifest.document.reader import load_path

    f = d / "export-index.json"
    if not f.is_file():
        raise RunFailed(f"{f} was not written")
    runs = json.loads(f.read_text(encoding="utf-8")).get("runs") or []
    listed = Counter(r.get("run_id") for r in runs)
    p = Problems()
    if len(runs) != len(source) or set(listed) != set(source):
        p.add("index", f"lists {len(runs)} runs ({len(set(listed) & set(source))} of the {len(source)} source runs)")
    for r in runs:
        if r.get("run_id") in source:
            path = d / r["file"]
            _manifest_problems(path, load_path(path).data, source[r["run_id"]], p)
    p.raise_if_any(f"our export {d.name}")
    return {"runs": len(runs), "bytes": _size(d), "files": sum(1 for x in d.rglob("*") if x.is_file())}


def _peer_run_problems(rd: Path, i: int, p: Problems) -> None:
    doc = json.loads((rd / "run.json").read_text(encoding="utf-8"))
    mlf = doc.get("mlflow", doc)
    if (mlf.get("params") or {}) != run_params(i):
        p.add("params differ", f"{rd.name}: {len(mlf.get('params') or {})} params")
    want_tags = run_tags(i)
    if {k: v for k, v in (mlf.get("tags") or {}).items() if k in want_tags} != want_tags:
        p.add("tags differ", rd.name)
    got = {k: columns_sig([x["step"] for x in pts], [x["timestamp"] for x in pts], [x["value"] for x in pts]) for k, pts in (mlf.get("metrics") or {}).items()}
    if not same_metrics(got, i):
        p.add("metric points differ", rd.name)
    if _files(rd / "artifacts") != {ARTIFACT_NAME: artifact_bytes(i)}:
        p.add("artifact differs", f"{rd.name}: {sorted(_files(rd / 'artifacts'))}")


def peer_export(d: Path, source: dict[str, int]) -> dict[str, Any]:
    """The peer's export directory ``d``: one directory per source run, its ``run.json`` holding the
    params, tags and points, its ``artifacts/`` the artifact."""
    dirs = {x.name: x for x in d.iterdir() if x.is_dir() and (x / "run.json").is_file()} if d.is_dir() else {}
    p = Problems()
    if set(dirs) != set(source):
        p.add("run directories", f"{len(dirs)} ({len(set(dirs) & set(source))} of the {len(source)} source runs)")
    for run_id, rd in dirs.items():
        if run_id in source:
            _peer_run_problems(rd, source[run_id], p)
    p.raise_if_any(f"peer export {d.name}")
    return {"runs": len(dirs), "bytes": _size(d), "files": sum(1 for x in d.rglob("*") if x.is_file())}


def _size(d: Path) -> int:
    return sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
