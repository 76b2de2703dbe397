"""The inputs of the export/import part (untimed): the source run generated in every store at once,
and the 1,000,000-point manifest of section 3, written with the package's own writers."""

from __future__ import annotations

import copy
import subprocess
import uuid
from pathlib import Path
from typing import Any

from .common import MANIFEST, PY, RunFailed, base_env, last_json
from .exim_cases import TASK
from .exim_checks import Signature, columns_signature
from .exim_plan import Context
from .exim_stores import STORES
from .mlflow_task import metric_keys, points

Columns = dict[str, list[Any]]


def make_source_runs(ctx: Context) -> None:
    """The source run in each store, at once (not timed: none competes with the others' figures)."""
    sh, stores = ctx.shape, ctx.stores
    ctx.log(f"generating the source run in A, A1 and B in parallel (untimed): {sh.n_params} params + {sh.n_metrics} metrics x {sh.n_steps:,} steps with MlflowClient.log_batch, 1000 metrics per call")
    env = base_env()
    procs = {}
    for store in STORES:
        cmd = [PY, TASK, "make", stores.uri(store), "bench-source", "source", str(sh.n_params), str(sh.n_metrics), str(sh.n_steps)]
        procs[store] = subprocess.Popen(cmd, cwd=stores.cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for store, p in procs.items():
        out, err = p.communicate()
        if p.returncode != 0:
            raise RunFailed(f"generating the source run in {store} failed:\n{err[-2000:]}")
        made = last_json(out)
        made["check"] = ctx.check.stored_run(store, made["run_id"], sh.want)
        stores.records[store]["source"] = made
        ctx.log(f"  {store}: run {made['run_id']}: {made['points']:,} points + {made['params']} params in {made['calls']} log_batch calls, {made['loop_s']:.1f} s (the stores were filled at once, so this is not a floor figure); checked in the store")


def _big_columns(n_metrics: int, steps: int) -> dict[str, Columns]:
    cols: dict[str, Columns] = {k: {"step": [], "timestamp": [], "value": []} for k in metric_keys(n_metrics)}
    for key, v, t, st in points(n_metrics, steps):
        c = cols[key]
        c["step"].append(st)
        c["timestamp"].append(t)
        c["value"].append(v)
    return cols


def _write_sidecars(d: Path, cols: dict[str, Columns]) -> dict[str, Any]:
    """One sidecar per metric under ``d/m.history``; the manifest's ``metrics`` that reference them."""
    from manifest.core.digests import digest_bytes
    from manifest.document.writer import dumps_history

    metrics = {}
    for key, c in cols.items():
        body = dumps_history(c)
        rel = f"m.history/{key}.json"
        (d / "m.history").mkdir(exist_ok=True)
        (d / rel).write_bytes(body)
        metrics[key] = {"value": c["value"][-1], "step": c["step"][-1], "timestamp": c["timestamp"][-1], "history_file": {"path": rel, "size": len(body), "digest": digest_bytes(body), "points": len(c["step"])}}
    return metrics


def big_manifest(ctx: Context) -> tuple[Path, Signature]:
    """A manifest like ours' export of the source run, with n_metrics x big_steps points in sidecars
    (written with the package's own writers), checked by ``manifest validate``."""
    from manifest.document.reader import load_path
    from manifest.document.writer import dumps

    src = ctx.stores.exports("A")["ours"] / "m.yaml"
    data = copy.deepcopy(load_path(src).data)
    d = ctx.stores.out_dir("big", "manifest")
    d.mkdir(parents=True)
    cols = _big_columns(ctx.shape.n_metrics, ctx.shape.big_steps)
    data["metrics"] = _write_sidecars(d, cols)
    data["id"] = f"urn:uuid:{uuid.uuid4()}"
    data["name"] = "source-1m"
    (d / "m.yaml").write_text(dumps(data, "yaml"), encoding="utf-8")
    p = subprocess.run([MANIFEST, "validate", str(d / "m.yaml")], capture_output=True, text=True, env=base_env(), cwd=ctx.stores.cwd)
    if p.returncode != 0:
        raise RunFailed(f"the generated 1M-point manifest is not valid:\n{p.stdout[-1500:]}\n{p.stderr[-1500:]}")
    return d / "m.yaml", {k: columns_signature(c) for k, c in cols.items()}
