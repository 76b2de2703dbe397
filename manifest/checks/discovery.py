"""Finding manifests: files named, and every ``.yaml``/``.yml``/``.json`` file below directories.

One set of discovery rules for ``validate`` and ``import``: hidden files and directories are left
out, and a history sidecar is recognised by its first bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Sequence

from ..core.problems import Problem, Report
from ..spec.export_index import INDEX_NAME, is_export_part

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def discover(paths: Sequence[str]) -> tuple[list[tuple[str, bool]], list[tuple[str, str]], list[Report]]:
    """Expand paths: ``(file, named explicitly)`` to check, files skipped, and unreadable paths."""
    files: list[tuple[str, bool]] = []
    skipped: list[tuple[str, str]] = []
    missing: list[Report] = []
    for raw in paths:
        p = Path(raw)
        if raw == "-":
            files.append(("-", True))
        elif p.is_dir():
            if not _walk(p, files, skipped):
                r = Report(file=raw, kind="directory", unreadable=True)
                r.problems.append(Problem("no-manifests", "directory holds no .yaml, .yml or .json file", file=raw))
                missing.append(r)
        elif p.exists():
            files.append((raw, True))  # an explicit FIFO or device is refused by the reader, unopened
        else:
            r = Report(file=raw, unreadable=True)
            r.problems.append(Problem("not-found", "no such file or directory", file=raw))
            missing.append(r)
    return files, skipped, missing


def _walk(root: Path, files: list[tuple[str, bool]], skipped: list[tuple[str, str]]) -> bool:
    """Add the candidate manifests below ``root``; whether there was any. FIFOs, devices and
    sockets are skipped without being opened (opening a FIFO would wait for a writer). Below an
    export directory (it has an index), the files of its runs' models, artifacts and histories are
    not candidates: they may be any JSON or YAML (spec/export-1.1.md, Section 2)."""
    found_any = False
    export = (root / INDEX_NAME).is_file()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for fn in sorted(filenames):
            f = os.path.join(dirpath, fn)
            if export and is_export_part(Path(os.path.relpath(f, root)).as_posix()):
                skipped.append((f, "a file of an exported run's model, artifacts or history: not a manifest"))
                continue
            try:
                regular = stat.S_ISREG(os.stat(f).st_mode)
            except OSError:
                regular = False
            if not regular:
                skipped.append((f, "not a regular file (a FIFO, device, socket or dangling link): never opened"))
            elif fn.lower().endswith(MANIFEST_SUFFIXES) and not fn.startswith("."):
                files.append((f, False))
                found_any = True
            else:
                skipped.append((f, "not a .yaml, .yml or .json file"))
    return found_any


def looks_like_sidecar(name: str) -> bool:
    """Canonical history sidecars start with ``{"step":[``; no manifest can (step is not a field)."""
    if not name.lower().endswith(".json"):
        return False
    try:
        with open(name, "rb") as fh:
            return fh.read(9) == b'{"step":['
    except OSError:
        return False
