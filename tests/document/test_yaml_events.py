"""The reader builds values from parser events; ruamel's own loader (with the same core-schema
resolver) is the reference it must agree with, value for value and type for type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support.paths import EXAMPLE
from support.yaml_reference import reference_load

from manifest.core.problems import InvalidManifest
from manifest.document.reader import parse_text

SNIPPETS = [
    "a: 1\nb: -2\nc: +3\nd: 0o17\ne: 0x1F\nf: 007\n",
    "a: 1.5\nb: -.5\nc: 1e3\nd: .inf\ne: -.Inf\nf: .NaN\ng: 1.\nh: -0.0\n",
    "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: ''\n",
    "a: true\nb: True\nc: FALSE\nd: yes\ne: no\nf: on\ng: y\n",
    "a: 1_000\nb: 2026-01-01\nc: 12:30\nd: 0b101\ne: .5e3\nf: 1e\n",
    "a: '1'\nb: \"true\"\nc: !!str 42\ne: !!int '7'\nf: !!float '2'\n",
    "list: [1, two, 3.0, null, [a, {b: c}], {}]\nempty: []\n",
    "- skipped\n" if False else "top:\n  - - nested\n    - 1\n  - key: value\n    other: [x]\n",
    "anchors:\n  base: &b {x: 1, y: [1, 2]}\n  copy: *b\n  s: &s text\n  t: *s\n",
    "multi: |\n  line one\n  line two\nfolded: >-\n  a\n  b\nquoted: \"tab\\there \\u00e9\"\n",
    "unicode: café ☕\n\"quoted key\": 1\n'single': 2\n? complex\n: 3\n",
    "nums: [-1, 0, 1, 9007199254740991, -9007199254740991, 1.7976931348623157e308, 5e-324]\n",
    "%YAML 1.2\n---\na: 1\n...\n",
    "<<: {a: 1}\nb: 2\n",
]


@pytest.mark.parametrize("text", SNIPPETS, ids=range(len(SNIPPETS)))
def test_values_and_types_agree_with_ruamels_loader(text: str):
    ours = parse_text(text, "yaml").data
    ref = reference_load(text)
    assert ours == ref
    assert _types(ours) == _types(ref)  # 1, 1.0 and True are not the same value here


def test_the_example_reads_as_ruamel_reads_it():
    text = EXAMPLE.read_text()
    assert parse_text(text, "yaml").data == reference_load(text)


def test_the_non_specific_tag_makes_a_plain_scalar_a_string():
    """YAML 1.2, 6.9.1: a scalar with the "!" tag is a string (ruamel's loader reads ``! 12`` as 12)."""
    assert parse_text("a: ! 12\nb: ! true\n", "yaml").data == {"a": "12", "b": "true"}


def test_an_alias_shares_the_value_it_names():
    data = parse_text("a: &x {k: [1]}\nb: *x\n", "yaml").data
    assert data["a"] == data["b"] == {"k": [1]}


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", "duplicate-key", 4, 3),
        ("a: [1, *nope]\n", "yaml-syntax", 1, 8),
        ("a: &x {b: *x}\n", "recursive-alias", 1, 11),
        ("a: !!map [1]\n", "forbidden-tag", 1, 4),
        ("a: !!seq {b: 1}\n", "forbidden-tag", 1, 4),
        ("a: !!omap [{b: 1}]\n", "forbidden-tag", 1, 4),
        ("a: !!binary aGk=\n", "forbidden-tag", 1, 4),
        ("a: 1\n---\nb: 2\n", "yaml-syntax", 2, 1),
        ("? [a]\n: 1\n", "non-string-key", 1, 3),
        ("1.5: x\n", "non-string-key", 1, 1),
    ],
)
def test_refused_constructs_have_a_code_and_a_position(text: str, code: str, line: int, column: int):
    with pytest.raises(InvalidManifest) as exc:
        parse_text(text, "yaml", name="m")
    [p] = exc.value.problems
    assert (p.code, p.line, p.column) == (code, line, column), p.message


@pytest.mark.parametrize("text", ["? .nan\n", "a: &x .nan\n*x : 1\n", "!!float .inf : 1\n", "? -.Inf\n: x\n"])
def test_a_non_finite_number_as_a_key_is_refused_like_any_number(text: str):
    """Found by `make fuzz` (yaml-agreement): ``? .nan`` was read as the string key "NaN", since the
    data model writes non-finite numbers as strings; a number is never a key."""
    with pytest.raises(InvalidManifest) as exc:
        parse_text(text, "yaml", name="m")
    assert [p.code for p in exc.value.problems] == ["non-string-key"]
    assert parse_text('"NaN": 1\nv: .nan\n', "yaml").data == {"NaN": 1, "v": "NaN"}
    assert type(parse_text("v: .nan\n", "yaml").data["v"]) is str


def test_a_duplicate_key_names_its_first_line_in_the_same_mapping():
    text = "c: 0\nb:\n  x: [c]\n  c: 1\n  d: {c: 2}\n  c: 3\n"
    with pytest.raises(InvalidManifest) as exc:
        parse_text(text, "yaml", name="m")
    [p] = exc.value.problems
    assert (p.line, p.message) == (6, 'duplicate key "c" (first at line 4)')


def _types(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _types(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_types(x) for x in v]
    return type(v).__name__


def test_snippets_are_json_data():
    for text in SNIPPETS:
        json.dumps(parse_text(text, "yaml").data)
