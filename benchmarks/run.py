"""Performance benchmarks of ``manifest validate`` (run with ``make bench``).

    .venv/bin/python -m benchmarks.run [--only validate|limits|export-import|bulk|all] [--quick] [--regen] [--inputs DIR] [--json FILE]

(from the repository root). ``--only validate`` runs the ``manifest validate`` benchmarks below
(``benchmarks/validate.py``); ``--only export-import`` runs those of ``manifest export`` /
``manifest import`` (``benchmarks/exim.py``); ``--only limits`` the reader-limits cases (``benchmarks/limits.py``);
``--only bulk`` the export and import of one experiment of many small runs (``benchmarks/bulk.py``);
``all`` (the default) runs all four, in that order.

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
import sys
from pathlib import Path

from . import bulk, exim, limits
from .common import ROOT, log
from .validate import validate_main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["validate", "limits", "export-import", "bulk", "all"], default="all", help="which benchmarks to run (default: all: validate, limits, export-import, then bulk)")
    ap.add_argument("--quick", action="store_true", help="smoke run (figures not comparable): validate: 100 files, 100,000 points, 2 repetitions; export-import: 100,000 and 200,000 points, 1 repetition; bulk: 50 runs")
    ap.add_argument("--regen", action="store_true", help="regenerate the validate inputs even if the cached ones are current")
    ap.add_argument("--inputs", type=Path, default=None, help="where the validate inputs go (default .bench/validate/inputs)")
    ap.add_argument("--json", type=Path, default=None, help="validate results file (default .bench/validate.json)")
    ap.add_argument("--json-limits", type=Path, default=None, help="reader-limits results file (default .bench/limits.json)")
    ap.add_argument("--exim-json", type=Path, default=None, help="export-import results file (default .bench/export_import.json)")
    ap.add_argument("--exim-reps", type=int, default=None, help="export-import: runs per export case (default 3)")
    ap.add_argument("--exim-fetch-sweep-reps", type=int, default=None, help="export-import: runs per point of the export-concurrency sweep (default 2)")
    ap.add_argument("--exim-import-reps", type=int, default=None, help="export-import: runs per import case, 22-67 s each on a server (default 2)")
    ap.add_argument("--exim-sweep-reps", type=int, default=None, help="export-import: runs per point of the import-concurrency sweep (default 1)")
    ap.add_argument("--exim-big-reps", type=int, default=None, help="export-import: runs of the 1,000,000-point import and export (default 1)")
    ap.add_argument("--exim-keep", action="store_true", help="export-import: keep the stores and exports in .bench/exim/ (about 1 GB) after a successful run")
    ap.add_argument("--bulk-runs", type=int, default=None, metavar="N", help="bulk: runs in the source experiment (default 1000; 50 with --quick)")
    ap.add_argument("--bulk-small", type=int, default=None, metavar="N", help="bulk: runs of the second, smaller experiment whose peak RSS is compared (default: a tenth of --bulk-runs)")
    ap.add_argument("--bulk-reps", type=int, default=1, metavar="N", help="bulk: runs of each timed command per server (default 1: each peer command takes ~10-12 min at 1000 runs)")
    ap.add_argument("--bulk-stores", default="S,P", help="bulk: the servers, S (SQLite-backed) and/or P (PostgreSQL-backed), comma-separated (default S,P)")
    ap.add_argument("--bulk-json", type=Path, default=None, metavar="FILE", help="bulk: results file (default .bench/bulk.json; .bench/bulk-quick.json with --quick)")
    ap.add_argument("--bulk-keep", action="store_true", help="bulk: keep the work directory (.bench/bulk/: server stores, exports) after a successful run")
    return ap.parse_args(argv)


def exim_main(args: argparse.Namespace) -> int:
    one = 1 if args.quick else None
    return exim.run(
        quick=args.quick,
        reps=args.exim_reps or one or 3,
        fetch_reps=args.exim_fetch_sweep_reps or one or 2,
        import_reps=args.exim_import_reps or one or 2,
        sweep_reps=args.exim_sweep_reps or 1,
        big_reps=args.exim_big_reps or 1,
        json_out=args.exim_json or ROOT / ".bench" / ("export_import-quick.json" if args.quick else "export_import.json"),
        log=log,
        keep=args.exim_keep,
    )


def bulk_main(args: argparse.Namespace) -> int:
    n = args.bulk_runs or (50 if args.quick else 1000)
    stores = [s.strip().upper() for s in args.bulk_stores.split(",") if s.strip()]
    if n < 1 or args.bulk_reps < 1 or not stores or any(s not in ("S", "P") for s in stores) or len(set(stores)) != len(stores):
        print("--bulk-runs and --bulk-reps must be >= 1, --bulk-stores one or both of S, P", file=sys.stderr)
        return 2
    name = "bulk-quick" if args.quick else "bulk"
    return bulk.run(
        n=n,
        n_small=max(1, args.bulk_small or n // 10),
        reps=args.bulk_reps,
        stores=stores,
        work=ROOT / ".bench" / name,
        json_out=args.bulk_json or ROOT / ".bench" / f"{name}.json",
        log=log,
        keep=args.bulk_keep,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rc = 0
    if args.only in ("validate", "all"):
        rc = validate_main(args)
    if args.only in ("limits", "all"):
        if args.only == "all":
            print("\n")
        rc = limits.run(reps=1 if args.quick else 3, log=log, json_out=args.json_limits or ROOT / ".bench" / "limits.json") or rc
    if args.only in ("export-import", "all"):
        if args.only == "all":
            print("\n")
        rc2 = exim_main(args)
        rc = rc or rc2
    if args.only in ("bulk", "all"):
        if args.only == "all":
            print("\n")
        rc3 = bulk_main(args)
        rc = rc or rc3
    return rc


if __name__ == "__main__":
    sys.exit(main())
