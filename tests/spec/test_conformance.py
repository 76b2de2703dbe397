"""Run the language-neutral conformance suite in ``tests/conformance`` against this implementation.

Schema cases (``tests/conformance/<version>/schema/*.json``) must get the same verdict from both
JSON Schema engines (jsonschema-rs and the reference Python ``jsonschema``) and from the pydantic
models; for invalid cases every expected pointer must be among the pointers each engine reports.
Rule cases (``tests/conformance/<version>/rules/*.json``) are schema-valid documents checked by
:func:`manifest.spec.rules.check`. See ``tests/conformance/README.md`` for the file format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from manifest.spec import rules
from manifest.spec.engines import is_valid, schema_problems
from manifest.spec.models import Manifest
from manifest.spec.validation import validate_data

SUITE = Path(__file__).resolve().parents[1] / "conformance"
VERSION = "1.0"
ENGINES = ("python", "rs")

#: Topics the schema suite must cover (one file each), and rule codes the rule suite must exercise.
SCHEMA_TOPICS = {
    "identity", "provenance", "run", "data", "code", "environment", "params", "metrics-and-history", "artifacts", "models",
    "authors-license-citation", "extensions", "digests", "timestamps", "non-finite-numbers",
}
RULE_CODES = {
    "end-before-start", "end-time-missing", "dirty-without-diff", "diff-when-clean", "diff-digest-mismatch", "commit-missing", "unsafe-path",
    "duplicate-name", "split-unknown-input", "memory-with-uri", "template-syntax", "template-unknown-param", "credentials-in-uri",
    "history-length-mismatch", "history-steps-decreasing", "history-timestamps-decreasing", "final-value-mismatch", "final-step-mismatch",
    "final-timestamp-mismatch", "duplicate-path", "model-size-mismatch", "model-digest-mismatch", "unhashable-name", "digest-kind",
    "error-without-failure", "metric-unknown-dataset", "interval-reversed", "value-outside-interval",
    "schema-uri-mismatch", "id-not-urn-uuid", "system-not-lowercase", "mapped-system-tag", "unknown-author-role", "diff-media-type",
    "template-command-mismatch", "path-not-nfc", "dot-segment", "secret-like-variable", "unknown-role", "memory-with-content",
    "unknown-key-field", "long-inline-history", "model-metric-unknown-dataset", "extension-not-object", "digest-without-sha256",
    "weak-digest-only", "container-without-digest", "derived-from-without-digest",
}
SCHEMA_CASE_KEYS = {"description", "comment", "data", "valid", "why", "errors"}
RULE_CASE_KEYS = {"description", "comment", "data", "valid", "why", "errors", "codes", "warnings"}
FORWARD_CASE_KEYS = {"description", "comment", "data", "valid", "why", "errors", "warnings"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name} (write \"NaN\", \"Infinity\" or \"-Infinity\" as strings)")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"duplicate keys {dup}")
    return dict(pairs)


def _load(path: Path) -> dict[str, Any]:
    """Strict RFC 8259 reading: no NaN/Infinity literals, no duplicate keys."""
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys)


def _files(kind: str) -> list[Path]:
    return sorted((SUITE / VERSION / kind).glob("*.json"))


def _cases(kind: str) -> list[Any]:
    out = []
    for path in _files(kind):
        for i, case in enumerate(_load(path)["tests"]):
            out.append(pytest.param(path.stem, case, id=f"{path.stem}[{i}] {case['description']}"))
    return out


def _pydantic_valid(data: Any) -> bool:
    try:
        Manifest.model_validate(data)
    except pydantic.ValidationError:
        return False
    return True


# --------------------------------------------------------------------------- schema cases


@pytest.mark.parametrize(("topic", "case"), _cases("schema"))
def test_schema_case(topic: str, case: dict[str, Any]) -> None:
    data, valid = case["data"], case["valid"]
    verdicts = {f"jsonschema-{e}": is_valid(data, VERSION, engine=e) for e in ENGINES}
    verdicts["pydantic"] = _pydantic_valid(data)
    wrong = {k: v for k, v in verdicts.items() if v != valid}
    assert not wrong, f"expected valid={valid}; verdicts {verdicts}"
    for engine in ENGINES:
        problems = schema_problems(data, VERSION, engine=engine)
        pointers = {p.pointer for p in problems}
        if valid:
            assert problems == [], f"{engine}: a valid document has problems {problems}"
            continue
        missing = [p for p in case["errors"] if p not in pointers]
        assert not missing, f"{engine}: expected pointers {missing} not reported; got {sorted(pointers)}"


# --------------------------------------------------------------------------- rule cases


@pytest.mark.parametrize(("topic", "case"), _cases("rules"))
def test_rule_case(topic: str, case: dict[str, Any]) -> None:
    data = case["data"]
    for engine in ENGINES:
        assert is_valid(data, VERSION, engine=engine), f"rule cases must be schema-valid; {engine}: {schema_problems(data, VERSION, engine=engine)}"
    assert _pydantic_valid(data), "rule cases must be schema-valid (pydantic rejects it)"
    problems = rules.check(data)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    assert (not errors) == case["valid"], f"expected valid={case['valid']}; errors {errors}"
    got = {(p.code, p.pointer) for p in errors}
    expected = set(zip(case.get("codes", []), case.get("errors", [])))
    assert expected <= got, f"missing {sorted(expected - got)}; got {sorted(got)}"
    assert {c for c, _ in got} == {c for c, _ in expected}, f"unexpected error codes: {sorted({c for c, _ in got} - {c for c, _ in expected})}"
    missing_warnings = set(case.get("warnings", [])) - {p.code for p in warnings}
    assert not missing_warnings, f"warnings {sorted(missing_warnings)} not reported; got {warnings}"


# --------------------------------------------------------------------------- forward cases


@pytest.mark.parametrize(("topic", "case"), _cases("forward"))
def test_forward_case(topic: str, case: dict[str, Any]) -> None:
    """A later minor version: unknown members become warnings at their pointers, the rest is checked
    as 1.0; a version the reader cannot read is refused (spec 4.5). The models agree."""
    for engine in ENGINES:
        problems = validate_data(case["data"], engine=engine)
        errors = {p.pointer for p in problems if p.severity == "error"}
        notes = sorted(p.pointer for p in problems if p.code == "unknown-member")
        assert (not errors) == case["valid"], f"{engine}: expected valid={case['valid']}; errors {sorted(errors)}"
        assert set(case.get("errors", [])) <= errors, f"{engine}: missing {sorted(set(case.get('errors', [])) - errors)}; got {sorted(errors)}"
        assert notes == sorted(case["warnings"]), f"{engine}: unknown-member warnings at {notes}"
    try:
        Manifest.from_data(case["data"])
        modelled = True
    except pydantic.ValidationError:
        modelled = False
    assert modelled == case["valid"]


# --------------------------------------------------------------------------- suite hygiene


ALL_FILES = [pytest.param(kind, p, id=f"{kind}/{p.name}") for kind in ("schema", "rules", "forward") for p in _files(kind)]


@pytest.mark.parametrize(("kind", "path"), ALL_FILES)
def test_file_is_well_formed(kind: str, path: Path) -> None:
    suite = _load(path)
    assert set(suite) == {"description", "spec_version", "tests"}, sorted(suite)
    assert suite["spec_version"] == VERSION
    assert isinstance(suite["description"], str) and suite["description"].strip()
    assert isinstance(suite["tests"], list) and suite["tests"]
    descriptions = [t["description"] for t in suite["tests"]]
    duplicates = sorted({d for d in descriptions if descriptions.count(d) > 1})
    assert not duplicates, f"descriptions repeated within the file: {duplicates}"
    allowed = {"schema": SCHEMA_CASE_KEYS, "rules": RULE_CASE_KEYS, "forward": FORWARD_CASE_KEYS}[kind]
    for t in suite["tests"]:
        d = t.get("description")
        assert isinstance(d, str) and d.strip() and "\n" not in d, d
        assert set(t) <= allowed, f"{d}: unknown keys {sorted(set(t) - allowed)}"
        assert {"description", "data", "valid"} <= set(t), d
        assert isinstance(t["valid"], bool), d
        if t["valid"]:
            assert "errors" not in t and "why" not in t and "codes" not in t, f"{d}: a valid case has no errors, why or codes"
        else:
            assert isinstance(t.get("why"), str) and t["why"].strip(), f"{d}: an invalid case explains why"
            errors = t.get("errors")
            assert isinstance(errors, list) and errors, f"{d}: an invalid case lists the pointers to report"
            for p in errors:
                assert isinstance(p, str) and (p == "" or p.startswith("/")), f"{d}: {p!r} is not a JSON pointer"
                _resolve_parent(t["data"], p)
            if kind == "rules":
                codes = t.get("codes")
                assert isinstance(codes, list) and len(codes) == len(errors), f"{d}: codes and errors are parallel lists"
        if kind == "rules":
            assert isinstance(t.get("warnings", []), list), d
        if kind == "forward":
            assert isinstance(t.get("warnings"), list), f"{d}: a forward case lists its unknown-member pointers"


def _resolve_parent(data: Any, pointer: str) -> None:
    """The pointer's parent exists in the document (the last token may name a missing or bad key)."""
    if pointer == "":
        return
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
    node = data
    for tok in tokens[:-1]:
        if isinstance(node, list):
            node = node[int(tok)]
        else:
            assert isinstance(node, dict) and tok in node, f"pointer {pointer!r} does not lead into the document"
            node = node[tok]


def test_schema_topics_are_covered() -> None:
    have = {p.stem for p in _files("schema")}
    assert SCHEMA_TOPICS <= have, f"missing topic files: {sorted(SCHEMA_TOPICS - have)}"


def test_every_rule_code_has_a_failing_case() -> None:
    seen: set[str] = set()
    for path in _files("rules"):
        for t in _load(path)["tests"]:
            seen.update(t.get("codes", []))
            seen.update(t.get("warnings", []))
    assert RULE_CODES <= seen, f"rule codes without a case: {sorted(RULE_CODES - seen)}"
