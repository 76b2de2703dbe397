"""Importing many manifests: all checked first, then imported parents before children."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .options import ImportOptions
from .prepare import Prepared, prepare_paths
from .run import check_target, import_prepared


def check_targets(prepared: list[Prepared], options: ImportOptions) -> None:
    """Every manifest fits the target store (:mod:`.store_limits`), checked before the first is
    imported, and before the store is opened when the caller asks first."""
    for p in prepared:
        check_target(p, options)


def import_paths(client: Any, paths: list[str] | list[Prepared], *, tracking_uri: str, options: ImportOptions) -> list[tuple[Path, str]]:
    """Import every manifest under ``paths`` (or already prepared), parents before children;
    returns (file, new run id) pairs."""
    prepared = [p for p in paths if isinstance(p, Prepared)] or prepare_paths([str(p) for p in paths])
    by_source = {(p.data["provenance"].get("source") or {}).get("run_id"): p for p in prepared}
    order: list[Prepared] = []
    seen: set[int] = set()

    def visit(p: Prepared, depth: int = 0) -> None:
        if id(p) in seen or depth > 100:
            return
        parent = (p.data["run"].get("parent") or {}).get("run_id")
        if parent and parent in by_source:
            visit(by_source[parent], depth + 1)
        seen.add(id(p))
        order.append(p)

    for p in prepared:
        visit(p)
    check_targets(order, options)
    parent_map: dict[str, str] = {}
    out = []
    try:
        for p in order:
            run_id = import_prepared(client, p, tracking_uri=tracking_uri, options=options, parent_map=parent_map)
            p.cleanup()  # its staged copies are uploaded
            src = (p.data["provenance"].get("source") or {}).get("run_id")
            if src:
                parent_map[src] = run_id
            options.log(f"imported {p.doc.name} -> run {run_id}")
            out.append((Path(p.doc.name), run_id))
    finally:
        for p in order:
            p.cleanup()
    return out
