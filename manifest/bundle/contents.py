"""What makes a bundle self-contained: copies of the data inputs and a source archive of the code,
each checked on the way in and checkable on the way out, offline and without a git repository.

- **Data** (``--with-data``): a file or directory input is found (``--data-root``, the run's working
  directory in the repository, the current directory), copied under ``data/`` at its relative URI
  (an absolute path at its file name), and digested *while* copied: a copy that does not match the
  manifest's size and digests is refused, so the bundle never holds data other than what was
  recorded. Inputs above the size limit, remote ones and in-memory ones are listed as not copied.
- **Code** (``--with-code``): ``code/<commit12>.tar.gz`` holds every blob of the recorded commit
  (read from git's object store, not ``git archive``, whose attributes could alter files) with the
  recorded diff applied; ``code/<commit12>.diff`` is that diff and ``code/<commit12>.commit`` the
  raw commit object. Hashing the commit object gives the commit id back and names its tree; taking
  the diff back from the unpacked archive and hashing its tree (git's tree format, computed here
  without git) gives that tree: the archive *is* the commit plus the diff. An anonymised bundle
  leaves out the commit object (it names the author), so only the tree is proven.

The archive is deterministic: entries sorted, owner 0, fixed times (``SOURCE_DATE_EPOCH``), modes
0644/0755, gzip without a time stamp.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ..core.digests import ALGORITHMS, DIR_HASH, file_digest, hashers, regular_files, tree_digest
from ..core.problems import IntegrityError, NotFound, Problem
from ..core.text import one_line
from ..core.times import source_date_epoch
from ..machine.git import BLOB_MODES, GitFailed, TreeEntry, apply_diff_in, commit_id, commit_object, commit_tree, has_commit, toplevel, tree_id, tree_of_commit
from ..spec.rules.paths import relative_path_problem

DATA_DIR = "data"
CODE_DIR = "code"
#: Default largest data input ``--with-data`` copies (bytes); larger ones are listed as not copied.
MAX_DATA_BYTES = 1024**3
#: Largest source archive a bundle check unpacks (bytes unpacked).
MAX_SOURCE_BYTES = 4 * 1024**3


# --------------------------------------------------------------------------- where things are


def uri_path(uri: str) -> tuple[Path | None, str | None]:
    """A local path for ``uri`` (relative or absolute; a ``file:`` URI's path), or the scheme of a
    remote one. ``verify`` and the bundle writer read URIs alike."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme and len(scheme) > 1 and scheme != "file":  # one letter: a Windows drive
        return None, scheme
    return (Path(url2pathname(unquote(parts.path))) if scheme == "file" else Path(uri)), None


def data_candidates(uri: str, *, data_root: Path | None, run_dir: Path | None) -> tuple[list[Path], str | None]:
    """Where an export looks for a data input, in order, and the scheme when it is remote."""
    path, scheme = uri_path(uri)
    if path is None:
        return [], scheme
    if path.is_absolute():
        return [path] + ([data_root / path.name] if data_root is not None else []), None
    roots = [r for r in (data_root, run_dir, Path.cwd()) if r is not None]
    return [r / path for r in roots], None


def bundle_data_path(uri: str) -> str | None:
    """Where the copy of a data input goes in the bundle: ``data/<uri>`` for a safe relative URI,
    ``data/<file name>`` for an absolute path."""
    path, _ = uri_path(uri)
    if path is None:
        return None
    rel = path.name if path.is_absolute() else PurePosixPath(uri).as_posix()
    if not rel or relative_path_problem(rel) or rel in (".", ".."):
        return None
    return f"{DATA_DIR}/{PurePosixPath(rel).as_posix().lstrip('./') or path.name}"


def find_repository(code: dict[str, Any], repo: Path | None) -> Path | None:
    """The checkout that holds the recorded commit: ``--repo``, the recorded repository when it is a
    local path, else the repository around the current directory."""
    commit = code.get("commit")
    recorded = code.get("repository") or ""
    local = Path(recorded) if recorded and "://" not in recorded and not recorded.startswith("git@") else None
    for cand in (repo, local, Path.cwd()):
        if cand is None or not cand.is_dir():
            continue
        top = toplevel(cand)
        if top is not None and commit and has_commit(top, commit):
            return top
    return None


def is_local_repository(code: dict[str, Any]) -> bool:
    """Whether the recorded repository is a path on the author's machine (useless to a reviewer)."""
    r = code.get("repository") or ""
    return bool(r) and not any(r.startswith(p) for p in ("https://", "http://", "git@", "ssh://", "git://"))


# --------------------------------------------------------------------------- data, on the way in


@dataclass
class DataCopies:
    """The data a bundle holds: manifest path -> input name -> bundle path; and what was left out."""

    copied: dict[str, dict[str, str]] = field(default_factory=dict)
    not_copied: dict[str, dict[str, str]] = field(default_factory=dict)
    #: bundle path -> the digest set of what lies there (two runs may share one copy)
    placed: dict[str, dict[str, str]] = field(default_factory=dict)


def copy_data(root: Path, manifest_rel: str, m: dict[str, Any], *, data_root: Path | None, run_dir: Path | None, max_bytes: int, copies: DataCopies, log: Callable[[str], None], rename: Callable[[str], str] | None = None) -> None:
    """Copy each file or directory input of ``m`` into ``root/data/``, digesting it on the way;
    ``rename`` maps a copy's bundle path (an anonymised bundle's must name no one)."""
    name = m.get("name") or manifest_rel
    for inp in m.get("data") or []:
        why = _copy_input(root, inp, data_root=data_root, run_dir=run_dir, max_bytes=max_bytes, copies=copies, manifest_rel=manifest_rel, rename=rename)
        if why:
            copies.not_copied.setdefault(manifest_rel, {})[inp["name"]] = why
            if not why.startswith("in memory"):
                log(f"warning: run {one_line(name)!r}: data input {one_line(inp['name'])!r} not copied: {why}")


def _copy_input(root: Path, inp: dict[str, Any], *, data_root: Path | None, run_dir: Path | None, max_bytes: int, copies: DataCopies, manifest_rel: str, rename: Callable[[str], str] | None = None) -> str | None:
    """Copy one input; the reason it was not copied, or ``None``. A copy that differs from the
    recorded digests is an error: the bundle would hold other data than the run used."""
    if inp.get("kind") == "memory" or not inp.get("uri"):
        return "in memory, nothing to copy" if inp.get("kind") == "memory" else "no uri recorded"
    digest = {a: v for a, v in (inp.get("digest") or {}).items() if a in ALGORITHMS or a == DIR_HASH}
    if not digest:
        return "no digest recorded, so a copy could not be checked"
    candidates, scheme = data_candidates(inp["uri"], data_root=data_root, run_dir=run_dir)
    if scheme:
        return f"remote ({scheme}://); a reviewer fetches it from its URI"
    found = next((p for p in candidates if p.exists()), None)
    target = bundle_data_path(inp["uri"])
    if target is not None and rename is not None:
        target = rename(target)
        target = target if not relative_path_problem(target) and target.startswith(f"{DATA_DIR}/") else None
    if found is None:
        raise NotFound(Problem("data-unavailable", f"data input {one_line(inp['name'])!r}: {one_line(inp['uri'])} not found (looked at {', '.join(map(str, candidates)) or 'nowhere'}); pass --data-root DIR where it lies"))
    if target is None:
        return f"its URI {one_line(inp['uri'])!r} gives no safe path inside the bundle"
    size = _size(found)
    if size > max_bytes:
        return f"{size} bytes, above the limit of {max_bytes} (see --max-data-size)"
    if target in copies.placed and copies.placed[target] != digest:
        target = f"{DATA_DIR}/{next(iter(digest.values()))[:12]}/{target[len(DATA_DIR) + 1:]}"
    if target not in copies.placed:
        got = _copy_checked(found, root / target, list(digest))
        bad = [f"{a} {v} recorded, {got.get(a)} copied" for a, v in digest.items() if got.get(a) != v]
        if inp.get("size") is not None and got.get("size") != str(inp["size"]):
            bad.insert(0, f"size {inp['size']} recorded, {got.get('size')} copied")
        if bad:
            raise IntegrityError(Problem("digest-mismatch", f"data input {one_line(inp['name'])!r} at {found} differs from the manifest: " + "; ".join(bad) + "; the bundle would not hold the data the run used"))
        copies.placed[target] = digest
    copies.copied.setdefault(manifest_rel, {})[inp["name"]] = target + ("/" if found.is_dir() else "")
    return None


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for _, p in regular_files(path))
    return path.stat().st_size


