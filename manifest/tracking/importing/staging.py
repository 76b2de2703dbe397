"""What import uploads is exactly what it checked (spec A.8, "Uploads").

Every file that travels with a manifest is read once: copied into a private staging directory
(or into memory) and hashed while it is copied, and only that copy is compared with the manifest
and later uploaded. A file replaced after the check is therefore never uploaded, and nothing but
the listed files is: a model or artifact folder that holds a symbolic link, a FIFO, a device, a
socket, or a file the manifest does not list is refused, each named, before the store is touched.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable

from ...core.digests import ALGORITHMS, CHUNK, DIR_HASH, UnhashableName, digest_bytes, dir_hash, hashers, tree_files
from ...core.problems import IntegrityError, Problem


def _open_regular(path: Path, what: str, pointer: str) -> BinaryIO:
    """``path`` opened for reading, refusing links and anything but a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise IntegrityError(Problem("missing-file", f"{what} {path} is missing", pointer)) from None
    except OSError as exc:
        if path.is_symlink():
            raise IntegrityError(Problem("not-a-regular-file", f"{what} {path} is a symbolic link; only regular files are uploaded", pointer)) from None
        raise IntegrityError(Problem("missing-file", f"{what} {path} cannot be read: {exc.strerror or exc}", pointer)) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, device or socket)"
        raise IntegrityError(Problem("not-a-regular-file", f"{what} {path} is {kind}; only regular files are uploaded", pointer))
    return os.fdopen(fd, "rb")


def _check(got_size: int, got: dict[str, str], size: int | None, digest: dict[str, str] | None, what: str, path: Path, pointer: str) -> None:
    if size is not None and got_size != size:
        raise IntegrityError(Problem("size-mismatch", f"{what} {path} is {got_size} bytes; the manifest says {size}", pointer))
    for alg, want in (digest or {}).items():
        if got[alg] != want:
            raise IntegrityError(Problem("digest-mismatch", f"{what} {path} has {alg} {got[alg]}; the manifest says {want}", pointer))


def _algorithms(digest: dict[str, str] | None) -> list[str]:
    """The algorithms to hash with: those recorded (known ones), else SHA-256."""
    return [a for a in (digest or {"sha256": ""}) if a in ALGORITHMS]


def read_checked(path: Path, size: int | None, digest: dict[str, str] | None, what: str, pointer: str) -> bytes:
    """The bytes of a regular file, read once and checked against its size and digests."""
    with _open_regular(path, what, pointer) as fh:
        data = fh.read()
    _check(len(data), digest_bytes(data, _algorithms(digest)), size, digest, what, path, pointer)
    return data


def _copy(src: Path, dest: Path, algorithms: list[str], what: str, pointer: str) -> tuple[int, dict[str, str]]:
    """Copy ``src`` to a new ``dest``, hashing the bytes as they are copied: ``(size, digests)``."""
    hs = hashers(algorithms)
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with _open_regular(src, what, pointer) as fh, open(dest, "xb") as out:
        while chunk := fh.read(CHUNK):
            n += len(chunk)
            for h in hs.values():
                h.update(chunk)
            out.write(chunk)
    return n, {a: h.hexdigest() for a, h in hs.items()}


def stage_file(src: Path, dest: Path, size: int | None, digest: dict[str, str] | None, what: str, pointer: str) -> Path:
    """Copy ``src`` to ``dest`` hashing what is copied; the copy is kept only if it matches."""
    n, got = _copy(src, dest, _algorithms(digest), what, pointer)
    try:
        _check(n, got, size, digest, what, src, pointer)
    except IntegrityError:
        dest.unlink(missing_ok=True)
        raise
    return dest


def links_on_the_way(base: Path, rel: str) -> str | None:
    """The first segment of ``rel`` below ``base`` that is a symbolic link, if any."""
    p = base
    for part in PurePosixPath(rel).parts:
        p = p / part
        if p.is_symlink():
            return str(p)
    return None


def folder_problems(root: Path, listed: Iterable[str] | None, what: str, pointer: str) -> list[Problem]:
    """Everything in ``root`` that is not a listed regular file (any regular file when ``listed``
    is ``None``) or a directory on the way to one."""
    wanted = None if listed is None else set(listed)
    problems: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath, name)
            rel = p.relative_to(root).as_posix()
            mode = p.lstat().st_mode
            if stat.S_ISLNK(mode):
                problems.append(Problem("not-a-regular-file", f"{what} folder {root} holds a symbolic link, {rel}; it is not uploaded, and the import is refused", pointer))
            elif stat.S_ISDIR(mode):
                continue
            elif not stat.S_ISREG(mode):
                problems.append(Problem("not-a-regular-file", f"{what} folder {root} holds {rel}, which is not a regular file (a FIFO, device or socket)", pointer))
            elif wanted is not None and rel not in wanted:
                problems.append(Problem("unlisted-file", f"{what} folder {root} holds {rel}, which the manifest does not list; only listed files are uploaded, and the import is refused", pointer))
        dirnames[:] = [d for d in dirnames if not Path(dirpath, d).is_symlink()]
    return problems


def stage_tree(src: Path, dest: Path, size: int | None, digest: dict[str, str] | None, what: str, pointer: str) -> Path:
    """Copy a directory artifact file by file (regular files only), then check the copy's size
    and ``dirHash`` (spec 6.3) against the manifest."""
    problems = folder_problems(src, None, what, pointer)
    if problems:
        raise IntegrityError(problems)
    try:
        listed = tree_files(src)
    except UnhashableName as exc:  # its tree has no digest: nothing could be checked
        raise IntegrityError([Problem(p.code, p.message, pointer) for p in exc.problems]) from None
    files = [(rel, *_copy(p, dest / PurePosixPath(rel), ["sha256"], what, pointer)) for rel, p in listed]
    dest.mkdir(parents=True, exist_ok=True)
    got = {DIR_HASH: dir_hash((rel, d["sha256"]) for rel, _, d in files)}
    _check(sum(n for _, n, _ in files), got, size, digest, what, src, pointer)
    return dest
