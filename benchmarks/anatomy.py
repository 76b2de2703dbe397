"""Where the time of ``manifest validate`` goes, measured inside one Python process.

    python benchmarks/anatomy.py cold FILE        # phases of a cold single-file run (JSON on stdout)
    python benchmarks/anatomy.py bulk DIR         # per-phase totals over every manifest in DIR (JSON)
    python benchmarks/anatomy.py profile DIR [N]  # cProfile of validate_paths(DIR, jobs=1), top N

(``python -m benchmarks.anatomy ...`` from the repository root works too.) The validate part
(``benchmarks/validate.py``) calls the first two by path in fresh processes, so this module imports
no sibling module; ``profile`` is for people (it prints a report). These mirror what ``manifest
validate`` does (``load_path`` -> version and schema check -> rules and sidecars) through the
package's functions; they do not change the package.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

perf = time.perf_counter


def cold(path: str) -> dict[str, Any]:
    """Phases of validating one file in a fresh process, in the order the CLI meets them."""
    out: dict[str, float] = {}
    t = perf()
    import manifest.cli  # noqa: F401  (click and the package's top level)

    out["import manifest.cli (+ click, + its top-level imports)"] = perf() - t
    t = perf()
    from manifest.checks.batch import validate_paths  # noqa: F401
    from manifest.checks.report import render_text

    out["import the rest of validate/report (if not yet loaded)"] = perf() - t
    t = perf()
    import ruamel.yaml  # noqa: F401

    out["import ruamel.yaml"] = perf() - t
    t = perf()
    import jsonschema_rs  # noqa: F401

    out["import jsonschema_rs"] = perf() - t
    from manifest.checks.batch import Outcome
    from manifest.document.reader import load_path
    from manifest.spec import engines, rules
    from manifest.spec.sidecars import check_sidecars
    from manifest.spec.validation import version_problem

    t = perf()
    doc = load_path(path)
    out["first parse (loader set-up + parse)"] = perf() - t
    t = perf()
    load_path(path)
    out["  (a second parse: steady state)"] = perf() - t
    t = perf()
    assert version_problem(doc.data) is None
    assert engines.is_valid(doc.data, doc.data["spec_version"])
    out["first schema check (load + compile + validate)"] = perf() - t
    t = perf()
    engines.is_valid(doc.data, doc.data["spec_version"])
    out["  (a second schema check: steady state)"] = perf() - t
    t = perf()
    problems = rules.check(doc.data) + list(check_sidecars(doc.data, doc.base_dir))
    out["rules (first call)"] = perf() - t
    assert not [p for p in problems if p.severity != "warning"], problems
    t = perf()
    render_text(Outcome())
    out["render report"] = perf() - t
    return {"phases_s": out, "sum_s": sum(v for k, v in out.items() if not k.startswith(" "))}


def _files(root: str) -> list[str]:
    from manifest.checks.discovery import MANIFEST_SUFFIXES

    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found += [os.path.join(dirpath, f) for f in sorted(filenames) if f.lower().endswith(MANIFEST_SUFFIXES)]
    return found


def bulk(root: str) -> dict[str, Any]:
    """Sum, over every file, of read+parse, version+schema, and rules time (one warm process)."""
    from manifest.checks.batch import validate_paths
    from manifest.document.reader import load_path
    from manifest.spec import rules
    from manifest.spec.engines import schema_problems
    from manifest.spec.sidecars import check_sidecars
    from manifest.spec.validation import version_problem

    def rules_and_sidecars(doc: Any) -> list[Any]:  # what validation runs on a schema-valid document
        return rules.check(doc.data) + list(check_sidecars(doc.data, doc.base_dir))

    files = _files(root)
    # warm-up: loader set-up, schema compilation, imports of lazily imported modules
    d = load_path(files[0])
    schema_problems(d.data, d.data["spec_version"])
    rules_and_sidecars(d)
    parse = schema_t = rules_t = 0.0
    for f in files:
        t0 = perf()
        doc = load_path(f)
        t1 = perf()
        bad = version_problem(doc.data) or schema_problems(doc.data, doc.data["spec_version"])
        t2 = perf()
        bad = bad or [p for p in rules_and_sidecars(doc) if p.severity != "warning"]
        t3 = perf()
        if bad:
            raise SystemExit(f"{f}: not valid: {bad}")
        parse += t1 - t0
        schema_t += t2 - t1
        rules_t += t3 - t2
    t = perf()
    outcome = validate_paths([root], jobs=1)
    whole = perf() - t
    assert outcome.valid
    return {"files": len(files), "parse_s": parse, "schema_s": schema_t, "rules_s": rules_t, "validate_paths_jobs1_s": whole}


def profile(root: str, top: int = 20) -> None:
    import cProfile
    import pstats

    from manifest.checks.batch import validate_paths

    validate_paths([_files(root)[0]], jobs=1)  # warm-up (loader, compiled schema)
    prof = cProfile.Profile()
    prof.enable()
    outcome = validate_paths([root], jobs=1)
    prof.disable()
    assert outcome.valid
    st = pstats.Stats(prof)
    total = st.total_tt  # type: ignore[attr-defined]
    marks = {  # (path under manifest/, function)
        ("document/reader.py", "load_path"): "load_path (read + YAML/JSON parse + tree checks)",
        ("spec/engines.py", "schema_problems"): "schema_problems (jsonschema-rs)",
        ("spec/rules/__init__.py", "check"): "rules.check (cross-field rules)",
        ("spec/sidecars.py", "check_sidecars"): "check_sidecars (history sidecars)",
        ("spec/validation.py", "validate_document"): "validate_document (schema + rules + sidecars + positions)",
    }
    print(f"cProfile of validate_paths([{root!r}], jobs=1): {total:.2f} s under the profiler (profiling inflates Python-heavy code)")
    for (fn, line, name), (cc, nc, tt, ct, callers) in st.stats.items():  # type: ignore[attr-defined]
        key = (fn.replace(os.sep, "/").rpartition("/manifest/")[2], name)
        if key in marks:
            print(f"  {marks[key]:<58} {ct:7.2f} s  {100 * ct / total:5.1f} %")
    print()
    st.sort_stats("tottime").print_stats(top)


def cli(argv: list[str]) -> None:
    if len(argv) < 2 or argv[0] not in ("cold", "bulk", "profile"):
        raise SystemExit(__doc__)
    if argv[0] == "profile":
        profile(argv[1], int(argv[2]) if len(argv) > 2 else 20)
        return
    result = cold(argv[1]) if argv[0] == "cold" else bulk(argv[1])
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    cli(sys.argv[1:])
