"""Printing of the validate part: the tables of each section, the exit-code check and the summary."""

from __future__ import annotations

import os
from typing import Any

from .common import mebibytes, seconds, table
from .validate_cases import ValidateCase

MiB = 1024 * 1024


def size(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} MiB ({n:,} B)"
    return f"{n / 1024:.1f} KiB ({n:,} B)"


def row(c: ValidateCase, *extra: Any) -> list[Any]:
    st = c.stats()
    return [c.label, seconds(st["median_s"]), seconds(st["min_s"]), seconds(st["max_s"]), f"{st['cpu_s_median']:.2f} s", mebibytes(st["peak_rss_mib_median"]), *extra]


def print_cold(cold: list[ValidateCase], res: dict[str, Any]) -> None:
    fm, om, cm = (c.stats()["median_s"] for c in cold)
    print()
    print(table(["command", "median", "min", "max", "CPU", "peak RSS", "vs floor"], [row(c, f"{c.stats()['median_s'] / fm:.1f}x") for c in cold]))
    print(f"ours above the interpreter floor: {seconds(om - fm)};  check-jsonschema / ours: {cm / om:.2f}x;  check-jsonschema above floor / ours above floor: {(cm - fm) / (om - fm):.2f}x")
    print(f"target: ours <= {res['target_s']} s -> {'PASS' if res['target_met'] else 'FAIL'} ({seconds(om)})")


def print_cold_anatomy(an: dict[str, Any]) -> None:
    print("\nwhere a cold run's time goes (in-process phases in a fresh interpreter, one run; the interpreter start itself is the floor above):")
    print(table(["phase", "time"], [[k, f"{1000 * t:.2f} ms"] for k, t in an["phases_s"].items()] + [["sum (excluding the indented lines)", f"{1000 * an['sum_s']:.2f} ms"]]))


def print_bulk(group: list[ValidateCase], n: int, res: dict[str, Any], capacity: float) -> None:
    print()
    print(table(["command", "median", "min", "max", "CPU", "peak RSS*", "ms/file", "files/s"], [row(c, f"{1000 * c.stats()['median_s'] / n:.2f}", f"{n / c.stats()['median_s']:,.0f}") for c in group]))
    print("* largest single process (with --jobs 0: the parent or one worker), not the sum")
    r, r1, rj = res["ratio_check_jsonschema_over_ours"], res["ratio_check_jsonschema_over_ours_jobs1"], res["ratio_jobs1_over_parallel"]
    print(f"check-jsonschema / ours (all cores):  {r:5.2f}x   target >= {res['target_ratio']:.0f}x -> {'PASS' if res['target_met'] else 'FAIL'}")
    print(f"check-jsonschema / ours (--jobs 1):   {r1:5.2f}x   (one process each: the gain from the engine and code alone)")
    print(f"ours --jobs 1 / ours (all cores):     {rj:5.2f}x   (the gain from {os.cpu_count()} processes; this machine's parallel capacity: {capacity:.2f}x)")


def print_bulk_anatomy(an: dict[str, Any], fmt: str, n: int) -> None:
    tot = an["parse_s"] + an["schema_s"] + an["rules_s"]

    def phase(label: str, t: float, share: bool = True) -> list[str]:
        return [label, seconds(t), f"{1000 * t / n:.3f} ms", f"{100 * t / tot:.0f} %" if share else ""]

    print(f"\nwhere ours spends its time (one warm process, {an['files']} files; process start, directory walk and pool not included):")
    rows = [
        phase(f"read + {fmt.upper()} parse + tree checks (load_path)", an["parse_s"]),
        phase("version + JSON Schema (jsonschema-rs)", an["schema_s"]),
        phase("cross-field rules", an["rules_s"]),
        phase("validate_paths(DIR, jobs=1) in-process, for comparison", an["validate_paths_jobs1_s"], share=False),
    ]
    print(table(["phase", "total", "per file", "share"], rows))


def print_history(cases: list[ValidateCase], files_of: dict[str, str], limit_notes: list[str]) -> None:
    print()
    print(table(["case", "median", "min", "max", "CPU", "peak RSS", "input"], [row(c, files_of[c.key]) for c in cases], align="lrrrrrl"))
    print("\n".join(limit_notes) if limit_notes else "all inputs are under the default 64 MiB limit: no --max-file-size was passed")
    print("c' passes the directory: the walk recognises the canonical sidecar by its first bytes and does not parse it as a candidate manifest; the manifest's check reads it once")


def print_exit_codes(all_cases: list[ValidateCase]) -> bool:
    """Section 4: every timed run's exit codes and whether its output was as expected; True if all were."""
    print("\n== 4. Exit codes and output of every timed run (warm-ups included in the check, not in the figures)")
    rows = []
    for c in all_cases:
        codes = [x["rc"] for x in c.samples]
        rows.append([c.section, c.label, " ".join(map(str, codes)), "yes" if all(x["as_expected"] for x in c.samples) else "NO", c.expect_text])
    print(table(["", "run", "exit codes", "output as expected", "expected last line / text"], rows, align="lllll"))
    all_ok = all(x["rc"] == 0 and x["as_expected"] for c in all_cases for x in c.samples)
    print(f"all {sum(len(c.samples) for c in all_cases)} timed runs exited 0 and reported every manifest valid: {'yes' if all_ok else 'NO'}")
    return all_ok


def print_summary(results: dict[str, Any]) -> None:
    print("\n== Summary")
    c, b = results["cold"], results["bulk"]
    print(f"cold single file: ours {seconds(c['cases']['ours']['median_s'])} (target <= {c['target_s']} s: {'PASS' if c['target_met'] else 'FAIL'}), check-jsonschema {c['ratio_check_jsonschema_over_ours']:.1f}x slower")
    for fmt in ("json", "yaml"):
        print(
            f"{b[fmt]['files']:,} {fmt.upper()} files: check-jsonschema / ours = {b[fmt]['ratio_check_jsonschema_over_ours']:.2f}x "
            f"(target >= {b[fmt]['target_ratio']:.0f}x: {'PASS' if b[fmt]['target_met'] else 'FAIL'}); with --jobs 1: {b[fmt]['ratio_check_jsonschema_over_ours_jobs1']:.2f}x"
        )
    hc = results["history"]["cases"]
    print(f"{results['history']['points']:,}-point history: " + "; ".join(f"{hc[k]['label']} {seconds(hc[k]['median_s'])}, {mebibytes(hc[k]['peak_rss_mib_median'])}" for k in ("inline_yaml", "inline_json", "sidecar")))
