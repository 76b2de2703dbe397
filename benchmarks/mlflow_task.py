"""Fresh-process tasks of the export/import benchmarks; each prints one JSON line (last line of stdout).

    python benchmarks/mlflow_task.py make URI EXPERIMENT RUN_NAME N_PARAMS N_METRICS N_STEPS
        Create a run with MlflowClient.log_batch only, at MLflow's maximum batch sizes (100 params,
        1000 metrics per call), then set it FINISHED. Reports ``loop_s``: the log_batch calls alone
        (the points are built before the clock starts). This is both how the benchmark's source
        runs are made and the import *floor* (the same points into a fresh run).
    python benchmarks/mlflow_task.py history URI RUN_ID KEY[,KEY...]
        The export *floor*: a bare sequential loop of MlflowClient.get_metric_history over the keys.
        Reports ``loop_s`` (the loop alone) and the number of points per key.
    python benchmarks/mlflow_task.py import-api URI MANIFEST EXPERIMENT WORKERS
        ``manifest.tracking.importing.batch.import_paths`` with ``ImportOptions(workers=WORKERS)``;
        reports ``s`` (the call alone) and the new run id.
    python benchmarks/mlflow_task.py fetch-api URI RUN_ID KEY[,KEY...] WORKERS
        ``manifest.tracking.histories.fetch_histories(client, run_id, keys, workers=WORKERS)``;
        reports ``s`` (the call alone) and the number of points per key.

The points are deterministic (see :func:`points`), so a floor import writes exactly the points of
the source run. ``MLFLOW_DISABLE_TELEMETRY`` must be set by the caller (the benchmark does).

It is run by path, in a fresh interpreter whose working directory is the stores' (not the
repository root), so it imports no sibling module; ``benchmarks.exim_*`` import it for
:func:`points`, :func:`params` and :func:`metric_keys`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: first timestamp of every generated history
METRIC_NAMES = ["loss", "val_loss", "accuracy", "learning_rate", "grad_norm", "val_accuracy", "throughput", "epoch_time"]


def metric_keys(n: int) -> list[str]:
    return [METRIC_NAMES[i] if i < len(METRIC_NAMES) else f"metric_{i}" for i in range(n)]


def params(n: int) -> dict[str, str]:
    kinds = [lambda i: str(10 ** -(i % 6)), lambda i: f"opt-{i % 7}", lambda i: str(2 ** (i % 12)), lambda i: "true" if i % 2 else "false"]
    return {f"param_{i:03d}": kinds[i % len(kinds)](i) for i in range(n)}


def points(n_metrics: int, n_steps: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp_ms, step): full-precision values, one point every 10 ms per metric."""
    out = []
    for k, key in enumerate(metric_keys(n_metrics)):
        rng = random.Random(1000 + k)
        for s in range(n_steps):
            out.append((key, rng.random() * (1.0 + 10.0 / (1 + s)), T0_MS + 10 * s + k, s))
    return out


def _client(uri: str):  # noqa: ANN202
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def make(uri: str, experiment: str, run_name: str, n_params: int, n_metrics: int, n_steps: int) -> dict:
    from mlflow.entities import Metric, Param

    c = _client(uri)
    exp = c.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else c.create_experiment(experiment)
    run = c.create_run(exp_id, run_name=run_name, start_time=T0_MS - 1000)
    run_id = run.info.run_id
    ps = [Param(k, v) for k, v in params(n_params).items()]
    ms = [Metric(k, v, t, s) for k, v, t, s in points(n_metrics, n_steps)]
    t = time.perf_counter()
    for i in range(0, len(ps), 100):
        c.log_batch(run_id, params=ps[i : i + 100])
    for i in range(0, len(ms), 1000):
        c.log_batch(run_id, metrics=ms[i : i + 1000])
    loop = time.perf_counter() - t
    c.set_terminated(run_id, "FINISHED", end_time=T0_MS + 10 * n_steps + 1000)
    return {"run_id": run_id, "experiment_id": exp_id, "loop_s": loop, "points": len(ms), "params": len(ps), "calls": -(-len(ps) // 100) + -(-len(ms) // 1000)}


def history(uri: str, run_id: str, keys: list[str]) -> dict:
    c = _client(uri)
    counts = {}
    t = time.perf_counter()
    for k in keys:
        counts[k] = len(c.get_metric_history(run_id, k))
    return {"loop_s": time.perf_counter() - t, "counts": counts}


def import_api(uri: str, path: str, experiment: str, workers: int) -> dict:
    from manifest.tracking.importing.batch import import_paths
    from manifest.tracking.importing.options import ImportOptions
    from manifest.tracking.store import client

    cl = client(uri, check=False)
    t = time.perf_counter()
    out = import_paths(cl, [path], tracking_uri=uri, options=ImportOptions(experiment=experiment, workers=workers))
    return {"s": time.perf_counter() - t, "run_id": out[0][1]}


def fetch_api(uri: str, run_id: str, keys: list[str], workers: int) -> dict:
    from manifest.tracking.histories import fetch_histories
    from manifest.tracking.store import client

    cl = client(uri, check=False)
    t = time.perf_counter()
    cols = fetch_histories(cl, run_id, keys, workers=workers)
    return {"s": time.perf_counter() - t, "counts": {k: len(v["step"]) for k, v in cols.items()}}


def dispatch(argv: list[str]) -> int:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    task, args = argv[0], argv[1:]
    if task == "make":
        out = make(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]))
    elif task == "history":
        out = history(args[0], args[1], args[2].split(","))
    elif task == "import-api":
        out = import_api(args[0], args[1], args[2], int(args[3]))
    elif task == "fetch-api":
        out = fetch_api(args[0], args[1], args[2].split(","), int(args[3]))
    else:
        print(f"unknown task {task!r}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(dispatch(sys.argv[1:]))
