"""Rules of ``code`` (spec 15.2): the dirty flag, the diff and its digests, the command template."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.problems import Problem
from ...core.templates import argument_fields, template_fields


def code_state(d: dict[str, Any]) -> Iterator[Problem]:
    code = d.get("code")
    if not code:
        return
    has_diff = "diff" in code or "diff_digest" in code
    if code.get("dirty") is True and not has_diff:
        yield Problem("dirty-without-diff", "the working tree was dirty but neither diff nor diff_digest is given", "/code/dirty")
    if code.get("dirty") is False and has_diff:
        yield Problem("diff-when-clean", "a diff is given but dirty is false", "/code/diff" if "diff" in code else "/code/diff_digest")
    if "diff" in code and "diff_digest" in code:
        a, b = code["diff"]["digest"], code["diff_digest"]
        for alg in set(a) & set(b):
            if a[alg] != b[alg]:
                yield Problem("diff-digest-mismatch", f"diff_digest.{alg} differs from diff.digest.{alg}", f"/code/diff_digest/{alg}")
    if "commit" not in code and "repository" in code:
        yield Problem("commit-missing", "a repository is named without the commit that ran", "/code")


def command_template(d: dict[str, Any]) -> Iterator[Problem]:
    tpl = (d.get("code") or {}).get("command_template")
    if not tpl:
        return
    _, bad = template_fields(tpl)
    for i in bad:
        yield Problem("template-syntax", f"argument {tpl[i]!r} has an unmatched brace or an empty placeholder (write {{{{ and }}}} for literal braces)", f"/code/command_template/{i}")
    params = d.get("params") or {}
    for i, arg in enumerate(tpl):
        if i in bad:
            continue
        for name in argument_fields(arg):
            if name not in params:
                yield Problem("template-unknown-param", f"placeholder {{{name}}} names no parameter in params", f"/code/command_template/{i}")
