"""The spec versions this tool knows and their JSON Schema files (package data).

The schemas are the vocabulary itself: the writer needs their key order, the validator their
constraints. So reading these files lives here, below both; checking documents against them is
the job of :mod:`manifest.spec`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

KNOWN_VERSIONS: tuple[str, ...] = ("1.0",)
LATEST_VERSION = KNOWN_VERSIONS[-1]
SCHEMA_BASE = "https://experiment-manifest.org/schemas/"


def schema_dir() -> Path:
    """Where the schema files are: inside an installed wheel, or the repository's ``schemas/``."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "_schemas"
    if packaged.is_dir():
        return packaged
    return package.parent / "schemas"


def schema_path(version: str = LATEST_VERSION) -> Path:
    if version not in KNOWN_VERSIONS:
        raise KeyError(version)
    return schema_dir() / f"manifest-{version}.schema.json"


def schema_id(version: str = LATEST_VERSION) -> str:
    return f"{SCHEMA_BASE}manifest-{version}.schema.json"


@lru_cache(maxsize=None)
def schema_text(version: str = LATEST_VERSION) -> str:
    return schema_path(version).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def load_schema(version: str = LATEST_VERSION) -> dict[str, Any]:
    """The JSON Schema of ``version`` as a dict (cached; do not modify)."""
    return json.loads(schema_text(version))


#: Versions of the export-directory index (its own schema, versioned like the manifest's: spec/export-1.0.md).
INDEX_VERSIONS: tuple[str, ...] = ("1.0", "1.1")
INDEX_VERSION = INDEX_VERSIONS[-1]


def index_schema_id(version: str = INDEX_VERSION) -> str:
    return f"{SCHEMA_BASE}export-index-{version}.schema.json"


@lru_cache(maxsize=None)
def load_index_schema(version: str = INDEX_VERSION) -> dict[str, Any]:
    """The JSON Schema of export index ``version`` (cached; do not modify)."""
    if version not in INDEX_VERSIONS:
        raise KeyError(version)
    return json.loads((schema_dir() / f"export-index-{version}.schema.json").read_text(encoding="utf-8"))
