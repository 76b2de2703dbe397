"""Export/import benchmarks: ``manifest export`` / ``manifest import`` against the peer
``mlflow-export-import`` 1.2.0 and against bare MLflow client loops (the floors).

Run through ``python -m benchmarks.run --only export-import`` (or ``--only all``, the default). One
run of 100 params + 5 metrics x 50,000 steps (250,000 points), made with ``MlflowClient.log_batch``
at 1000 metrics per call, is generated in each store:

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

This module is the orchestration only: the servers are in ``exim_servers``, the peer's virtualenv in
``exim_venvs``, the stores in ``exim_stores``, the checks in ``exim_checks``, the run's shape and
shared state in ``exim_plan``, one timed case in ``exim_cases``, the competitors of each section in
``exim_export_cases`` / ``exim_import_cases`` / ``exim_big_cases``, the inputs in ``exim_inputs``,
and the printing in ``exim_report``.
"""

from __future__ import annotations

import os
import shutil
import time
import urllib.request
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable

from . import exim_report as report
from .common import PY, RunFailed, cpu_model, loadavg, loadavg_text, short, short_path, write_json
from .exim_big_cases import big_export_case, big_import_case
from .exim_cases import run_rounds
from .exim_export_cases import export_cases, fetch_sweep_cases
from .exim_import_cases import import_cases, import_sweep_cases
from .exim_inputs import big_manifest, make_source_runs
from .exim_plan import Context, Reps
from .exim_stores import SECTION, STORES, WHAT
from .exim_venvs import PEER_VENV, ensure_peer, warm

SWEEP_WORKERS = [1, 2, 4, 8]


def _plural(n: int) -> str:
    return "s" if n != 1 else ""


# --------------------------------------------------------------------------- set-up


def _tools(ctx: Context) -> None:
    """The peer's virtualenv (created once), the versions on both sides, the untimed warm-up."""
    res = ctx.results
    peer = ensure_peer(ctx.log)
    res["peer"] = peer
    main_has_peer = find_spec("mlflow_export_import") is not None
    res["main_venv_has_peer"] = main_has_peer
    ctx.log(
        f"ours: experiment-manifest {metadata.version('experiment-manifest')}, mlflow {metadata.version('mlflow')} ({short_path(PY)});  "
        f"peer: mlflow-export-import {peer['mlflow_export_import']}, mlflow {peer['mlflow']} (separate venv {short_path(str(PEER_VENV))}{', created now' if peer['created_now'] else ''}); "
        f"main venv has mlflow-export-import: {'YES (it should not)' if main_has_peer else 'no'}"
    )
    warm(ctx.stores.cwd)


def _start_servers(ctx: Context) -> None:
    servers: dict[str, Any] = {}
    ctx.results["servers"] = servers
    for store in ("A", "A1"):
        srv = ctx.stores.srv(store)
        assert srv is not None
        srv.start()
        servers[store] = {"command": short(srv.cmd), "env": "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false", "start_s": srv.start_s, "uri": srv.uri}
        ctx.log(f"({store}) {WHAT[store]}: {servers[store]['command']}  [{servers[store]['env']}]: /health answered after {srv.start_s:.1f} s")
    ctx.log(f"(B) embedded: sqlite:///{short_path(str(ctx.stores.emb_db))}")


def _rest_payload(ctx: Context) -> None:
    """One REST payload, for the "where time goes" note."""
    n_steps = ctx.shape.n_steps
    t = time.perf_counter()
    url = f"{ctx.stores.server.uri}/api/2.0/mlflow/metrics/get-history?run_id={ctx.stores.source('A')['run_id']}&metric_key={ctx.shape.keys[0]}"
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
    ctx.results["rest_payload_one_metric"] = {"bytes": len(body), "points": n_steps, "s": time.perf_counter() - t}
    ctx.log(f"REST payload of one {n_steps:,}-point history (GET get-history, not paginated): {len(body) / 1e6:.1f} MB JSON, {len(body) / n_steps:.0f} B/point, {time.perf_counter() - t:.2f} s")


def _set_up(ctx: Context, started: float) -> None:
    _tools(ctx)
    _start_servers(ctx)
    ctx.stores.record_uris()
    make_source_runs(ctx)
    ctx.results["source_runs"] = {k: v["source"] for k, v in ctx.stores.records.items()}
    _rest_payload(ctx)
    ctx.results["setup_s"] = time.perf_counter() - started


# --------------------------------------------------------------------------- 1. export


