"""Content digests and sizes of files and directory trees, as the spec defines them.

A directory's digest is the digest of the text ``sha256sum`` prints for every regular file below
it, sorted by path: lines ``<hex digest>  <relative/posix/path>\\n`` ordered by the UTF-8 bytes of
the path. ``(cd DIR && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -r -d '\\n' sha256sum) |
sha256sum`` gives the same value. Its size is the sum of the files' sizes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

#: Algorithms the spec knows, with their ``hashlib`` names and hex lengths.
ALGORITHMS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 32),
    "sha1": ("sha1", 40),
    "sha256": ("sha256", 64),
    "sha384": ("sha384", 96),
    "sha512": ("sha512", 128),
    "sha3_256": ("sha3_256", 64),
    "sha3_512": ("sha3_512", 128),
    "blake2b": ("blake2b", 128),
}
CHUNK = 1024 * 1024


def hashers(algorithms: Iterable[str]) -> dict[str, "hashlib._Hash"]:
    """A fresh hash object per algorithm, for hashing a stream once for all of them."""
    return {a: hashlib.new(ALGORITHMS[a][0]) for a in algorithms}


def digest_bytes(data: bytes, algorithms: Iterable[str] = ("sha256",)) -> dict[str, str]:
    hs = hashers(algorithms)
    for h in hs.values():
        h.update(data)
    return {a: h.hexdigest() for a, h in hs.items()}


def file_digest(path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)) -> tuple[int, dict[str, str]]:
    """``(size, {algorithm: hex})`` of one file, read in 1 MiB chunks."""
    hs = hashers(algorithms)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            size += len(chunk)
            for h in hs.values():
                h.update(chunk)
    return size, {a: h.hexdigest() for a, h in hs.items()}


def tree_files(root: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """Regular files below ``root`` as ``(posix relative path, path)``, sorted by UTF-8 bytes.

    Symbolic links are not followed (a link is neither a file nor a directory of the tree).
    """
    base = Path(root)
    out: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        for fn in filenames:
            p = Path(dirpath, fn)
            if p.is_symlink() or not p.is_file():
                continue
            out.append((p.relative_to(base).as_posix(), p))
    out.sort(key=lambda t: t[0].encode("utf-8"))
    return out


def listing_digest(entries: Iterable[tuple[str, str]], algorithm: str = "sha256") -> str:
    """Digest of a directory from ``(relative path, hex digest of the file)`` pairs, sorted here."""
    h = hashlib.new(ALGORITHMS[algorithm][0])
    for rel, hexd in sorted(entries, key=lambda t: t[0].encode("utf-8")):
        h.update(f"{hexd}  {rel}\n".encode("utf-8"))
    return h.hexdigest()


def tree_digest(root: str | os.PathLike[str], algorithm: str = "sha256") -> tuple[int, dict[str, str], list[tuple[str, int, str]]]:
    """``(total size, {algorithm: hex}, [(path, size, hex), ...])`` of a directory tree."""
    files = []
    for rel, p in tree_files(root):
        size, d = file_digest(p, (algorithm,))
        files.append((rel, size, d[algorithm]))
    total = sum(s for _, s, _ in files)
    return total, {algorithm: listing_digest(((r, h) for r, _, h in files), algorithm)}, files


def path_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> tuple[str, int, dict[str, str]]:
    """``(kind, size, digest)`` of a file or a directory."""
    p = Path(path)
    if p.is_dir():
        size, d, _ = tree_digest(p, algorithm)
        return "directory", size, d
    size, d = file_digest(p, (algorithm,))
    return "file", size, d