def _copy_checked(src: Path, dest: Path, algorithms: list[str]) -> dict[str, str]:
    """Copy a file (hashing what is written) or a directory (then its dirHash); size and digests."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():  # exactly the files its dirHash covers (links are not part of it, so not followed)
        for rel, path in regular_files(src):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)
        dest.mkdir(parents=True, exist_ok=True)
        size, digest, _ = tree_digest(dest)
        return {"size": str(size), **digest}
    hs = hashers([a for a in algorithms if a in ALGORITHMS])
    size = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while chunk := fin.read(1 << 20):
            fout.write(chunk)
            size += len(chunk)
            for h in hs.values():
                h.update(chunk)
    return {"size": str(size), **{a: h.hexdigest() for a, h in hs.items()}}


# --------------------------------------------------------------------------- code, on the way in


@dataclass(frozen=True)
class CodeEntry:
    """A source archive of the bundle, as ``index.json`` records it for each run that uses it."""

    archive: str
    commit: str
    tree: str
    diff: str | None
    commit_object: str | None
    root: str

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def archive_code(root: Path, code: dict[str, Any], diff: bytes | None, *, repo: Path, anonymize: bool, done: dict[tuple[str, str], CodeEntry], log: Callable[[str], None]) -> CodeEntry:
    """Write (once per commit and diff) the source archive of ``code.commit`` with ``diff`` applied."""
    commit = code["commit"]
    diff_sha = hashlib.sha256(diff).hexdigest() if diff else ""
    key = (commit, diff_sha)
    if key in done:
        return done[key]
    stem = commit[:12] + (f"-{diff_sha[:8]}" if diff else "")
    try:
        tree, entries, submodules = commit_tree(repo, commit)
        obj = commit_object(repo, commit)
    except (GitFailed, OSError) as exc:
        raise NotFound(Problem("code-unavailable", f"cannot read commit {commit} from {repo}: {one_line(str(exc))}")) from None
    if submodules:
        log(f"warning: commit {commit[:12]}: submodules {', '.join(submodules[:3])} are not in the source archive (a source archive holds one repository)")
    (root / CODE_DIR).mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="manifest-code-") as tmp:
        src = Path(tmp) / stem
        _materialize(entries, src)
        if diff:
            (root / CODE_DIR / f"{stem}.diff").write_bytes(diff)
            try:
                apply_diff_in(src, root / CODE_DIR / f"{stem}.diff")
            except (GitFailed, OSError) as exc:
                raise NotFound(Problem("diff-does-not-apply", f"the recorded diff does not apply to commit {commit}: {one_line(str(exc))}")) from None
        write_tar(src, root / CODE_DIR / f"{stem}.tar.gz", stem)
    if not anonymize:
        (root / CODE_DIR / f"{stem}.commit").write_bytes(obj)
    entry = CodeEntry(f"{CODE_DIR}/{stem}.tar.gz", commit, tree, f"{CODE_DIR}/{stem}.diff" if diff else None, None if anonymize else f"{CODE_DIR}/{stem}.commit", stem)
    done[key] = entry
    return entry


def _materialize(entries: list[TreeEntry], dest: Path) -> None:
    dest.mkdir(parents=True)
    for e in entries:
        if relative_path_problem(e.path):
            raise NotFound(Problem("code-unavailable", f"the commit holds a path git allows but a source archive cannot: {one_line(e.path)!r}"))
        p = dest / e.path
        p.parent.mkdir(parents=True, exist_ok=True)
        if e.mode == "120000":
            p.symlink_to(os.fsdecode(e.data))
        else:
            p.write_bytes(e.data)
            p.chmod(BLOB_MODES.get(e.mode, 0o644))


def write_tar(src: Path, out: Path, prefix: str) -> None:
    """A deterministic ``.tar.gz`` of ``src`` under ``prefix/``."""
    mtime = source_date_epoch()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(src.rglob("*"), key=lambda p: p.relative_to(src).as_posix()):
            rel = path.relative_to(src).as_posix()
            info = tarfile.TarInfo(f"{prefix}/{rel}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if path.is_symlink():
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
                tar.addfile(info)
            elif path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o755 if path.stat().st_mode & 0o111 else 0o644
                tar.addfile(info, io.BytesIO(data))
    with open(out, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue())


# --------------------------------------------------------------------------- on the way out


def extract_source(archive: Path, dest: Path) -> Path:
    """Unpack a bundle's source archive safely into ``dest``; the directory it holds.

    Every member is checked first: one top-level directory, no absolute name, no ``..``, no
    backslash; then tarfile's ``data`` filter refuses links that leave ``dest`` and devices."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            if sum(m.size for m in members) > MAX_SOURCE_BYTES:
                raise IntegrityError(Problem("code-archive-mismatch", f"{archive} unpacks to more than {MAX_SOURCE_BYTES} bytes"))
            bad = next((m.name for m in members if relative_path_problem(m.name.rstrip("/")) or not m.name.strip("/")), None)
            if bad is not None:
                raise IntegrityError(Problem("code-archive-mismatch", f"{archive} holds the member {one_line(bad)!r}, which is not a safe relative path"))
            tops = {m.name.split("/", 1)[0] for m in members}
            if len(tops) != 1 or any(m.name == next(iter(tops)) and not m.isdir() for m in members):
                raise IntegrityError(Problem("code-archive-mismatch", f"{archive} must hold one top-level directory"))
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IntegrityError(Problem("code-archive-mismatch", f"{archive} cannot be unpacked: {one_line(str(exc))}")) from None
    root = dest / tops.pop()
    if not root.is_dir() or root.is_symlink():
        raise IntegrityError(Problem("code-archive-mismatch", f"{archive}: its top-level entry is not a directory"))
    return root


