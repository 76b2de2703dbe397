"""A paper bundle: manifests, an index, results tables, history plots, checksums and a README.

Layout of a bundle directory::

    README.md          for reviewers: what is inside, how to validate, import and cite it
    index.json         every manifest with its file digest and canonical digest
    manifests/         one manifest per run (+ history sidecars, diffs, and models with --with-models)
    results.md         runs x differing params x chosen metrics (replicates as mean ± std, n)
    results.tex        the same table for LaTeX (booktabs)
    plots/<metric>.png metric histories, runs overlaid
    SHA256SUMS         every other file; `sha256sum -c SHA256SUMS` checks them
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from .__about__ import __version__
from .digest import file_digest
from .errors import Problem, Refused

BUNDLE_VERSION = 1
SUMS = "SHA256SUMS"
INDEX = "index.json"
SEED_PARAM = re.compile(r"(?i)(^|[_.\-])(seed|random_state|random_seed|rng)($|[_.\-])")


# --------------------------------------------------------------------------- writing


def prepare_dir(out: Path, force: bool) -> Path:
    """A fresh temporary directory beside ``out``; refuse a non-empty ``out`` unless ``force``."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise Refused(Problem("bundle-exists", f"{out} exists and is not empty; choose another directory or pass --force to replace it"))
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))


