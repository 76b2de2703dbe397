"""Checking a bundle: every file covered by ``SHA256SUMS`` and intact, the index's digests right."""

from __future__ import annotations

from pathlib import Path

from ..core.digests import file_digest, regular_files
from ..core.problems import ManifestError, Problem
from ..core.text import one_line
from ..document.reader import read_bytes
from ..spec.rules.paths import relative_path_problem
from .layout import INDEX, MAX_LIST_BYTES, SUMS, SUMS_LINE, read_index


def check_bundle(d: Path) -> list[Problem]:
    """Checksums (every file covered, every listed file intact) and the index's digests."""
    return [*_check_sums(d), *_check_index(d)]


def _read_sums(sums_path: Path, problems: list[Problem]) -> dict[str, str]:
    listed: dict[str, str] = {}
    for n, line in enumerate(_text(sums_path).splitlines(), 1):
        m = SUMS_LINE.fullmatch(line)
        if not m:
            problems.append(Problem("bundle-sums-syntax", f"line {n} is not '<sha256>  <path>'", file=str(sums_path), line=n, column=1))
            continue
        why = relative_path_problem(m.group(2))
        if why:
            problems.append(Problem("unsafe-path", f"line {n} names {one_line(m.group(2))!r}, which {why}; a bundle lists only files inside it", file=str(sums_path), line=n, column=67))
            continue
        listed[m.group(2)] = m.group(1)
    return listed


def _text(path: Path) -> str:
    """A bundle's list or index, read only up to :data:`MAX_LIST_BYTES`."""
    data = read_bytes(path, max_bytes=MAX_LIST_BYTES)
    return data.decode("utf-8", "replace")


def _check_sums(d: Path) -> list[Problem]:
    sums_path = d / SUMS
    if not sums_path.is_file():
        return [Problem("bundle-sums-missing", f"{SUMS} is missing", file=str(d / SUMS))]
    problems: list[Problem] = []
    try:
        listed = _read_sums(sums_path, problems)
    except ManifestError as exc:  # too large, unreadable: reported, and the rest of the check goes on
        return exc.problems
    for rel, want in listed.items():
        p = d / rel
        if not p.is_file():
            problems.append(Problem("bundle-file-missing", f"{rel} is listed in {SUMS} but missing", file=str(p)))
            continue
        got = file_digest(p)[1]["sha256"]
        if got != want:
            problems.append(Problem("bundle-checksum-mismatch", f"{rel}: sha256 is {got}, {SUMS} says {want}", file=str(p)))
    for rel, p in regular_files(d):  # a name with a line feed is reported as unlisted, not refused
        if rel != SUMS and rel not in listed:
            problems.append(Problem("bundle-file-unlisted", f"{rel} is not covered by {SUMS}", file=str(p)))
    return problems


def _check_index(d: Path) -> list[Problem]:
    index = read_index(d)
    if index is None:
        return [Problem("bundle-index-missing", f"{INDEX} is missing or not a bundle index", file=str(d / INDEX))]
    problems: list[Problem] = []
    entries = index.get("manifests", [])
    if not isinstance(entries, list):
        return [Problem("bundle-index-missing", f"{INDEX}: 'manifests' is not a list", file=str(d / INDEX))]
    for e in entries:
        p = _entry_path(d, e, problems)
        if p is None:
            continue
        if not p.is_file():
            problems.append(Problem("bundle-manifest-missing", f"{e.get('path')} is listed in {INDEX} but missing", file=str(p)))
        elif file_digest(p)[1]["sha256"] != e.get("sha256"):
            problems.append(Problem("bundle-index-mismatch", f"{e.get('path')}: sha256 differs from {INDEX}", file=str(p)))
    return problems + _check_files(d, index.get("files"))


def _check_files(d: Path, files: object) -> list[Problem]:
    """The index's ``files`` (size and SHA-256 of every file but the index, SHA256SUMS and the
    signatures): what a signature over the index vouches for, so it must hold."""
    if files is None:
        return []
    if not isinstance(files, list):
        return [Problem("bundle-index-mismatch", f"{INDEX}: 'files' is not a list", file=str(d / INDEX))]
    problems: list[Problem] = []
    for e in files:
        p = _entry_path(d, e, problems)
        if p is None:
            continue
        rel = e["path"]
        if not p.is_file():
            problems.append(Problem("bundle-file-missing", f"{rel} is listed in {INDEX} but missing", file=str(p)))
            continue
        size, digest = file_digest(p)
        if size != e.get("size") or digest["sha256"] != e.get("sha256"):
            problems.append(Problem("bundle-index-mismatch", f"{rel}: size {size}, sha256 {digest['sha256']}; {INDEX} says size {e.get('size')}, sha256 {e.get('sha256')}", file=str(p)))
    return problems


def _entry_path(d: Path, e: object, problems: list[Problem]) -> Path | None:
    """The file an index entry names inside ``d``, or ``None`` (and a problem) for an unsafe path."""
    rel = e.get("path") if isinstance(e, dict) else None
    why = relative_path_problem(rel) if isinstance(rel, str) and rel else "is not a path"
    if why:
        problems.append(Problem("unsafe-path", f"an entry of {INDEX} names {one_line(str(rel))!r}, which {why}; a bundle lists only files inside it", file=str(d / INDEX)))
        return None
    return d / str(rel)
