"""Writing a paper bundle: a fresh directory, index, tables, plots, README and checksums, put in
place of the old one only when complete."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from ..__about__ import __version__
from ..core.digests import file_digest, tree_files
from ..core.problems import Problem, Refused
from ..core.times import now_timestamp
from ..document.canonical import manifest_digest
from .layout import BUNDLE_VERSION, INDEX, SUMS
from .plots import write_plots
from .readme import render_readme
from .tables import render_latex, render_markdown, results_table


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
    index = {"bundle_version": BUNDLE_VERSION, "created_at": now_timestamp(), "created_by": {"name": "experiment-manifest", "version": __version__}, **source, "manifests": entries}
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


def write_sums(root: Path) -> None:
    lines = []
    for rel, p in tree_files(root):
        if rel == SUMS:
            continue
        lines.append(f"{file_digest(p)[1]['sha256']}  {rel}\n")
    (root / SUMS).write_text("".join(lines), encoding="utf-8")
