"""Record at training time what MLflow does not: environment, git state, data digests, seeds.

Call it inside an active MLflow run::

    import mlflow
    from manifest import capture

    seeds = capture.seed_everything(42)             # Python, NumPy (and torch, if imported)
    with mlflow.start_run():
        capture.log_context(data=[{"name": "iris", "path": "data/iris.csv", "role": "source"}], seeds=seeds)
        ...

It logs ``manifest-context/context.json`` (and ``manifest-context/git.diff`` when the tree is dirty)
as run artifacts; ``manifest export`` reads them back into the manifest. Environment variables are
recorded only from an allow-list, and never when their name looks like a secret.
"""

from __future__ import annotations

import json
import mimetypes
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import mlflow

from ..core.digests import digest_bytes, path_digest
from ..machine.git import GitState, git_state
from ..machine.system import hardware, packages, platform_info, python_info
from .tags import CODE_FILES_DIR, CONTEXT_DIR, CONTEXT_FILE, CONTEXT_NAME, CONTEXT_VERSION, DIFF_FILE, DIFF_NAME, TAG_RUN_ERROR

__all__ = [
    "CONTEXT_DIR", "CONTEXT_FILE", "CONTEXT_VERSION", "DEFAULT_ENV_ALLOWLIST", "DIFF_FILE",
    "collect_context", "command_line", "log_context", "log_error", "seed_everything", "write_context_dir",
]

DEFAULT_ENV_ALLOWLIST = (
    "PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC",
)
#: Manifest fields the run itself may record (who made it, its licence, how to cite it), which
#: MLflow has no place for: they travel in the context, and export copies them as they are.
CREDIT_FIELDS = ("authors", "license", "citation")
_SECRET_NAME = re.compile(r"(?i)(token|secret|passw|credential|api[_-]?key|private|auth)")


def seed_everything(seed: int) -> dict[str, int]:
    """Seed Python's ``random``, NumPy and (when already imported) torch; return what was seeded."""
    seeds = {"python": seed}
    random.seed(seed)
    try:
        import numpy as np  # lazy: optional; seeded only when installed

        np.random.seed(seed)
        seeds["numpy"] = seed
    except ImportError:
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        seeds["torch"] = seed
    return seeds


def command_line() -> list[str]:
    """The command that started this process, with the interpreter written as ``python``."""
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    if argv and Path(argv[0]).name.startswith("python"):
        argv[0] = "python"
    return argv


def _entry_point(workdir: Path) -> str | None:
    script = sys.argv[0] if sys.argv else ""
    if not script or script in ("-c", "-m", "-"):
        return None
    p = Path(script).resolve()
    try:
        return p.relative_to(workdir).as_posix()
    except ValueError:
        return p.name


def _relative_to_checkout(argv: list[str], root: Path, cwd: Path, code: dict[str, Any]) -> list[str]:
    """Absolute paths into the repository become relative to the run's working directory, so the
    command re-runs from any checkout; when the run started outside the repository, from its root."""
    base = cwd if cwd.is_relative_to(root) else root
    if base == root and "working_directory" not in code:
        code["working_directory"] = ""
    out = []
    for arg in argv:
        p = Path(arg)
        if p.is_absolute() and p.resolve().is_relative_to(root):
            out.append(os.path.relpath(p.resolve(), base))
        else:
            out.append(arg)
    return out


def _data_entry(item: str | os.PathLike[str] | Mapping[str, Any], cwd: Path) -> dict[str, Any]:
    """A manifest data input: a path is digested (``uri`` defaults to the path as given); an entry
    without a path (``{"name": ..., "kind": "memory", "split": {...}}``) is recorded as given."""
    spec: dict[str, Any] = {"path": item} if not isinstance(item, Mapping) else dict(item)
    if "path" not in spec:
        if "name" not in spec:
            raise ValueError("a data entry without a path needs a name")
        return dict(spec)
    path = Path(spec.pop("path"))
    full = path if path.is_absolute() else cwd / path
    entry: dict[str, Any] = {"name": spec.pop("name", path.stem or path.name)}
    if "role" in spec:
        entry["role"] = spec.pop("role")
    entry["uri"] = spec.pop("uri", path.as_posix())
    kind, size, digest = path_digest(full)
    entry["kind"] = kind
    if kind == "file":
        mt = mimetypes.guess_type(path.name)[0]
        if mt:
            entry["media_type"] = mt
    entry["size"] = size
    entry["digest"] = digest
    entry.update(spec)
    return entry


