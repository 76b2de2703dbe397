"""Fresh-process tasks of the many-runs benchmark (``--only bulk``); each prints one JSON line (last line of stdout).

    python benchmarks/bulk_task.py make URI EXPERIMENT PREFIX N THREADS
        Create EXPERIMENT with N small runs named PREFIX-0000, PREFIX-0001, ...: per run one
        ``create_run``, one ``log_batch`` (20 params, 5 metrics x 20 points, 5 tags), one
        ``log_artifact`` (a JSON file of a few hundred bytes) and ``set_terminated(FINISHED)``;
        THREADS runs at a time. Reports the experiment id, every run's id and name, and ``s``.
    python benchmarks/bulk_task.py artifacts URI RUN_ID[,RUN_ID...]
        ``MlflowClient.list_artifacts`` of each run, recursively: (path, size) of every file.
    python benchmarks/bulk_task.py delete-experiment URI NAME
        ``MlflowClient.delete_experiment`` (its runs are marked deleted; an import refuses no
        deleted run, so the next round's identical command finds nothing to refuse).

The content of run number ``i`` is deterministic (:func:`run_params`, :func:`run_tags`,
:func:`run_points`, :func:`artifact_bytes`): a copy is checked against what the generator makes.
It is run by path (from the work directory, not the repository root), so it imports no sibling
module; ``benchmarks.bulk_checks`` imports it for the generator.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
N_PARAMS, N_METRICS, N_STEPS, N_TAGS = 20, 5, 20, 5
METRIC_KEYS = ["loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"]
ARTIFACT_NAME = "summary.json"


def run_name(prefix: str, i: int) -> str:
    return f"{prefix}-{i:04d}"


def run_index(name: str) -> int | None:
    """The number ``i`` in a name made by :func:`run_name`, or None."""
    tail = name.rsplit("-", 1)[-1] if name else ""
    return int(tail) if tail.isdigit() else None


def run_params(i: int) -> dict[str, str]:
    kinds = [lambda j: f"opt-{(i + j) % 7}", lambda j: f"{(1 + i % 9) * 10.0 ** -(j % 5):.6g}", lambda j: str((i * 31 + j) % 1024)]
    return {f"param_{j:02d}": kinds[j % 3](j) for j in range(N_PARAMS)}


def run_tags(i: int) -> dict[str, str]:
    return {f"tag_{j}": f"value-{j}-{i % (j + 2)}" for j in range(N_TAGS)}


def run_points(i: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp_ms, step) of run ``i``: 5 metrics x 20 steps, full-precision values."""
    out = []
    for k, key in enumerate(METRIC_KEYS):
        rng = random.Random(i * 100 + k)
        for s in range(N_STEPS):
            out.append((key, rng.random() / (1 + s), T0_MS + 60_000 * i + 100 * s + k, s))
    return out


def run_times(i: int) -> tuple[int, int]:
    """Start and end time of run ``i`` (ms)."""
    return T0_MS + 60_000 * i - 1000, T0_MS + 60_000 * i + 100 * N_STEPS + 1000


def artifact_bytes(i: int) -> bytes:
    body = {"run": i, "params": run_params(i), "note": "a small artifact of a few hundred bytes, one per run"}
    return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()


def _client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _make_one(c: Any, exp_id: str, prefix: str, i: int, tmp: Path) -> dict[str, str]:
    from mlflow.entities import Metric, Param, RunTag

    start, end = run_times(i)
    name = run_name(prefix, i)
    run_id = c.create_run(exp_id, run_name=name, start_time=start).info.run_id
    c.log_batch(run_id, metrics=[Metric(k, v, t, s) for k, v, t, s in run_points(i)], params=[Param(k, v) for k, v in run_params(i).items()], tags=[RunTag(k, v) for k, v in run_tags(i).items()])
    d = tmp / name
    d.mkdir()
    (d / ARTIFACT_NAME).write_bytes(artifact_bytes(i))
    c.log_artifact(run_id, str(d / ARTIFACT_NAME))
    c.set_terminated(run_id, "FINISHED", end_time=end)
    return {"run_id": run_id, "name": name}


def make(uri: str, experiment: str, prefix: str, n: int, threads: int) -> dict[str, Any]:
    c = _client(uri)
    exp_id = c.create_experiment(experiment)
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=threads) as pool:
        runs = list(pool.map(lambda i: _make_one(c, exp_id, prefix, i, Path(tmp)), range(n)))
    return {"experiment_id": exp_id, "experiment": experiment, "runs": runs, "s": time.perf_counter() - t}


def _files(c: Any, run_id: str, path: str | None = None) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for f in c.list_artifacts(run_id, path):
        out += _files(c, run_id, f.path) if f.is_dir else [(f.path, f.file_size)]
    return out


def artifacts(uri: str, run_ids: list[str]) -> dict[str, Any]:
    c = _client(uri)
    t = time.perf_counter()
    listed = {r: _files(c, r) for r in run_ids}
    return {"listed": listed, "s": time.perf_counter() - t}


def delete_experiment(uri: str, name: str) -> dict[str, Any]:
    c = _client(uri)
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        c.delete_experiment(exp.experiment_id)
    return {"deleted": exp is not None}


def dispatch(argv: list[str]) -> int:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    task, args = argv[0], argv[1:]
    if task == "make":
        out = make(args[0], args[1], args[2], int(args[3]), int(args[4]))
    elif task == "artifacts":
        out = artifacts(args[0], [r for r in args[1].split(",") if r])
    elif task == "delete-experiment":
        out = delete_experiment(args[0], args[1])
    else:
        print(f"unknown task {task!r}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(dispatch(sys.argv[1:]))
