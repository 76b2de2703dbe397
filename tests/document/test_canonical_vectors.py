"""The manifest-digest test vectors of spec 13.2, read from the spec text itself: the canonical form
the package computes must be the text the spec prints, and the digest the SHA-256 of that text."""

from __future__ import annotations

import hashlib
import re

from support.paths import ROOT

from manifest.document.canonical import canonical_json, manifest_digest
from manifest.document.reader import parse_text

SPEC = (ROOT / "spec" / "manifest-1.0.md").read_text()


def _vectors() -> list[tuple[str, str, str]]:
    """(YAML, canonical text, sha256) of each vector of 13.2; a later vector's YAML replaces lines of the first."""
    section = SPEC[SPEC.index("### 13.2 Manifest digest") : SPEC.index("### 13.3")]
    yamls = re.findall(r"```yaml\n(.*?)```", section, re.S)
    texts = re.findall(r"```text\n(.*?)\n```", section, re.S)
    digests = re.findall(r'\{"sha256": "([0-9a-f]{64})"\}`', section)
    base = yamls[0]
    out = []
    for y, t, d in zip(yamls, texts, digests):
        doc = base
        for line in y.splitlines():
            key = line.split(":", 1)[0]
            doc = re.sub(rf"^{re.escape(key)}:.*$", line, doc, flags=re.M)
        out.append((doc, t, d))
    return out


def test_the_spec_has_both_vectors():
    assert len(_vectors()) == 2


def test_each_vector_canonical_form_and_digest():
    for yaml_text, canonical, sha in _vectors():
        assert hashlib.sha256(canonical.encode()).hexdigest() == sha  # the spec is consistent with itself
        data = parse_text(yaml_text, "yaml").data
        assert canonical_json(data).decode() == canonical
        assert manifest_digest(data) == {"sha256": sha}


def test_an_integer_and_a_number_parameter_have_different_digests():
    one, one_point_zero = ({"spec_version": "1.0", "params": {"lr": v}} for v in (1, 1.0))
    assert canonical_json(one) == b'{"params":{"lr":1},"spec_version":"1.0"}'
    assert canonical_json(one_point_zero) == b'{"params":{"lr":1.0},"spec_version":"1.0"}'
    model = {"models": [{"name": "m", "params": {"alpha": 1e-05}}], "metrics": {"x": {"value": 1e-05}}}
    assert canonical_json(model) == b'{"metrics":{"x":{"value":0.00001}},"models":[{"name":"m","params":{"alpha":1e-05}}]}'
