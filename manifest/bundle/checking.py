"""Checking a bundle: every file covered by ``SHA256SUMS`` and intact, the index's digests right."""

from __future__ import annotations

import re
from pathlib import Path

from ..core.digests import file_digest, tree_files
from ..core.problems import Problem
from .layout import INDEX, SUMS, read_index


def check_bundle(d: Path) -> list[Problem]:
    """Checksums (every file covered, every listed file intact) and the index's digests."""
    return [*_check_sums(d), *_check_index(d)]


def _read_sums(sums_path: Path, problems: list[Problem]) -> dict[str, str]:
    listed: dict[str, str] = {}
    for n, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line)
        if not m:
            problems.append(Problem("bundle-sums-syntax", f"line {n} is not '<sha256>  <path>'", file=str(sums_path), line=n, column=1))
            continue
        listed[m.group(2)] = m.group(1)
    return listed


def _check_sums(d: Path) -> list[Problem]:
    sums_path = d / SUMS
    if not sums_path.is_file():
        return [Problem("bundle-sums-missing", f"{SUMS} is missing", file=str(d / SUMS))]
    problems: list[Problem] = []
    listed = _read_sums(sums_path, problems)
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
    return problems


def _check_index(d: Path) -> list[Problem]:
    index = read_index(d)
    if index is None:
        return [Problem("bundle-index-missing", f"{INDEX} is missing or not a bundle index", file=str(d / INDEX))]
    problems: list[Problem] = []
    for e in index.get("manifests", []):
        p = d / e.get("path", "")
        if not p.is_file():
            problems.append(Problem("bundle-manifest-missing", f"{e.get('path')} is listed in {INDEX} but missing", file=str(p)))
        elif file_digest(p)[1]["sha256"] != e.get("sha256"):
            problems.append(Problem("bundle-index-mismatch", f"{e.get('path')}: sha256 differs from {INDEX}", file=str(p)))
    return problems
