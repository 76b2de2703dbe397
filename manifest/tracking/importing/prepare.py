"""Planning an import: every manifest read, validated and its local files verified against their
digests before the tracking store is touched."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ...checks.discovery import discover
from ...core.digests import file_digest
from ...core.problems import BadRequest, IntegrityError, InvalidManifest, ManifestError, NotFound, Problem, UnreadableInput
from ...document.canonical import manifest_digest
from ...document.envfiles import render_python_env, render_requirements
from ...document.reader import Document, load_path
from ...spec.rules.paths import relative_path_problem
from ...spec.validation import load_valid


@dataclass
class Prepared:
    """A manifest checked and ready to import: its data, histories and verified local files."""

    doc: Document
    data: dict[str, Any]
    digest: str
    histories: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    model_dirs: dict[int, Path] = field(default_factory=dict)
    artifact_files: dict[int, Path] = field(default_factory=dict)
    diff_file: Path | None = None
    #: ``requirements.txt`` / ``python_env.yaml`` rendered from ``environment`` (``manifest env``'s rules).
    env_files: dict[str, str] = field(default_factory=dict)


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


def _verify(path: Path, size: int | None, digest: dict[str, str] | None, what: str, pointer: str) -> None:
    if path.is_symlink() and not path.resolve().exists():
        raise IntegrityError(Problem("missing-file", f"{what} {path} is a dangling link", pointer))
    if not path.is_file():
        raise IntegrityError(Problem("missing-file", f"{what} {path} is missing", pointer))
    algs = list(digest or {"sha256": ""})
    got_size, got = file_digest(path, algs)
    if size is not None and got_size != size:
        raise IntegrityError(Problem("size-mismatch", f"{what} {path} is {got_size} bytes; the manifest says {size}", pointer))
    for alg in digest or {}:
        if got[alg] != digest[alg]:  # type: ignore[index]
            raise IntegrityError(Problem("digest-mismatch", f"{what} {path} has {alg} {got[alg]}; the manifest says {digest[alg]}", pointer))  # type: ignore[index]


def prepare(path: str | Path) -> Prepared:
    """Read and fully check one manifest and everything it brings along. Touches no server."""
    doc = load_valid(path)
    data = doc.data
    base = doc.base_dir or Path(".")
    prep = Prepared(doc, data, manifest_digest(data)["sha256"])
    for step in (_histories, _diff, _models, _artifacts, _env_files):
        step(prep, base, str(path))
    return prep


def _histories(prep: Prepared, base: Path, name: str) -> None:
    for metric, m in (prep.data.get("metrics") or {}).items():
        if "history" in m:
            prep.histories[metric] = m["history"]
        elif "history_file" in m:
            ref = m["history_file"]
            side = _inside(base, ref["path"], "history file", f"/metrics/{metric}/history_file/path")
            if not side.is_file():
                raise IntegrityError(Problem("missing-file", f"history file {ref['path']!r} of metric {metric!r} is missing next to the manifest; the run cannot be recreated without it", f"/metrics/{metric}/history_file/path"), file=name)
            _verify(side, ref["size"], ref["digest"], "history file", f"/metrics/{metric}/history_file")
            prep.histories[metric] = json.loads(side.read_text(encoding="utf-8"))


def _diff(prep: Prepared, base: Path, name: str) -> None:
    code = prep.data.get("code") or {}
    if "diff" in code:
        d = _inside(base, code["diff"]["path"], "diff", "/code/diff/path")
        if d.is_file():
            _verify(d, code["diff"]["size"], code["diff"]["digest"], "diff", "/code/diff")
            prep.diff_file = d


def _models(prep: Prepared, base: Path, name: str) -> None:
    for i, model in enumerate(prep.data.get("models") or []):
        if "local_path" not in model:
            continue
        mdir = _inside(base, model["local_path"], "model", f"/models/{i}/local_path")
        if not mdir.is_dir():
            raise IntegrityError(Problem("missing-file", f"model directory {model['local_path']!r} is missing", f"/models/{i}/local_path"), file=name)
        for j, f in enumerate(model.get("files") or []):
            fp = _inside(mdir, f["path"], "model file", f"/models/{i}/files/{j}/path")
            _verify(fp, f["size"], f["digest"], "model file", f"/models/{i}/files/{j}")
        prep.model_dirs[i] = mdir


def _artifacts(prep: Prepared, base: Path, name: str) -> None:
    for i, a in enumerate(prep.data.get("artifacts") or []):
        if "local_path" not in a:
            continue
        fp = _inside(base, a["local_path"], "artifact", f"/artifacts/{i}/local_path")
        _verify(fp, a.get("size"), a.get("digest"), "artifact", f"/artifacts/{i}")
        prep.artifact_files[i] = fp


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
