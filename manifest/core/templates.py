"""Command templates (spec 12.4): ``{name}`` stands for a parameter's text, ``{{``/``}}`` for braces.

One grammar serves the rule that checks templates and the re-run that fills them, so that what
validation accepts is exactly what ``reproduce`` can run.
"""

from __future__ import annotations

import re
from typing import Any

from .params import param_text
from .problems import CannotRun, Problem

#: ``{{``, ``}}``, ``{name}`` (group 1; empty when malformed), or a lone brace (malformed).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _placeholders(arg: str) -> list[str] | None:
    """The parameter names in one argument, or ``None`` when the argument is malformed."""
    names = []
    for m in _TOKEN.finditer(arg):
        if m.group(0) in ("{{", "}}"):
            continue
        if not m.group(1):
            return None
        names.append(m.group(1))
    return names


def template_fields(template: list[str]) -> tuple[list[str], list[int]]:
    """Parameter names used by a command template, and indexes of malformed arguments."""
    names: list[str] = []
    bad: list[int] = []
    for i, arg in enumerate(template):
        found = _placeholders(arg)
        if found is None:
            bad.append(i)
        else:
            names.extend(found)
    return names, bad


def argument_fields(arg: str) -> list[str]:
    """The parameter names one well-formed argument uses (``[]`` for a malformed one)."""
    return _placeholders(arg) or []


def fill_template(template: list[str], params: dict[str, Any]) -> list[str]:
    """Each ``{name}`` replaced by the parameter's text form; ``{{``/``}}`` become braces."""

    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok in ("{{", "}}"):
            return tok[0]
        name = m.group(1)
        if not name:
            raise CannotRun(Problem("template-syntax", f"the command template has an unmatched brace or an empty placeholder: {tok!r}", "/code/command_template"))
        if name not in params:
            raise CannotRun(Problem("template-unknown-param", f"the command template names {{{name}}}, which is not a recorded param", "/code/command_template"))
        return param_text(params[name])

    return [_TOKEN.sub(sub, a) for a in template]


def derive_template(command: list[str], params: dict[str, Any]) -> list[str] | None:
    """Replace argument values that equal a param's text (after ``--name`` or ``--name=``) by ``{name}``."""
    esc = [a.replace("{", "{{").replace("}", "}}") for a in command]
    norm = {re.sub(r"[-.]", "_", k).lower(): k for k in params}
    used = False
    for i, arg in enumerate(command):
        if not arg.startswith("-"):
            continue
        flag, eq, value = arg.partition("=")
        key = norm.get(re.sub(r"[-.]", "_", flag.lstrip("-")).lower())
        if key is None:
            continue
        text = param_text(params[key])
        if eq and value == text:
            esc[i] = f"{flag}={{{key}}}"
            used = True
        elif not eq and i + 1 < len(command) and command[i + 1] == text:
            esc[i + 1] = f"{{{key}}}"
            used = True
    return esc if used else None
