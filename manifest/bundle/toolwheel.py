"""The tool that wrote a bundle, inside it: ``tools/experiment_manifest-<version>-py3-none-any.whl``.

A reviewer's ``pip install`` of a name that is not (yet) on an index would not resolve, and a later
release may check differently; the wheel of the very version that wrote the bundle always installs
(``pip install tools/*.whl``, its dependencies from an index or a local wheelhouse). It is built here
from the installed package, as a wheel is (PEP 427: the package, its schemas as package data, a
``.dist-info`` with METADATA, WHEEL, entry points and RECORD), deterministically: sorted entries,
fixed times, so the same tool gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from ..__about__ import __version__
from ..core.versions import schema_dir
from .archive import write_entries

TOOLS_DIR = "tools"
DIST = "experiment_manifest"
#: Used when the distribution's own METADATA cannot be read (a source checkout run without install).
_FALLBACK_REQUIRES = ("pydantic>=2.7", "jsonschema>=4.18", "jsonschema-rs>=0.29", "rfc3339-validator>=0.1.4", "rfc3986-validator>=0.1.1", "ruamel.yaml>=0.18", "click>=8.1")


def wheel_name() -> str:
    return f"{DIST}-{__version__}-py3-none-any.whl"


def _metadata() -> str:
    try:
        import importlib.metadata as md  # lazy: only a bundle with the tool reads the distribution

        text = md.distribution("experiment-manifest").read_text("METADATA")
    except Exception:  # noqa: BLE001 - not installed as a distribution: the fallback says what is needed
        text = None
    if text:
        return text
    return "Metadata-Version: 2.1\nName: experiment-manifest\nVersion: " + __version__ + "\n" + "".join(f"Requires-Dist: {r}\n" for r in _FALLBACK_REQUIRES)


def _package_files() -> list[tuple[str, bytes]]:
    """``(path in the wheel, bytes)`` of every module of the package and every schema."""
    package = Path(__file__).resolve().parents[1]
    files = [(f"manifest/{p.relative_to(package).as_posix()}", p.read_bytes()) for p in package.rglob("*.py") if "__pycache__" not in p.parts]
    files += [(f"manifest/_schemas/{p.name}", p.read_bytes()) for p in sorted(schema_dir().glob("*.schema.json"))]
    return sorted(dict(files).items())


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


def write_tool_wheel(out_dir: Path) -> str:
    """Write the wheel into ``out_dir``; its bundle-relative path."""
    info = f"{DIST}-{__version__}.dist-info"
    files = _package_files()
    files += [
        (f"{info}/METADATA", _metadata().encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: experiment-manifest\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (f"{info}/entry_points.txt", b"[console_scripts]\nmanifest = manifest.cli:main\n"),
    ]
    record = "".join(_record_line(n, d) for n, d in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_entries(out_dir / wheel_name(), ((name, data, 0o644) for name, data in files))
    return f"{TOOLS_DIR}/{wheel_name()}"
