"""Rules of relative paths (spec 10.1, 15.3): no absolute paths, no ``..``, no empty segments;
and the warnings on their form: NFC names, no ``.`` segments."""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterator

from ...core.pointers import join_pointer
from ...core.problems import Problem


def relative_path_problem(path: str) -> str | None:
    """Why ``path`` is not a safe relative POSIX path, or ``None`` when it is."""
    if "\\" in path:
        return "uses a backslash; paths use forward slashes"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "is absolute; it must be relative to the manifest's directory"
    parts = path.split("/")
    if ".." in parts:
        return "contains a '..' segment"
    if any(p == "" for p in parts[:-1]) or path.endswith("/") and path != "":
        return "has an empty segment"
    if "\x00" in path:
        return "contains a NUL character"
    return None


def relative_paths(d: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every path of the document that must be a safe relative path, with its pointer (spec 10.1)."""
    yield from _code_paths(d.get("code") or {})
    env = d.get("environment") or {}
    if "lockfile" in env and "path" in env["lockfile"]:
        yield "/environment/lockfile/path", env["lockfile"]["path"]
    for i, inp in enumerate(d.get("data") or []):
        idx = (inp.get("split") or {}).get("indices")
        if idx:
            yield f"/data/{i}/split/indices/path", idx["path"]
    for name, m in (d.get("metrics") or {}).items():
        if "history_file" in m:
            yield join_pointer(["metrics", name, "history_file", "path"]), m["history_file"]["path"]
    for i, a in enumerate(d.get("artifacts") or []):
        yield f"/artifacts/{i}/path", a["path"]  # in the artifact store, which refuses the same forms
        if "local_path" in a:
            yield f"/artifacts/{i}/local_path", a["local_path"]
    yield from _model_paths(d.get("models") or [])


def _code_paths(code: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if code.get("working_directory"):  # "" is the repository root
        yield "/code/working_directory", code["working_directory"]
    if "diff" in code:
        yield "/code/diff/path", code["diff"]["path"]
    for key in ("config_files", "untracked_files"):
        for i, f in enumerate(code.get(key) or []):
            yield f"/code/{key}/{i}/path", f["path"]  # in the checkout, where reproduce would put it
            if "local_path" in f:
                yield f"/code/{key}/{i}/local_path", f["local_path"]


def _model_paths(models: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for i, m in enumerate(models):
        if "local_path" in m:
            yield f"/models/{i}/local_path", m["local_path"]
        for j, f in enumerate(m.get("files") or []):
            yield f"/models/{i}/files/{j}/path", f["path"]


def unsafe_paths(d: dict[str, Any]) -> Iterator[Problem]:
    for ptr, path in relative_paths(d):
        why = relative_path_problem(path)
        if why:
            yield Problem("unsafe-path", f"path {path!r} {why}", ptr)


def path_forms(d: dict[str, Any]) -> Iterator[Problem]:
    """Warnings ``path-not-nfc`` (spec 6.3) and ``dot-segment`` (spec 10.1).

    A name not in NFC may come back decomposed from another file system (macOS), and then it is
    another name that hashes differently; a ``.`` segment names nothing, so one file gets two paths
    that a consumer comparing paths would take for two files.
    """
    for ptr, path in relative_paths(d):
        if not isinstance(path, str):
            continue
        if not unicodedata.is_normalized("NFC", path):
            yield Problem("path-not-nfc", f"path {ascii(path)} is not in Unicode Normalization Form C; in NFC it is {ascii(unicodedata.normalize('NFC', path))} (spec 6.3)", ptr)
        if "." in path.split("/"):
            yield Problem("dot-segment", f"path {path!r} has a '.' segment; leave it out (spec 10.1)", ptr)
