"""Printing of the many-runs part: the table of each section (through ``exim_report.print_group``), the
peer / ours ratios against the 3x target, peak RSS at two sizes, the checks of every timed run, and
the summary."""

from __future__ import annotations

from typing import Any, Callable

from .bulk_servers import WHAT
from .common import table, verdict
from .exim_cases import EximCase
from .exim_report import print_group, rss, secs

PEER_RATIO_TARGET = 3.0  # the issue: at least 3x faster than the peer, export and import, on (S)
TARGET_STORE = "S"


def per_run(c: EximCase, n: int) -> str:
    st = c.stats()
    return "-" if st["median_s"] is None else f"{1000 * st['median_s'] / n:.0f} ms/run"


def _requests(c: EximCase, n: int) -> str:
    req = c.samples[0]["check"].get("requests") if c.samples else None
    if not req:
        return f"{c.label.split(':')[0]} -"
    top = ", ".join(f"{k} {v}" for k, v in list(req["by_endpoint"].items())[:4])
    return f"{c.label.split(':')[0]} {req['total']:,} ({req['total'] / n:.1f}/run: {top})"


def section(log: Callable[[str], None], title: str, cases: list[EximCase], n: int) -> None:
    print_group(log, title, cases)
    log("per run (median / runs): " + "; ".join(f"{c.label.split(':')[0]} {per_run(c, n)}" for c in cases))
    log("HTTP requests the server logged (first run): " + ";  ".join(_requests(c, n) for c in cases))


def ratio(log: Callable[[str], None], what: str, store: str, cases: list[EximCase]) -> dict[str, Any]:
    """peer / ours of one section; the 3x target applies on (S), (P) is reported beside it."""
    ours, peer = cases[0], (cases[1] if len(cases) > 1 else None)
    o = ours.stats()
    out: dict[str, Any] = {"ours_median_s": o["median_s"], "target": PEER_RATIO_TARGET if store == TARGET_STORE else None}
    if peer is None or not peer.samples:
        err = peer.failure.get("error_line") if peer is not None and peer.failure else "not run"
        out.update(peer_failed=err, target_met=None)
        log(f"{what} ({store}): peer / ours n/a: the peer failed or did not run: {err}")
        return out
    p = peer.stats()
    r = p["median_s"] / o["median_s"]
    out.update(peer_median_s=p["median_s"], peer_over_ours=r)
    if store == TARGET_STORE:
        out["target_met"] = r >= PEER_RATIO_TARGET
        log(f"{what} ({store}): peer / ours {r:5.2f}x   target >= {PEER_RATIO_TARGET:.0f}x -> {verdict(r >= PEER_RATIO_TARGET)}")
    else:
        log(f"{what} ({store}): peer / ours {r:5.2f}x   (reported beside the target; it applies on (S))")
    return out


def memory(log: Callable[[str], None], pairs: dict[str, tuple[EximCase, EximCase]], n_small: int, n: int) -> dict[str, Any]:
    """Ours' peak RSS (and time) at ``n_small`` and ``n`` runs, export and import."""
    out: dict[str, Any] = {}
    for what, (small, big) in pairs.items():
        s, b = small.stats(), big.stats()
        if s["peak_rss_kib_median"] is None or b["peak_rss_kib_median"] is None:
            continue
        grow = b["peak_rss_kib_median"] / s["peak_rss_kib_median"]
        out[what] = {"runs_small": n_small, "runs": n, "peak_rss_kib_small": s["peak_rss_kib_median"], "peak_rss_kib": b["peak_rss_kib_median"], "rss_ratio": grow,
                     "median_s_small": s["median_s"], "median_s": b["median_s"]}
        log(f"ours {what}: {n_small:,} runs {rss(s['peak_rss_kib_median'])} peak RSS ({secs(s['median_s'])});  {n:,} runs {rss(b['peak_rss_kib_median'])} ({secs(b['median_s'])});  "
            f"RSS x{grow:.2f} for x{n / n_small:.0f} the runs (flat would be x1.00)")
    return out


def check_text(c: EximCase) -> str:
    if "_export_" in c.key:
        kind = "export index lists every source run" if c.key.startswith("ours") else "one directory per source run"
        return f"{kind}; each: 20 params, 5 tags, 5 x 20 points (counts and sums), the artifact's bytes"
    return "SQL on the server's database: N active runs, none twice, none missing; each: 20 params, 5 tags, 5 x 20 points, FINISHED; artifact bytes on disk; list_artifacts of a sample"


def print_checks(log: Callable[[str], None], all_cases: list[tuple[str, EximCase]], findings: list[str]) -> int:
    log("\n== Exit codes and checks of every timed run (bulk)")
    rows = []
    for sec, c in all_cases:
        codes = [x["rc"] for x in c.samples] + ([c.failure["rc"]] if c.failure else [])
        rows.append([sec, c.label, " ".join(map(str, codes)), "yes" if c.samples and c.failure is None else ("FAILED (finding)" if c.failure else "NO"), check_text(c)])
    log(table(["", "run", "exit codes", "checked ok", "what was checked"], rows, align="lllll"))
    n_ok = sum(len(c.samples) for _, c in all_cases)
    log(f"{n_ok} timed runs kept, each exited 0 and passed its check")
    if findings:
        log("findings: " + "\n          ".join(findings))
    return n_ok


def log_summary(log: Callable[[str], None], res: dict[str, Any]) -> None:
    log("\n== Summary (bulk)")
    n = res["parameters"]["runs"]
    for store, entry in res["stores"].items():
        for what in ("export", "import"):
            r = entry[what]["ratio"]
            peer = f"peer {secs(r['peer_median_s'])}, peer/ours {r['peer_over_ours']:.2f}x" if r.get("peer_over_ours") else f"peer failed ({r.get('peer_failed')})"
            tgt = f" -> {verdict(bool(r['target_met']))} vs >= {PEER_RATIO_TARGET:.0f}x" if r.get("target") and r.get("target_met") is not None else ""
            log(f"{what} ({store}, {WHAT[store]}), {n:,} runs: ours {secs(r['ours_median_s'])}; {peer}{tgt}")
    for what, m in (res.get("memory") or {}).items():
        log(f"ours {what} peak RSS: {m['runs_small']:,} runs {rss(m['peak_rss_kib_small'])}, {m['runs']:,} runs {rss(m['peak_rss_kib'])} (x{m['rss_ratio']:.2f})")
