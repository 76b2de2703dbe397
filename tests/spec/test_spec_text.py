"""Parts of the spec that copy something else must stay copies: Appendix B is the reference example."""

from __future__ import annotations

from support.paths import EXAMPLE, ROOT

SPEC = (ROOT / "spec" / "manifest-1.0.md").read_text(encoding="utf-8")


def test_appendix_b_is_the_reference_example_byte_for_byte():
    part = SPEC[SPEC.index("## Appendix B. Complete example (informative)") :]
    start = part.index("```yaml\n") + len("```yaml\n")
    assert part[start : part.index("```", start)] == EXAMPLE.read_text(encoding="utf-8")
