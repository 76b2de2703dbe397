"""Rules of ``code`` (spec 15.2): the dirty flag, the diff and its digests, the command template
and whether it gives the command."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.problems import Problem
from ...core.templates import argument_fields, fill_template, template_fields
from ...core.text import shorten

#: The media type of a unified diff (spec 7, Code ``diff``; spec 12.2).
DIFF_MEDIA_TYPE = "text/x-diff"


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


def diff_media_type(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``diff-media-type``: a consumer picks how to read a shipped file by its media type,
    and the diff is to be applied with ``git apply``. Media types compare case-insensitively, and
    parameters (``; charset=utf-8``) do not change the type."""
    diff = (d.get("code") or {}).get("diff")
    media_type = diff.get("media_type") if isinstance(diff, dict) else None
    if isinstance(media_type, str) and media_type and media_type.split(";")[0].strip().lower() != DIFF_MEDIA_TYPE:
        yield Problem("diff-media-type", f"the diff's media_type is {media_type!r}; a unified diff is {DIFF_MEDIA_TYPE}", "/code/diff/media_type")


def template_command(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``template-command-mismatch`` (spec 12.4): a re-run executes the template filled with
    ``params``; when that is not ``command``, the re-run is not the run that was recorded.

    Evaluated only for a template that the errors ``template-syntax`` and ``template-unknown-param``
    leave alone, since only such a template can be filled.
    """
    code = d.get("code") or {}
    tpl, command = code.get("command_template"), code.get("command")
    if not _arguments(tpl) or not _arguments(command):
        return
    params = d.get("params") or {}
    names, bad = template_fields(tpl)
    if bad or any(name not in params for name in names):
        return
    filled = fill_template(tpl, params)
    if filled == command:
        return
    i = next((i for i, (a, b) in enumerate(zip(filled, command)) if a != b), min(len(filled), len(command)))
    if i < min(len(filled), len(command)):
        why = f"argument {i} becomes {shorten(repr(filled[i]), 80)} where command has {shorten(repr(command[i]), 80)}"
    else:
        why = f"it gives {len(filled)} arguments where command has {len(command)}"
    yield Problem("template-command-mismatch", f"substituting params into command_template does not give command: {why}", "/code/command_template")


def _arguments(value: Any) -> bool:
    """Whether ``value`` is a non-empty argument list (a list of strings), as the schema requires."""
    return isinstance(value, list) and bool(value) and all(isinstance(a, str) for a in value)
