"""Checking a manifest against this machine, without running anything: data, code, environment.

Each check gives one :class:`VerifyItem` with a verdict (``pass``, ``warn`` or ``fail``) and a
reason. Data inputs are digested where they are found; the code is compared with a git checkout
(``--repo``, else the repository holding the current directory); the environment is that of the
interpreter running this code. Nothing here imports MLflow.

Where a data input is looked for (the first path that exists is used):

- with ``data_root``: a relative URI at ``DATA_ROOT/<uri>``; an absolute path or ``file:`` URI at
  the path itself, then at ``DATA_ROOT/<file name>``; a remote URI (``s3://``, ``https://``...) at
  ``DATA_ROOT/<file name>``, else it is not checked;
- without: a relative URI in the run's working directory (``REPO_ROOT/<code.working_directory>``,
  when a repository was found), then next to the manifest (else the current directory); an absolute
  path or ``file:`` URI at the path itself; a remote URI is not checked.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterator, Literal
from urllib.parse import urlsplit

from ..bundle.contents import check_source, uri_path
from ..bundle.layout import BundleContext, bundle_context
from ..core.digests import ALGORITHMS, DIR_HASH, UnhashableName, digest_bytes, digest_kind, file_digest, tree_digest
from ..core.names import normalize_name
from ..core.problems import InvalidManifest
from ..core.text import one_line
from ..document.reader import Document, load_path
from ..machine.git import GitState, changed_files, git_state, has_commit
from ..machine.system import packages, platform_info
from ..spec.rules.paths import relative_path_problem
from ..spec.validation import require_valid, validate_data

Verdict = Literal["pass", "warn", "fail"]
CATEGORIES = ("data", "code", "environment")


@dataclass
class VerifyItem:
    """One check: what was checked, its verdict, why, and the recorded and found values."""

    category: str  # data | code | environment
    subject: str
    verdict: Verdict
    reason: str
    expected: Any = None
    actual: Any = None


@dataclass
class VerifyReport:
    """Every check of one manifest, in order: data inputs, code, environment."""

    manifest: str
    items: list[VerifyItem] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for i in self.items if i.verdict == verdict)

    @property
    def ok(self) -> bool:
        """Whether nothing failed (warnings allowed)."""
        return self.count("fail") == 0

    def summary(self) -> dict[str, int]:
        return {"passed": self.count("pass"), "warnings": self.count("warn"), "failed": self.count("fail"), "total": len(self.items)}

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "manifest": self.manifest, "items": [asdict(i) for i in self.items], "summary": self.summary()}


# --------------------------------------------------------------------------- entry point


def verify(doc_or_path: Document | dict[str, Any] | str | os.PathLike[str], *, data_root: str | os.PathLike[str] | None = None, repo: str | os.PathLike[str] | None = None) -> VerifyReport:
    """Check a manifest (a path, a parsed :class:`Document` or its data) against this machine.

    Raises :class:`~manifest.errors.InvalidManifest` when it is not a valid manifest, and
    :class:`~manifest.errors.UnreadableInput` when the file cannot be read.
    """
    data, base_dir, name = _load_valid(doc_or_path)
    bundle = bundle_context(Path(name)) if name not in ("<data>", "-") else None
    repo_dir = Path(repo) if repo is not None else Path.cwd()
    root = Path(data_root) if data_root is not None else None
    from_bundle = bundle is not None and repo is None and bundle.code is not None
    git = GitState(None, reason="not used: the bundle holds the code") if from_bundle else _git_state(repo_dir)
    located = {k: bundle.root / v.rstrip("/") for k, v in bundle.data.items() if not relative_path_problem(v.rstrip("/"))} if bundle is not None and root is None else {}
    items: list[VerifyItem] = []
    items += check_data(data, data_root=root, run_dir=_run_dir(data, git), base_dir=base_dir, located=located)
    items += check_bundle_code(bundle, data.get("code") or {}) if from_bundle else check_code(data.get("code") or {}, git, repo_dir)
    items += check_environment(data.get("environment"))
    return VerifyReport(name, items)


def check_bundle_code(bundle: BundleContext | None, code: dict[str, Any]) -> list[VerifyItem]:
    """The bundle's source archive against the recorded commit and diff, offline and without a
    repository (:func:`manifest.bundle.contents.check_source`)."""
    assert bundle is not None and bundle.code is not None
    with tempfile.TemporaryDirectory(prefix="manifest-verify-") as tmp:
        result, _ = check_source(bundle.root, bundle.code, code, Path(tmp) / "source")
    return [VerifyItem("code", "source archive", result.verdict, result.reason, code.get("commit"), bundle.code.get("commit"))]  # type: ignore[arg-type]


def _load_valid(doc_or_path: Document | dict[str, Any] | str | os.PathLike[str]) -> tuple[dict[str, Any], Path, str]:
    """The manifest's data, the directory it lies in, and its name; refuses invalid manifests."""
    if isinstance(doc_or_path, dict):
        errors = [p for p in validate_data(doc_or_path) if p.severity == "error"]
        if errors:
            raise InvalidManifest(errors, file="<data>")
        return doc_or_path, Path.cwd(), "<data>"
    doc = require_valid(doc_or_path if isinstance(doc_or_path, Document) else load_path(doc_or_path))
    return doc.data, doc.base_dir or Path.cwd(), doc.name