@dataclass
class CodeCheck:
    """The verdict on a bundle's source archive against the manifest's code."""

    verdict: str  # pass | warn | fail
    reason: str


def check_source(bundle: Path, entry: dict[str, Any], code: dict[str, Any], work: Path) -> tuple[CodeCheck, Path | None]:
    """Whether the archive is the recorded commit with the recorded diff; and where it is unpacked
    (under ``work``), for a re-run. Nothing in ``entry`` is trusted: its paths are checked first,
    and a diff counts only when the manifest records it (with a digest).

    The proof: the commit object hashes to the commit and names tree T; the archive with the diff
    taken back has tree T; and T with the diff applied forward is the archive again (``git apply``
    takes hunks at an offset, so taking back alone could accept the change made elsewhere)."""
    commit = code.get("commit")
    for key in ("archive", "diff", "commit_object"):
        rel = entry.get(key)
        if rel is not None and (not isinstance(rel, str) or relative_path_problem(rel)):
            return CodeCheck("fail", f"index.json names an unsafe {key} path {one_line(str(rel))!r}"), None
    if not commit or entry.get("commit") != commit:
        return CodeCheck("fail", f"the bundle's archive is of commit {one_line(str(entry.get('commit')))}, the manifest records {commit}"), None
    archive = bundle / entry["archive"]
    if not archive.is_file():
        return CodeCheck("fail", f"{entry['archive']} is missing"), None
    why = _diff_problem(bundle, entry, code)
    if why:
        return CodeCheck("fail", why), None
    try:
        src = extract_source(archive, work)
    except IntegrityError as exc:
        return CodeCheck("fail", exc.problems[0].message), None
    pristine = work.parent / f"{work.name}-pristine"
    try:
        shutil.rmtree(pristine, ignore_errors=True)
        shutil.copytree(src, pristine, symlinks=True)
        diff = bundle / entry["diff"] if entry.get("diff") else None
        why = _apply(pristine, diff, reverse=True)
        if why:
            return CodeCheck("fail", why), src
        got = tree_id(pristine)
        if got != entry.get("tree"):
            return CodeCheck("fail", f"{entry['archive']} is not commit {commit}: its tree is {got}, the commit's is {entry.get('tree')}"), src
        why = _apply(pristine, diff, reverse=False)
        if why or tree_id(pristine) != tree_id(src):
            return CodeCheck("fail", why or f"{entry['archive']} is not commit {commit} with the recorded diff applied: the diff changes the commit elsewhere"), src
    finally:
        shutil.rmtree(pristine, ignore_errors=True)
    return _check_commit_object(bundle, entry, commit, got), src


