"""The layout of a paper bundle: manifests, an index, results tables, history plots, checksums and a README.

Layout of a bundle directory::

    README.md          for reviewers: what is inside, how to validate, import and cite it
    index.json         every manifest with its file digest and canonical digest
    manifests/         one manifest per run (+ history sidecars, diffs, and models with --with-models)
    results.md         runs x differing params x chosen metrics (replicates as mean ± std, n, 95% CI)
    results.tex        the same table for LaTeX (booktabs)
    plots/<metric>.png metric histories (replicates as a mean with a ± std band, one legend entry each)
    plots/scalars.png  final values by configuration, with error bars
    data/              copies of the data inputs (--with-data), at their relative URIs
    code/              source archives of the recorded commits with their diffs (--with-code):
                       <commit12>.tar.gz, <commit12>.diff, <commit12>.commit (the raw commit object)
    attestations/      one in-toto Statement v1 with SLSA Provenance v1 per run
    boms/              one CycloneDX 1.6 ML-BOM per model
    CITATION.cff       how to cite it (Citation File Format 1.2.0)
    index.html         one self-contained page: tables, plots, every run, how to check it
    ro-crate-metadata.json  the RO-Crate (Process Run Crate) describing all of the above
    tools/             the wheel of the experiment-manifest version that wrote the bundle
    signatures/        DSSE envelopes over index.json and each statement (--sign-key)
    SHA256SUMS         every other file; `sha256sum -c SHA256SUMS` checks them

``index.json`` lists every file but itself, ``SHA256SUMS`` and ``signatures/`` with its size and
SHA-256, so a signature over it covers the whole bundle.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLE_VERSION = 1
SUMS = "SHA256SUMS"
INDEX = "index.json"
CITATION = "CITATION.cff"
CRATE = "ro-crate-metadata.json"
PAGE = "index.html"
ATTESTATIONS = "attestations"
BOMS = "boms"
SIGNATURES = "signatures/"
#: Files the index's ``files`` list leaves out: the index itself and what is written after it.
UNLISTED = (INDEX, SUMS)
#: Files of a bundle besides its manifests (checked as part of the bundle, never "skipped").
PARTS = ("index.json", "SHA256SUMS", "README.md", "results.md", "results.tex", CITATION, CRATE, PAGE)
PART_DIRS = ("plots/", "manifests/", "data/", "code/", "tools/", f"{ATTESTATIONS}/", f"{BOMS}/", SIGNATURES)
#: A line of ``SHA256SUMS``, as ``sha256sum`` writes (text or binary mode) and reads it.
SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


def format_sums(digests: dict[str, str]) -> str:
    """``SHA256SUMS`` text for ``{path: sha256}``: one ``<sha256>  <path>`` line each, by path bytes."""
    return "".join(f"{digests[rel]}  {rel}\n" for rel in sorted(digests, key=lambda r: r.encode("utf-8")))


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


@dataclass(frozen=True)
class BundleContext:
    """A manifest inside a bundle: the bundle's root and the manifest's entry in its index (which
    says where its data copies and source archive are)."""

    root: Path
    entry: dict[str, Any]

    @property
    def code(self) -> dict[str, Any] | None:
        c = self.entry.get("code")
        return c if isinstance(c, dict) else None

    @property
    def data(self) -> dict[str, str]:
        d = self.entry.get("data")
        return {k: v for k, v in d.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(d, dict) else {}


def bundle_context(manifest: Path, levels: int = 3) -> BundleContext | None:
    """The bundle that holds ``manifest`` (its index lists it), looking up to ``levels`` directories
    up; ``None`` for a manifest outside any bundle."""
    target = manifest.resolve()
    d = target.parent
    for _ in range(levels):
        index = read_index(d)
        if index is not None:
            entries = index.get("manifests")
            for e in entries if isinstance(entries, list) else []:
                rel = e.get("path") if isinstance(e, dict) else None
                if isinstance(rel, str) and (d / rel).resolve() == target:
                    return BundleContext(d, e)
            return None
        if d.parent == d:
            break
        d = d.parent
    return None