def _git_state(repo_dir: Path) -> GitState:
    if not repo_dir.is_dir():  # git_state would blame a missing directory on git not being installed
        return GitState(None, reason="no such directory")
    return git_state(repo_dir)


def _run_dir(data: dict[str, Any], git: GitState) -> Path | None:
    """The run's working directory within the checkout, when there is a checkout."""
    if git.root is None:
        return None
    wd = (data.get("code") or {}).get("working_directory") or ""
    return git.root / PurePosixPath(wd) if wd else git.root


# --------------------------------------------------------------------------- data


def check_data(data: dict[str, Any], *, data_root: Path | None, run_dir: Path | None, base_dir: Path, located: dict[str, Path] | None = None) -> list[VerifyItem]:
    """One item per data input: found and identical, different, missing, or not checkable;
    ``located`` names where a bundle holds an input's copy (looked at first)."""
    return [_check_input(inp, data_root, run_dir, base_dir, (located or {}).get(inp["name"])) for inp in data.get("data") or []]


def _check_input(inp: dict[str, Any], data_root: Path | None, run_dir: Path | None, base_dir: Path, copy: Path | None = None) -> VerifyItem:
    name = inp["name"]
    digest = {a: v for a, v in (inp.get("digest") or {}).items() if a in ALGORITHMS or a == DIR_HASH}
    size = inp.get("size")
    expected = {k: v for k, v in (("size", size), ("digest", digest or None)) if v is not None} or None

    def item(verdict: Verdict, reason: str, actual: Any = None) -> VerifyItem:
        return VerifyItem("data", name, verdict, reason, expected, actual)

    if inp.get("kind") == "memory":
        return item("warn", "nothing to check: the input lived in memory")
    if not digest and size is None:
        return item("warn", "nothing to check: no size or digest recorded")
    uri = inp.get("uri")
    if not uri:
        return item("warn", "nothing to check: no uri recorded")
    candidates, remote = _locations(uri, data_root, run_dir, base_dir)
    if copy is not None:
        candidates, remote = [copy], None
    found = next((p for p in candidates if p.exists()), None)
    if found is None:
        if remote:
            return item("warn", f"not checked: remote ({remote}://)" + (f"; not under the data root either ({_paths(candidates)})" if candidates else ""))
        return item("fail", f"{uri} not found (looked at {_paths(candidates)})")
    return _compare_input(inp, found, size, digest, item)


def _compare_input(inp: dict[str, Any], path: Path, size: int | None, digest: dict[str, str], item: Any) -> VerifyItem:
    kind = "directory" if path.is_dir() else "file"
    recorded = inp.get("kind")
    if recorded not in ("file", "directory"):  # absent: the digest says (dirHash is a directory)
        recorded = digest_kind(digest) if digest else None
    if recorded is not None and recorded != kind:
        return item("fail", f"{path} is a {kind}, the manifest records a {recorded}", {"kind": kind})
    try:
        got_size, got = _measure(path, kind, list(digest) or ["sha256"])
    except UnhashableName as exc:
        return item("fail", f"cannot digest {path}: {exc.problems[0].message}")
    except OSError as exc:
        return item("fail", f"cannot read {path}: {exc.strerror or exc}")
    actual = {"size": got_size, "digest": {a: got[a] for a in digest} or None}
    actual = {k: v for k, v in actual.items() if v is not None}
    diffs = []
    if size is not None and size != got_size:
        diffs.append(f"size {size} recorded, {got_size} found")
    diffs += [f"{a} {want} recorded, {got[a]} found" for a, want in digest.items() if got[a] != want]
    if diffs:
        return item("fail", f"{path} differs: " + "; ".join(diffs), actual)
    if not digest:
        return item("warn", f"size matches at {path}, but no digest is recorded: the content is not checked", actual)
    what = " and ".join((["size"] if size is not None else []) + [", ".join(digest)])
    return item("pass", f"{what} match ({path})", actual)


