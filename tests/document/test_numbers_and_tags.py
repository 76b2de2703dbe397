"""Numbers a manifest cannot hold, and core-schema tags on text they do not match, are invalid
documents with a position: never an infinity read silently, never an internal error."""

from __future__ import annotations

import json

import pytest
from support.paths import minimal

from manifest.core.problems import InvalidManifest
from manifest.document.reader import parse_text
from manifest.document.writer import dumps_yaml


def _refused(text: str, fmt: str) -> tuple[str, int | None, int | None, str]:
    with pytest.raises(InvalidManifest) as exc:
        parse_text(text, fmt, name="m")  # type: ignore[arg-type]
    [p] = exc.value.problems
    return p.code, p.line, p.column, p.message


@pytest.mark.parametrize(("text", "kind"), [("!!int abc", "an integer"), ("!!bool maybe", "a boolean"), ("!!float x1", "a number"), ("!!null 0", "a null")])
def test_a_core_schema_tag_on_text_it_does_not_match(text: str, kind: str):
    code, line, column, message = _refused(f'spec_version: "1.0"\nvalue: {text}\n', "yaml")
    assert (code, line, column) == ("tag-mismatch", 2, 8)
    assert message == f"{text.split()[0]} is set on '{text.split()[1]}', which is not {kind} in the YAML 1.2 core schema"


@pytest.mark.parametrize("text", ["!!int 42", "!!bool true", "!!float 1.5", "!!null null", "!!str 42"])
def test_a_core_schema_tag_on_matching_text_is_read(text: str):
    value = parse_text(f"value: {text}\n", "yaml").data["value"]
    assert value == {"!!int 42": 42, "!!bool true": True, "!!float 1.5": 1.5, "!!null null": None, "!!str 42": "42"}[text]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_number_that_overflows_binary64_is_refused_where_it_stands(fmt: str):
    text = '{"a": 1,\n "b": 1e400}' if fmt == "json" else "a: 1\nb: 1e400\n"
    code, line, column, message = _refused(text, fmt)
    assert (code, line) == ("number-out-of-range", 2)
    assert column == (7 if fmt == "json" else 4)
    assert "1e400" in message and '"Infinity"' in message


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("literal", [str(2**53), str(-(2**53)), "1" + "0" * 40, "9" * 5000], ids=["2^53", "-2^53", "1e40", "5000-digits"])
def test_an_integer_beyond_2_53_is_refused_with_a_clear_message(fmt: str, literal: str):
    text = f'{{"n": {literal}}}' if fmt == "json" else f"n: {literal}\n"
    code, line, _, message = _refused(text, fmt)
    assert (code, line) == ("integer-out-of-range", 1)
    assert "outside ±(2^53 − 1)" in message and len(message) < 200


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_largest_safe_integers_and_ordinary_floats_are_read(fmt: str):
    data = {"n": 2**53 - 1, "m": -(2**53 - 1), "f": 0.14285714285714285, "e": 1e-300, "big": 1.7976931348623157e308}
    text = json.dumps(data) if fmt == "json" else "".join(f"{k}: {v!r}\n" for k, v in data.items())
    assert parse_text(text, fmt).data == data  # type: ignore[arg-type]


def test_a_huge_number_in_a_long_history_line_of_a_large_yaml_is_refused_with_its_line():
    doc = minimal()
    n = 200_000
    doc["metrics"] = {"loss": {"value": 1.0, "history": {"step": list(range(n)), "timestamp": [1_700_000_000_000] * n, "value": [0.5] * n}}}
    text = dumps_yaml(doc)
    assert len(text) > (1 << 20)
    lines = text.split("\n")
    i = next(k for k, ln in enumerate(lines) if ln.lstrip().startswith("value: [0.5"))
    lines[i] = lines[i].replace("0.5, 0.5]", "0.5, 1e400]")
    code, line, _, _ = _refused("\n".join(lines), "yaml")
    assert (code, line) == ("number-out-of-range", i + 1)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_text_with_a_lone_surrogate_is_an_encoding_error_with_its_position(fmt: str):
    """Found by `make fuzz`: ``manifest.loads("\\ud800")`` raised UnicodeEncodeError from the YAML parser."""
    text = '{"a": "x\ud800"}' if fmt == "json" else "a: x\ud800\n"
    code, line, column, message = _refused(text, fmt)
    assert (code, line, column) == ("encoding", 1, 9 if fmt == "json" else 5)
    assert "U+D800" in message


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "? {a: 1}\n: 2\n", "1: x\n", "? null\n: y\n"])
def test_a_mapping_key_that_is_not_a_string_is_refused_with_its_position(text: str):
    """Found by `make fuzz`: a sequence as a mapping key raised TypeError inside the YAML constructor."""
    code, line, column, _ = _refused(text, "yaml")
    assert (code, line) == ("non-string-key", 1)
    assert column in (1, 3)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_member_named_with_a_unicode_digit_is_reported_not_a_crash(fmt: str):
    """Found by `make fuzz`: '¹'.isdigit() is true but int('¹') fails, in pointer sorting and positions."""
    from manifest import validate

    data = minimal()
    data["provenance"] = {"¹": None}
    text = json.dumps(data, ensure_ascii=False) if fmt == "json" else dumps_yaml(data)
    problems = validate(parse_text(text, fmt, name="m"))  # type: ignore[arg-type]
    assert {p.pointer for p in problems} >= {"/provenance/¹", "/provenance"}
    assert all(p.line is not None for p in problems if p.pointer and p.pointer.startswith("/provenance"))