def finish(tmp: Path, out: Path) -> None:
    """Put the finished bundle in place of ``out`` (the old one is removed only afterwards)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{int(time.time())}")
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_bundle(tmp: Path, manifests: list[tuple[Path, dict[str, Any]]], *, metrics: list[str] | None, source: dict[str, Any], log: Callable[[str], None]) -> None:
    """Add index, tables, plots, README and checksums to ``tmp`` (whose manifests/ is written)."""
    from .write import manifest_digest

    entries = []
    for path, m in manifests:
        rel = path.relative_to(tmp).as_posix()
        src = m["provenance"].get("source") or {}
        entries.append({
            "path": rel, "id": m["id"], "name": m["name"], "run_id": src.get("run_id"),
            "parent_run_id": (m["run"].get("parent") or {}).get("run_id"),
            "sha256": file_digest(path)[1]["sha256"],
            "canonical_sha256": manifest_digest(m)["sha256"],
        })
    index = {"bundle_version": BUNDLE_VERSION, "created_at": _now(), "created_by": {"name": "experiment-manifest", "version": __version__}, **source, "manifests": entries}
    (tmp / INDEX).write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    docs = [m for _, m in manifests]
    chosen = metrics or sorted({k for m in docs for k in (m.get("metrics") or {})})
    table = results_table(docs, chosen)
    (tmp / "results.md").write_text(render_markdown(table), encoding="utf-8")
    (tmp / "results.tex").write_text(render_latex(table), encoding="utf-8")
    plotted = write_plots(tmp / "plots", manifests, chosen)
    (tmp / "README.md").write_text(render_readme(index, table, plotted), encoding="utf-8")
    write_sums(tmp)
    log(f"bundle: {len(entries)} manifests, {len(table['rows'])} table rows, {len(plotted)} plots")


def _now() -> str:
    from .mlflow_export import ms_to_timestamp

    return ms_to_timestamp(int(time.time() * 1000))


def write_sums(root: Path) -> None:
    from .digest import tree_files

    lines = []
    for rel, p in tree_files(root):
        if rel == SUMS:
            continue
        lines.append(f"{file_digest(p)[1]['sha256']}  {rel}\n")
    (root / SUMS).write_text("".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- results table


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if v is None:
        return "null"
    return str(v)


def results_table(docs: list[dict[str, Any]], metrics: list[str]) -> dict[str, Any]:
    """Runs x (params that differ) x metrics; runs equal but for seed params are grouped."""
    all_params = sorted({k for m in docs for k in (m.get("params") or {})})
    differing = [k for k in all_params if len({json.dumps((m.get("params") or {}).get(k)) for m in docs}) > 1]
    seed_cols = [k for k in differing if SEED_PARAM.search(k)]
    cols = [k for k in differing if k not in seed_cols]
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in docs:
        key = json.dumps([(m.get("params") or {}).get(k) for k in cols])
        groups.setdefault(key, []).append(m)
    rows = []
    for members in groups.values():
        first = members[0]
        cells: dict[str, Any] = {k: _fmt((first.get("params") or {}).get(k, "—")) for k in cols}
        values: dict[str, str] = {}
        for name in metrics:
            xs = [_value(m, name) for m in members]
            xs = [x for x in xs if x is not None]
            if not xs:
                values[name] = "—"
            elif len(members) > 1 and seed_cols:
                mean = statistics.fmean(xs)
                sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
                values[name] = f"{mean:.4g} ± {sd:.2g} (n={len(xs)})"
            else:
                values[name] = _fmt(xs[0]) if len(xs) == 1 else ", ".join(_fmt(x) for x in xs)
        label = first["name"] if len(members) == 1 else f"{first['name']} (+{len(members) - 1} replicate{'s' if len(members) > 2 else ''})"
        rows.append({"run": label, "params": cells, "metrics": values, "n": len(members)})
    return {"param_columns": cols, "seed_params": seed_cols, "metrics": metrics, "rows": rows}


def _value(m: dict[str, Any], name: str) -> float | None:
    metric = (m.get("metrics") or {}).get(name)
    if not metric:
        return None
    from .rules import to_float

    return to_float(metric["value"])


def render_markdown(table: dict[str, Any]) -> str:
    head = ["run", *table["param_columns"], *table["metrics"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in table["rows"]:
        cells = [r["run"], *(r["params"][k] for k in table["param_columns"]), *(r["metrics"][k] for k in table["metrics"])]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    note = ""
    if table["seed_params"]:
        note = f"\nRuns that differ only in {', '.join(table['seed_params'])} are replicates: mean ± sample standard deviation over n runs.\n"
    return "\n".join(lines) + "\n" + note


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(s: str) -> str:
    out = "".join(_TEX.get(c, c) for c in s)
    return out.replace("±", r"$\pm$")


def render_latex(table: dict[str, Any]) -> str:
    head = ["run", *table["param_columns"], *table["metrics"]]
    spec = "l" * (1 + len(table["param_columns"])) + "r" * len(table["metrics"])
    lines = [r"% requires \usepackage{booktabs}", r"\begin{tabular}{" + spec + "}", r"\toprule", " & ".join(_tex(h) for h in head) + r" \\", r"\midrule"]
    for r in table["rows"]:
        cells = [r["run"], *(r["params"][k] for k in table["param_columns"]), *(r["metrics"][k] for k in table["metrics"])]
        lines.append(" & ".join(_tex(c) for c in cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plots


def _history(path: Path, metric: dict[str, Any]) -> tuple[list[int], list[float]] | None:
    if "history" in metric:
        h = metric["history"]
    elif "history_file" in metric:
        h = json.loads((path.parent / metric["history_file"]["path"]).read_text(encoding="utf-8"))
    else:
        return None
    from .rules import to_float

    vals = [to_float(v) for v in h["value"]]
    return list(h["step"]), vals


def write_plots(out: Path, manifests: list[tuple[Path, dict[str, Any]]], metrics: Iterable[str]) -> list[str]:
    """One PNG per metric that has a history in at least one run; returns the metrics plotted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = []
    for name in metrics:
        series = []
        for path, m in manifests:
            metric = (m.get("metrics") or {}).get(name)
            h = _history(path, metric) if metric else None
            if h and len(h[0]) > 1:
                series.append((m["name"], h))
        if not series:
            continue
        out.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
        for label, (steps, vals) in series:
            ax.plot(steps, vals, label=label, linewidth=1.2)
        ax.set_xlabel("step")
        ax.set_ylabel(name)
        ax.set_title(f"{name} by step ({len(series)} run{'s' if len(series) > 1 else ''})")
        if len(series) <= 12:
            ax.legend(fontsize="small")
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        from .mlflow_export import safe_name

        fig.savefig(out / f"{safe_name(name)}.png", metadata={"Software": None})
        plt.close(fig)
        done.append(name)
    return done


# --------------------------------------------------------------------------- README


