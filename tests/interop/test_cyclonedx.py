"""The CycloneDX 1.6 ML-BOM of a manifest's model, checked by cyclonedx-python-lib's strict JSON
validator (the bundled 1.6 schema, offline) and for its content; purls by packageurl-python.
Expected digests are read from the example's text.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from support.paths import EXAMPLE

from manifest.document.reader import load_path
from manifest.interop.cyclonedx import ml_bom, ml_boms

#: Model files of the example, from its text: path, size, then the sha256 digest.
MODEL_FILES = re.findall(r"- path: (\S+)\n\s+size: \d+\n\s+digest:\n\s+sha256: ([0-9a-f]{64})", EXAMPLE.read_text(encoding="utf-8"))
HOSTILE = 'He said "hi": it\'s #1\nnext: - [x] {y} & *z !t %p @q `r`\ttab é中🚀\u2028\x85 yes'


@pytest.fixture(scope="module")
def validator() -> JsonStrictValidator:
    return JsonStrictValidator(SchemaVersion.V1_6)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_path(EXAMPLE).data


@pytest.fixture(scope="module")
def bom(manifest: dict[str, Any]) -> dict[str, Any]:
    return ml_bom(manifest)


def assert_valid(validator: JsonStrictValidator, bom: dict[str, Any]) -> None:
    error = validator.validate_str(json.dumps(bom))
    assert error is None, str(error)[:2000]


def test_the_example_bom_is_valid_cyclonedx_1_6(validator: JsonStrictValidator, bom: dict[str, Any]):
    assert_valid(validator, bom)
    assert (bom["bomFormat"], bom["specVersion"], bom["version"]) == ("CycloneDX", "1.6", 1)


def test_the_validator_refuses_invalid_boms(validator: JsonStrictValidator, bom: dict[str, Any]):
    """The check can fail: an unknown component type, an unknown member, a bad serial number."""
    broken = copy.deepcopy(bom)
    broken["metadata"]["component"]["type"] = "ml-model"
    assert validator.validate_str(json.dumps(broken)) is not None
    broken = copy.deepcopy(bom)
    broken["metadata"]["component"]["modelCard"]["accuracy"] = "1.0"
    assert validator.validate_str(json.dumps(broken)) is not None
    assert validator.validate_str(json.dumps({**bom, "serialNumber": "not-a-urn"})) is not None


def test_the_model_is_a_machine_learning_model_with_its_files_hashes(bom: dict[str, Any]):
    model = bom["metadata"]["component"]
    assert (model["type"], model["name"], model["bom-ref"]) == ("machine-learning-model", "model", "model:model")
    assert len(MODEL_FILES) == 5
    assert [(f["type"], f["name"], f["hashes"]) for f in model["components"]] == [("file", p, [{"alg": "SHA-256", "content": h}]) for p, h in MODEL_FILES]
    assert "hashes" not in model, "several files have no one hash"
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["experiment-manifest:dirHash"] == "a3c46d41199d92562faa0851df562fda6a9c3b07dd38982e55bf9cc7affca13a"
    assert model["licenses"] == [{"expression": "CC-BY-4.0"}] and model["authors"] == [{"name": "Ada Researcher"}]


def test_the_model_card_holds_task_use_limits_datasets_and_metrics(bom: dict[str, Any]):
    card = bom["metadata"]["component"]["modelCard"]
    assert card["modelParameters"]["task"] == "classification"
    assert card["considerations"] == {
        "useCases": ["A reference for the manifest format; not a model to classify real flowers with."],
        "technicalLimitations": ["Trained and tested on the 150 rows of the iris data set; a 30-row test split gives coarse accuracy estimates."],
    }
    refs = [d["ref"] for d in card["modelParameters"]["datasets"]]
    data = {c["bom-ref"]: c for c in bom["components"] if c["type"] == "data"}
    assert refs == ["data:iris", "data:iris-train", "data:iris-test"] and set(refs) == set(data)
    assert data["data:iris"]["hashes"] == [{"alg": "SHA-256", "content": "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"}]
    assert data["data:iris"]["data"] == [{"type": "dataset", "name": "iris", "contents": {"url": "data/iris.csv"}}]
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    assert metrics[0] == {"type": "accuracy", "value": "1.0", "slice": "iris-test"}
    assert {"type": "cv_accuracy_mean", "value": "0.9416666666666667", "slice": "iris-train"} in metrics
    assert [m["type"] for m in metrics].count("accuracy") == 1, "the run's accuracy is the model's"


def test_a_recorded_interval_is_the_confidence_interval_and_a_std_is_no_interval(validator: JsonStrictValidator, manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    m["metrics"]["cv_accuracy_mean"]["interval"] = {"lower": 0.88, "upper": 0.99, "level": 0.95, "method": "bootstrap (1000 resamples)"}
    bom = ml_bom(m)
    assert_valid(validator, bom)
    component = bom["metadata"]["component"]
    metric = next(x for x in component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"] if x["type"] == "cv_accuracy_mean")
    assert metric["confidenceInterval"] == {"lowerBound": "0.88", "upperBound": "0.99"}
    props = {p["name"]: p["value"] for p in component["properties"]}
    where = "experiment-manifest:metric:cv_accuracy_mean@iris-train"
    assert (props[f"{where}:std"], props[f"{where}:repetitions"], props[f"{where}:interval-level"]) == ("0.06319062870042957", "5", "0.95")
    plain = ml_bom(manifest)["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert all("confidenceInterval" not in x for x in plain)


def test_packages_are_libraries_with_purls_that_the_model_depends_on(validator: JsonStrictValidator, manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    m["environment"]["packages"]["Zope_Interface.Ext"] = "7.0+local.1"
    bom = ml_bom(m)
    assert_valid(validator, bom)
    libs = {c["name"]: c for c in bom["components"] if c["type"] == "library"}
    assert libs["scikit-learn"]["purl"] == "pkg:pypi/scikit-learn@1.9.1" == libs["scikit-learn"]["bom-ref"]
    odd = PackageURL.from_string(libs["Zope_Interface.Ext"]["purl"])
    assert (odd.type, odd.name, odd.version) == ("pypi", "zope-interface-ext", "7.0+local.1")
    for lib in libs.values():
        assert PackageURL.from_string(lib["purl"]).to_string() == lib["purl"], "canonical purl"
    assert bom["dependencies"] == [{"ref": "model:model", "dependsOn": [c["bom-ref"] for c in bom["components"] if c["type"] == "library"]}]
    assert len(libs) == 8


def test_serial_and_timestamp_come_from_the_manifest_not_the_clock(manifest: dict[str, Any], bom: dict[str, Any]):
    assert bom["metadata"]["timestamp"] == "2026-11-27T02:40:00.000Z"
    assert bom["serialNumber"] == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:uuid:7f9c2ba4-e88f-4d1b-9c3a-2f1e0d5c6b7a#models/model')}"
    assert json.dumps(ml_bom(manifest)) == json.dumps(bom), "same manifest, same bytes"
    given = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    assert ml_bom(manifest, serial=given)["serialNumber"] == given
    with pytest.raises(ValueError, match="serial number"):
        ml_bom(manifest, serial="3E671687-395B-41F5-A30F-A58921A69B79")
    with pytest.raises(ValueError, match="no model 1"):
        ml_bom(manifest, 1)


def test_every_model_gets_its_bom(validator: JsonStrictValidator, manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    second = copy.deepcopy(m["models"][0])
    second.update(name="calibrated", metrics=[])
    del second["files"]
    m["models"].append(second)
    boms = ml_boms(m)
    for b in boms:
        assert_valid(validator, b)
    assert [b["metadata"]["component"]["name"] for b in boms] == ["model", "calibrated"]
    assert boms[0]["serialNumber"] != boms[1]["serialNumber"]
    dir_only = boms[1]["metadata"]["component"]
    assert "components" not in dir_only and "hashes" not in dir_only, "a dirHash is no SHA-256 of the model's bytes"
    assert "quantitativeAnalysis" not in dir_only["modelCard"], "with two models, run metrics belong to neither"


def test_untrusted_text_gives_a_valid_bom(validator: JsonStrictValidator, manifest: dict[str, Any]):
    m = copy.deepcopy(manifest)
    m["models"][0]["name"] = HOSTILE
    m["models"][0]["card"]["limitations"] = HOSTILE
    m["data"][0].update(name=HOSTILE, uri=HOSTILE)
    m["environment"]["packages"][HOSTILE] = HOSTILE
    m["authors"][0]["name"] = HOSTILE
    before = copy.deepcopy(m)
    bom = ml_bom(m)
    assert_valid(validator, bom)
    assert m == before
    assert bom["metadata"]["component"]["name"] == HOSTILE
    assert bom["metadata"]["component"]["modelCard"]["considerations"]["technicalLimitations"] == [HOSTILE]
    hostile = next(c for c in bom["components"] if c["name"] == HOSTILE and c["type"] == "data")
    assert "contents" not in hostile["data"][0], "free text is no URL"
    purl = next(c["purl"] for c in bom["components"] if c["name"] == HOSTILE and c["type"] == "library")
    assert PackageURL.from_string(purl).version == HOSTILE
