"""Many small runs (``--only bulk``): ``manifest export --experiment`` / ``manifest import DIR`` of one
experiment of N small runs (default 1,000: 20 params, 5 metrics x 20 points, 5 tags, one artifact of
a few hundred bytes each), side by side with mlflow-export-import 1.2.0's ``export-experiment`` /
``import-experiment``, on two local servers as teams run them (MLflow's default workers, proxied
artifacts): (S) SQLite-backed and (P) PostgreSQL-backed.

Each command is timed whole, in a fresh process (``_child.py``: wall time, client CPU, peak RSS;
the server's CPU time around it, PostgreSQL's processes included on (P)), ours and the peer
round-robin; every run is checked after the clock (the export directory, then the imported
experiment read with SQL from the server's own database and its artifact directory). Ours' peak
RSS is also taken on an experiment of N/10 runs, to show whether memory grows with the runs.
Target (the issue): peer / ours >= 3 for export and import on (S); (P) reported beside it. The
results go to ``.bench/bulk.json``. See the last section of ``benchmarks/README.md``.

Modules: the servers in ``bulk_servers``, the sizes and shared state in ``bulk_plan``, the timed
commands and the sources in ``bulk_cases``, the checks in ``bulk_checks``, the fresh-process tasks
(the generator, ``list_artifacts``) in ``bulk_task``, the printing in ``bulk_report``.
"""

from __future__ import annotations

import os
import shutil
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from . import bulk_report as report
from .bulk_cases import export_cases, finish_sources, import_cases, start_sources
from .bulk_plan import Context, Sizes
from .bulk_servers import WHAT, latency_probe
from .common import RunFailed, cpu_model, loadavg, loadavg_text, short, short_path, write_json
from .exim_cases import EximCase, run_rounds
from .exim_venvs import PEER_VENV, ensure_peer, warm

SAMPLE_KEYS = ("round", "wall_s", "rc", "ok", "cpu_s", "server_cpu_s", "maxrss_kib", "error")


def _plural(n: int) -> str:
    return "s" if n != 1 else ""


# --------------------------------------------------------------------------- set-up


def _set_up(ctx: Context) -> None:
    res, log = ctx.results, ctx.log
    t0 = time.perf_counter()
    peer = ensure_peer(log)
    res["peer"] = peer
    log(f"ours: experiment-manifest {metadata.version('experiment-manifest')}, mlflow {metadata.version('mlflow')};  peer: mlflow-export-import {peer['mlflow_export_import']}, "
        f"mlflow {peer['mlflow']} (separate venv {short_path(str(PEER_VENV))}{', created now' if peer['created_now'] else ''})")
    warm(ctx.cwd)
    res["servers"] = ctx.servers.start(log)
    for store, s in res["servers"].items():
        log(f"({store}) {WHAT[store]}: {short(s['command'])}  [{s['env']}]: /health answered after {s['start_s']:.1f} s")
        s["latency"] = latency_probe(s["uri"])
        log(f"    GET /health, median of 8: {s['latency']['fresh_connection_ms']:.0f} ms on a fresh connection each, {s['latency']['kept_alive_ms']:.0f} ms on one kept-alive connection (as MLflow's client does)")
    _make_sources(ctx)
    res["setup_s"] = time.perf_counter() - t0


def _make_sources(ctx: Context) -> None:
    """Every source experiment at once, in fresh processes (untimed), each checked in its store."""
    sz = ctx.sizes
    plan = [(store, "all", sz.n) for store in ctx.stores] + [(ctx.stores[0], "small", sz.n_small)]
    ctx.log(f"making the source experiments at once (untimed): {sz.n:,} runs in {', '.join(f'({s})' for s in ctx.stores)}, and {sz.n_small:,} run{_plural(sz.n_small)} in ({ctx.stores[0]}) for the memory comparison; "
            f"per run: create_run, one log_batch (20 params, 5 metrics x 20 points, 5 tags), log_artifact (a few hundred bytes), set_terminated(FINISHED); {sz.threads} threads per experiment")
    started = [(store, which, n, *start_sources(ctx, store, which, n)) for store, which, n in plan]
    made = {}
    for store, which, n, proc, src in started:
        src = finish_sources(ctx, store, which, n, proc, src)
        made[f"{which}_{store}"] = {"experiment": src.experiment, "runs": len(src.ids), "made_s": src.made_s, "check": src.check}
        ctx.log(f"  ({store}) {src.experiment}: {len(src.ids):,} run{_plural(len(src.ids))} in {src.made_s:.1f} s (the experiments were made at once); checked in the store: {src.check['active']} active runs, {src.check['metric_rows']:,} metric rows")
    ctx.results["sources"] = made


# --------------------------------------------------------------------------- the sections