def render_readme(index: dict[str, Any], table: dict[str, Any], plotted: list[str]) -> str:
    from .mlflow_export import safe_name

    exp = index.get("experiment")
    lines = [
        f"# Supplementary material: {exp or 'ML runs'}",
        "",
        f"This directory describes {len(index['manifests'])} machine-learning run(s) as experiment manifests "
        f"(spec 1.0, https://experiment-manifest.org/schemas/manifest-1.0.schema.json), written by experiment-manifest {__version__} "
        f"on {index['created_at']}.",
        "",
        "## Contents",
        "",
        "- `manifests/`: one manifest per run (data digests, code commit, environment, typed params, metrics with histories, models); long histories are in sidecar files next to them.",
        "- `index.json`: every manifest with the SHA-256 of its file and of its canonical form (RFC 8785).",
        "- `results.md`, `results.tex` (booktabs): runs by differing parameters and metrics.",
    ]
    if plotted:
        lines.append("- `plots/`: metric histories, runs overlaid: " + ", ".join(f"`{safe_name(p)}.png`" for p in plotted) + ".")
    lines += [
        f"- `{SUMS}`: SHA-256 of every other file.",
        "",
        "## Results",
        "",
        render_markdown(table),
        "## Check it",
        "",
        "```sh",
        f"sha256sum -c {SUMS}          # every file is as published",
        "manifest validate .              # the index, every manifest and every checksum",
        "```",
        "",
        "## Reproduce or build on it",
        "",
        "```sh",
        "manifest import manifests/ --tracking-uri sqlite:///mlflow.db   # recreate the runs in MLflow",
        "manifest verify manifests/<run>.yaml --repo <checkout>          # data, code and environment as recorded?",
        "manifest reproduce manifests/<run>.yaml                         # re-run and compare every metric",
        "```",
        "",
        "`manifest` is the `experiment-manifest` package (`pip install experiment-manifest[mlflow]`).",
        "",
        "## Cite",
        "",
    ]
    cites = {json.dumps(c, sort_keys=True) for c in index.get("citations", [])}
    if cites:
        for c in sorted(cites):
            c = json.loads(c)
            lines.append(f"- {c.get('text') or c.get('title') or c.get('doi') or c.get('url')}")
            if c.get("bibtex"):
                lines += ["", "```bibtex", c["bibtex"], "```"]
    else:
        lines.append("Cite the paper this material accompanies; each manifest's `id` identifies one run, and `index.json` gives its digest.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- checking


def is_bundle(d: Path) -> bool:
    return (d / SUMS).is_file() or ((d / INDEX).is_file() and _index(d) is not None)


def _index(d: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((d / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "bundle_version" in data else None


def check_bundle(d: Path) -> list[Problem]:
    """Checksums (every file covered, every listed file intact) and the index's digests."""
    from .digest import tree_files

    problems: list[Problem] = []
    sums_path = d / SUMS
    listed: dict[str, str] = {}
    if not sums_path.is_file():
        problems.append(Problem("bundle-sums-missing", f"{SUMS} is missing", file=str(d / SUMS)))
    else:
        for n, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
            if not m:
                problems.append(Problem("bundle-sums-syntax", f"line {n} is not '<sha256>  <path>'", file=str(sums_path), line=n, column=1))
                continue
            listed[m.group(2)] = m.group(1)
        for rel, want in listed.items():
            p = d / rel
            if not p.is_file():
                problems.append(Problem("bundle-file-missing", f"{rel} is listed in {SUMS} but missing", file=str(p)))
                continue
            got = file_digest(p)[1]["sha256"]
            if got != want:
                problems.append(Problem("bundle-checksum-mismatch", f"{rel}: sha256 is {got}, {SUMS} says {want}", file=str(p)))
        for rel, p in tree_files(d):
            if rel != SUMS and rel not in listed:
                problems.append(Problem("bundle-file-unlisted", f"{rel} is not covered by {SUMS}", file=str(p)))
    index = _index(d)
    if index is None:
        problems.append(Problem("bundle-index-missing", f"{INDEX} is missing or not a bundle index", file=str(d / INDEX)))
    else:
        for e in index.get("manifests", []):
            p = d / e.get("path", "")
            if not p.is_file():
                problems.append(Problem("bundle-manifest-missing", f"{e.get('path')} is listed in {INDEX} but missing", file=str(p)))
            elif file_digest(p)[1]["sha256"] != e.get("sha256"):
                problems.append(Problem("bundle-index-mismatch", f"{e.get('path')}: sha256 differs from {INDEX}", file=str(p)))
    return problems
