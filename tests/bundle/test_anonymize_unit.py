"""Anonymising a manifest: what is removed, what is replaced, what stays (digests), and the leak
scan that stops an export rather than ship a name."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from support.paths import EXAMPLE

from manifest.bundle.anonymize import Identities, anonymize_manifest, collect, find_terms, leaks, readable_text, scrub
from manifest.document.reader import load_path
from manifest.spec.validation import validate_data


def _planted() -> dict:
    m = copy.deepcopy(load_path(EXAMPLE).data)
    m["run"]["user"] = "zoeplanted"
    m["code"]["repository"] = "https://github.com/zoe-lab/iris-secret.git"
    m["provenance"]["source"]["tracking_uri"] = "https://mlflow.zoe-lab.example:5000"
    m["tags"] = {"contact": "zoe@uni.example", "notes": "see /home/zoeplanted/notes.txt and file:///srv/zoe/x.csv"}
    m["description"] = "Trained by zoeplanted at Example Lab; ask Ada Researcher."
    m["citation"]["bibtex"] = "@misc{r, author={Ada Researcher}}"
    return m


def test_who_and_where_leave_the_manifest_and_it_stays_valid():
    m = _planted()
    ids = collect([m])
    out = anonymize_manifest(m, ids)
    text = json.dumps(out)
    for term in ("zoeplanted", "zoe@uni.example", "zoe-lab", "iris-secret", "Ada Researcher", "Example Lab", "0000-0002-1825-0097", "/home/", "/srv/"):
        assert term not in text, term
    assert "authors" not in out and "repository" not in out["code"] and "tracking_uri" not in out["provenance"]["source"] and out["run"]["user"] == "anonymous"
    assert "bibtex" not in out["citation"] and out["tags"]["notes"] == "see /anonymized/notes.txt and file:///anonymized/x.csv"
    assert [p for p in validate_data(out) if p.severity == "error"] == []
    assert out["data"][0]["digest"] == m["data"][0]["digest"] and out["models"][0]["files"] == m["models"][0]["files"]  # digests kept
    assert m["run"]["user"] == "zoeplanted"  # the original is not touched


def test_scrub_leaves_what_is_no_identity():
    ids = Identities()
    ids.add("user name", "zoe")
    for text in ("models:/m-123", "https://w3id.org/ro/crate/1.1", "pkg:pypi/numpy@2.4.6", "a/b/c", "mean/std", "zoetrope", "1/2", "text/csv"):
        assert scrub(text, ids) == text, text
    assert scrub("by Zoe, zoe@x.org, in /home/zoe/p.py", ids) == "by anonymized, anonymized@example.invalid, in /anonymized/p.py"


def test_short_and_generic_names_are_not_terms():
    ids = Identities()
    ids.add("user name", "root", "vm", "ci", "anonymous")
    assert ids.terms == {}


def test_the_scan_reads_text_png_chunks_and_archives(tmp_path: Path):
    import io
    import tarfile

    ids = Identities()
    ids.add("author", "Ada Researcher")
    chunk = b"Author\0Ada Researcher"
    png = b"\x89PNG\r\n\x1a\n" + len(chunk).to_bytes(4, "big") + b"tEXt" + chunk + b"\0\0\0\0"
    (tmp_path / "a.png").write_bytes(png)
    assert readable_text(png) == chunk
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("root/train.py")
        body = b"# by Ada Researcher\n"
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    (tmp_path / "code.tar.gz").write_bytes(buf.getvalue())
    (tmp_path / "ok.md").write_text("nothing here\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    found = leaks(tmp_path, ["a.png", "code.tar.gz", "ok.md", "blob.bin"], ids)
    assert found == {"a.png": ["author"], "code.tar.gz": ["author"]}
    assert find_terms(b"contact: x@y.org", ids) == ["e-mail address"]


def test_paths_in_options_path_lists_windows_and_local_uris_are_cut():
    ids = Identities()
    cases = {
        "--data=/scratch/smithgroup/jane.doe/iris.csv": "--data=/anonymized/iris.csv",
        "PYTHONPATH=/opt/x:/home/janedoe/lib": "PYTHONPATH=/anonymized/x:/anonymized/lib",
        "C:\\Users\\JaneDoe\\cache\\x.bin": "/anonymized/x.bin",
        "sqlite:////home/janedoe/mlflow.db": "sqlite:///anonymized/mlflow.db",
        "models:/m-1 and mlflow-artifacts:/1/abc": "models:/m-1 and mlflow-artifacts:/1/abc",
        "--tracking-uri sqlite:///../review.db": "--tracking-uri sqlite:///../review.db",  # relative
    }
    for text, want in cases.items():
        assert scrub(text, ids) == want, text


def test_common_words_in_an_authors_name_do_not_stop_an_export():
    m = copy.deepcopy(load_path(EXAMPLE).data)
    m["authors"] = [{"name": "Max Code", "type": "person", "given_name": "Max", "family_name": "Code"}]
    ids = collect([m])
    out = anonymize_manifest(m, ids)
    text = json.dumps(out) + "\nThe code of every run; max 3 runs; python code."
    assert find_terms(text.encode(), ids) == []
    assert find_terms(b"by Max Code, see Code, Max (2026)", ids) == ["author"]