def _measure(path: Path, kind: str, algorithms: list[str]) -> tuple[int, dict[str, str]]:
    """Size and digests of a file (each recorded algorithm, in one read) or of a directory tree
    (its dirHash, spec 6.3)."""
    if kind == "file":
        return file_digest(path, [a for a in algorithms if a in ALGORITHMS] or ["sha256"])
    size, digest, _ = tree_digest(path)
    return size, digest


def _locations(uri: str, data_root: Path | None, run_dir: Path | None, base_dir: Path) -> tuple[list[Path], str | None]:
    """Paths to try for ``uri``, in order, and the scheme when the URI is remote."""
    path, scheme = uri_path(uri)
    if path is None:
        name = PurePosixPath(urlsplit(uri).path).name
        return ([data_root / name] if data_root is not None and name else []), scheme
    if path.is_absolute():
        return [path] + ([data_root / path.name] if data_root is not None else []), None
    if data_root is not None:
        return [data_root / path], None
    return [d / path for d in (run_dir, base_dir) if d is not None], None


def _paths(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths) or "nowhere"


# --------------------------------------------------------------------------- code


def check_code(code: dict[str, Any], git: GitState, repo_dir: Path) -> list[VerifyItem]:
    """The checkout's HEAD and working tree against ``code.commit``, ``code.dirty`` and the diff."""
    commit = code.get("commit")
    if not commit:
        where = f"the repository at {git.root}" if git.root else f"no git repository at {repo_dir}"
        return [VerifyItem("code", "commit", "warn", f"nothing to check: the manifest records no commit ({where})")]
    if git.root is None:
        return [VerifyItem("code", "repository", "fail", f"no git repository at {repo_dir} ({git.reason})", commit, None)]
    if git.commit is None:
        return [VerifyItem("code", "commit", "fail", f"the repository at {git.root} has no commit yet", commit, None)]
    return [_check_commit(commit, git), _check_tree(code, git)]


def _check_commit(commit: str, git: GitState) -> VerifyItem:
    head = git.commit
    if head == commit:
        return VerifyItem("code", "commit", "pass", f"HEAD is {commit}", commit, head)
    if not has_commit(git.root, commit):  # type: ignore[arg-type]
        return VerifyItem("code", "commit", "fail", f"commit {commit} is not in the repository at {git.root} (HEAD is {head})", commit, head)
    return VerifyItem("code", "commit", "fail", f"HEAD is {head}, the manifest records {commit}", commit, head)


def _changed_files(root: Path, limit: int = 3) -> str:
    names = changed_files(root)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more if names else "staged changes"


def _check_tree(code: dict[str, Any], git: GitState) -> VerifyItem:
    recorded, dirty = code.get("dirty"), bool(git.dirty)

    def item(verdict: Verdict, reason: str, expected: Any = recorded, actual: Any = dirty) -> VerifyItem:
        return VerifyItem("code", "working tree", verdict, reason, expected, actual)

    if recorded is None:
        state = f"has uncommitted changes ({_changed_files(git.root)})" if dirty else "is clean"  # type: ignore[arg-type]
        return item("warn", f"the checkout {state}; the manifest does not record whether the original was clean")
    if not recorded and not dirty:
        return item("pass", "clean, as recorded")
    if not recorded:
        return item("fail", f"the checkout has uncommitted changes ({_changed_files(git.root)}); the original ran on a clean tree")  # type: ignore[arg-type]
    if not dirty:
        return item("fail", "the original ran with uncommitted changes; this checkout has none (apply the recorded diff)")
    return _check_diff(code, git.diff or b"")