def _diff_problem(bundle: Path, entry: dict[str, Any], code: dict[str, Any]) -> str | None:
    """Why the bundle's diff cannot be the manifest's: a diff for a clean run, none for a dirty
    one, or one whose digest the manifest does not record or does not match."""
    want = {a: v for a, v in {**(code.get("diff_digest") or {}), **((code.get("diff") or {}).get("digest") or {})}.items() if a in ALGORITHMS}
    rel = entry.get("diff")
    if not code.get("dirty"):
        return f"the bundle's index names a diff ({one_line(str(rel))}), but the manifest records a clean tree" if rel else None
    if not rel:
        return "the manifest records uncommitted changes, the bundle has no diff"
    if not want:
        return "the manifest records uncommitted changes without a digest of their diff, so the bundle's diff cannot be checked"
    diff = bundle / rel
    if not diff.is_file() or diff.is_symlink():
        return f"{rel} is missing"
    got = file_digest(diff, list(want))[1]
    if got != want:
        return f"{rel} differs from the manifest's diff digest"
    return None


def _apply(tree: Path, diff: Path | None, *, reverse: bool) -> str | None:
    """Apply (or take back) ``diff`` in ``tree``; why that failed, or ``None``."""
    if diff is None:
        return None
    try:
        apply_diff_in(tree, diff, reverse=reverse)
    except (GitFailed, OSError) as exc:
        return f"{diff.name} cannot be {'taken back from' if reverse else 'applied to'} the archive ({one_line(str(exc))}); git is needed for a run with uncommitted changes"
    return None


