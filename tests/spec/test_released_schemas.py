"""A released schema file never changes (spec 4.2): spec/README.md publishes the SHA-256 of every
released schema, and this test fails if a file no longer has the digest published for it."""

from __future__ import annotations

import hashlib
import re

from support.paths import ROOT

from manifest.core.versions import INDEX_VERSIONS, KNOWN_VERSIONS, schema_dir, schema_path

README = (ROOT / "spec" / "README.md").read_text(encoding="utf-8")


def _published(document: str = "") -> dict[str, str]:
    """version -> published SHA-256, from the rows that say "Released": of the manifest's versions
    table (``document`` empty), or of the row of that document ("Export index")."""
    head = rf"\| {re.escape(document)} \| " if document else r"\| "
    out = {}
    for line in README.splitlines():
        m = re.match(head + r"(\d+\.\d+) \| Released[^|]*\|.*SHA-256 `([0-9a-f]{64})`", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_every_released_version_has_a_published_digest():
    assert "1.0" in _published()
    assert set(_published()) <= set(KNOWN_VERSIONS)


def test_a_released_schema_file_has_the_digest_published_for_it():
    for version, sha in _published().items():
        assert hashlib.sha256(schema_path(version).read_bytes()).hexdigest() == sha, f"schemas/manifest-{version}.schema.json changed after its release; a change needs a new version (spec 4.2)"


def test_a_released_export_index_schema_has_the_digest_published_for_it():
    published = _published("Export index")
    assert "1.0" in published and set(published) <= set(INDEX_VERSIONS)
    for version, sha in published.items():
        path = schema_dir() / f"export-index-{version}.schema.json"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, f"{path.name} changed after its release; a change needs a new version"
