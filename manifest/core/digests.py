"""Content digests and sizes of files and directory trees, as the spec defines them (section 6).

A file's digest set holds hexadecimal digests of its bytes (``sha256``, ``md5``, ...). A
directory's digest set holds one member, ``dirHash``: in-toto's DigestSet algorithm of that name,
Go's ``golang.org/x/mod/sumdb/dirhash`` Hash1 written in lowercase hex without ``h1:``, i.e.
``hex(sha256(listing))``, where the listing has one line
``<hex sha256 of the file>  <relative/posix/path>\\n`` per regular file below the directory, sorted
by the UTF-8 bytes of the path. The key says what was hashed, so every digest can be checked.

A name that holds a line feed would make one file's line look like two (the listing could then
collide with another tree's), and a name that is not UTF-8 has no line at all: both are refused
(:class:`UnhashableName`), as Go's dirhash refuses the first.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from .problems import Problem, UnreadableInput
from .text import fs_text

#: File-digest algorithms the spec knows, with their ``hashlib`` names and hex lengths.
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
#: The one member of a directory's digest set (the in-toto DigestSet key; the value is Go's Hash1).
DIR_HASH = "dirHash"
CHUNK = 1024 * 1024

Kind = Literal["file", "directory"]


class UnhashableName(UnreadableInput):
    """A file below a directory whose name the listing cannot hold (a line feed, or not UTF-8)."""


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


def digest_kind(digest: Mapping[str, Any]) -> Kind:
    """What a digest set describes when nothing else says: ``dirHash`` means a directory."""
    return "directory" if DIR_HASH in digest else "file"


# --------------------------------------------------------------------------- directory trees


def name_problem(rel: str, *, in_listing: bool = True) -> str | None:
    """Why ``rel`` cannot be a line of a directory listing (or, without ``in_listing``, be named
    in a manifest at all), or ``None`` when it can."""
    if in_listing and "\n" in rel:
        return "holds a line feed, which would make its line of the listing look like two files"
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8, and files are named by their UTF-8 bytes"
    return None


def _unhashable(rel: str, why: str, root: str | os.PathLike[str] | None) -> UnhashableName:
    where = f" in {fs_text(os.fspath(root))}" if root is not None else ""
    return UnhashableName(Problem("unhashable-name", f"the file name '{fs_text(rel)}'{where} {why} (spec 6.3)"))


def _walk_error(exc: OSError) -> None:
    raise exc  # a directory that cannot be listed would silently drop its files from the digest


def regular_files(root: str | os.PathLike[str], *, in_listing: bool = False) -> list[tuple[str, Path]]:
    """Regular files below ``root`` as ``(posix relative path, path)``, sorted by UTF-8 bytes.

    Symbolic links are neither followed nor listed, nor are FIFOs, devices and sockets (they are
    not opened). A name that is not UTF-8 (or, with ``in_listing``, holds a line feed) raises
    :class:`UnhashableName`; a directory that cannot be read raises its :class:`OSError`.
    """
    base = Path(root)
    out: list[tuple[str, Path]] = []
    for dirpath, _dirnames, filenames in os.walk(base, onerror=_walk_error, followlinks=False):
        for fn in filenames:
            p = Path(dirpath, fn)
            if not stat.S_ISREG(os.lstat(p).st_mode):
                continue
            rel = p.relative_to(base).as_posix()
            why = name_problem(rel, in_listing=in_listing)
            if why:
                raise _unhashable(rel, why, root)
            out.append((rel, p))
    out.sort(key=lambda t: t[0].encode("utf-8"))
    return out


def tree_files(root: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """The files of ``root``'s directory listing (spec 6.3): :func:`regular_files`, refusing any
    name the listing cannot hold."""
    return regular_files(root, in_listing=True)


def listing(entries: Iterable[tuple[str, str]]) -> bytes:
    """The text a directory digest hashes, from ``(relative path, hex sha256 of the file)`` pairs:
    one line ``<hex>  <path>\\n`` each, sorted here by the UTF-8 bytes of the path."""
    lines = []
    for rel, hexd in entries:
        why = name_problem(rel)
        if why:
            raise _unhashable(rel, why, None)
        lines.append((rel.encode("utf-8"), f"{hexd}  ".encode("ascii")))
    lines.sort()
    return b"".join(h + rel + b"\n" for rel, h in lines)


def dir_hash(entries: Iterable[tuple[str, str]]) -> str:
    """The ``dirHash`` of a tree from its ``(relative path, hex sha256)`` pairs: the listing's
    SHA-256 in hex, as in-toto writes Go's dirhash Hash1 (Go's own form is ``h1:`` + base64 of the
    same 32 bytes)."""
    return hashlib.sha256(listing(entries)).hexdigest()


def tree_digest(root: str | os.PathLike[str]) -> tuple[int, dict[str, str], list[tuple[str, int, str]]]:
    """``(total size, {"dirHash": value}, [(path, size, hex sha256), ...])`` of a directory tree."""
    files = []
    for rel, p in tree_files(root):
        size, d = file_digest(p)
        files.append((rel, size, d["sha256"]))
    total = sum(s for _, s, _ in files)
    return total, {DIR_HASH: dir_hash((r, h) for r, _, h in files)}, files


def path_digest(path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)) -> tuple[Kind, int, dict[str, str]]:
    """``(kind, size, digest set)`` of a file (``algorithms`` over its bytes) or a directory
    (its ``dirHash``)."""
    p = Path(path)
    if p.is_dir():
        size, d, _ = tree_digest(p)
        return "directory", size, d
    size, d = file_digest(p, algorithms)
    return "file", size, d


# --------------------------------------------------------------------------- one path, for people


def describe(path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)) -> dict[str, Any]:
    """``{"path", "kind", "size", "digest"}`` of a file or directory, as a manifest holds them.

    The path itself may be a symbolic link (it is followed, as the user named it); links below a
    directory are not part of its tree. Anything that cannot be read raises
    :class:`~manifest.core.problems.UnreadableInput` naming it (``not-found``,
    ``permission-denied``, ``not-a-regular-file``, ``read-error``, ``unhashable-name``); a FIFO,
    device or socket is never opened.
    """
    name = fs_text(os.fspath(path))
    try:
        mode = os.stat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise UnreadableInput(Problem("not-a-regular-file", "is not a regular file or directory (a FIFO, device or socket); it is not opened"), file=name)
        kind, size, digest = path_digest(path, algorithms)
    except OSError as exc:
        raise _unreadable(exc, name) from None
    return {"path": name, "kind": kind, "size": size, "digest": digest}


def _unreadable(exc: OSError, name: str) -> UnreadableInput:
    """An :class:`OSError` met while digesting ``name`` (or a file below it) as one problem."""
    inner = fs_text(os.fsdecode(exc.filename)) if exc.filename is not None else name
    what = f"{inner}: " if inner != name else ""
    if isinstance(exc, FileNotFoundError):
        return UnreadableInput(Problem("not-found", f"{what}no such file or directory"), file=name)
    if isinstance(exc, PermissionError):
        return UnreadableInput(Problem("permission-denied", f"{what}permission denied"), file=name)
    return UnreadableInput(Problem("read-error", f"{what}cannot read: {exc.strerror or exc}"), file=name)
