"""Rules of ``models`` (spec 15.6): unique file paths; size and digest agree with the files."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.digests import listing_digest
from ...core.problems import Problem


def model_files(d: dict[str, Any]) -> Iterator[Problem]:
    for i, m in enumerate(d.get("models") or []):
        files = m.get("files")
        if not files:
            continue
        paths = [f["path"] for f in files]
        if len(set(paths)) != len(paths):
            yield Problem("duplicate-path", "a file path is listed twice", f"/models/{i}/files")
            continue
        if "size" in m and m["size"] != sum(f["size"] for f in files):
            yield Problem("model-size-mismatch", f"size {m['size']} is not the sum of the files' sizes ({sum(f['size'] for f in files)})", f"/models/{i}/size")
        want = (m.get("digest") or {}).get("sha256")
        if want and all("sha256" in f["digest"] for f in files):
            got = listing_digest((f["path"], f["digest"]["sha256"]) for f in files)
            if got != want:
                yield Problem("model-digest-mismatch", "digest.sha256 is not the directory digest of the listed files", f"/models/{i}/digest/sha256")
