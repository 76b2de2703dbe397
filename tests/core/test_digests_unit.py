"""The directory digest of spec 6.3, checked against the spec text itself.

The test vectors are read from the table in spec section 6.3, so the spec is what is tested. For
each row the listing and ``dirHash`` are first recomputed here with ``hashlib``
written out (never with the package), then the package must give the same on a real tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from support.paths import EXAMPLE, ROOT

from manifest.core.digests import UnhashableName, describe, dir_hash, listing, tree_digest, tree_files
from manifest.core.problems import UnreadableInput
from manifest.document.reader import load_path

SPEC = (ROOT / "spec" / "manifest-1.0.md").read_text(encoding="utf-8")


def _vectors() -> list[tuple[dict[str, Any], str | None, str | None]]:
    """``(tree, listing or None, dirHash or None)`` for each row of the 6.3 test-vector table."""
    section = SPEC[SPEC.index("### 6.3 Directory digest and size") : SPEC.index("### 6.4")]
    table = section[section.index("| Tree | Listing | `dirHash` |") :].split("\n\n")[0]
    rows = []
    for line in table.splitlines()[2:]:
        tree, lst, dh = (c.strip() for c in line.strip("|").split(" | "))
        spans = [re.search(r"`([^`]*)`", c) for c in (tree, lst, dh)]
        listing_text = json.loads(spans[1].group(1)) if spans[1] else None
        value = spans[2].group(1) if spans[2] and re.fullmatch(r"[0-9a-f]{64}", spans[2].group(1)) else None
        rows.append((json.loads(spans[0].group(1)), listing_text, value))
    return rows


VECTORS = _vectors()


def _files(tree: dict[str, Any]) -> dict[str, str]:
    """The regular files of a tree (paths to contents), without its empty directories and links."""
    return {p: c for p, c in tree.items() if isinstance(c, str)}


def _expected_listing(tree: dict[str, Any]) -> str:
    """Spec 6.3 steps 2-4, written out: ``<sha256>  <path>\\n`` sorted by the path's UTF-8 bytes."""
    files = _files(tree)
    return "".join(f"{hashlib.sha256(files[p].encode()).hexdigest()}  {p}\n" for p in sorted(files, key=lambda p: p.encode("utf-8")))


def _expected_dir_hash(listing_text: str) -> str:
    return hashlib.sha256(listing_text.encode("utf-8")).hexdigest()