def collect_context(
    data: Sequence[str | os.PathLike[str] | Mapping[str, Any]] = (),
    seeds: Mapping[str, int] | None = None,
    command_template: Sequence[str] | None = None,
    env_allowlist: Iterable[str] = DEFAULT_ENV_ALLOWLIST,
    determinism: Mapping[str, Any] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    config_files: Sequence[str | os.PathLike[str]] = (),
    untracked_files: Sequence[str | os.PathLike[str]] = (),
    container: Mapping[str, Any] | None = None,
    credits: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], bytes | None]:
    """The context (as manifest fields) and the git diff bytes (when dirty), without logging.

    ``config_files`` and ``untracked_files`` (paths inside the checkout, or the working directory
    without one) are digested here; :func:`write_context_dir` logs copies of them, so that an export
    ships exactly the bytes the run read. ``container`` is ``{"image": ..., "digest": {...},
    "runtime": ...}`` (the run cannot see its own image reference, so the caller says it)."""
    cwd = Path(workdir or os.getcwd()).resolve()
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] not in ("", "-c", "-m", "-") else None
    git = git_state(script.parent if script else cwd, include_untracked=[script] if script else None)
    code = _code(git, cwd, command_template)
    root = git.root or cwd
    for key, paths in (("config_files", config_files), ("untracked_files", untracked_files)):
        if paths:
            code[key] = [_code_file(p, root, cwd) for p in paths]
    variables, skipped = _variables(env_allowlist)
    env: dict[str, Any] = {
        "python": python_info(),
        "platform": platform_info(),
        "packages": packages(),
        "hardware": hardware(),
    }
    if seeds:
        env["seeds"] = {str(k): int(v) for k, v in seeds.items()}
    if determinism:
        env["determinism"] = dict(determinism)
    if variables:
        env["variables"] = variables
    if container:
        if not isinstance(container.get("image"), str) or not container["image"]:
            raise ValueError("container needs an image reference, such as {'image': 'ghcr.io/org/train:1.4'}")
        env["container"] = dict(container)
    ctx: dict[str, Any] = {
        "context_version": CONTEXT_VERSION,
        "captured_at_ms": int(time.time() * 1000),
        "code": code,
        "environment": env,
        "data": [_data_entry(d, cwd) for d in data],
    }
    for key, value in (credits or {}).items():
        if key not in CREDIT_FIELDS:
            raise ValueError(f"unknown credit field {key!r}: use {', '.join(CREDIT_FIELDS)} (as in a manifest)")
        ctx[key] = json.loads(json.dumps(value))
    if git.reason:
        ctx["git"] = {"available": False, "reason": git.reason}
    if skipped:
        ctx["skipped_variables"] = skipped
    return ctx, git.diff if git.dirty else None


def _code(git: GitState, cwd: Path, command_template: Sequence[str] | None) -> dict[str, Any]:
    """The manifest's ``code``: git state, working directory, entry point, command (and template)."""
    code: dict[str, Any] = git.to_code()
    if git.root is not None and cwd.is_relative_to(git.root):
        wd = cwd.relative_to(git.root).as_posix()
        code["working_directory"] = "" if wd == "." else wd
    entry = _entry_point(cwd)
    if entry:
        code["entry_point"] = entry
    code["command"] = command_line()
    if git.root is not None:
        code["command"] = _relative_to_checkout(code["command"], git.root, cwd, code)
    if command_template:
        code["command_template"] = list(command_template)
    return code


def _code_file(path: str | os.PathLike[str], root: Path, cwd: Path) -> dict[str, Any]:
    """``{path, size, digest}`` of a file of the working tree; ``path`` relative to ``root``."""
    p = Path(path)
    full = (p if p.is_absolute() else cwd / p).resolve()
    if not full.is_relative_to(root):
        raise ValueError(f"{path} is outside the checkout {root}; only files of the working tree are recorded as code files")
    if not full.is_file():
        raise ValueError(f"{path} is not a regular file")
    kind, size, digest = path_digest(full)
    return {"path": full.relative_to(root).as_posix(), "size": size, "digest": digest, "_source": str(full)}


