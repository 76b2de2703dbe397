"""Deterministic writing, canonical form, and comment-preserving edits."""

from __future__ import annotations

import json
import math
import random
import struct
from pathlib import Path

import pytest
from support.paths import EXAMPLE

from manifest.core.problems import InvalidManifest
from manifest.document.canonical import canonical_json, manifest_digest
from manifest.document.reader import parse_text
from manifest.document.writer import dumps_json, dumps_yaml, normalize
from manifest.edit import ManifestFile


def test_example_round_trips_through_both_formats(example):
    for text, fmt in ((dumps_yaml(example), "yaml"), (dumps_json(example), "json")):
        assert parse_text(text, fmt).data == example


def test_writing_is_deterministic_and_ordered(example):
    shuffled = dict(reversed(list(example.items())))
    shuffled["params"] = dict(reversed(list(example["params"].items())))
    assert dumps_yaml(shuffled) == dumps_yaml(example)
    assert dumps_json(shuffled) == dumps_json(example)
    keys = list(json.loads(dumps_json(shuffled)))
    assert keys[:6] == ["spec_version", "id", "name", "description", "provenance", "run"]
    assert list(json.loads(dumps_json(shuffled))["params"]) == sorted(example["params"])


def _random_string(rng: random.Random) -> str:
    alphabet = ["a", "Z", " ", ":", "#", "-", "?", "'", '"', "\\", "\n", "\t", "é", "€", "😀", "\x7f", "\x85", "\u2028", "\ufeff", "0", "1", ".", "{", "}", "[", "]", ",", "&", "*", "!", "|", ">", "%", "@", "`"]
    words = ["yes", "No", "on", "null", "~", "true", "False", "0.10", "1e5", "1_000", "0x1F", "0o17", ".inf", "-.Inf", ".NaN", "NaN", "Infinity", "2026-01-01", "12:30", "=", "<<", "- a", "a: b", "a #b", "", " ", "y", "n"]
    if rng.random() < 0.3:
        return rng.choice(words)
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _random_value(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth < 3 and r < 0.15:
        return {_random_string(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and r < 0.3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return rng.choice([
        None, True, False, rng.randint(-(2**53 - 1), 2**53 - 1), 2**53 - 1, -(2**53 - 1), rng.random() * 10 ** rng.randint(-30, 30), -0.0, 0.0,
        5e-324, 1.7976931348623157e308, "NaN", "Infinity", "-Infinity", _random_string(rng), _random_string(rng),
    ])


@pytest.mark.parametrize("seed", range(20))
def test_yaml_and_json_writers_round_trip_arbitrary_data(seed: int):
    rng = random.Random(seed)
    data = {_random_string(rng): _random_value(rng) for _ in range(30)}
    for text, fmt in ((dumps_yaml(data, order=False, schema_comment=False), "yaml"), (dumps_json(data, order=False), "json")):
        back = parse_text(text or "{}", fmt).data if data else {}
        assert back == data, text


def test_non_finite_floats_are_written_as_strings():
    data = {"a": math.nan, "b": math.inf, "c": -math.inf, "d": [math.nan]}
    assert normalize(data) == {"a": "NaN", "b": "Infinity", "c": "-Infinity", "d": ["NaN"]}
    assert parse_text(dumps_yaml(data, order=False), "yaml").data == normalize(data)
    assert parse_text(dumps_json(data, order=False), "json").data == normalize(data)


# RFC 8785, appendix B: IEEE 754 bit patterns and their canonical JSON numbers.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"), ("8000000000000000", "0"), ("0000000000000001", "5e-324"), ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"), ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"), ("c340000000000000", "-9007199254740992"), ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"), ("44b52d02c7e14af6", "1e+23"), ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"), ("444b1ae4d6e2ef4f", "999999999999999900000"), ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"), ("3eb0c6f7a0b5ed8d", "0.000001"), ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"), ("41b3de4355555555", "333333333.3333333"), ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"), ("becbf647612f3696", "-0.0000033333333333333333"), ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize("bits, expected", RFC8785_NUMBERS)
def test_canonical_numbers_follow_rfc8785(bits: str, expected: str):
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonical_json([value]) == f"[{expected}]".encode()


def test_canonical_key_order_is_utf16():
    # RFC 8785 section 3.2.3
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    out = canonical_json({k: i for i, k in enumerate(keys)}).decode()
    order = [json.loads("{" + part + "}") for part in out[1:-1].split(",")]
    assert [next(iter(o)) for o in order] == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_digest_is_the_same_for_yaml_and_json(example, tmp_path: Path):
    y = parse_text(dumps_yaml(example), "yaml").data
    j = parse_text(dumps_json(example), "json").data
    assert manifest_digest(y) == manifest_digest(j) == manifest_digest(parse_text(EXAMPLE.read_text(), "yaml").data)
    example["params"]["n_estimators"] = 101
    assert manifest_digest(example) != manifest_digest(y)


def test_edit_keeps_comments_and_untouched_layout(tmp_path: Path):
    p = tmp_path / "m.yaml"
    original = EXAMPLE.read_text()
    p.write_text(original)
    mf = ManifestFile.open(p)
    mf.save()
    assert p.read_text() == original  # a no-op edit is byte-identical
    mf.data["params"]["n_estimators"] = 200
    mf.data["tags"]["reviewed"] = "yes"
    mf.save()
    text = p.read_text()
    assert "# 5-fold cross-validation on iris-train, one point per fold." in text
    assert text.startswith("# yaml-language-server: $schema=../../schemas/manifest-1.0.schema.json\n")
    changed = [ln for ln in text.splitlines() if ln not in original.splitlines()]
    assert changed == ["  n_estimators: 200", '  reviewed: "yes"']  # quoted: YAML 1.1 readers would see a boolean


def test_edit_update_from_model_changes_only_what_differs(tmp_path: Path):
    from manifest.spec.models import Manifest

    p = tmp_path / "m.yaml"
    p.write_text(EXAMPLE.read_text())
    m = Manifest.load(str(p))
    m.params["test_size"] = 0.25
    mf = ManifestFile.open(p)
    mf.update(m.to_dict())
    mf.save()
    before, after = EXAMPLE.read_text().splitlines(), p.read_text().splitlines()
    assert [a for a, b in zip(before, after) if a != b] == ["  test_size: 0.2"]
    assert [b for a, b in zip(before, after) if a != b] == ["  test_size: 0.25"]


def test_edit_refuses_to_save_an_invalid_document(tmp_path: Path):
    p = tmp_path / "m.yaml"
    p.write_text(EXAMPLE.read_text())
    mf = ManifestFile.open(p)
    mf.data["run"]["status"] = "DONE"
    with pytest.raises(InvalidManifest, match="/run/status"):
        mf.save()
    assert p.read_text() == EXAMPLE.read_text()


def test_long_number_lists_in_large_yaml_read_the_same(example):
    """The fast path for long one-line number lists gives exactly what the YAML parser gives."""
    from support.yaml_reference import reference_load

    from manifest.document.yaml_reader import lift_long_number_lists

    n = 120_000
    cols = {"step": list(range(n)), "timestamp": [1_700_000_000_000 + i for i in range(n)], "value": [i / 7 if i % 97 else "NaN" for i in range(n)]}
    cols["value"][5] = 1e300
    cols["value"][6] = -0.0
    example["metrics"]["loss"] = {"value": cols["value"][-1], "step": n - 1, "timestamp": cols["timestamp"][-1], "history": cols}
    text = dumps_yaml(example)
    assert len(text) > (1 << 20)
    fast = parse_text(text, "yaml").data
    lines_before = text.count("\n")
    lifted_text, lifted = lift_long_number_lists(text)
    assert len(lifted) == 3 and lifted_text.count("\n") == lines_before  # positions stay where they were
    slow = reference_load(text)  # ruamel's own loader, no fast path
    assert fast == slow == normalize(example)
    # a list that is not plainly numbers is left to the YAML parser
    odd = text.replace('value: ["NaN", 0.14285714285714285,', 'value: [not-a-number, "NaN", 0.14285714285714285,', 1)
    assert odd != text
    assert lift_long_number_lists(odd)[1].keys().__len__() == 2
    assert parse_text(odd, "yaml").data["metrics"]["loss"]["history"]["value"][0] == "not-a-number"
