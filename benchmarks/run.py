"""Performance benchmarks of ``manifest validate`` (run with ``make bench``).

    .venv/bin/python benchmarks/run.py [--only validate|export-import|all] [--quick] [--regen] [--inputs DIR] [--json FILE]

``--only validate`` runs the ``manifest validate`` benchmarks below; ``--only export-import`` runs
those of ``manifest export`` / ``manifest import`` (``benchmarks/exim.py``); ``all`` (the default)
runs both, validate first.

1. cold single-file validation: a fresh process each time, against ``python -c pass`` and
   check-jsonschema on ``examples/iris/manifest.yaml``;
2. one call validating 1,000 typical manifests (as YAML, and as JSON): ours (all cores and
   ``--jobs 1``) against one check-jsonschema call given all files;
3. one metric with 1,000,000 history points: inline YAML, inline JSON, JSON sidecar;
4. exit codes (and the printed summary) of every run, which must say "valid".

Every CLI figure is the wall time of a fresh subprocess, measured with ``time.perf_counter`` by a
fresh helper process (``_child.py``) that also reports the child's peak RSS from
``getrusage(RUSAGE_CHILDREN).ru_maxrss``. Figures are medians (min and max are shown too). Results
also go to ``.bench/validate.json``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import inputs  # noqa: E402  (benchmarks/inputs.py)
from exim import table  # noqa: E402  (benchmarks/exim.py: one table printer for both parts)

BIN = Path(sys.executable).parent  # the venv's bin (not resolved: that would leave the venv)
PY = sys.executable
MANIFEST = str(BIN / "manifest")
CHECK_JSONSCHEMA = str(BIN / "check-jsonschema")
SCHEMA = "schemas/manifest-1.0.schema.json"
IRIS = "examples/iris/manifest.yaml"
ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
# Measure the normal, installed condition: bytecode cached. PYTHONDONTWRITEBYTECODE=1 (set in some
# sandboxes) plus an editable install without __pycache__ would recompile manifest/*.py on every
# start (~10-30 ms). Compiled files go to .bench/pycache (git-ignored), never next to the sources;
# the warm-up runs fill it.
BYTECODE_ENV_AS_FOUND = os.environ.get("PYTHONDONTWRITEBYTECODE")
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["PYTHONPYCACHEPREFIX"] = str(ROOT / ".bench" / "pycache")
DEFAULT_LIMIT = 64 * 1024 * 1024  # manifest validate --max-file-size default (64M)
MiB = 1024 * 1024

# Targets from the brief.
COLD_TARGET_S = 0.2
BULK_TARGET_RATIO = 2.0


class RunFailed(Exception):
    pass


# --------------------------------------------------------------------------- measuring


def _short(cmd: list[str]) -> str:
    shown = [os.path.relpath(c, ROOT) if c.startswith(str(ROOT)) else c for c in cmd]
    shown = [".venv/bin/" + Path(c).name if c in (PY, MANIFEST, CHECK_JSONSCHEMA) else c for c in shown]
    if len(shown) > 8:
        shown = shown[:6] + [f"... ({len(shown) - 6} more)"]
    return " ".join(shown)


class Case:
    """One command to time: its label, argv, how many repetitions, what its output must say."""

    def __init__(self, key: str, label: str, cmd: list[str], reps: int, expect: Callable[[str], bool], expect_text: str) -> None:
        self.key, self.label, self.cmd, self.reps = key, label, cmd, reps
        self.expect, self.expect_text = expect, expect_text
        self.samples: list[dict[str, Any]] = []
        self.section = ""

    def measure(self) -> dict[str, Any]:
        p = subprocess.run([PY, str(HERE / "_child.py"), *self.cmd], cwd=ROOT, env=ENV, capture_output=True, text=True)
        if p.returncode != 0:
            raise RunFailed(f"measurement helper failed for {self.label}:\n{p.stderr}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if r["maxrss_before_kib"] != 0:
            raise RunFailed("the helper process had a child before the measurement; its RSS figure would be wrong")
        last = (r["stdout_tail"].strip().splitlines() or [""])[-1]
        r["summary"] = last
        r["as_expected"] = r["rc"] == 0 and self.expect(r["stdout_tail"])
        self.samples.append(r)
        if not r["as_expected"]:
            raise RunFailed(
                f"{self.label}: exit code {r['rc']} (expected 0) or unexpected output (expected {self.expect_text!r})\n"
                f"command: {_short(self.cmd)}\nstdout (tail): {r['stdout_tail'][-1500:]}\nstderr (tail): {r['stderr_tail'][-1500:]}"
            )
        return r

    def stats(self) -> dict[str, Any]:
        walls = [s["wall_s"] for s in self.samples]
        return {
            "label": self.label,
            "command": _short(self.cmd),
            "reps": len(walls),
            "wall_s": walls,
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "cpu_s_median": statistics.median(s["cpu_s"] for s in self.samples),
            "peak_rss_mib_median": statistics.median(s["maxrss_kib"] for s in self.samples) / 1024,
            "exit_codes": [s["rc"] for s in self.samples],
            "summary": self.samples[-1]["summary"] if self.samples else None,
            "expected_output": self.expect_text,
        }


def run_group(cases: list[Case], *, warmup: list[Case] = (), log: Callable[[str], None]) -> None:  # type: ignore[assignment]
    """Run the cases round-robin (so drift of the machine hits all alike) until each has its reps."""
    for c in warmup:
        c.measure()
        c.samples.clear()
    rnd = 0
    while any(len(c.samples) < c.reps for c in cases):
        rnd += 1
        for c in cases:
            if len(c.samples) < c.reps:
                r = c.measure()
                log(f"    round {rnd}: {c.label:<44} {r['wall_s']:8.3f} s  rc={r['rc']}")


def summary_is(text: str) -> tuple[Callable[[str], bool], str]:
    return (lambda out: (out.strip().splitlines() or [""])[-1] == text), text


def ours_valid(n: int, extra: str = "") -> tuple[Callable[[str], bool], str]:
    return summary_is(f"{n} manifest{'s' if n != 1 else ''} checked: {n} valid, 0 invalid{extra}")


CJ_OK = ((lambda out: "ok -- validation done" in out), "ok -- validation done")
ANY = ((lambda out: True), "(exit code 0)")


# --------------------------------------------------------------------------- facts


def _burn(n: int = 5_000_000) -> int:
    acc = 0
    for i in range(n):
        acc += i * i
    return acc


def _timed_procs(k: int) -> float:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_burn) for _ in range(k)]
    t = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - t


def parallel_capacity(reps: int = 3) -> dict[str, Any]:
    """How many CPU-bound Python processes really run at once: k * t(1) / t(k), k = cores (ideal: k).

    On a shared VM the vCPUs may not all be usable at full speed; this tells how much the
    ``--jobs 0`` figures can gain from several processes on this machine, at this moment.
    """
    k = os.cpu_count() or 1
    one = statistics.median(_timed_procs(1) for _ in range(reps))
    many = statistics.median(_timed_procs(k) for _ in range(reps))
    return {"processes": k, "t1_s": one, "tk_s": many, "effective_parallelism": k * one / many}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = 0
    # Is ruamel.yaml's C extension loaded, and does the manifest loader use it?
    try:
        from ruamel.yaml import CParser  # noqa: F401

        clib = True
    except ImportError:
        clib = False
    try:
        from manifest.parse import _yaml  # private; only to report which parser is in use

        parser = f"{_yaml().Parser.__module__}.{_yaml().Parser.__name__}"
    except Exception as exc:  # noqa: BLE001
        parser = f"unknown ({exc})"
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem / 1024**3, 1),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": PY,
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": {
            d: _version(d)
            for d in ("experiment-manifest", "jsonschema-rs", "jsonschema", "check-jsonschema", "ruamel.yaml", "ruamel.yaml.clib", "click")
        },
        "ruamel_c_extension_loaded": clib,
        "manifest_yaml_parser": parser,
        "bytecode": f"children run with PYTHONPYCACHEPREFIX={ENV['PYTHONPYCACHEPREFIX']} (PYTHONDONTWRITEBYTECODE as found: {BYTECODE_ENV_AS_FOUND!r}, removed)",
    }


# --------------------------------------------------------------------------- printing


def s(x: float) -> str:
    return f"{x:.3f} s" if x < 10 else f"{x:.2f} s"


def mib(kib_or_mib: float) -> str:
    return f"{kib_or_mib:,.0f} MiB" if kib_or_mib >= 10 else f"{kib_or_mib:.1f} MiB"


def size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} MiB ({n:,} B)"
    return f"{n / 1024:.1f} KiB ({n:,} B)"


def row(c: Case, *extra: Any) -> list[Any]:
    st = c.stats()
    return [c.label, s(st["median_s"]), s(st["min_s"]), s(st["max_s"]), f"{st['cpu_s_median']:.2f} s", mib(st["peak_rss_mib_median"]), *extra]


def anatomy(mode: str, arg: str) -> dict[str, Any]:
    p = subprocess.run([PY, str(HERE / "anatomy.py"), mode, arg], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        raise RunFailed(f"anatomy {mode} {arg} failed:\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["validate", "export-import", "all"], default="all", help="which benchmarks to run (default: all: validate, then export-import)")
    ap.add_argument("--quick", action="store_true", help="smoke run (figures not comparable): validate: 100 files, 100,000 points, 2 repetitions; export-import: 100,000 and 200,000 points, 1 repetition")
    ap.add_argument("--regen", action="store_true", help="regenerate the validate inputs even if the cached ones are current")
    ap.add_argument("--inputs", type=Path, default=None, help="where the validate inputs go (default .bench/validate/inputs)")
    ap.add_argument("--json", type=Path, default=None, help="validate results file (default .bench/validate.json)")
    ap.add_argument("--exim-json", type=Path, default=None, help="export-import results file (default .bench/export_import.json)")
    ap.add_argument("--exim-reps", type=int, default=None, help="export-import: runs per export case (default 3)")
    ap.add_argument("--exim-fetch-sweep-reps", type=int, default=None, help="export-import: runs per point of the export-concurrency sweep (default 2)")
    ap.add_argument("--exim-import-reps", type=int, default=None, help="export-import: runs per import case, 22-67 s each on a server (default 2)")
    ap.add_argument("--exim-sweep-reps", type=int, default=None, help="export-import: runs per point of the import-concurrency sweep (default 1)")
    ap.add_argument("--exim-big-reps", type=int, default=None, help="export-import: runs of the 1,000,000-point import and export (default 1)")
    ap.add_argument("--exim-keep", action="store_true", help="export-import: keep the stores and exports in .bench/exim/ (about 1 GB) after a successful run")
    args = ap.parse_args()

    rc = 0
    if args.only in ("validate", "all"):
        rc = validate_main(args)
    if args.only in ("export-import", "all"):
        import exim  # benchmarks/exim.py

        if args.only == "all":
            print("\n")
        one = 1 if args.quick else None
        rc2 = exim.run(
            quick=args.quick,
            reps=args.exim_reps or one or 3,
            fetch_reps=args.exim_fetch_sweep_reps or one or 2,
            import_reps=args.exim_import_reps or one or 2,
            sweep_reps=args.exim_sweep_reps or 1,
            big_reps=args.exim_big_reps or 1,
            json_out=args.exim_json or ROOT / ".bench" / ("export_import-quick.json" if args.quick else "export_import.json"),
            log=lambda msg: print(msg, flush=True),
            keep=args.exim_keep,
        )
        rc = rc or rc2
    return rc


def validate_main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    n_files, n_points = (100, 100_000) if args.quick else (1000, 1_000_000)
    fast, slow = (2, 2) if args.quick else (7, 3)
    bulk_ours = 2 if args.quick else 5
    in_dir = args.inputs or ROOT / ".bench" / ("validate-quick" if args.quick else "validate") / "inputs"
    json_out = args.json or ROOT / ".bench" / ("validate-quick.json" if args.quick else "validate.json")
    for exe in (MANIFEST, CHECK_JSONSCHEMA):
        if not Path(exe).exists():
            print(f"bench: {exe} not found; run with the virtualenv's python (make bench)", file=sys.stderr)
            return 2

    def log(msg: str) -> None:
        print(msg, flush=True)

    results: dict[str, Any] = {"parameters": {"files": n_files, "history_points": n_points, "reps_fast": fast, "reps_slow": slow, "quick": args.quick}}
    facts = machine_facts()
    results["machine"] = facts
    v = facts["versions"]
    print("== Machine")
    print(f"cores: {facts['cores']} (usable by this process: {facts['usable_cores']}); CPU: {facts['cpu_model'] or '?'}; memory: {facts['memory_gib']} GiB")
    print(f"{facts['python']} ({PY}); {facts['platform']}")
    print(f"experiment-manifest {v['experiment-manifest']}; jsonschema-rs {v['jsonschema-rs']}; jsonschema {v['jsonschema']}; check-jsonschema {v['check-jsonschema']}; click {v['click']}")
    print(
        f"ruamel.yaml {v['ruamel.yaml']}; ruamel.yaml.clib {v['ruamel.yaml.clib']}; C extension loaded: {'yes' if facts['ruamel_c_extension_loaded'] else 'NO'}"
        f" (manifest's YAML parser: {facts['manifest_yaml_parser']}; check-jsonschema also loads YAML with ruamel.yaml typ=safe, C parser when present)"
    )
    print(f"bytecode: {facts['bytecode']}")
    cap = parallel_capacity()
    facts["parallel_capacity_at_start"] = cap
    la = facts["loadavg_at_start"]
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in la) if la else '?'}   MLFLOW_DISABLE_TELEMETRY=true")
    print(
        f"parallel capacity: {cap['processes']} CPU-bound Python processes at once run {cap['effective_parallelism']:.2f}x as fast as one "
        f"(ideal {cap['processes']}.00; {s(cap['t1_s'])} alone vs {s(cap['tk_s'])} for {cap['processes']}) - bounds what --jobs 0 can gain here"
    )
    print()

    layout = inputs.generate(in_dir, n_files=n_files, n_points=n_points, force=args.regen, log=log)
    results["inputs"] = {"dir": str(in_dir), "bulk": {k: {kk: vv for kk, vv in b.items() if kk != "files"} for k, b in layout["bulk"].items()}, "history": layout["history"]}
    all_cases: list[Case] = []
    try:
        # ------------------------------------------------------------------ 1. cold single file
        print(f"\n== 1. Cold single-file validation ({IRIS}, {size(Path(ROOT / IRIS).stat().st_size)}): fresh process, {fast} runs each, after 1 warm-up")
        floor = Case("floor", "python -c pass (floor)", [PY, "-c", "pass"], fast, *ANY)
        ours1 = Case("ours", "manifest validate FILE", [MANIFEST, "validate", IRIS], fast, *ours_valid(1))
        cj1 = Case("check_jsonschema", "check-jsonschema --schemafile S FILE", [CHECK_JSONSCHEMA, "--schemafile", SCHEMA, IRIS], fast, *CJ_OK)
        cold = [floor, ours1, cj1]
        for c in cold:
            c.section = "1"
        all_cases += cold
        run_group(cold, warmup=cold, log=log)
        fm, om, cm = (c.stats()["median_s"] for c in cold)
        print()
        print(table(["command", "median", "min", "max", "CPU", "peak RSS", "vs floor"], [row(c, f"{c.stats()['median_s'] / fm:.1f}x") for c in cold]))
        ok1 = om <= COLD_TARGET_S
        print(f"ours above the interpreter floor: {s(om - fm)};  check-jsonschema / ours: {cm / om:.2f}x;  check-jsonschema above floor / ours above floor: {(cm - fm) / (om - fm):.2f}x")
        print(f"target: ours <= {COLD_TARGET_S} s -> {'PASS' if ok1 else 'FAIL'} ({s(om)})")
        an = anatomy("cold", IRIS)
        print("\nwhere a cold run's time goes (in-process phases in a fresh interpreter, one run; the interpreter start itself is the floor above):")
        print(table(["phase", "time"], [[k, f"{1000 * t:.2f} ms"] for k, t in an["phases_s"].items()] + [["sum (excluding the indented lines)", f"{1000 * an['sum_s']:.2f} ms"]]))
        results["cold"] = {
            "file": IRIS,
            "cases": {c.key: c.stats() for c in cold},
            "ours_minus_floor_s": om - fm,
            "ratio_check_jsonschema_over_ours": cm / om,
            "ratio_ours_over_floor": om / fm,
            "target_s": COLD_TARGET_S,
            "target_met": ok1,
            "anatomy": an,
        }

        # ------------------------------------------------------------------ 2. many files
        results["bulk"] = {}
        for fmt in ("json", "yaml"):
            b = layout["bulk"][fmt]
            n = b["count"]
            d = os.path.relpath(b["dir"], ROOT) if b["dir"].startswith(str(ROOT)) else b["dir"]
            print(f"\n== 2{'a' if fmt == 'json' else 'b'}. One call validating {n:,} {fmt.upper()} manifests (variants of the iris example, {b['bytes'] / n / 1024:.1f} KiB each on average, {size(b['bytes'])} in all)")
            print(f"   ours {bulk_ours} runs each (after 1 warm-up), check-jsonschema {slow} runs; all files passed to check-jsonschema in one call")
            o = Case(f"ours_{fmt}", f"manifest validate DIR (--jobs 0: {os.cpu_count()} procs)", [MANIFEST, "validate", d], bulk_ours, *ours_valid(n))
            o1 = Case(f"ours_{fmt}_jobs1", "manifest validate DIR --jobs 1", [MANIFEST, "validate", "--jobs", "1", d], bulk_ours, *ours_valid(n))
            cj = Case(f"cj_{fmt}", "check-jsonschema --schemafile S FILES...", [CHECK_JSONSCHEMA, "--schemafile", SCHEMA, *b["files"]], slow, *CJ_OK)
            group = [o, o1, cj]
            for c in group:
                c.section = f"2{'a' if fmt == 'json' else 'b'} {fmt}"
            all_cases += group
            run_group(group, warmup=[o, o1], log=log)
            om, o1m, cm = (c.stats()["median_s"] for c in group)
            print()
            print(table(["command", "median", "min", "max", "CPU", "peak RSS*", "ms/file", "files/s"], [row(c, f"{1000 * c.stats()['median_s'] / n:.2f}", f"{n / c.stats()['median_s']:,.0f}") for c in group]))
            ok2 = cm / om >= BULK_TARGET_RATIO
            print("* largest single process (with --jobs 0: the parent or one worker), not the sum")
            print(f"check-jsonschema / ours (all cores):  {cm / om:5.2f}x   target >= {BULK_TARGET_RATIO:.0f}x -> {'PASS' if ok2 else 'FAIL'}")
            print(f"check-jsonschema / ours (--jobs 1):   {cm / o1m:5.2f}x   (one process each: the gain from the engine and code alone)")
            print(f"ours --jobs 1 / ours (all cores):     {o1m / om:5.2f}x   (the gain from {os.cpu_count()} processes; this machine's parallel capacity: {cap['effective_parallelism']:.2f}x)")
            an = anatomy("bulk", b["dir"])
            tot = an["parse_s"] + an["schema_s"] + an["rules_s"]
            print(f"\nwhere ours spends its time (one warm process, {an['files']} files; process start, directory walk and pool not included):")
            print(
                table(
                    ["phase", "total", "per file", "share"],
                    [
                        [f"read + {fmt.upper()} parse + tree checks (load_path)", s(an["parse_s"]), f"{1000 * an['parse_s'] / n:.3f} ms", f"{100 * an['parse_s'] / tot:.0f} %"],
                        ["version + JSON Schema (jsonschema-rs)", s(an["schema_s"]), f"{1000 * an['schema_s'] / n:.3f} ms", f"{100 * an['schema_s'] / tot:.0f} %"],
                        ["cross-field rules", s(an["rules_s"]), f"{1000 * an['rules_s'] / n:.3f} ms", f"{100 * an['rules_s'] / tot:.0f} %"],
                        ["validate_paths(DIR, jobs=1) in-process, for comparison", s(an["validate_paths_jobs1_s"]), f"{1000 * an['validate_paths_jobs1_s'] / n:.3f} ms", ""],
                    ],
                )
            )
            results["bulk"][fmt] = {
                "files": n,
                "bytes": b["bytes"],
                "cases": {c.key: c.stats() for c in group},
                "ratio_check_jsonschema_over_ours": cm / om,
                "ratio_check_jsonschema_over_ours_jobs1": cm / o1m,
                "ratio_jobs1_over_parallel": o1m / om,
                "target_ratio": BULK_TARGET_RATIO,
                "target_met": ok2,
                "anatomy": an,
            }

        # ------------------------------------------------------------------ 3. long history
        h = layout["history"]
        rel = lambda p: os.path.relpath(p, ROOT) if p.startswith(str(ROOT)) else p  # noqa: E731
        sizes = {k: Path(h[k]).stat().st_size for k in ("inline_yaml", "inline_json", "sidecar_manifest", "sidecar_file")}
        print(f"\n== 3. One metric with {h['points']:,} history points: {slow} runs each (no warm-up); peak RSS of the child via getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per run")
        hist_cases = []
        limit_notes = []
        for key, label, path in (("inline_yaml", "a. inline, YAML", h["inline_yaml"]), ("inline_json", "b. inline, JSON", h["inline_json"])):
            opts: list[str] = []
            if sizes[key] > DEFAULT_LIMIT:
                opts = ["--max-file-size", f"{math.ceil(sizes[key] / MiB) + 1}M"]
                limit_notes.append(f"{label}: file is {size(sizes[key])}, over the default 64 MiB limit: passed {' '.join(opts)}")
            hist_cases.append(Case(key, label, [MANIFEST, "validate", *opts, rel(path)], slow, *ours_valid(1)))
        hist_cases.append(Case("sidecar", "c. sidecar: manifest FILE passed", [MANIFEST, "validate", rel(h["sidecar_manifest"])], slow, *ours_valid(1)))
        hist_cases.append(
            Case("sidecar_dir", "c'. sidecar: its DIRECTORY passed", [MANIFEST, "validate", rel(h["sidecar_dir"])], slow, *ours_valid(1, "; 1 history file checked with their manifests"))
        )
        for c in hist_cases:
            c.section = "3"
        all_cases += hist_cases
        run_group(hist_cases, log=log)
        files_of = {
            "inline_yaml": size(sizes["inline_yaml"]),
            "inline_json": size(sizes["inline_json"]),
            "sidecar": f"{size(sizes['sidecar_manifest'])} + sidecar {size(sizes['sidecar_file'])}",
            "sidecar_dir": "(same two files)",
        }
        print()
        print(table(["case", "median", "min", "max", "CPU", "peak RSS", "input"], [row(c, files_of[c.key]) for c in hist_cases], align="lrrrrrl"))
        print("\n".join(limit_notes) if limit_notes else "all inputs are under the default 64 MiB limit: no --max-file-size was passed")
        print("c' passes the directory: the walk recognises the canonical sidecar by its first bytes and does not parse it as a candidate manifest; the manifest's check reads it once")
        results["history"] = {
            "points": h["points"],
            "file_sizes_bytes": sizes,
            "max_file_size_option": limit_notes or None,
            "rss_method": "getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per run (KiB on Linux; delta from 0)",
            "cases": {c.key: c.stats() for c in hist_cases},
        }
    except RunFailed as exc:
        print(f"\nBENCHMARK INVALID: {exc}", file=sys.stderr)
        results["error"] = str(exc)
        results["exit_codes"] = {c.key: [x["rc"] for x in c.samples] for c in all_cases}
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(results, indent=2))
        return 1

    # ---------------------------------------------------------------------- 4. exit codes
    print("\n== 4. Exit codes and output of every timed run (warm-ups included in the check, not in the figures)")
    rows = []
    for c in all_cases:
        codes = [x["rc"] for x in c.samples]
        rows.append([c.section, c.label, " ".join(map(str, codes)), "yes" if all(x["as_expected"] for x in c.samples) else "NO", c.expect_text])
    print(table(["", "run", "exit codes", "output as expected", "expected last line / text"], rows, align="lllll"))
    all_ok = all(x["rc"] == 0 and x["as_expected"] for c in all_cases for x in c.samples)
    print(f"all {sum(len(c.samples) for c in all_cases)} timed runs exited 0 and reported every manifest valid: {'yes' if all_ok else 'NO'}")
    results["all_runs_valid"] = all_ok

    print("\n== Summary")
    c, b = results["cold"], results["bulk"]
    print(f"cold single file: ours {s(c['cases']['ours']['median_s'])} (target <= {COLD_TARGET_S} s: {'PASS' if c['target_met'] else 'FAIL'}), check-jsonschema {c['ratio_check_jsonschema_over_ours']:.1f}x slower")
    for fmt in ("json", "yaml"):
        print(
            f"{b[fmt]['files']:,} {fmt.upper()} files: check-jsonschema / ours = {b[fmt]['ratio_check_jsonschema_over_ours']:.2f}x "
            f"(target >= {BULK_TARGET_RATIO:.0f}x: {'PASS' if b[fmt]['target_met'] else 'FAIL'}); with --jobs 1: {b[fmt]['ratio_check_jsonschema_over_ours_jobs1']:.2f}x"
        )
    hc = results["history"]["cases"]
    print(f"{results['history']['points']:,}-point history: " + "; ".join(f"{hc[k]['label']} {s(hc[k]['median_s'])}, {mib(hc[k]['peak_rss_mib_median'])}" for k in ("inline_yaml", "inline_json", "sidecar")))
    cap_end = parallel_capacity()
    results["machine"]["parallel_capacity_at_end"] = cap_end
    print(f"parallel capacity at the end: {cap_end['effective_parallelism']:.2f}x of an ideal {cap_end['processes']}.00 (at the start: {cap['effective_parallelism']:.2f}x)")
    elapsed = time.perf_counter() - started
    results["elapsed_s"] = elapsed
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {os.path.relpath(json_out, ROOT) if str(json_out).startswith(str(ROOT)) else json_out}; total wall time {elapsed:.0f} s")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
