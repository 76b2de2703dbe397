"""The in-toto Statement of a manifest, checked by the in-toto attestation bindings: parsed strictly
(unknown fields refused) into the Statement proto and the SLSA Provenance v1 proto, validated by the
bindings' ``Statement.validate`` and ``ResourceDescriptor.validate``, and by the rules of the
reference validator for the provenance proto (in-toto/attestation, go/predicates/provenance/v1/
provenance.go; the Python bindings have none). Expected digests are read from the example's text.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.protobuf import json_format
from packageurl import PackageURL
from support.ecosystems import check
from support.paths import EXAMPLE

from manifest.document.reader import load_path
from manifest.interop.in_toto import BUILD_TYPE, statement

#: Model files of the example, from its text: path, size, then the sha256 digest.
MODEL_FILES = re.findall(r"- path: (\S+)\n\s+size: \d+\n\s+digest:\n\s+sha256: ([0-9a-f]{64})", EXAMPLE.read_text(encoding="utf-8"))
HOSTILE = 'He said "hi": it\'s #1\nnext: - [x] {y} & *z !t %p @q `r`\ttab é中🚀\u2028\x85 yes'


def uris(st: dict[str, Any]) -> list[str]:
    pred = st["predicate"]
    rds = st["subject"] + pred["buildDefinition"].get("resolvedDependencies", []) + pred["runDetails"].get("byproducts", [])
    return [pred["buildDefinition"]["buildType"], pred["runDetails"]["builder"]["id"]] + [rd["uri"] for rd in rds if "uri" in rd]


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_path(EXAMPLE).data


@pytest.fixture(scope="module")
def example_statement(manifest: dict[str, Any]) -> dict[str, Any]:
    return statement(manifest, manifest_ref=("manifest.yaml", {"sha256": "ab" * 32}))


def test_the_example_statement_passes_the_in_toto_bindings(example_statement: dict[str, Any]):
    prov = check(example_statement)
    assert example_statement["_type"] == "https://in-toto.io/Statement/v1"
    assert example_statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert prov.build_definition.build_type == BUILD_TYPE == "https://experiment-manifest.org/buildtypes/ml-run/v1"
    assert prov.run_details.metadata.started_on.ToJsonString() == "2026-11-27T02:38:12.345Z"


def test_subjects_are_the_model_files_with_the_example_digests(example_statement: dict[str, Any]):
    assert len(MODEL_FILES) == 5 and ("model.skops", "96c8b7cfc9ed63eebd67cfd5d1132e08a4e08c3c494f486662ced70dc34229f3") in MODEL_FILES
    assert [(s["name"], s["digest"]) for s in example_statement["subject"]] == [(f"models/model/{p}", {"sha256": h}) for p, h in MODEL_FILES]


def test_external_parameters_are_the_typed_params_and_the_command(example_statement: dict[str, Any], manifest: dict[str, Any]):
    ext = example_statement["predicate"]["buildDefinition"]["externalParameters"]
    assert ext["params"] == {"criterion": "gini", "max_depth": None, "n_estimators": 100, "random_state": 42, "test_size": 0.2}
    assert type(ext["params"]["n_estimators"]) is int and type(ext["params"]["test_size"]) is float
    assert ext["command"] == ["python", "train.py", "--n-estimators", "100", "--test-size", "0.2", "--random-state", "42"]
    assert ext["commandTemplate"] == manifest["code"]["command_template"]
    assert (ext["workingDirectory"], ext["entryPoint"], ext["repository"]) == ("examples/iris", "train.py", "https://github.com/experiment-manifest/experiment-manifest.git")
    internal = example_statement["predicate"]["buildDefinition"]["internalParameters"]
    assert internal["python"] == {"version": "3.11.7", "implementation": "CPython"}
    assert internal["seeds"] == {"python": 42, "numpy": 42, "sklearn.random_state": 42} and internal["determinism"]["level"] == "bitwise"
    assert not set(ext) & set(internal), "SLSA: one name is not used in both"


def test_resolved_dependencies_are_the_commit_the_data_with_bytes_and_the_packages(example_statement: dict[str, Any]):
    deps = {d["name"]: d for d in example_statement["predicate"]["buildDefinition"]["resolvedDependencies"]}
    assert deps["code"] == {"name": "code", "uri": "git+https://github.com/experiment-manifest/experiment-manifest.git", "digest": {"gitCommit": "1b2e3f4a5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"}}
    assert deps["data/iris"]["digest"] == {"sha256": "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"}
    assert "uri" not in deps["data/iris"], "a relative path is no URI"
    assert deps["data/iris"]["annotations"] == {"experimentmanifest_role": "source", "experimentmanifest_location": "data/iris.csv"}
    assert "data/iris-train" not in deps and "data/iris-test" not in deps, "memory inputs have no bytes"
    purls = [PackageURL.from_string(d["uri"]) for n, d in deps.items() if n.startswith("environment/packages/")]
    assert [(p.type, p.name, p.version) for p in purls][:2] == [("pypi", "joblib", "1.6.0"), ("pypi", "mlflow", "3.17.2")] and len(purls) == 7


def test_run_details_name_the_builder_the_source_run_and_its_times(example_statement: dict[str, Any]):
    rd = example_statement["predicate"]["runDetails"]
    assert rd["builder"] == {"id": "https://experiment-manifest.org/builders/mlflow", "version": {"mlflow": "3.17.2", "experiment-manifest": "0.1.0"}}
    assert rd["metadata"] == {"invocationId": "4f1c9b1e2d3a4b5c8d7e6f5a4b3c2d1e", "startedOn": "2026-11-27T02:38:12.345Z", "finishedOn": "2026-11-27T02:38:19.870Z"}
    assert rd["byproducts"] == [{"name": "manifest.yaml", "digest": {"sha256": "ab" * 32}}]


def test_every_uri_is_absolute_with_lowercase_scheme_and_host(example_statement: dict[str, Any]):
    for uri in uris(example_statement):
        parts = urlsplit(uri)
        assert parts.scheme and parts.scheme == parts.scheme.lower() and parts.netloc == parts.netloc.lower(), uri


def test_the_other_inputs_lockfile_diff_container_configs_directories_and_urls(manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    m["code"].update(repository="https://alice:s3cret@GitHub.COM/Org/Repo.git", dirty=True, diff_digest={"sha256": "1" * 64}, config_files=[{"path": "conf/a.yaml", "size": 1, "digest": {"sha256": "2" * 64}}])
    m["environment"]["lockfile"] = {"path": "uv.lock", "format": "uv.lock", "digest": {"sha256": "3" * 64}}
    m["environment"]["container"] = {"image": "ghcr.io/example/train:1.4", "digest": {"sha256": "4" * 64}}
    m["data"].append({"name": "shards", "kind": "directory", "uri": "S3://Bucket/shards/", "digest": {"dirHash": "5" * 64}})
    m["artifacts"] = [{"path": "plots/cm.png", "uri": "mlflow-artifacts:/1/x/plots/cm.png", "digest": {"sha256": "6" * 64}}]
    st = statement(m)
    check(st)
    deps = {d["name"]: d for d in st["predicate"]["buildDefinition"]["resolvedDependencies"]}
    assert deps["code"]["uri"] == "git+https://github.com/Org/Repo.git" and "s3cret" not in json.dumps(st)
    assert deps["code/diff"] == {"name": "code/diff", "digest": {"sha256": "1" * 64}, "mediaType": "text/x-diff"}
    assert deps["code/config/conf/a.yaml"]["digest"] == {"sha256": "2" * 64}
    assert deps["environment/lockfile"] == {"name": "environment/lockfile", "digest": {"sha256": "3" * 64}, "annotations": {"experimentmanifest_path": "uv.lock", "experimentmanifest_format": "uv.lock"}}
    assert deps["environment/container"]["digest"] == {"sha256": "4" * 64}
    assert deps["data/shards"]["uri"] == "s3://bucket/shards/" and deps["data/shards"]["digest"] == {"dirHash": "5" * 64}
    assert st["predicate"]["runDetails"]["byproducts"][0]["name"] == "artifacts/plots/cm.png"


def test_a_model_with_only_a_directory_digest_is_one_subject(manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    del m["models"][0]["files"]
    st = statement(m)
    check(st)
    assert st["subject"] == [{"name": "models/model", "uri": "models:/m-0a1b2c3d4e5f60718293a4b5c6d7e8f9", "digest": {"dirHash": "a3c46d41199d92562faa0851df562fda6a9c3b07dd38982e55bf9cc7affca13a"}}]


def test_without_models_the_manifest_file_is_the_subject_and_without_it_there_is_none(manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    del m["models"]
    st = statement(m, manifest_ref=("runs/a/manifest.yaml", {"sha256": "c" * 64}))
    check(st)
    assert st["subject"] == [{"name": "runs/a/manifest.yaml", "digest": {"sha256": "c" * 64}}] and "byproducts" not in st["predicate"]["runDetails"]
    with pytest.raises(ValueError, match="needs a subject"):
        statement(m)
    with pytest.raises(ValueError, match="needs a digest"):
        statement(m, subjects=[("x", {})])
    assert statement(m, subjects=[("x", {"sha256": "d" * 64})])["subject"] == [{"name": "x", "digest": {"sha256": "d" * 64}}]


def test_the_checks_refuse_broken_statements(example_statement: dict[str, Any]):
    """The checks can fail: a subject without digest, a descriptor with a name alone, a builder
    without id, a field the proto does not define."""
    st = copy.deepcopy(example_statement)
    del st["subject"][0]["digest"]
    with pytest.raises(ValueError, match="digest required"):
        check(st)
    st = copy.deepcopy(example_statement)
    st["predicate"]["buildDefinition"]["resolvedDependencies"].append({"name": "only-a-name"})
    with pytest.raises(ValueError, match="uri, digest or content"):
        check(st)
    st = copy.deepcopy(example_statement)
    del st["predicate"]["runDetails"]["builder"]["id"]
    with pytest.raises(ValueError, match="Builder.Id required"):
        check(st)
    st = copy.deepcopy(example_statement)
    st["predicate"]["runDetails"]["metadata"]["experimentmanifest_user"] = "x"
    with pytest.raises(json_format.ParseError, match="experimentmanifest_user"):
        check(st)


def test_untrusted_text_stays_data_and_identities_stay_out(manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    m["models"][0]["name"] = HOSTILE
    m["params"][HOSTILE] = HOSTILE
    m["code"]["command"] = [HOSTILE]
    m["run"]["user"] = "alice-the-user"
    m["environment"]["python"]["executable"] = "/home/alice-the-user/.venv/bin/python"
    m["provenance"]["source"]["tracking_uri"] = "http://alice-the-user.example:5000"
    before = copy.deepcopy(m)
    st = statement(m)
    check(st)
    assert m == before, "the manifest is not changed"
    assert st == statement(m), "same manifest, same statement"
    assert st["subject"][0]["name"] == f"models/{HOSTILE}/MLmodel"
    assert st["predicate"]["buildDefinition"]["externalParameters"]["params"][HOSTILE] == HOSTILE
    assert "alice" not in json.dumps(st)
    st["predicate"]["buildDefinition"]["internalParameters"]["seeds"]["python"] = 0
    assert m == before, "the statement shares no object with the manifest"
