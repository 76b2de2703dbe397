"""The git state of a directory: commit, branch, dirty flag, diff, remote (without credentials)."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .tracking import strip_credentials


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


def _git(cwd: Path, *args: str, binary: bool = False) -> Any:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace").strip())
    return proc.stdout if binary else proc.stdout.decode("utf-8", "replace").strip()


def has_commit(repo: Path, commit: str) -> bool:
    """Whether the repository at ``repo`` holds ``commit`` (as a commit object)."""
    try:
        _git(repo, "cat-file", "-e", f"{commit}^{{commit}}")
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        return False
    return True


def git_state(path: str | Path, *, include_untracked: list[Path] | None = None) -> GitState:
    """Read the git state of the repository holding ``path`` (a file or directory).

    Files in ``include_untracked`` (the entry point, typically) that git does not track yet make
    the tree dirty, and their content is added to the diff as new files, so that the run can be
    re-created from commit + diff.
    """
    p = Path(path).resolve()
    cwd = p if p.is_dir() else p.parent
    try:
        root = Path(_git(cwd, "rev-parse", "--show-toplevel"))
    except FileNotFoundError:
        return GitState(None, reason="git is not installed")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return GitState(None, reason=f"not a git repository ({str(exc).splitlines()[0] if str(exc) else 'git failed'})")
    state = GitState(root)
    try:
        state.commit = _git(root, "rev-parse", "HEAD")
    except RuntimeError:
        state.reason = "the repository has no commit yet"
        return state
    try:
        branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
        state.branch = None if branch == "HEAD" else branch
    except RuntimeError:
        pass
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    untracked = []
    for f in include_untracked or []:
        f = Path(f).resolve()
        if f.is_file() and f.is_relative_to(root):
            rel = f.relative_to(root).as_posix()
            if subprocess.run(["git", "ls-files", "--error-unmatch", rel], cwd=root, capture_output=True).returncode != 0:
                untracked.append(rel)
    state.dirty = bool(status) or bool(untracked)
    if state.dirty:
        diff = _git(root, "-c", "color.ui=never", "diff", "--no-ext-diff", "--no-textconv", "HEAD", "--binary", binary=True)
        for rel in untracked:
            proc = subprocess.run(["git", "-c", "color.ui=never", "diff", "--no-ext-diff", "--no-textconv", "--no-index", "--binary", "/dev/null", rel], cwd=root, capture_output=True, timeout=60)
            diff += proc.stdout  # exit status 1 means "differs", which is the point
        state.diff = diff
    try:
        remote = _git(root, "config", "--get", "remote.origin.url")
        state.repository = strip_credentials(remote) if remote else None
    except RuntimeError:
        state.repository = None
    return state