def _variables(allowlist: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Allow-listed environment variables that are set, and those skipped for a secret-like name."""
    variables: dict[str, str] = {}
    skipped: list[str] = []
    for name in allowlist:
        if name in os.environ:
            if _SECRET_NAME.search(name):
                skipped.append(name)
            else:
                variables[name] = os.environ[name]
    return variables, skipped


def log_context(
    data: Sequence[str | os.PathLike[str] | Mapping[str, Any]] = (),
    seeds: Mapping[str, int] | None = None,
    command_template: Sequence[str] | None = None,
    env_allowlist: Iterable[str] = DEFAULT_ENV_ALLOWLIST,
    determinism: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    config_files: Sequence[str | os.PathLike[str]] = (),
    untracked_files: Sequence[str | os.PathLike[str]] = (),
    container: Mapping[str, Any] | None = None,
    authors: Sequence[Mapping[str, Any]] | None = None,
    license: str | None = None,
    citation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect the context and log it to the active run (or ``run_id``); returns the context.

    ``config_files``, ``untracked_files`` and ``container`` are described at :func:`collect_context`.
    ``authors``, ``license`` and ``citation`` are the manifest's fields of those names (spec), for a
    bundle's CITATION.cff, RO-Crate and page.

    ``data`` items are paths or mappings ``{"path": ..., "name": ..., "role": ..., "uri": ...}``
    (other keys, such as ``split`` or ``license``, are copied into the manifest's data input);
    directories are digested as trees. The name of an item matches it with the MLflow dataset
    input of the same name at export.
    """

    credits = {k: v for k, v in (("authors", list(authors) if authors else None), ("license", license), ("citation", citation)) if v}
    ctx, diff = collect_context(data, seeds, command_template, env_allowlist, determinism, config_files=config_files, untracked_files=untracked_files, container=container, credits=credits)
    if run_id is None:
        active = mlflow.active_run()
        if active is None:
            raise RuntimeError("manifest.capture.log_context needs an active MLflow run (or run_id=)")
        run_id = active.info.run_id
    client = mlflow.MlflowClient()
    with tempfile.TemporaryDirectory() as tmp:
        d = write_context_dir(Path(tmp), ctx, diff)
        client.log_artifacts(run_id, str(d), CONTEXT_DIR)
    return ctx


def log_error(error: BaseException | str, run_id: str | None = None) -> str:
    """Record why the active run (or ``run_id``) failed, for the manifest's ``run.error``; call it
    before the run ends as FAILED or KILLED. An exception is recorded as ``Type: message``, on one
    line and at most 2,000 characters; returns what was recorded."""
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    text = " ".join(text.split())[:2000] or "unknown error"
    if run_id is None:
        active = mlflow.active_run()
        if active is None:
            raise RuntimeError("manifest.capture.log_error needs an active MLflow run (or run_id=)")
        run_id = active.info.run_id
    mlflow.MlflowClient().set_tag(run_id, TAG_RUN_ERROR, text)
    return text


def write_context_dir(parent: Path, ctx: dict[str, Any], diff: bytes | None) -> Path:
    """``parent/manifest-context/`` with ``context.json`` (and ``git.diff``), ready to log as artifacts."""
    d = parent / CONTEXT_DIR
    d.mkdir()
    ctx = dict(ctx)
    code = dict(ctx.get("code") or {})
    for key in ("config_files", "untracked_files"):
        if key in code:
            code[key] = [_copy_code_file(f, d) for f in code[key]]
    ctx["code"] = code
    (d / CONTEXT_NAME).write_text(json.dumps(ctx, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if diff is not None:
        (d / DIFF_NAME).write_bytes(diff)
    return d


def _copy_code_file(entry: dict[str, Any], d: Path) -> dict[str, Any]:
    """Copy a code file (from ``_source``, or from ``_bytes``) to ``files/<path>`` of the context
    directory, checking that the copy is what was digested; the entry without those keys."""
    entry = dict(entry)
    source, data = entry.pop("_source", None), entry.pop("_bytes", None)
    if source is None and data is None:  # listed without a copy (an import of a manifest that did not ship it)
        return entry
    dst = d / CODE_FILES_DIR / entry["path"]
    dst.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = Path(source).read_bytes()
    dst.write_bytes(data)
    if digest_bytes(data, entry["digest"]) != entry["digest"] or len(data) != entry["size"]:
        raise ValueError(f"{entry['path']} changed between its digest and its copy; record the context again")
    return entry
