"""Printing of the export/import part: the table of each group of cases, the ratios against the
targets, the table of every timed run's exit codes and checks, and the summary."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from .common import mebibytes, seconds, table, verdict
from .exim_cases import EximCase
from .exim_stores import STORES, WHAT

# Targets from the brief.
PEER_RATIO_TARGET = 2.0  # peer / ours >= 2
FLOOR_RATIO_TARGET = 1.0  # ours / floor <= 1 (never slower than the bare loop)

secs = partial(seconds, places=(2, 1), switch=100.0)


def rss(kib: float | None) -> str:
    return mebibytes(None if kib is None else kib / 1024, fine_below=0.0)


# --------------------------------------------------------------------------- a group of cases


def _row(c: EximCase, loop_col: bool, call_col: bool) -> list[Any]:
    st = c.stats()
    if c.failure is not None and not c.samples:
        return [c.label, 0, "FAILED", "", "", *([""] if loop_col else []), *([""] if call_col else []), "", "", "", ""]
    r = [c.label, st["reps"], secs(st["median_s"]), secs(st["min_s"]), secs(st["max_s"])]
    if loop_col:
        r.append(secs(st.get("loop_s_median")))
    if call_col:
        r.append(f"{secs(st.get('call_s_median'))} ({st['call_s_min']:.2f}-{st['call_s_max']:.2f})" if st.get("call_s_median") is not None else "-")
    share = f"{100 * st['server_cpu_s_median'] / st['median_s']:.0f} %" if st["server_cpu_s_median"] is not None else "-"
    return r + [secs(st["client_cpu_s_median"]), secs(st["server_cpu_s_median"]), share, rss(st["peak_rss_kib_median"])]


def print_group(log: Callable[[str], None], title: str, cases: list[EximCase], *, loop_col: bool = False, call_col: bool = False) -> None:
    headers = ["case", "n", "median", "min", "max"]
    if loop_col:
        headers.append("loop alone (median)")
    if call_col:
        headers.append("call alone (median, min-max)")
    headers += ["client CPU", "server CPU", "server CPU/wall", "peak RSS"]
    log(f"\n{title}")
    log(table(headers, [_row(c, loop_col, call_col) for c in cases]))


def _peer_ratio(o: dict[str, Any], peer: EximCase, out: dict[str, Any], lines: list[str]) -> None:
    if peer.samples:
        p = peer.stats()
        r = p["median_s"] / o["median_s"]
        out.update(peer_median_s=p["median_s"], peer_over_ours=r, peer_target=PEER_RATIO_TARGET, peer_target_met=r >= PEER_RATIO_TARGET)
        lines.append(f"peer / ours:                       {r:5.2f}x   target >= {PEER_RATIO_TARGET:.0f}x -> {verdict(r >= PEER_RATIO_TARGET)}")
    else:
        out.update(peer_failed=peer.stats().get("failed"), peer_target_met=None)
        lines.append(f"peer / ours:                       n/a     the peer failed: {peer.failure.get('error_line') if peer.failure else '?'}")


def ratios(log: Callable[[str], None], ours: EximCase, peer: EximCase | None, floor: EximCase) -> dict[str, Any]:
    """peer / ours and ours / floor (process vs process, and against the floor's loop alone), logged with their targets."""
    o = ours.stats()
    f = floor.stats()
    out: dict[str, Any] = {"ours_median_s": o["median_s"], "floor_process_median_s": f["median_s"], "floor_loop_median_s": f.get("loop_s_median")}
    lines: list[str] = []
    if peer is not None:
        _peer_ratio(o, peer, out, lines)
    r1 = o["median_s"] / f["median_s"]
    out.update(ours_over_floor_process=r1, floor_target_met=r1 <= FLOOR_RATIO_TARGET)
    lines.append(f"ours / floor (process vs process): {r1:5.2f}x   target <= 1.00x (never slower) -> {verdict(r1 <= FLOOR_RATIO_TARGET)}")
    if f.get("loop_s_median"):
        r2 = o["median_s"] / f["loop_s_median"]
        out.update(ours_over_floor_loop=r2, floor_loop_target_met=r2 <= FLOOR_RATIO_TARGET)
        lines.append(f"ours (whole process) / floor loop alone: {r2:5.2f}x   stricter reading -> {verdict(r2 <= FLOOR_RATIO_TARGET)}")
    for ln in lines:
        log(ln)
    return out


def log_relative_to_4(log: Callable[[str], None], what: str, sweep: list[EximCase], base_key: str) -> None:
    """Each point of a concurrency sweep against workers=4 (the default, case ``base_key``)."""
    base = next(c for c in sweep if c.key == base_key).stats()["call_s_median"]
    log(f"relative to workers=4 (the {what} default, --jobs 4): " + ", ".join(f"N={c.key.rsplit('_', 1)[1]}: {c.stats()['call_s_median'] / base:.2f}x" for c in sweep))


def log_big(log: Callable[[str], None], big: dict[str, EximCase], small: dict[str, dict[str, Any]], n_big: int, n_small: int) -> None:
    """The 1M-point figures against those of the source run (same store, same tool)."""
    for what, c in big.items():
        st, sm = c.stats(), small[what]
        log(f"{what}: {n_big:,} points {secs(st['median_s'])}, {rss(st['peak_rss_kib_median'])}  vs  {n_small:,} points {secs(sm['median_s'])}, {rss(sm['peak_rss_kib_median'])}  "
            f"(time x{st['median_s'] / sm['median_s']:.2f}, RSS x{st['peak_rss_kib_median'] / sm['peak_rss_kib_median']:.2f} for x{n_big / n_small:.0f} the points)")


# --------------------------------------------------------------------------- 4. checks, summary


def check_text(c: EximCase) -> str:
    k = c.key
    if k.startswith(("ours_export", "big_export")):
        return "manifest + sidecars: points, step/timestamp/value sums per metric, 100 params"
    if k.startswith("peer_export"):
        return "run.json: points, step/timestamp/value sums per metric, 100 params"
    if k.startswith(("floor_export", "fetch_sweep")):
        return "points per metric returned"
    return "new run in the store (SQL on its db): points and sums per metric, 100 params equal, FINISHED"


def print_checks(log: Callable[[str], None], all_cases: list[tuple[str, EximCase]], findings: list[str]) -> int:
    """Section 4: every case's exit codes and checks, then the findings; returns the number of runs kept."""
    log("\n== 4. Exit codes and checks of every timed run (export-import)")
    rows = []
    for sec, c in all_cases:
        codes = [x["rc"] for x in c.samples] + ([c.failure["rc"]] if c.failure else [])
        rows.append([sec, c.label, " ".join(map(str, codes)), "yes" if c.samples and c.failure is None else ("FAILED (finding)" if c.failure else "NO"), check_text(c)])
    log(table(["", "run", "exit codes", "checked ok", "what was checked"], rows, align="lllll"))
    n_ok = sum(len(c.samples) for _, c in all_cases)
    log(f"{n_ok} timed runs kept, each exited 0 and passed its check; runs that failed a check are never in the figures")
    if findings:
        log("findings: " + "\n          ".join(findings))
    return n_ok


def log_summary(log: Callable[[str], None], res: dict[str, Any]) -> None:
    log("\n== Summary (export/import)")
    for sec in ("export", "import"):
        for store in STORES:
            r = res[sec][store]["ratios"]
            peer_txt = f"peer/ours {r['peer_over_ours']:.2f}x ({verdict(r['peer_target_met'])} vs >= 2x)" if r.get("peer_over_ours") else "peer failed"
            log(
                f"{sec} ({store}, {WHAT[store]}): ours {secs(r['ours_median_s'])}, {peer_txt}; ours/floor {r['ours_over_floor_process']:.2f}x process-vs-process "
                f"({verdict(r['floor_target_met'])}), {r.get('ours_over_floor_loop', float('nan')):.2f}x vs the loop alone ({verdict(r.get('floor_loop_target_met', False))})"
            )
    bg = res["big"]["cases"]
    log(f"{res['big']['points']:,} points on (A): import {secs(bg['import']['median_s'])}, peak RSS {rss(bg['import']['peak_rss_kib_median'])}; export {secs(bg['export']['median_s'])}, peak RSS {rss(bg['export']['peak_rss_kib_median'])}")
