"""A synthetic bundle (every kind of file a real one has, an index with its ``files`` list, one
in-toto statement, SHA256SUMS from the writer's own function) and key pairs, for the signing tests.
Built by hand so the tests need neither MLflow nor the exporter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from manifest.bundle.writing import write_sums
from manifest.core.digests import file_digest, tree_files
from manifest.signing.keys import SigningKey, generate_key_pair, public_path

FILES = {
    "manifests/run-a.yaml": "spec_version: '1.0'\nname: run-a\n",
    "manifests/run-b.yaml": "spec_version: '1.0'\nname: run-b\n",
    "results.md": "| run | accuracy |\n|---|---|\n| run-a | 0.91 |\n| run-b | 0.93 |\n",
    "results.tex": "\\begin{tabular}{lr}\\toprule run & accuracy \\\\ \\bottomrule\\end{tabular}\n",
    "README.md": "# Supplementary material\n",
    "CITATION.cff": "cff-version: 1.2.0\ntitle: test\n",
    "data/iris/train.csv": "sepal_length,species\n5.1,setosa\n",
    "code/1b2e3f4a5c6d.diff": "--- a/train.py\n+++ b/train.py\n",
}


def statement(subject: str, sha256: str) -> dict[str, object]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": subject, "digest": {"sha256": sha256}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "https://example.com/run/v1", "externalParameters": {}}, "runDetails": {"builder": {"id": "https://example.com/builder"}}},
    }


def write_index(root: Path) -> None:
    """``index.json`` with the manifests and the ``files`` of the contract: every file but itself,
    SHA256SUMS and signatures/, sorted by path, with size and SHA-256."""
    manifests = [{"path": rel, "id": f"urn:uuid:{i:08d}-0000-4000-8000-000000000000", "sha256": file_digest(p)[1]["sha256"]} for i, (rel, p) in enumerate(tree_files(root / "manifests"))]
    for m in manifests:
        m["path"] = f"manifests/{m['path']}"
    files = [{"path": rel, "size": p.stat().st_size, "sha256": file_digest(p)[1]["sha256"]} for rel, p in tree_files(root) if rel not in ("index.json", "SHA256SUMS") and not rel.startswith("signatures/")]
    index = {"bundle_version": 1, "created_by": {"name": "experiment-manifest", "version": "test"}, "manifests": manifests, "files": files}
    (root / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_bundle(root: Path) -> Path:
    root.mkdir(parents=True)
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "plots").mkdir()
    (root / "plots" / "accuracy.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "attestations").mkdir()
    for stem in ("run-a", "run-b"):
        sha = file_digest(root / "manifests" / f"{stem}.yaml")[1]["sha256"]
        (root / "attestations" / f"{stem}.intoto.json").write_text(json.dumps(statement(f"manifests/{stem}.yaml", sha), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_index(root)
    write_sums(root)
    return root


@pytest.fixture
def make_bundle(tmp_path: Path) -> Callable[[str], Path]:
    return lambda name="bundle": build_bundle(tmp_path / name)


@pytest.fixture
def bundle(make_bundle: Callable[[str], Path]) -> Path:
    return make_bundle("bundle")


@pytest.fixture(scope="session")
def keydir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def signer(keydir: Path) -> tuple[SigningKey, Path, Path]:
    """An unencrypted key pair: the loaded key, the private key file, the public key file."""
    key = generate_key_pair(keydir / "signer")
    return key, keydir / "signer", public_path(keydir / "signer")


@pytest.fixture(scope="session")
def other(keydir: Path) -> tuple[SigningKey, Path, Path]:
    """Another key pair, which did not sign anything."""
    key = generate_key_pair(keydir / "other")
    return key, keydir / "other", public_path(keydir / "other")