def _export_section(ctx: Context, store: str) -> dict[str, Any]:
    log, sh = ctx.log, ctx.shape
    t0 = time.perf_counter()
    sweep = fetch_sweep_cases(ctx, SWEEP_WORKERS) if store == "A" else []
    cases = export_cases(ctx, store)
    what = WHAT[store]
    extra = f" + the fetch_histories sweep (workers 1, 2, 4, 8; {ctx.reps.fetch_sweep} run{_plural(ctx.reps.fetch_sweep)} each, in a fresh process)" if sweep else ""
    log(f"\n== 1{SECTION[store]}. Export of the {sh.n_points:,}-point run from ({store}) {what}: {ctx.reps.export} runs each, round-robin{extra}")
    run_rounds(cases + sweep, log)
    ctx.all_cases += [(f"1 export {store}", c) for c in cases + sweep]
    report.print_group(log, f"export from ({store}) {what}; wall time of a fresh process", cases, loop_col=True)
    rat = report.ratios(log, cases[0], cases[1], cases[2])
    peer_c = cases[1]
    if peer_c.failure is not None:
        ctx.findings.append(f"peer export-run on ({store}): failed (exit code {peer_c.failure['rc']}): {peer_c.failure.get('error_line')}")
    sizes = {c.key: c.samples[0]["check"].get("bytes") for c in cases[:2] if c.samples}
    if sizes:
        log("export size on disk: " + "; ".join(f"{'ours' if k.startswith('ours') else 'peer'} {v / 1e6:.1f} MB" for k, v in sizes.items() if v))
    entry: dict[str, Any] = {"cases": {c.key: c.stats() for c in cases}, "ratios": rat, "sizes_bytes": sizes, "elapsed_s": time.perf_counter() - t0}
    if sweep:
        report.print_group(log, "export concurrency sweep on (A): manifest.tracking.histories.fetch_histories(client, run_id, keys, workers=N) in a fresh process", sweep, call_col=True)
        report.log_relative_to_4(log, "export", sweep, "fetch_sweep_4")
        entry["fetch_sweep"] = {c.key: c.stats() for c in sweep}
    return entry


# --------------------------------------------------------------------------- 2. import


def _import_section(ctx: Context, store: str) -> dict[str, Any]:
    log = ctx.log
    t0 = time.perf_counter()
    sweep = import_sweep_cases(ctx, SWEEP_WORKERS) if store == "A" else []
    cases = import_cases(ctx, store)
    what = WHAT[store]
    extra = f" + the import_paths sweep (workers 1, 2, 4, 8; {ctx.reps.import_sweep} run{_plural(ctx.reps.import_sweep)} each)" if sweep else ""
    log(f"\n== 2{SECTION[store]}. Import of the same run into ({store}) {what}, a fresh experiment each time: {ctx.reps.imports} runs each, round-robin{extra}")
    exports = ctx.stores.exports(store)
    log(f"   inputs: ours {short_path(str(exports['ours'] / 'm.yaml'))}; peer {short_path(str(exports.get('peer', '(none)')))}")
    run_rounds(cases + sweep, log)
    ctx.all_cases += [(f"2 import {store}", c) for c in cases + sweep]
    report.print_group(log, f"import into ({store}) {what}; wall time of a fresh process", cases, loop_col=True)
    peer_c = next((c for c in cases if c.key.startswith("peer")), None)
    rat = report.ratios(log, cases[0], peer_c, cases[-1])
    if peer_c is not None and peer_c.failure is not None:
        ctx.findings.append(f"peer import-run into ({store}): failed (exit code {peer_c.failure['rc']}): {peer_c.failure.get('error_line')}")
    kept = {c.key: all(x["check"].get("kept_times") for x in c.samples) for c in cases if c.samples and "kept_times" in c.samples[0]["check"]}
    log("run start/end times kept from the source: " + ", ".join(f"{'ours' if k.startswith('ours') else 'peer'} {'yes' if v else 'NO'}" for k, v in kept.items()))
    entry: dict[str, Any] = {"cases": {c.key: c.stats() for c in cases}, "ratios": rat, "times_kept": kept, "elapsed_s": time.perf_counter() - t0}
    if sweep:
        report.print_group(log, "import concurrency sweep on (A): import_paths(client(uri, check=False), [path], options=ImportOptions(experiment=NEW, workers=N)) in a fresh process", sweep, call_col=True)
        report.log_relative_to_4(log, "import", sweep, "import_sweep_4")
        entry["import_sweep"] = {c.key: c.stats() for c in sweep}
    return entry


# --------------------------------------------------------------------------- 3. 1M points


