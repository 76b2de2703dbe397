"""A rule that raises on a schema-valid manifest is a bug to see, never a verdict of "valid"."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from manifest.core.problems import Problem
from manifest.spec import rules
from manifest.spec.validation import validate_data


def _broken_rule(d: dict[str, Any]) -> Iterator[Problem]:
    yield from ()
    raise KeyError("a rule that reads a member the schema made optional")


def test_a_rule_that_raises_on_a_schema_valid_manifest_propagates(example, monkeypatch: pytest.MonkeyPatch):
    assert [p for p in validate_data(example) if p.severity == "error"] == []
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, _broken_rule))
    with pytest.raises(KeyError, match="optional"):
        validate_data(example)


def test_on_a_schema_invalid_manifest_rules_stay_quiet_where_the_shape_is_wrong(example, monkeypatch: pytest.MonkeyPatch):
    example["run"]["status"] = 42  # the schema reports it; the broken rule must not hide that
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, _broken_rule))
    assert [(p.code, p.pointer) for p in validate_data(example)] == [("schema-enum", "/run/status")]
