"""Large JSON texts are parsed without the pairs hook and checked for duplicate keys by counting;
the verdicts must be those of the exact check, whatever the spacing and escapes."""

from __future__ import annotations

import json

import pytest

from manifest.core.problems import InvalidManifest
from manifest.document.json_reader import LEAN_FROM
from manifest.document.reader import parse_text


def _big(members: dict[str, str], sep: str = ":") -> str:
    filler = ",".join(f'"f{i}"{sep}"{"v" * 40}"' for i in range(LEAN_FROM // 40))
    inner = ",".join(f"{json.dumps(k)}{sep}{json.dumps(v)}" for k, v in members.items())
    text = '{"spec_version": "1.0", "filler": {' + filler + '}, "deep": {"a": [{' + inner + "}]}}"
    assert len(text) >= LEAN_FROM
    return text


@pytest.mark.parametrize("sep", [":", " : ", "\n:\t"])
def test_a_duplicate_key_in_a_large_text_is_found_with_its_place(sep: str):
    text = _big({"x": "1"}, sep).replace('"deep": {"a": [{', '"deep": {"a": [{"x"' + sep + '"0",', 1)
    with pytest.raises(InvalidManifest) as exc:
        parse_text(text, "json", name="m.json")
    [p] = exc.value.problems
    assert p.code == "duplicate-key" and p.pointer == "/deep/a/0/x" and p.line is not None


def test_an_escaped_quote_before_a_colon_inside_a_string_is_no_duplicate():
    data = parse_text(_big({"x": 'say \\": here', "y": 'and ":'}), "json").data
    assert data["deep"]["a"][0] == {"x": 'say \\": here', "y": 'and ":'}


def test_a_large_text_reads_as_the_exact_parser_reads_it():
    text = _big({"k": "v", "n": "1"}, " : ")
    assert parse_text(text, "json").data == json.loads(text)