def _big_section(ctx: Context) -> dict[str, Any]:
    log, sh, res = ctx.log, ctx.shape, ctx.results
    t0 = time.perf_counter()
    big_path, big_sig = big_manifest(ctx)
    n_big = sh.n_big_points
    log(f"\n== 3. Peak memory of ours, {n_big:,}-point run ({sh.n_metrics} metrics x {sh.big_steps:,}) on (A): {ctx.reps.big} run{_plural(ctx.reps.big)} each")
    log("   peak RSS = getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per measurement (the manifest process; its threads included)")
    log(f"   import input: {short_path(str(big_path))} (5 sidecars, written with the package's writers, checked by manifest validate); the imported run is then exported")
    big_runs: list[str] = []
    big_import = big_import_case(ctx, big_path, big_sig, big_runs)
    run_rounds([big_import], log)
    big_export = big_export_case(ctx, big_sig, big_runs)
    run_rounds([big_export], log)
    ctx.all_cases += [(f"3 {n_big:,} pts", big_import), (f"3 {n_big:,} pts", big_export)]
    report.print_group(log, f"{n_big:,} points on (A); wall time of a fresh process", [big_import, big_export])
    small = {"import": res["import"]["A"]["cases"]["ours_import_A"], "export": res["export"]["A"]["cases"]["ours_export_A"]}
    report.log_big(log, {"import": big_import, "export": big_export}, small, n_big, sh.n_points)
    return {"points": n_big, "rss_method": "getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per measurement (KiB)", "cases": {"import": big_import.stats(), "export": big_export.stats()}, "elapsed_s": time.perf_counter() - t0}


# --------------------------------------------------------------------------- the part


def _set_up_and_measure(ctx: Context, started: float) -> None:
    """Set-up and sections 1-3, in order; a failed run raises :class:`RunFailed`."""
    res, log = ctx.results, ctx.log
    _set_up(ctx, started)
    res["export"] = {}
    for store in STORES:
        res["export"][store] = _export_section(ctx, store)
        log(f"(section 1{SECTION[store]} took {res['export'][store]['elapsed_s']:.0f} s)")
    res["import"] = {}
    for store in STORES:
        res["import"][store] = _import_section(ctx, store)
        log(f"(section 2{SECTION[store]} took {res['import'][store]['elapsed_s']:.0f} s)")
    res["big"] = _big_section(ctx)
    log(f"(section 3 took {res['big']['elapsed_s']:.0f} s)")


def _finish(ctx: Context, started: float, json_out: Path, keep: bool) -> None:
    """Section 4 and the summary; the results file; the work directory dropped unless ``keep``."""
    res, log = ctx.results, ctx.log
    res["kept_runs"] = report.print_checks(log, ctx.all_cases, ctx.findings)
    res["findings"] = ctx.findings
    report.log_summary(log, res)
    la1 = loadavg_text(loadavg())
    res["loadavg_at_end"] = la1
    res["elapsed_s"] = time.perf_counter() - started
    log(f"load average at end: {la1} (at start: {res['loadavg_at_start']})")
    write_json(json_out, res, default=str)
    log(f"results written to {short_path(str(json_out))}; export/import wall time {res['elapsed_s']:.0f} s")
    if not keep:  # the stores hold millions of points (about 1 GB): drop them once the figures are in
        shutil.rmtree(ctx.stores.work, ignore_errors=True)


def run(*, quick: bool, reps: int, fetch_reps: int, import_reps: int, sweep_reps: int, big_reps: int, json_out: Path, log: Callable[[str], None], keep: bool = False) -> int:
    ctx = Context(quick=quick, reps=Reps(export=reps, fetch_sweep=fetch_reps, imports=import_reps, import_sweep=sweep_reps, big=big_reps), log=log)
    started = time.perf_counter()
    res = ctx.results
    res["parameters"] = ctx.parameters()
    la0 = loadavg_text(loadavg())
    res["loadavg_at_start"] = la0
    log("== Export / import: machine and set-up")
    log(f"load average at start: {la0}   (cores: {os.cpu_count()}, {cpu_model() or 'CPU model unknown'}; the machine is shared: cases run round-robin)   MLFLOW_DISABLE_TELEMETRY=true for every process")
    ctx.stores.prepare()
    try:
        _set_up_and_measure(ctx, started)
    except RunFailed as exc:
        log(f"\nBENCHMARK INVALID (export/import): {exc}")
        res["error"] = str(exc)
        res["exit_codes"] = {c.key: [x["rc"] for x in c.samples] for _, c in ctx.all_cases}
        write_json(json_out, res, default=str)
        return 1
    finally:
        ctx.stores.stop_servers()
    _finish(ctx, started, json_out, keep)
    return 0
