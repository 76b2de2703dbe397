"""The run's configuration and untracked files: listed with their digests, and shipped next to the
manifest (``<stem>.code/<path>``) from the copies the capture logged, after checking each copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.digests import ALGORITHMS, file_digest
from ...spec.rules.paths import relative_path_problem
from ..tags import CODE_FILES_DIR
from .options import Exported


def code_files(cc: dict[str, Any], ctx_dir: Path | None, stem: str | None, out: Exported) -> dict[str, Any]:
    """``code.config_files`` and ``code.untracked_files`` from the captured context ``cc``."""
    found: dict[str, Any] = {}
    for key in ("config_files", "untracked_files"):
        entries = [_entry(e, ctx_dir, stem, out) for e in cc.get(key) or [] if isinstance(e, dict)]
        entries = [e for e in entries if e is not None]
        if entries:
            found[key] = entries
    return found


def _entry(e: dict[str, Any], ctx_dir: Path | None, stem: str | None, out: Exported) -> dict[str, Any] | None:
    path = e.get("path")
    if not isinstance(path, str) or relative_path_problem(path) or not isinstance(e.get("digest"), dict) or not isinstance(e.get("size"), int):
        out.warnings.append(f"the captured context lists a code file that is not a safe relative path with a size and digest ({path!r}); it is left out")
        return None
    entry = {"path": path, "size": e["size"], "digest": dict(e["digest"])}
    copy = ctx_dir / CODE_FILES_DIR / path if ctx_dir is not None else None
    if copy is None or not copy.is_file() or copy.is_symlink():
        out.warnings.append(f"code file {path!r}: no copy was logged with the run; the manifest lists its digest only")
        return entry
    size, digest = file_digest(copy, [a for a in entry["digest"] if a in ALGORITHMS] or ["sha256"])
    if size != entry["size"] or digest != entry["digest"]:
        out.warnings.append(f"code file {path!r}: the logged copy differs from the digest the capture recorded; it is not shipped")
        return entry
    if stem is not None:
        rel = f"{stem}.code/{path}"
        out.files[rel] = copy
        entry["local_path"] = rel
    return entry
