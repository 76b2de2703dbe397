"""The validate part: sections 1-4 (cold single file, many files, a long history, exit codes), each
a group of :class:`~benchmarks.validate_cases.ValidateCase` run round-robin; the results go to
``.bench/validate.json``. Run through ``python -m benchmarks.run --only validate``."""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import inputs, machine
from . import validate_report as report
from .common import BIN, HERE, MANIFEST, PY, ROOT, RunFailed, last_json, log, rel_to_root, write_json
from .validate_cases import ANY, CJ_OK, ENV, ValidateCase, ours_valid, run_group

CHECK_JSONSCHEMA = str(BIN / "check-jsonschema")
SCHEMA = "schemas/manifest-1.0.schema.json"
IRIS = "examples/iris/manifest.yaml"
DEFAULT_LIMIT = 64 * 1024 * 1024  # manifest validate --max-file-size default (64M)

# Targets from the brief.
COLD_TARGET_S = 0.2
BULK_TARGET_RATIO = 2.0


@dataclass
class Settings:
    quick: bool
    regen: bool
    n_files: int
    n_points: int
    fast: int  # runs of the fast commands
    slow: int  # runs of check-jsonschema on many files and of the long-history cases
    bulk_ours: int  # runs of ours on many files
    in_dir: Path
    json_out: Path

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        n_files, n_points = (100, 100_000) if args.quick else (1000, 1_000_000)
        fast, slow = (2, 2) if args.quick else (7, 3)
        return cls(
            quick=args.quick,
            regen=args.regen,
            n_files=n_files,
            n_points=n_points,
            fast=fast,
            slow=slow,
            bulk_ours=2 if args.quick else 5,
            in_dir=args.inputs or ROOT / ".bench" / ("validate-quick" if args.quick else "validate") / "inputs",
            json_out=args.json or ROOT / ".bench" / ("validate-quick.json" if args.quick else "validate.json"),
        )


