"""Nesting is bounded for every construct before the parser recurses: a deep document is invalid
(exit 1, "too-deep"), never a crash of the interpreter. Each case runs in its own process, since a
crash would end the test process too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

DEEP = 100_000  # crashed the interpreter (SIGSEGV in the C composer) before the bound existed
CASES = {
    "block-sequences.yaml": "- " * DEEP + "x\n",
    "block-sequences-with-tags.yaml": "- !!seq &a " * DEEP + "x\n",
    "complex-keys.yaml": "? " * DEEP + "x\n",
    "mixed-compact.yaml": "- ? " * (DEEP // 2) + "x\n",
    "flow.yaml": "x: " + "[" * DEEP + "]" * DEEP + "\n",
    "flow-mappings.yaml": "{a: " * DEEP + "1" + "}" * DEEP + "\n",
    "arrays.json": "[" * DEEP + "]" * DEEP,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_deep_nesting_is_invalid_never_a_crash(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text(CASES[name])
    r = subprocess.run([str(Path(sys.executable).parent / "manifest"), "validate", "--format", "json", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stderr[-500:])
    assert '"code": "too-deep"' in r.stdout, r.stdout[-500:]
