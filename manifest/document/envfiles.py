"""A manifest's environment in the forms installers take: pip, MLflow's python_env.yaml, conda.

- ``requirements``: ``name==version`` lines for ``pip install -r``, sorted by normalised name. Every
  recorded package is kept, including pip, setuptools and wheel and anything that was installed from
  a local path or in editable mode (the manifest records only names and versions, so such a package
  is pinned to a version an index may not have).
- ``python_env``: MLflow's ``python_env.yaml`` (``python``, ``build_dependencies``,
  ``dependencies``). The requirements are written inline under ``dependencies`` (MLflow accepts any
  pip requirement strings there, not only ``-r requirements.txt``), so that the one file is enough;
  pip, setuptools and wheel go to ``build_dependencies``, pinned when the manifest records them.
  A Python version is required: MLflow would otherwise use its own.
- ``conda``: an ``environment.yml`` with ``channels: [conda-forge]``, ``python=X.Y.Z`` (unpinned when
  not recorded), ``pip`` and every package under ``pip:``.

Each output starts with one comment line naming the run. Nothing here imports MLflow.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..core.names import normalize_name
from ..core.pointers import join_pointer
from ..core.problems import ManifestError, Problem
from .yaml_core import RESERVED_WORDS

FORMATS = ("requirements", "python_env", "conda")
#: What MLflow installs before the dependencies of a python_env.
BUILD_PACKAGES = ("pip", "setuptools", "wheel")
# PEP 508 distribution names, and versions without spaces, markers or pip options.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.!+_-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_CONDA_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.=!+-]*")


def recorded_packages(data: dict[str, Any], file: str | None = None) -> list[tuple[str, str]]:
    """``(name, version)`` pairs of ``environment.packages``, sorted by normalised name.

    Raises :class:`ManifestError` when there are none, or when a name or version could smuggle
    anything but a pin into a requirements file (spaces, ``;`` markers, ``--options``, new lines).
    """
    pkgs = ((data.get("environment") or {}).get("packages")) or {}
    if not pkgs:
        raise ManifestError(Problem("no-packages", "the manifest records no packages (environment.packages)", "/environment/packages"), file=file)
    bad = [Problem("bad-package", f"{name!r}: {version!r} is not a distribution name and an exact version", join_pointer(["environment", "packages", name]))
           for name, version in pkgs.items() if not (_NAME.fullmatch(name) and isinstance(version, str) and _VERSION.fullmatch(version))]
    if bad:
        raise ManifestError(bad, file=file)
    return sorted(pkgs.items(), key=lambda kv: (normalize_name(kv[0]), kv[0]))


def _header(data: dict[str, Any]) -> str:
    name = _CONTROL.sub(" ", str(data.get("name", "")))
    return f"# Environment of run {name} ({_CONTROL.sub(' ', str(data.get('id', '')))}), from its experiment manifest\n"


def _python_version(data: dict[str, Any]) -> str | None:
    py = (data.get("environment") or {}).get("python") or {}
    return py.get("version")


def render_requirements(data: dict[str, Any], file: str | None = None) -> str:
    return _header(data) + "".join(f"{n}=={v}\n" for n, v in recorded_packages(data, file))


def render_python_env(data: dict[str, Any], file: str | None = None) -> str:
    pkgs = recorded_packages(data, file)
    version = _python_version(data)
    if not version:
        raise ManifestError(Problem("no-python-version", "the manifest records no Python version (environment.python.version); python_env needs one", "/environment"), file=file)
    pinned = {normalize_name(n): f"{n}=={v}" for n, v in pkgs}
    doc = {
        "python": version,
        "build_dependencies": [pinned.get(b, b) for b in BUILD_PACKAGES],
        "dependencies": [f"{n}=={v}" for n, v in pkgs if normalize_name(n) not in BUILD_PACKAGES],
    }
    return _header(data) + _yaml(doc)


def render_conda(data: dict[str, Any], file: str | None = None) -> str:
    pkgs = recorded_packages(data, file)
    version = _python_version(data)
    name = _CONDA_NAME.sub("-", str(data.get("name", ""))).strip("-.") or "manifest-env"
    doc = {
        "name": name,
        "channels": ["conda-forge"],
        "dependencies": [f"python={version}" if version else "python", "pip", {"pip": [f"{n}=={v}" for n, v in pkgs]}],
    }
    return _header(data) + _yaml(doc)


def _scalar(s: str) -> str:
    return s if _PLAIN.fullmatch(s) and s.lower() not in RESERVED_WORDS else json.dumps(s)


def _yaml(doc: dict[str, Any]) -> str:
    """Block-style YAML of a mapping of strings and lists (of strings or one-key mappings of lists)."""
    out = []
    for key, value in doc.items():
        if isinstance(value, str):
            out.append(f"{key}: {_scalar(value)}\n")
            continue
        out.append(f"{key}:\n")
        for v in value:
            if isinstance(v, dict):
                for k, sub in v.items():
                    out.append(f"  - {k}:\n" + "".join(f"      - {_scalar(x)}\n" for x in sub))
            else:
                out.append(f"  - {_scalar(v)}\n")
    return "".join(out)


def render(data: dict[str, Any], fmt: str, file: str | None = None) -> str:
    """The environment of manifest ``data`` as ``fmt`` (one of :data:`FORMATS`)."""
    renderers = {"requirements": render_requirements, "python_env": render_python_env, "conda": render_conda}
    if fmt not in renderers:
        raise ValueError(f"unknown environment format {fmt!r}; known: {', '.join(FORMATS)}")
    return renderers[fmt](data, file)