def _check_commit_object(bundle: Path, entry: dict[str, Any], commit: str, tree: str) -> CodeCheck:
    rel = entry.get("commit_object")
    diff = " with the recorded diff" if entry.get("diff") else ""
    if not rel:
        return CodeCheck("warn", f"{entry['archive']} has tree {tree}{diff}, as the bundle's index says; the commit object was left out (anonymised bundle), so that this tree is commit {commit[:12]} is not proven")
    p = bundle / rel
    obj = p.read_bytes() if p.is_file() else b""
    if commit_id(obj) != commit:
        return CodeCheck("fail", f"{rel} is not the object of commit {commit}")
    if tree_of_commit(obj) != tree:
        return CodeCheck("fail", f"commit {commit} has tree {tree_of_commit(obj)}, the archive {tree}")
    return CodeCheck("pass", f"{entry['archive']} is commit {commit}{diff} (tree {tree[:12]}, checked without git)")


def place_data(bundle: Path, copies: dict[str, str], m: dict[str, Any], run_dir: Path) -> list[str]:
    """Put the bundle's data copies where the run read them (``run_dir/<uri>`` for relative URIs),
    each checked against the manifest's digest while copied; what was placed. Nothing is placed
    outside ``run_dir``."""
    placed = []
    for inp in m.get("data") or []:
        rel = copies.get(inp.get("name"))
        uri = inp.get("uri") or ""
        if not rel or relative_path_problem(rel.rstrip("/")):
            continue
        path, scheme = uri_path(uri)
        if scheme or path is None or path.is_absolute() or relative_path_problem(uri):
            continue
        src, dest = bundle / rel.rstrip("/"), run_dir / uri
        if not dest.resolve().is_relative_to(run_dir.resolve()) or not src.exists():
            continue
        digest = {a: v for a, v in (inp.get("digest") or {}).items() if a in ALGORITHMS or a == DIR_HASH}
        if dest.is_dir():
            shutil.rmtree(dest)
        elif dest.exists() or dest.is_symlink():
            dest.unlink()
        got = _copy_checked(src, dest, list(digest))
        bad = [a for a, v in digest.items() if got.get(a) != v]
        if bad:
            raise IntegrityError(Problem("digest-mismatch", f"the bundle's copy {rel} of data input {one_line(inp['name'])!r} differs from the manifest's {', '.join(bad)}"))
        placed.append(uri)
    return placed
