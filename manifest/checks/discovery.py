"""Finding manifests: files named, and every ``.yaml``/``.yml``/``.json`` file below directories.

One set of discovery rules for ``validate`` and ``import``: hidden files and directories are left
out, and a history sidecar is recognised by its first bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..core.problems import Problem, Report

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def discover(paths: Sequence[str]) -> tuple[list[tuple[str, bool]], list[tuple[str, str]], list[Report]]:
    """Expand paths: ``(file, named explicitly)`` to check, files skipped, and unreadable paths."""
    files: list[tuple[str, bool]] = []
    skipped: list[tuple[str, str]] = []
    missing: list[Report] = []
    for raw in paths:
        if raw == "-":
            files.append(("-", True))
            continue
        p = Path(raw)
        if p.is_dir():
            found_any = False
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in sorted(filenames):
                    f = os.path.join(dirpath, fn)
                    if fn.lower().endswith(MANIFEST_SUFFIXES) and not fn.startswith("."):
                        files.append((f, False))
                        found_any = True
                    else:
                        skipped.append((f, "not a .yaml, .yml or .json file"))
            if not found_any:
                r = Report(file=raw, kind="directory", unreadable=True)
                r.problems.append(Problem("no-manifests", "directory holds no .yaml, .yml or .json file", file=raw))
                missing.append(r)
        elif p.exists():
            files.append((raw, True))
        else:
            r = Report(file=raw, unreadable=True)
            r.problems.append(Problem("not-found", "no such file or directory", file=raw))
            missing.append(r)
    return files, skipped, missing


def looks_like_sidecar(name: str) -> bool:
    """Canonical history sidecars start with ``{"step":[``; no manifest can (step is not a field)."""
    if not name.lower().endswith(".json"):
        return False
    try:
        with open(name, "rb") as fh:
            return fh.read(9) == b'{"step":['
    except OSError:
        return False
