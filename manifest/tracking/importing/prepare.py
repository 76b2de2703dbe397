"""Planning an import: every manifest read, validated and its local files verified against their
digests before the tracking store is touched."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ...checks.discovery import discover
from ...core.digests import digest_kind
from ...core.problems import BadRequest, IntegrityError, InvalidManifest, ManifestError, NotFound, Problem, UnreadableInput
from ...document.canonical import manifest_digest
from ...document.envfiles import render_python_env, render_requirements
from ...document.reader import Document, load_path
from ...spec.rules.paths import relative_path_problem
from ...spec.validation import load_valid
from .staging import folder_problems, links_on_the_way, read_checked, stage_file, stage_tree


@dataclass
class Prepared:
    """A manifest checked and ready to import: its data, histories and verified local files.

    Model and artifact files are copies in a private staging directory, made and hashed before
    anything is written to the store; the import uploads these copies and nothing else.
    """

    doc: Document
    data: dict[str, Any]
    digest: str
    #: Metric name -> its history: the columns when inline, else the staged (checked) copy of its
    #: sidecar, read one metric at a time as the points are sent (:meth:`history`).
    histories: dict[str, dict[str, list[Any]] | Path] = field(default_factory=dict)
    model_dirs: dict[int, Path] = field(default_factory=dict)
    artifact_files: dict[int, Path] = field(default_factory=dict)
    #: Staged copies of ``code.config_files`` / ``code.untracked_files`` that are shipped, by (key, index).
    code_files: dict[tuple[str, int], Path] = field(default_factory=dict)
    diff_bytes: bytes | None = None
    #: ``requirements.txt`` / ``python_env.yaml`` rendered from ``environment`` (``manifest env``'s rules).
    env_files: dict[str, str] = field(default_factory=dict)
    staging: tempfile.TemporaryDirectory[str] | None = None

    def staged(self, *parts: str) -> Path:
        """A path in this manifest's staging directory (made on first use)."""
        if self.staging is None:
            self.staging = tempfile.TemporaryDirectory(prefix="manifest-import-")
        return Path(self.staging.name, *parts)

    def history(self, metric: str) -> dict[str, list[Any]] | None:
        """The columns of a metric's history (read from its staged sidecar, which was checked)."""
        h = self.histories.get(metric)
        if isinstance(h, Path):
            return json.loads(h.read_bytes())  # type: ignore[no-any-return]
        return h

    def cleanup(self) -> None:
        if self.staging is not None:
            self.staging.cleanup()
            self.staging = None


def _inside(base: Path, rel: str, what: str, pointer: str) -> Path:
    why = relative_path_problem(rel)
    if why:
        raise InvalidManifest(Problem("unsafe-path", f"{what} path {rel!r} {why}", pointer))
    p = base / PurePosixPath(rel)
    try:
        ok = p.resolve().is_relative_to(base.resolve())
    except OSError:
        ok = False
    if not ok:
        raise InvalidManifest(Problem("unsafe-path", f"{what} path {rel!r} resolves outside the manifest's directory (through a symbolic link?)", pointer))
    return p


def _no_links(base: Path, rel: str, what: str, pointer: str) -> None:
    link = links_on_the_way(base, rel)
    if link is not None:
        raise IntegrityError(Problem("not-a-regular-file", f"{what} path {rel!r} goes through the symbolic link {link}; only regular files are uploaded", pointer))


def prepare(path: str | Path) -> Prepared:
    """Read and fully check one manifest and everything it brings along. Touches no server."""
    doc = load_valid(path)
    data = doc.data
    base = doc.base_dir or Path(".")
    prep = Prepared(doc, data, manifest_digest(data)["sha256"])
    try:
        for step in (_histories, _diff, _code_files, _models, _artifacts, _env_files):
            step(prep, base, str(path))
    except ManifestError as exc:
        prep.cleanup()
        raise type(exc)([_placed(p, doc) for p in exc.problems]) from None
    except BaseException:
        prep.cleanup()
        raise
    return prep


def _placed(p: Problem, doc: Document) -> Problem:
    """A problem of a file that travels with the manifest, attributed to the manifest and placed at
    the line of its pointer (``m.yaml:12:7: /code/config_files/0: ...``)."""
    if p.file is not None:
        return p
    pos = doc.locate(p.pointer) if p.pointer is not None else None
    return p.in_file(doc.name).at(*pos) if pos else p.in_file(doc.name)


def _histories(prep: Prepared, base: Path, name: str) -> None:
    for metric, m in (prep.data.get("metrics") or {}).items():
        if "history" in m:
            prep.histories[metric] = m["history"]
        elif "history_file" in m:
            ref = m["history_file"]
            ptr = f"/metrics/{metric}/history_file"
            side = _inside(base, ref["path"], "history file", f"{ptr}/path")
            if not side.exists() and not side.is_symlink():
                raise IntegrityError(Problem("missing-file", f"history file {ref['path']!r} of metric {metric!r} is missing next to the manifest; the run cannot be recreated without it", f"{ptr}/path"), file=name)
            _no_links(base, ref["path"], "history file", f"{ptr}/path")
            prep.histories[metric] = stage_file(side, prep.staged("histories", f"{len(prep.histories)}.json"), ref["size"], ref["digest"], "history file", ptr)


