"""Cross-field rules (spec 15): what JSON Schema cannot say, one module per topic.

Each rule is a function from the manifest's data to the problems it finds, with a stable code and
a JSON pointer. :data:`RULES` lists them in the spec's order; :func:`check` runs them all.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ...core.problems import Problem
from .code import code_state, command_template
from .credentials import credentials
from .data import data_inputs
from .metrics import metric_histories
from .models import model_files
from .paths import unsafe_paths
from .run import run_times
from .tags import reserved_tags

Rule = Callable[[dict[str, Any]], Iterable[Problem]]

#: Every rule; problems come out in this order (before they are sorted by position).
RULES: tuple[Rule, ...] = (run_times, code_state, unsafe_paths, data_inputs, command_template, credentials, metric_histories, model_files, reserved_tags)

#: What a rule may raise when it meets a part of a document that does not fit the schema.
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def check(data: dict[str, Any], *, schema_valid: bool = True) -> list[Problem]:
    """Every rule violation in a manifest.

    Rules are written for documents that fit the schema. On a document that does not
    (``schema_valid=False``), a rule that meets a part of the wrong shape stays silent: the schema
    problem is reported instead. On a schema-valid document nothing is caught: a rule that raises
    there is a bug, and it must surface as one.
    """
    out: list[Problem] = []
    for rule in RULES:
        if schema_valid:
            out.extend(rule(data))
            continue
        try:
            out.extend(rule(data))
        except _SHAPE_ERRORS:
            pass  # the part of the document this rule reads does not fit the schema; that is reported already
    return out