def _build(root: Path, tree: dict[str, Any]) -> Path:
    root.mkdir()
    for path, content in tree.items():
        target = root / path
        if content is None:
            target.mkdir(parents=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            target.symlink_to(content["link"])
        else:
            target.write_bytes(content.encode("utf-8"))
    return root


def test_the_spec_table_has_the_vectors_it_promises():
    assert len(VECTORS) == 8
    assert sum(1 for _, lst, _ in VECTORS if lst is None) == 1  # the refused one


@pytest.mark.parametrize(("tree", "listing_text", "value"), [v for v in VECTORS if v[1] is not None], ids=lambda v: json.dumps(v, ensure_ascii=True)[:60] if isinstance(v, dict) else None)
def test_each_vector_of_the_spec(tmp_path: Path, tree: dict[str, Any], listing_text: str, value: str):
    assert _expected_listing(tree) == listing_text  # the spec's listing is right
    assert _expected_dir_hash(listing_text) == value  # and so is its dirHash
    root = _build(tmp_path / "tree", tree)
    size, digest, files = tree_digest(root)
    assert digest == {"dirHash": value}
    assert size == sum(len(c.encode()) for c in _files(tree).values())
    assert [f[0] for f in files] == sorted(_files(tree), key=lambda p: p.encode("utf-8"))
    assert listing((p, hashlib.sha256(c.encode()).hexdigest()) for p, c in _files(tree).items()) == listing_text.encode("utf-8")
    assert describe(root) == {"path": str(root), "kind": "directory", "size": size, "digest": {"dirHash": value}}


def test_the_would_be_collision_is_refused(tmp_path: Path):
    """The refused row: read naively, its one line is the listing of the two files ``a`` and ``b``."""
    (bad_tree, _, _), = [v for v in VECTORS if v[1] is None]
    (name, content), = bad_tree.items()
    two_files = next(v for v in VECTORS if set(v[0]) == {"a", "b"})
    naive = f"{hashlib.sha256(content.encode()).hexdigest()}  {name}\n"
    assert naive == two_files[1]  # the collision is real: the same bytes would be hashed
    root = _build(tmp_path / "tree", bad_tree)
    with pytest.raises(UnhashableName) as caught:
        tree_digest(root)
    (problem,) = caught.value.problems
    assert problem.code == "unhashable-name" and "line feed" in problem.message
    assert "\n" not in problem.format() and "a\\ndf7e70e5" in problem.format()  # named, on one line
    with pytest.raises(UnhashableName):
        dir_hash([(name, hashlib.sha256(content.encode()).hexdigest())])


def test_the_example_model_digest_is_the_dirhash_of_its_files():
    """examples/iris/manifest.yaml: the model's dirHash is recomputed from its files, not trusted."""
    (model,) = load_path(EXAMPLE).data["models"]
    lines = sorted((f["path"].encode(), f["digest"]["sha256"]) for f in model["files"])
    text = b"".join(f"{h}  ".encode() + p + b"\n" for p, h in lines)
    assert model["digest"] == {"dirHash": hashlib.sha256(text).hexdigest()}
    assert model["size"] == sum(f["size"] for f in model["files"])


def test_a_name_that_is_not_utf8_is_refused_in_one_printable_line(tmp_path: Path):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "ok.txt").write_text("x")
    with open(os.fsencode(root) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"y")
    with pytest.raises(UnhashableName) as caught:
        tree_files(root)
    line = caught.value.problems[0].format()
    assert "caf\\xe9.txt" in line and "UTF-8" in line
    line.encode("utf-8")  # printable: no lone surrogate left
    with pytest.raises(UnreadableInput) as caught2:
        describe(root)
    assert caught2.value.problems[0].code == "unhashable-name" and caught2.value.exit_code == 2


def test_fifos_and_links_below_a_directory_are_not_part_of_it(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("not in the tree")
    root = tmp_path / "tree"
    root.mkdir()
    (root / "a").write_text("hello\n")
    os.mkfifo(root / "pipe")  # opening it would block: it must not be opened
    (root / "to-dir").symlink_to(outside, target_is_directory=True)
    (root / "to-file").symlink_to(outside / "secret")
    size, digest, files = tree_digest(root)
    assert [f[0] for f in files] == ["a"] and size == 6
    assert digest == {"dirHash": _expected_dir_hash(_expected_listing({"a": "hello\n"}))}


def test_what_cannot_be_read_is_one_problem_with_its_code(tmp_path: Path):
    with pytest.raises(UnreadableInput) as missing:
        describe(tmp_path / "nope")
    assert missing.value.problems[0].code == "not-found" and missing.value.exit_code == 2
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UnreadableInput) as fifo:
        describe(tmp_path / "fifo")
    assert fifo.value.problems[0].code == "not-a-regular-file"
    (tmp_path / "plain").write_text("x")
    with pytest.raises(UnreadableInput) as below_a_file:
        describe(tmp_path / "plain" / "child")
    assert below_a_file.value.problems[0].code == "read-error"


def test_a_file_is_digested_with_the_algorithms_asked_for(tmp_path: Path):
    (tmp_path / "f").write_bytes(b"abc")
    got = describe(tmp_path / "f", ("md5", "sha256"))
    assert got == {"path": str(tmp_path / "f"), "kind": "file", "size": 3, "digest": {"md5": hashlib.md5(b"abc").hexdigest(), "sha256": hashlib.sha256(b"abc").hexdigest()}}
