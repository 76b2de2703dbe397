"""The layout of a paper bundle: manifests, an index, results tables, history plots, checksums and a README.

Layout of a bundle directory::

    README.md          for reviewers: what is inside, how to validate, import and cite it
    index.json         every manifest with its file digest and canonical digest
    manifests/         one manifest per run (+ history sidecars, diffs, and models with --with-models)
    results.md         runs x differing params x chosen metrics (replicates as mean ± std, n, 95% CI)
    results.tex        the same table for LaTeX (booktabs)
    plots/<metric>.png metric histories (replicates as a mean with a ± std band, one legend entry each)
    plots/scalars.png  final values by configuration, with error bars
    SHA256SUMS         every other file; `sha256sum -c SHA256SUMS` checks them
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BUNDLE_VERSION = 1
SUMS = "SHA256SUMS"
INDEX = "index.json"
#: Files of a bundle besides its manifests (checked as part of the bundle, never "skipped").
PARTS = ("index.json", "SHA256SUMS", "README.md", "results.md", "results.tex")
PART_DIRS = ("plots/", "manifests/")
#: Largest ``SHA256SUMS`` or ``index.json`` read when a bundle is checked.
MAX_LIST_BYTES = 16 * 1024 * 1024


def is_bundle(d: Path) -> bool:
    return (d / SUMS).is_file() or ((d / INDEX).is_file() and read_index(d) is not None)


def read_index(d: Path) -> dict[str, Any] | None:
    try:
        path = d / INDEX
        if not path.is_file() or path.stat().st_size > MAX_LIST_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "bundle_version" in data else None


def is_bundle_part(rel: str) -> bool:
    """Whether a file at ``rel`` (relative to the bundle) belongs to the bundle's own layout."""
    return rel in PARTS or rel.startswith(PART_DIRS)