def _check_diff(code: dict[str, Any], diff: bytes) -> VerifyItem:
    want = {**(code.get("diff_digest") or {}), **((code.get("diff") or {}).get("digest") or {})}
    want = {a: v for a, v in want.items() if a in ALGORITHMS}
    got = digest_bytes(diff, list(want) or ["sha256"])
    diffs = [f"{a} {v} recorded, {got[a]} found" for a, v in want.items() if got[a] != v]
    if diffs:
        return VerifyItem("code", "working tree", "fail", "the uncommitted changes differ from the recorded diff (git diff HEAD --binary): " + "; ".join(diffs), want, got)
    return VerifyItem("code", "working tree", "pass", f"uncommitted changes match the recorded diff ({', '.join(want)})", want, got)


# --------------------------------------------------------------------------- environment


def check_environment(env: dict[str, Any] | None) -> list[VerifyItem]:
    """The running interpreter, platform and installed packages against the recorded ones."""
    if not env:
        return [VerifyItem("environment", "environment", "warn", "nothing to check: the manifest records no environment")]
    items: list[VerifyItem] = []
    if env.get("python"):
        items += _check_python(env["python"])
    if env.get("platform"):
        items += _check_platform(env["platform"])
    if env.get("packages"):
        items += check_packages(env["packages"], packages())
    return items


def _check_python(py: dict[str, Any]) -> Iterator[VerifyItem]:
    want, have = str(py["version"]), platform.python_version()
    if want == have:
        yield VerifyItem("environment", "python", "pass", f"Python {have}", want, have)
    elif want.split(".")[:2] != have.split(".")[:2]:
        yield VerifyItem("environment", "python", "fail", f"Python {want} recorded, {have} running", want, have)
    else:
        yield VerifyItem("environment", "python", "warn", f"Python {want} recorded, {have} running (same minor version)", want, have)
    impl, running = py.get("implementation"), platform.python_implementation()
    if impl and impl != running:
        yield VerifyItem("environment", "python implementation", "warn", f"{impl} recorded, {running} running", impl, running)


def _check_platform(recorded: dict[str, Any]) -> Iterator[VerifyItem]:
    here = platform_info()
    keys = [k for k in ("os", "architecture") if recorded.get(k)]
    if not keys:
        return
    want = {k: recorded[k] for k in keys}
    have = {k: here.get(k) for k in keys}
    w, h = " ".join(str(v) for v in want.values()), " ".join(str(v) for v in have.values())
    if want == have:
        yield VerifyItem("environment", "platform", "pass", f"{h}, as recorded", want, have)
    else:
        yield VerifyItem("environment", "platform", "warn", f"{w} recorded, {h} here", want, have)


def check_packages(recorded: dict[str, str], installed: dict[str, str]) -> list[VerifyItem]:
    """One item per missing or different package, then one summary item (names compared per PEP 503)."""
    items: list[VerifyItem] = []
    have = {normalize_name(k): v for k, v in installed.items()}
    for name, want in sorted(recorded.items(), key=lambda kv: normalize_name(kv[0])):
        got = have.get(normalize_name(name))
        if got is None:
            items.append(VerifyItem("environment", f"package {name}", "fail", f"{name} {want} recorded, not installed", want, None))
        elif got != want:
            items.append(VerifyItem("environment", f"package {name}", "fail", f"{name} {want} recorded, {got} installed", want, got))
    n, m = len(recorded) - len(items), len(recorded)
    extra = len(set(have) - {normalize_name(k) for k in recorded})
    note = f"; {extra} more installed that the manifest does not list" if extra else ""
    items.append(VerifyItem("environment", "packages", "pass" if n == m else "fail", f"{n} of {m} packages match{note}", m, n))
    return items


# --------------------------------------------------------------------------- rendering


def _plural(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word + 's'}"


def summary_line(report: VerifyReport) -> str:
    s = report.summary()
    return f"verify: {s['passed']} passed, {_plural(s['warnings'], 'warning')}, {s['failed']} failed"


def render_text(report: VerifyReport) -> str:
    """``VERDICT  category  subject: reason`` per item, then the summary line."""
    width = max(len(c) for c in CATEGORIES)
    lines = [f"{i.verdict.upper():<4}  {i.category:<{width}}  {one_line(i.subject)}: {one_line(i.reason)}" for i in report.items]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def render_json(report: VerifyReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"




#: The verify reporters, by ``--format``.
REPORTERS: dict[str, Callable[[VerifyReport], str]] = {"text": render_text, "json": render_json}
