"""Fast unit tests of manifest.document.positions: line and column of JSON pointers."""

from __future__ import annotations

from manifest.document.positions import find_json_duplicate, locator_for

YAML = """\
name: demo
run:
  status: FINISHED
params:
  lr: 0.1
tags: [a, b]
data:
  - name: train
    uri: data/train.csv
"""

JSON = """\
{
  "name": "demo",
  "run": {"status": "FINISHED"},
  "tags": ["a", "b"],
  "data": [
    {"name": "train", "uri": "data/train.csv"}
  ]
}
"""


def test_yaml_values_and_keys():
    at = locator_for(YAML, "yaml")
    assert at("/name") == (1, 7)
    assert at("/name", key=True) == (1, 1)
    assert at("/run/status") == (3, 11)
    assert at("/run/status", key=True) == (3, 3)
    assert at("/params/lr") == (5, 7)
    assert at("") == (1, 1)


def test_yaml_array_items():
    at = locator_for(YAML, "yaml")
    assert at("/tags/1") == (6, 11)
    assert at("/data/0") == (8, 5)
    assert at("/data/0/uri") == (9, 10)


def test_yaml_missing_members_point_at_the_nearest_container():
    at = locator_for(YAML, "yaml")
    assert at("/run/end_time") == (3, 3)
    assert at("/tags/5") == (6, 7)
    assert at("/name/x") == (1, 7)


def test_yaml_that_does_not_compose_locates_nothing():
    assert locator_for("a: [\n", "yaml")("/a") is None


def test_json_values_and_keys():
    at = locator_for(JSON, "json")
    assert at("/name") == (2, 11)
    assert at("/name", key=True) == (2, 3)
    assert at("/run/status") == (3, 21)
    assert at("/run/status", key=True) == (3, 11)
    assert at("") == (1, 1)


def test_json_array_items():
    at = locator_for(JSON, "json")
    assert at("/tags/0") == (4, 12)
    assert at("/tags/1") == (4, 17)
    assert at("/data/0") == (6, 5)
    assert at("/data/0/uri") == (6, 30)


def test_json_missing_members():
    at = locator_for(JSON, "json")
    assert at("/run/end_time") == (3, 10)  # the object that lacks the member
    assert at("/tags/2") == (4, 20)  # the closing bracket of a shorter array
    assert at("/tags/x") == (4, 11)
    assert at("/name/x") == (2, 11)


def test_find_json_duplicate():
    assert find_json_duplicate('{"a": 1, "b": {"c": 2, "c": 3}}') == ("/b/c", 1, 24)
    assert find_json_duplicate('{\n  "a": 1,\n  "a": 2\n}') == ("/a", 3, 3)
    assert find_json_duplicate('{"x": [{"k": 1}, {"k": 1, "k": 2}]}') == ("/x/1/k", 1, 27)
    assert find_json_duplicate('{"a/b": {"~": 1, "~": 2}}') == ("/a~1b/~0", 1, 18)
    assert find_json_duplicate('{"a": 1, "b": [1, 2]}') is None
    assert find_json_duplicate('{"a": ') is None
