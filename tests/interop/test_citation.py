"""CITATION.cff from manifests: checked by ``cffconvert --validate`` (its own venv, ``make tools``)
and read back with a YAML 1.2 parser, so that untrusted text is shown to stay data.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from support.paths import EXAMPLE, ROOT

from manifest.document.reader import load_path
from manifest.interop.citation import citation_cff

CFFCONVERT = ROOT / ".tools" / "cff" / "bin" / "cffconvert"
HOSTILE = 'He said "hi": it\'s #1\nnext: - [x] {y} & *z !t %p @q `r`\ttab é中🚀\u2028\x85 '
#: Strings a YAML reader would take for something else if they were written plain.
LOOKALIKES = ["yes", "null", "~", "1.0", "2026-01-02", "- a", "[a]", "{b: c}", "&x", "*x", "!x", "%x", "@x", "#x", "a: b", " lead", "trail ", "", "NaN", "0x1F"]


def parse(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


@pytest.fixture(scope="module")
def cffconvert() -> Path:
    if not CFFCONVERT.exists():
        pytest.fail(f"{CFFCONVERT} is missing: run make tools")
    return CFFCONVERT


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_path(EXAMPLE).data


@pytest.fixture(scope="module")
def anonymous(manifest: dict[str, Any]) -> dict[str, Any]:
    m = copy.deepcopy(manifest)
    del m["authors"], m["citation"]
    return m


@pytest.fixture(scope="module")
def hostile(manifest: dict[str, Any]) -> dict[str, Any]:
    m = copy.deepcopy(manifest)
    m["authors"] = [
        {"name": HOSTILE, "type": "person", "given_name": HOSTILE, "family_name": "O'Brien: #1", "affiliation": HOSTILE, "email": "not an address"},
        {"name": "Lab \"X\"\n# not a comment", "type": "organization", "email": "lab@example.org"},
        {"name": "Mononym"},
        *({"name": s or "x", "given_name": "g", "family_name": s or "f"} for s in LOOKALIKES),
    ]
    m["citation"] = {"title": HOSTILE, "version": "1.0", "text": HOSTILE, "doi": "10.5281/zenodo.1234567"}
    m["description"] = HOSTILE
    return m


def validate(cffconvert: Path, tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "CITATION.cff"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([str(cffconvert), "--validate", "-i", str(path)], capture_output=True, text=True, timeout=60)


def test_the_example_maps_authors_citation_license_and_repository(manifest: dict[str, Any]):
    cff = parse(citation_cff([manifest]))
    ada = {"given-names": "Ada", "family-names": "Researcher", "affiliation": "Example Lab", "orcid": "https://orcid.org/0000-0002-1825-0097"}
    assert cff["cff-version"] == "1.2.0" and cff["authors"] == [ada]
    assert (cff["title"], cff["version"], cff["date-released"]) == ("experiment-manifest: reproducible descriptions of ML runs", "0.1.0", "2026-12-02")
    assert (cff["license"], cff["repository-code"], cff["commit"]) == ("CC-BY-4.0", "https://github.com/experiment-manifest/experiment-manifest.git", "1b2e3f4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f")
    assert cff["preferred-citation"]["notes"] == "Ada Researcher (2026). RandomForest on iris, reference manifest."
    assert cff["preferred-citation"]["authors"] == [ada] and cff["preferred-citation"]["type"] == "generic"


def test_arguments_and_several_manifests(manifest: dict[str, Any], anonymous: dict[str, Any]):
    other = copy.deepcopy(manifest)
    other["name"] = "rf-10-trees"
    other["authors"] = [manifest["authors"][0], {"name": "Analytical Engine Lab", "type": "organization"}]
    unlicensed = copy.deepcopy(anonymous)
    del unlicensed["license"]
    cff = parse(citation_cff([manifest, other, unlicensed], title="Iris forests", date_released="2027-01-31"))
    assert (cff["title"], cff["date-released"]) == ("Iris forests", "2027-01-31")
    assert [a.get("family-names") or a.get("name") for a in cff["authors"]] == ["Researcher", "Analytical Engine Lab"], "each author once"
    assert "license" not in cff, "the third manifest has none: no one license for the whole"
    assert parse(citation_cff([manifest, other]))["license"] == "CC-BY-4.0"
    given = parse(citation_cff([manifest], authors=[{"name": "Anonymous"}]))
    assert given["authors"] == [{"name": "Anonymous"}]
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        citation_cff([manifest], date_released="2026-02-30")


def test_licenses_doi_and_repositories_cff_cannot_hold_are_left_out(manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    m["license"] = "MIT OR Apache-2.0"
    m["citation"]["doi"] = "10.5281/zenodo.1234567"
    assert parse(citation_cff([m]))["license"] == ["MIT", "Apache-2.0"]
    assert parse(citation_cff([m]))["preferred-citation"]["doi"] == "10.5281/zenodo.1234567"
    m["license"] = "Apache-2.0 WITH LLVM-exception"
    m["code"]["repository"] = "git@github.com:org/repo.git"
    m["citation"]["doi"] = "https://doi.org/10.5281/zenodo.1234567"
    cff = parse(citation_cff([m]))
    assert "license" not in cff and "repository-code" not in cff and "doi" not in cff
    m["code"]["repository"] = "https://bob:token@example.org/r.git"
    assert parse(citation_cff([m]))["repository-code"] == "https://example.org/r.git"


def test_without_authors_the_author_is_anonymous(anonymous: dict[str, Any]):
    cff = parse(citation_cff([anonymous]))
    assert cff["authors"] == [{"name": "Anonymous"}] and cff["title"] == "rf-100-trees" and "preferred-citation" not in cff


def test_untrusted_text_stays_data(hostile: dict[str, Any]):
    text = citation_cff([hostile])
    cff = parse(text)
    assert cff["title"] == HOSTILE and cff["abstract"] == HOSTILE and cff["preferred-citation"]["notes"] == HOSTILE
    first, lab, mono, *rest = cff["authors"]
    assert first == {"given-names": HOSTILE, "family-names": "O'Brien: #1", "affiliation": HOSTILE}, "an e-mail CFF refuses is left out"
    assert lab == {"name": "Lab \"X\"\n# not a comment", "email": "lab@example.org"} and mono == {"name": "Mononym"}
    assert [a["family-names"] for a in rest] == [s or "f" for s in LOOKALIKES]
    assert citation_cff([hostile]) == text, "same manifests, same text"


@pytest.mark.e2e
@pytest.mark.parametrize("which", ["manifest", "anonymous", "hostile"])
def test_cffconvert_accepts_the_example_no_authors_and_untrusted_text(cffconvert: Path, tmp_path: Path, which: str, request: pytest.FixtureRequest):
    proc = validate(cffconvert, tmp_path, citation_cff([request.getfixturevalue(which)]))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.e2e
def test_cffconvert_refuses_a_broken_file(cffconvert: Path, tmp_path: Path, anonymous: dict[str, Any]):
    """The check can fail: the same file with an empty author list is refused."""
    text = citation_cff([anonymous])
    broken = text.replace('authors:\n  - name: Anonymous\n', "authors: []\n")
    assert broken != text
    proc = validate(cffconvert, tmp_path, broken)
    assert proc.returncode != 0 and "too short" in proc.stdout + proc.stderr
