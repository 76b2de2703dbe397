"""Git, run one way: every call goes through :func:`run_git` (one timeout, no pager, no colour,
no external diff drivers), and the git state of a directory is read from it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.uris import strip_credentials

#: Seconds any one git command may take (a clone of a large repository included).
GIT_TIMEOUT = 600
#: Options given to every git command: no colour codes, whatever the user's configuration.
_GIT = ("git", "-c", "color.ui=never")


class GitFailed(RuntimeError):
    """A git command exited non-zero; the message is its last line of standard error."""


def run_git(cwd: Path, *args: str, binary: bool = False, check: bool = True, timeout: float = GIT_TIMEOUT) -> Any:
    """Run ``git ARGS`` in ``cwd``; its standard output (text, stripped, unless ``binary``).

    With ``check``, a non-zero exit raises :class:`GitFailed`; without, the
    :class:`subprocess.CompletedProcess` is returned whatever the exit status. ``FileNotFoundError``
    means git is not installed.
    """
    proc = subprocess.run([*_GIT, *args], cwd=cwd, capture_output=True, timeout=timeout)
    if not check:
        return proc
    if proc.returncode != 0:
        raise GitFailed(proc.stderr.decode("utf-8", "replace").strip())
    return proc.stdout if binary else proc.stdout.decode("utf-8", "replace").strip()


@dataclass
class GitState:
    root: Path | None
    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    diff: bytes | None = None
    repository: str | None = None
    reason: str | None = None  # why there is no git state

    def to_code(self) -> dict[str, Any]:
        """The manifest ``code`` fields this state gives (no diff file: the caller places it)."""
        out: dict[str, Any] = {}
        for key in ("repository", "commit", "branch", "dirty"):
            v = getattr(self, key)
            if v is not None:
                out[key] = v
        if self.dirty and self.diff is not None:
            out["diff_digest"] = {"sha256": hashlib.sha256(self.diff).hexdigest()}
        return out


def has_commit(repo: Path, commit: str) -> bool:
    """Whether the repository at ``repo`` holds ``commit`` (as a commit object)."""
    try:
        run_git(repo, "cat-file", "-e", f"{commit}^{{commit}}")
    except (GitFailed, OSError, subprocess.TimeoutExpired):
        return False
    return True


def toplevel(path: Path) -> Path | None:
    """The root of the work tree holding ``path``, or ``None`` when it is not in one."""
    try:
        return Path(run_git(path, "rev-parse", "--show-toplevel"))
    except (GitFailed, OSError, subprocess.SubprocessError):
        return None


def git_state(path: str | Path, *, include_untracked: list[Path] | None = None) -> GitState:
    """Read the git state of the repository holding ``path`` (a file or directory).

    Files in ``include_untracked`` (the entry point, typically) that git does not track yet make
    the tree dirty, and their content is added to the diff as new files, so that the run can be
    re-created from commit + diff.
    """
    p = Path(path).resolve()
    cwd = p if p.is_dir() else p.parent
    try:
        root = Path(run_git(cwd, "rev-parse", "--show-toplevel"))
    except FileNotFoundError:
        return GitState(None, reason="git is not installed")
    except (GitFailed, OSError, subprocess.SubprocessError) as exc:
        return GitState(None, reason=f"not a git repository ({str(exc).splitlines()[0] if str(exc) else 'git failed'})")
    state = GitState(root)
    try:
        state.commit = run_git(root, "rev-parse", "HEAD")
    except GitFailed:
        state.reason = "the repository has no commit yet"
        return state
    try:
        branch = run_git(root, "rev-parse", "--abbrev-ref", "HEAD")
        state.branch = None if branch == "HEAD" else branch
    except GitFailed:
        pass
    untracked = _untracked(root, include_untracked or [])
    state.dirty = bool(run_git(root, "status", "--porcelain", "--untracked-files=no")) or bool(untracked)
    if state.dirty:
        state.diff = _diff(root, untracked)
    try:
        remote = run_git(root, "config", "--get", "remote.origin.url")
        state.repository = strip_credentials(remote) if remote else None
    except GitFailed:
        state.repository = None
    return state


def _untracked(root: Path, files: list[Path]) -> list[str]:
    """Those of ``files`` inside the work tree that git does not track (relative posix paths)."""
    out = []
    for f in files:
        f = Path(f).resolve()
        if f.is_file() and f.is_relative_to(root):
            rel = f.relative_to(root).as_posix()
            if run_git(root, "ls-files", "--error-unmatch", "--", rel, check=False).returncode != 0:
                out.append(rel)
    return out


def _diff(root: Path, untracked: list[str]) -> bytes:
    """``git diff HEAD --binary``, plus each untracked file as a new file."""
    diff: bytes = run_git(root, "diff", "--no-ext-diff", "--no-textconv", "HEAD", "--binary", binary=True)
    for rel in untracked:
        proc = run_git(root, "diff", "--no-ext-diff", "--no-textconv", "--no-index", "--binary", "--", "/dev/null", rel, check=False)
        diff += proc.stdout  # exit status 1 means "differs", which is the point
    return diff


def changed_files(root: Path) -> list[str]:
    """Files whose work-tree content differs from HEAD."""
    out = run_git(root, "-c", "core.quotepath=off", "diff", "--name-only", "HEAD", check=False).stdout.decode("utf-8", "replace").split("\n")
    return [n for n in out if n]


def clone(source: str, dest: Path, cwd: Path) -> None:
    """``git clone --no-checkout SOURCE DEST`` (``--`` keeps a source from being read as an option)."""
    run_git(cwd, "clone", "--quiet", "--no-checkout", "--", source, str(dest))


def checkout(repo: Path, commit: str) -> None:
    run_git(repo, "checkout", "--quiet", "--detach", commit)


def apply_diff(repo: Path, diff_file: Path) -> None:
    """Apply a binary diff (as ``git diff --binary`` writes it) to the work tree."""
    run_git(repo, "apply", "--binary", "--whitespace=nowarn", "--", str(diff_file.resolve()))


# --------------------------------------------------------------------------- source trees (bundles)

#: git's modes for what a source tree may hold: a file, an executable file, a symbolic link.
BLOB_MODES = {"100644": 0o644, "100755": 0o755, "120000": 0o777}


@dataclass(frozen=True)
class TreeEntry:
    """One blob of a commit's tree: its path, git mode and content (a link's target for 120000)."""

    path: str
    mode: str
    data: bytes


def commit_tree(repo: Path, commit: str) -> tuple[str, list[TreeEntry], list[str]]:
    """The tree id of ``commit``, every blob of it (read with one ``git cat-file --batch``), and
    the paths of submodules, which a source archive cannot hold.

    ``git archive`` is not used: ``export-ignore`` and ``export-subst`` attributes would make the
    archive differ from the commit, and a bundle proves its archive *is* the commit.
    """
    tree = run_git(repo, "rev-parse", "--verify", f"{commit}^{{tree}}")
    listing_ = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, binary=True)
    blobs: list[tuple[str, str, str]] = []
    submodules: list[str] = []
    for rec in listing_.split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        mode, kind, sha = meta.decode().split(" ")
        name = path.decode("utf-8", "surrogateescape")
        if kind == "commit":
            submodules.append(name)
        elif kind == "blob":
            blobs.append((mode, sha, name))
    proc = subprocess.run([*_GIT, "cat-file", "--batch"], cwd=repo, input="".join(f"{sha}\n" for _, sha, _ in blobs).encode(), capture_output=True, timeout=GIT_TIMEOUT)
    if proc.returncode != 0:
        raise GitFailed(proc.stderr.decode("utf-8", "replace").strip() or "git cat-file failed")
    out, pos, entries = proc.stdout, 0, []
    for mode, sha, name in blobs:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split(b" ")[2])
        data = out[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
        entries.append(TreeEntry(name, mode, data))
    return tree, entries, submodules


def commit_object(repo: Path, commit: str) -> bytes:
    """The raw commit object (``git cat-file commit``): hashed, it gives the commit id back."""
    data: bytes = run_git(repo, "cat-file", "commit", commit, binary=True)
    return data


def commit_id(obj: bytes) -> str:
    """The id of a raw commit object: SHA-1 of ``commit <size>\\0<object>`` (git's object format)."""
    return hashlib.sha1(b"commit %d\0" % len(obj) + obj).hexdigest()  # noqa: S324 - git's object id, not a security digest


def tree_of_commit(obj: bytes) -> str | None:
    """The ``tree`` line of a raw commit object."""
    first = obj.split(b"\n", 1)[0]
    return first[5:].decode("ascii", "replace") if first.startswith(b"tree ") else None


def tree_id(root: Path) -> str:
    """git's tree id of a directory (files, executables, symbolic links; empty directories do not
    exist for git), computed without git, so a reviewer can check an unpacked archive offline."""
    entries: list[tuple[bytes, bytes, bytes]] = []  # (sort key, mode, raw 20-byte id)
    for child in root.iterdir():
        name = os.fsencode(child.name)
        if child.is_symlink():
            entries.append((name, b"120000", _object_id(b"blob", os.fsencode(os.readlink(child)))))
        elif child.is_dir():
            sub = tree_id(child)
            if sub != EMPTY_TREE:
                entries.append((name + b"/", b"40000", bytes.fromhex(sub)))
        elif child.is_file():
            mode = b"100755" if child.stat().st_mode & 0o111 else b"100644"
            entries.append((name, mode, _object_id(b"blob", child.read_bytes())))
    body = b"".join(mode + b" " + key.rstrip(b"/") + b"\0" + oid for key, mode, oid in sorted(entries))
    return _object_id(b"tree", body).hex()


def _object_id(kind: bytes, body: bytes) -> bytes:
    return hashlib.sha1(kind + b" %d\0" % len(body) + body).digest()  # noqa: S324 - git's object id


#: The id git gives a tree with nothing in it.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def apply_diff_in(directory: Path, diff_file: Path, *, reverse: bool = False) -> None:
    """Apply (or take back) a ``git diff --binary`` patch to a plain directory, not a repository.

    ``GIT_DIR`` is an empty directory outside it, so git never climbs to a repository that holds
    ``directory`` nor reads a configuration the tree brings.
    """
    args = ["apply", "--binary", "--whitespace=nowarn", *(["--reverse"] if reverse else []), "--", str(diff_file.resolve())]
    with tempfile.TemporaryDirectory(prefix="manifest-no-git-") as empty:  # nothing of the (untrusted) tree configures git
        env = {**os.environ, "GIT_DIR": empty, "GIT_CEILING_DIRECTORIES": str(directory.parent), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
        proc = subprocess.run([*_GIT, *args], cwd=directory, capture_output=True, timeout=GIT_TIMEOUT, env=env)
    if proc.returncode != 0:
        raise GitFailed(proc.stderr.decode("utf-8", "replace").strip() or "git apply failed")
