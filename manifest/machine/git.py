"""Git, run one way: every call goes through :func:`run_git` (one timeout, no pager, no colour,
no external diff drivers), and the git state of a directory is read from it.
"""

from __future__ import annotations

import hashlib
import subprocess
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