def anatomy_of(mode: str, arg: str) -> dict[str, Any]:
    """``anatomy.py MODE ARG`` in a fresh interpreter (run by path: it imports no sibling module)."""
    p = subprocess.run([PY, str(HERE / "anatomy.py"), mode, arg], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if p.returncode != 0:
        raise RunFailed(f"anatomy {mode} {arg} failed:\n{p.stdout}\n{p.stderr}")
    return last_json(p.stdout)


def _in_section(cases: list[ValidateCase], section: str, all_cases: list[ValidateCase]) -> list[ValidateCase]:
    for c in cases:
        c.section = section
    all_cases += cases
    return cases


# --------------------------------------------------------------------------- 1. cold single file


def cold_section(st: Settings, all_cases: list[ValidateCase]) -> dict[str, Any]:
    fast = st.fast
    print(f"\n== 1. Cold single-file validation ({IRIS}, {report.size(Path(ROOT / IRIS).stat().st_size)}): fresh process, {fast} runs each, after 1 warm-up")
    floor = ValidateCase("floor", "python -c pass (floor)", [PY, "-c", "pass"], fast, *ANY)
    ours1 = ValidateCase("ours", "manifest validate FILE", [MANIFEST, "validate", IRIS], fast, *ours_valid(1))
    cj1 = ValidateCase("check_jsonschema", "check-jsonschema --schemafile S FILE", [CHECK_JSONSCHEMA, "--schemafile", SCHEMA, IRIS], fast, *CJ_OK)
    cold = _in_section([floor, ours1, cj1], "1", all_cases)
    run_group(cold, warmup=cold, log=log)
    fm, om, cm = (c.stats()["median_s"] for c in cold)
    res: dict[str, Any] = {
        "file": IRIS,
        "cases": {c.key: c.stats() for c in cold},
        "ours_minus_floor_s": om - fm,
        "ratio_check_jsonschema_over_ours": cm / om,
        "ratio_ours_over_floor": om / fm,
        "target_s": COLD_TARGET_S,
        "target_met": om <= COLD_TARGET_S,
    }
    report.print_cold(cold, res)
    res["anatomy"] = an = anatomy_of("cold", IRIS)
    report.print_cold_anatomy(an)
    return res


# --------------------------------------------------------------------------- 2. many files


def bulk_section(st: Settings, fmt: str, b: dict[str, Any], capacity: float, all_cases: list[ValidateCase]) -> dict[str, Any]:
    n = b["count"]
    d = rel_to_root(b["dir"])
    part = f"2{'a' if fmt == 'json' else 'b'}"
    print(f"\n== {part}. One call validating {n:,} {fmt.upper()} manifests (variants of the iris example, {b['bytes'] / n / 1024:.1f} KiB each on average, {report.size(b['bytes'])} in all)")
    print(f"   ours {st.bulk_ours} runs each (after 1 warm-up), check-jsonschema {st.slow} runs; all files passed to check-jsonschema in one call")
    o = ValidateCase(f"ours_{fmt}", f"manifest validate DIR (--jobs 0: {os.cpu_count()} procs)", [MANIFEST, "validate", d], st.bulk_ours, *ours_valid(n))
    o1 = ValidateCase(f"ours_{fmt}_jobs1", "manifest validate DIR --jobs 1", [MANIFEST, "validate", "--jobs", "1", d], st.bulk_ours, *ours_valid(n))
    cj = ValidateCase(f"cj_{fmt}", "check-jsonschema --schemafile S FILES...", [CHECK_JSONSCHEMA, "--schemafile", SCHEMA, *b["files"]], st.slow, *CJ_OK)
    group = _in_section([o, o1, cj], f"{part} {fmt}", all_cases)
    run_group(group, warmup=[o, o1], log=log)
    om, o1m, cm = (c.stats()["median_s"] for c in group)
    res: dict[str, Any] = {
        "files": n,
        "bytes": b["bytes"],
        "cases": {c.key: c.stats() for c in group},
        "ratio_check_jsonschema_over_ours": cm / om,
        "ratio_check_jsonschema_over_ours_jobs1": cm / o1m,
        "ratio_jobs1_over_parallel": o1m / om,
        "target_ratio": BULK_TARGET_RATIO,
        "target_met": cm / om >= BULK_TARGET_RATIO,
    }
    report.print_bulk(group, n, res, capacity)
    res["anatomy"] = an = anatomy_of("bulk", b["dir"])
    report.print_bulk_anatomy(an, fmt, n)
    return res


# --------------------------------------------------------------------------- 3. long history


def _inline_cases(st: Settings, h: dict[str, Any], sizes: dict[str, int], limit_notes: list[str]) -> list[ValidateCase]:
    """(a) and (b); a file over the default size limit is given a large enough ``--max-file-size`` (noted)."""
    cases = []
    for key, label in (("inline_yaml", "a. inline, YAML"), ("inline_json", "b. inline, JSON")):
        opts: list[str] = []
        if sizes[key] > DEFAULT_LIMIT:
            opts = ["--max-file-size", f"{math.ceil(sizes[key] / report.MiB) + 1}M"]
            limit_notes.append(f"{label}: file is {report.size(sizes[key])}, over the default 64 MiB limit: passed {' '.join(opts)}")
        cases.append(ValidateCase(key, label, [MANIFEST, "validate", *opts, rel_to_root(h[key])], st.slow, *ours_valid(1)))
    return cases


def history_section(st: Settings, h: dict[str, Any], all_cases: list[ValidateCase]) -> dict[str, Any]:
    sizes = {k: Path(h[k]).stat().st_size for k in ("inline_yaml", "inline_json", "sidecar_manifest", "sidecar_file")}
    print(f"\n== 3. One metric with {h['points']:,} history points: {st.slow} runs each (no warm-up); peak RSS of the child via getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per run")
    limit_notes: list[str] = []
    hist_cases = _inline_cases(st, h, sizes, limit_notes)
    hist_cases.append(ValidateCase("sidecar", "c. sidecar: manifest FILE passed", [MANIFEST, "validate", rel_to_root(h["sidecar_manifest"])], st.slow, *ours_valid(1)))
    hist_cases.append(
        ValidateCase("sidecar_dir", "c'. sidecar: its DIRECTORY passed", [MANIFEST, "validate", rel_to_root(h["sidecar_dir"])], st.slow, *ours_valid(1, "; 1 history file checked with their manifests"))
    )
    _in_section(hist_cases, "3", all_cases)
    run_group(hist_cases, log=log)
    files_of = {
        "inline_yaml": report.size(sizes["inline_yaml"]),
        "inline_json": report.size(sizes["inline_json"]),
        "sidecar": f"{report.size(sizes['sidecar_manifest'])} + sidecar {report.size(sizes['sidecar_file'])}",
        "sidecar_dir": "(same two files)",
    }
    report.print_history(hist_cases, files_of, limit_notes)
    return {
        "points": h["points"],
        "file_sizes_bytes": sizes,
        "max_file_size_option": limit_notes or None,
        "rss_method": "getrusage(RUSAGE_CHILDREN).ru_maxrss in a fresh helper process per run (KiB on Linux; delta from 0)",
        "cases": {c.key: c.stats() for c in hist_cases},
    }


# --------------------------------------------------------------------------- the part


def _machine(results: dict[str, Any]) -> dict[str, Any]:
    """Print the machine facts and the parallel capacity at the start (both go into ``results``)."""
    facts = machine.machine_facts(ENV["PYTHONPYCACHEPREFIX"])
    results["machine"] = facts
    machine.print_facts(facts)
    cap = machine.parallel_capacity()
    facts["parallel_capacity_at_start"] = cap
    machine.print_capacity(facts, cap)
    return cap


def _measure_sections(st: Settings, layout: dict[str, Any], cap: dict[str, Any], results: dict[str, Any], all_cases: list[ValidateCase]) -> None:
    """Sections 1-3, in order; a failed run raises :class:`RunFailed`."""
    results["cold"] = cold_section(st, all_cases)
    results["bulk"] = {}
    for fmt in ("json", "yaml"):
        results["bulk"][fmt] = bulk_section(st, fmt, layout["bulk"][fmt], cap["effective_parallelism"], all_cases)
    results["history"] = history_section(st, layout["history"], all_cases)


def validate_main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    st = Settings.from_args(args)
    for exe in (MANIFEST, CHECK_JSONSCHEMA):
        if not Path(exe).exists():
            print(f"bench: {exe} not found; run with the virtualenv's python (make bench)", file=sys.stderr)
            return 2
    results: dict[str, Any] = {"parameters": {"files": st.n_files, "history_points": st.n_points, "reps_fast": st.fast, "reps_slow": st.slow, "quick": st.quick}}
    cap = _machine(results)
    layout = inputs.generate(st.in_dir, n_files=st.n_files, n_points=st.n_points, force=st.regen, log=log)
    results["inputs"] = {"dir": str(st.in_dir), "bulk": {k: {kk: vv for kk, vv in b.items() if kk != "files"} for k, b in layout["bulk"].items()}, "history": layout["history"]}
    all_cases: list[ValidateCase] = []
    try:
        _measure_sections(st, layout, cap, results, all_cases)
    except RunFailed as exc:
        print(f"\nBENCHMARK INVALID: {exc}", file=sys.stderr)
        results["error"] = str(exc)
        results["exit_codes"] = {c.key: [x["rc"] for x in c.samples] for c in all_cases}
        write_json(st.json_out, results)
        return 1

    all_ok = report.print_exit_codes(all_cases)
    results["all_runs_valid"] = all_ok
    report.print_summary(results)
    cap_end = machine.parallel_capacity()
    results["machine"]["parallel_capacity_at_end"] = cap_end
    print(f"parallel capacity at the end: {cap_end['effective_parallelism']:.2f}x of an ideal {cap_end['processes']}.00 (at the start: {cap['effective_parallelism']:.2f}x)")
    elapsed = time.perf_counter() - started
    results["elapsed_s"] = elapsed
    write_json(st.json_out, results)
    print(f"\nresults written to {rel_to_root(str(st.json_out))}; total wall time {elapsed:.0f} s")
    return 0 if all_ok else 1