def _diff(prep: Prepared, base: Path, name: str) -> None:
    code = prep.data.get("code") or {}
    if "diff" in code:
        d = _inside(base, code["diff"]["path"], "diff", "/code/diff/path")
        if d.exists() or d.is_symlink():
            _no_links(base, code["diff"]["path"], "diff", "/code/diff/path")
            prep.diff_bytes = read_checked(d, code["diff"]["size"], code["diff"]["digest"], "diff", "/code/diff")


def _code_files(prep: Prepared, base: Path, name: str) -> None:
    """Shipped configuration and untracked files, staged and checked like every other file."""
    code = prep.data.get("code") or {}
    for key in ("config_files", "untracked_files"):
        for i, f in enumerate(code.get(key) or []):
            if "local_path" not in f:
                continue
            ptr = f"/code/{key}/{i}"
            fp = _inside(base, f["local_path"], "code file", f"{ptr}/local_path")
            if not fp.exists() and not fp.is_symlink():
                raise IntegrityError(Problem("missing-file", f"code file {f['local_path']!r} is missing next to the manifest", f"{ptr}/local_path"), file=name)
            _no_links(base, f["local_path"], "code file", f"{ptr}/local_path")
            prep.code_files[(key, i)] = stage_file(fp, prep.staged("code", key, str(i), PurePosixPath(f["path"]).name), f["size"], f["digest"], "code file", ptr)


def _models(prep: Prepared, base: Path, name: str) -> None:
    for i, model in enumerate(prep.data.get("models") or []):
        if "local_path" not in model:
            continue
        ptr = f"/models/{i}/local_path"
        mdir = _inside(base, model["local_path"], "model", ptr)
        _no_links(base, model["local_path"], "model", ptr)
        if not mdir.is_dir():
            raise IntegrityError(Problem("missing-file", f"model directory {model['local_path']!r} is missing", ptr), file=name)
        files = model.get("files") or []
        problems = folder_problems(mdir, [f["path"] for f in files], "model", ptr)
        if problems:
            raise IntegrityError(problems, file=name)
        staged = prep.staged("models", str(i))
        for j, f in enumerate(files):
            fp = _inside(mdir, f["path"], "model file", f"/models/{i}/files/{j}/path")
            stage_file(fp, staged / PurePosixPath(f["path"]), f["size"], f["digest"], "model file", f"/models/{i}/files/{j}")
        staged.mkdir(parents=True, exist_ok=True)
        prep.model_dirs[i] = staged


def _artifacts(prep: Prepared, base: Path, name: str) -> None:
    for i, a in enumerate(prep.data.get("artifacts") or []):
        if "local_path" not in a:
            continue
        ptr = f"/artifacts/{i}/local_path"
        fp = _inside(base, a["local_path"], "artifact", ptr)
        _no_links(base, a["local_path"], "artifact", ptr)
        dest = prep.staged("artifacts", str(i), PurePosixPath(a["path"]).name)
        if _artifact_kind(a, fp) == "directory":
            prep.artifact_files[i] = stage_tree(fp, dest, a.get("size"), a.get("digest"), "artifact", f"/artifacts/{i}")
        else:
            prep.artifact_files[i] = stage_file(fp, dest, a.get("size"), a.get("digest"), "artifact", f"/artifacts/{i}")


def _artifact_kind(a: dict[str, Any], local: Path) -> str:
    """``kind``, else what the digest says (``dirHash`` is a directory), else what lies there."""
    if a.get("kind"):
        return str(a["kind"])
    if a.get("digest"):
        return digest_kind(a["digest"])
    return "directory" if local.is_dir() else "file"


def _env_files(prep: Prepared, base: Path, name: str) -> None:
    """``requirements.txt`` and ``python_env.yaml``: refused here, before the store is touched,
    if a package name is not a plain pin."""
    env = prep.data.get("environment") or {}
    if env.get("packages"):
        prep.env_files["requirements.txt"] = render_requirements(prep.data, name)
        if (env.get("python") or {}).get("version"):
            prep.env_files["python_env.yaml"] = render_python_env(prep.data, name)


# --------------------------------------------------------------------------- several manifests


def manifest_paths(paths: list[str]) -> list[Path]:
    """Manifest files named, or found (recursively) in directories (files with ``spec_version``)."""
    files, _, missing = discover(paths)  # the same discovery rules as validate
    if missing:
        raise UnreadableInput([p for r in missing for p in r.problems])
    out = []
    for name, explicit in files:
        if name == "-":
            raise BadRequest(Problem("usage", "import reads files (sidecars and model files lie next to them), not standard input"))
        if not explicit:
            try:
                data = load_path(name).data
            except ManifestError:
                out.append(Path(name))  # let prepare() report it
                continue
            if not (isinstance(data, dict) and "spec_version" in data):
                continue
        out.append(Path(name))
    return out


def prepare_paths(paths: list[str]) -> list[Prepared]:
    """Every manifest under ``paths``, read and checked (with its files) before anything is written."""
    files = manifest_paths(paths)
    if not files:
        raise NotFound(Problem("no-manifests", "no manifest found in " + ", ".join(paths)))
    return [prepare(f) for f in files]
