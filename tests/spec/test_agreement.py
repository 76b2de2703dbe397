"""The JSON Schema (two engines) and the pydantic models agree on thousands of mutated manifests.

The conformance suite states intended verdicts case by case; this test searches for disagreements
the suite's authors did not think of, by mutating the reference example at random (seeded, so a
failure is reproducible) and comparing the three verdicts.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pydantic
import pytest

from manifest.spec.engines import is_valid
from manifest.spec.models import Manifest

STRINGS = ["", " ", "x", "X\n", "1.0", "2.0", "NaN", "nan", "Infinity", "-Infinity", "+Infinity", "2026-02-30T00:00:00.000Z",
           "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z\n", "2026-01-01T00:00:00Z", "2024-02-29T23:59:59.999Z", "2026-01-01T24:00:00.000Z",
           "0" * 64, "A" * 64, "0" * 64 + "\n", "0" * 40, "0" * 39, "org.example.tool", "Org.Example", "org.x\n",
           "https://orcid.org/0000-0002-1825-0097", "https://orcid.org/0000-0002-1825-009x", "FINISHED", "maximize", "file", "bitwise", "imported",
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
           "models:/m-1", "models:/m-1\n", "https://example.org/a b"]
VALUES: list[Any] = [None, True, False, 0, 1, -1, 3.0, 3.5, -0.5, 0.5, 1.5, 2**53, 1e308, [], {}, [1], ["a"], {"a": 1}, {"sha256": "0" * 64}] + STRINGS


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def mutate(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = _paths(doc)
        path = rng.choice(paths[1:])
        parent, key = _get(doc, path[:-1]), path[-1]
        op = rng.random()
        if op < 0.25 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.35:
            target = _get(doc, path)
            if isinstance(target, dict):
                target[rng.choice(["extra", "", "x-y", "org.example.ns", "sha256", "md5", "crc32", "colour", "dirHash"])] = rng.choice(VALUES)
            elif isinstance(target, list):
                target.append(rng.choice(VALUES))
            else:
                parent[key] = rng.choice(VALUES)
        else:
            parent[key] = copy.deepcopy(rng.choice(VALUES))
    return doc


def _pydantic_ok(doc: Any) -> bool:
    try:
        Manifest.model_validate(doc)
        return True
    except pydantic.ValidationError:
        return False


@pytest.mark.parametrize("block", range(8))
def test_three_validators_agree_on_mutations(example, block: int):
    rng = random.Random(1000 + block)
    disagreements = []
    for _ in range(250):
        doc = mutate(example, rng)
        verdicts = (is_valid(doc, engine="python"), is_valid(doc, engine="rs"), _pydantic_ok(doc))
        if len(set(verdicts)) != 1:
            disagreements.append((verdicts, _diff(example, doc)))
    assert not disagreements, disagreements[:5]


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if type(a) is not type(b) or not isinstance(a, (dict, list)):
        return [] if a == b and type(a) is type(b) else [f"{path or '/'}: {json.dumps(a)[:60]} -> {json.dumps(b)[:60]}"]
    out: list[str] = []
    if isinstance(a, dict):
        for k in set(a) | set(b):
            if k not in b:
                out.append(f"{path}/{k}: removed")
            elif k not in a:
                out.append(f"{path}/{k}: added {json.dumps(b[k])[:60]}")
            else:
                out.extend(_diff(a[k], b[k], f"{path}/{k}"))
    else:
        for i in range(max(len(a), len(b))):
            if i >= len(a) or i >= len(b):
                out.append(f"{path}/{i}: length {len(a)} -> {len(b)}")
                break
            out.extend(_diff(a[i], b[i], f"{path}/{i}"))
    return out


def test_mutations_are_mostly_invalid_but_not_all(example):
    """Guard against a mutator that never produces (in)valid documents: the test above would be empty."""
    rng = random.Random(7)
    verdicts = [is_valid(mutate(example, rng), engine="rs") for _ in range(300)]
    assert 0.2 < sum(verdicts) / len(verdicts) < 0.9