def _section(ctx: Context, sec: str, title: str, cases: list[EximCase], n: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    ctx.log(f"\n== {sec}. {title}: {ctx.sizes.reps} run{_plural(ctx.sizes.reps)} each, round-robin")
    ctx.all_cases += [(sec, c) for c in cases]  # before the rounds: a failed run is then in the partial results
    run_rounds(cases, ctx.log)
    for c in cases:
        ctx.log(f"   {c.label}, last round: {c.command}")
    report.section(ctx.log, f"{title}; wall time of a fresh process", cases, n)
    for c in cases:
        if c.failure is not None:
            ctx.findings.append(f"{c.label} ({sec}): failed (exit code {c.failure['rc']}): {c.failure.get('error') if c.failure['rc'] == 0 else c.failure.get('error_line')}")
    samples = {c.key: [{k: x.get(k) for k in SAMPLE_KEYS} for x in c.samples + ([c.failure] if c.failure else [])] for c in cases}
    return {"cases": {c.key: c.stats() for c in cases}, "samples": samples, "elapsed_s": time.perf_counter() - t0}


def _store_sections(ctx: Context, store: str, k: int) -> dict[str, Any]:
    n = ctx.sizes.n
    ex = export_cases(ctx, store)
    exp = _section(ctx, f"{k}a", f"Export of {n:,} runs from ({store}) {WHAT[store]}", ex, n)
    exp["ratio"] = report.ratio(ctx.log, "export", store, ex)
    exp["export_bytes"] = {c.key: c.samples[0]["check"]["bytes"] for c in ex if c.samples}
    ctx.log("export on disk: " + "; ".join(f"{k.split('_')[0]} {v / 1e6:.1f} MB" for k, v in exp["export_bytes"].items()))
    im = import_cases(ctx, store)
    imp = _section(ctx, f"{k}b", f"Import of that export into ({store}) {WHAT[store]}, a fresh experiment each time", im, n)
    imp["ratio"] = report.ratio(ctx.log, "import", store, im)
    kept = {c.key: [x["check"]["times_kept"] for x in c.samples] for c in im if c.samples}
    ctx.log("runs whose start/end times were kept: " + "; ".join(f"{k.split('_')[0]} {v}" for k, v in kept.items()) + f" (of {n:,})")
    imp["times_kept"] = kept
    return {"export": exp, "import": imp, "ex": ex, "im": im}


def _memory_section(ctx: Context, store: str, k: int, big: dict[str, Any]) -> dict[str, Any]:
    ns, n = ctx.sizes.n_small, ctx.sizes.n
    cs = export_cases(ctx, store, "small", peer=False)
    ex = _section(ctx, f"{k}a", f"Ours only: export of {ns:,} runs from ({store}), for the memory comparison", cs, ns)
    ci = import_cases(ctx, store, "small", peer=False)
    im = _section(ctx, f"{k}b", f"Ours only: import of that export into ({store})", ci, ns)
    ctx.log(f"\npeak RSS of ours (getrusage(RUSAGE_CHILDREN).ru_maxrss of the manifest process, fresh helper per run) at {ns:,} and {n:,} runs on ({store}):")
    mem = report.memory(ctx.log, {"export": (cs[0], big["ex"][0]), "import": (ci[0], big["im"][0])}, ns, n)
    return {"export": ex, "import": im, "compare": mem}


def _measure(ctx: Context) -> None:
    res = ctx.results
    _set_up(ctx)
    res["stores"] = {}
    kept: dict[str, dict[str, Any]] = {}
    for k, store in enumerate(ctx.stores, start=1):
        kept[store] = _store_sections(ctx, store, k)
        res["stores"][store] = {w: kept[store][w] for w in ("export", "import")}
        ctx.log(f"(({store}) took {res['stores'][store]['export']['elapsed_s'] + res['stores'][store]['import']['elapsed_s']:.0f} s)")
    mem_store = ctx.stores[0]
    m = _memory_section(ctx, mem_store, len(ctx.stores) + 1, kept[mem_store])
    res["memory_sections"] = {w: m[w] for w in ("export", "import")}
    res["memory"] = m["compare"]


# --------------------------------------------------------------------------- the part


def _finish(ctx: Context, started: float, json_out: Path, keep: bool) -> None:
    res, log = ctx.results, ctx.log
    res["kept_runs"] = report.print_checks(log, ctx.all_cases, ctx.findings)
    res["findings"] = ctx.findings
    report.log_summary(log, res)
    res["loadavg_at_end"] = loadavg_text(loadavg())
    res["elapsed_s"] = time.perf_counter() - started
    log(f"load average at end: {res['loadavg_at_end']} (at start: {res['loadavg_at_start']})")
    write_json(json_out, res, default=str)
    log(f"results written to {short_path(str(json_out))}; bulk part wall time {res['elapsed_s']:.0f} s")
    if not keep:
        shutil.rmtree(ctx.work, ignore_errors=True)


def run(*, n: int, n_small: int, reps: int, stores: list[str], work: Path, json_out: Path, log: Callable[[str], None], keep: bool = False) -> int:
    ctx = Context(sizes=Sizes(n=n, n_small=n_small, reps=reps), stores=stores, work=work, log=log)
    started = time.perf_counter()
    res = ctx.results
    res["parameters"] = ctx.parameters()
    res["loadavg_at_start"] = loadavg_text(loadavg())
    log(f"== Many runs (bulk): {n:,} runs in one experiment; servers {', '.join(f'({s}) {WHAT[s]}' for s in stores)}")
    log(f"load average at start: {res['loadavg_at_start']}   (cores: {os.cpu_count()}, {cpu_model() or 'CPU model unknown'}; shared machine: ours and the peer run round-robin)   MLFLOW_DISABLE_TELEMETRY=true for every process")
    ctx.prepare()
    try:
        _measure(ctx)
    except RunFailed as exc:
        log(f"\nBENCHMARK INVALID (bulk): {exc}")
        res["error"] = str(exc)
        res["findings"] = ctx.findings
        res["cases"] = {f"{sec} {c.key}": c.stats() for sec, c in ctx.all_cases}
        write_json(json_out, res, default=str)
        log(f"partial results written to {short_path(str(json_out))}; work directory kept: {short_path(str(ctx.work))}")
        return 1
    finally:
        ctx.servers.stop()
    _finish(ctx, started, json_out, keep)
    return 0
