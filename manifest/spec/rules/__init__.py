"""Cross-field rules (spec 15): what JSON Schema cannot say, one module per topic.

Each rule is a function from the manifest's data to the problems it finds, with a stable code and
a JSON pointer. :data:`RULES` lists them in the spec's order; :func:`check` runs them all.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ...core.problems import Problem
from .code import code_state, command_template, diff_media_type, template_command
from .credentials import credentials, secret_variables
from .data import data_annotations, data_inputs
from .digests import digest_algorithms, digest_kinds, recommended_digests
from .identity import author_roles, manifest_id, schema_uri, source_system
from .metrics import history_placement, metric_estimates, metric_histories
from .models import model_files, model_metric_datasets
from .paths import path_forms, unsafe_paths
from .run import run_times
from .tags import extension_values, reserved_tags

Rule = Callable[[dict[str, Any]], Iterable[Problem]]

#: Every rule; problems come out in this order (before they are sorted by position).
RULES: tuple[Rule, ...] = (
    run_times, schema_uri, manifest_id, source_system, author_roles,
    code_state, diff_media_type,
    unsafe_paths, path_forms,
    data_inputs, data_annotations,
    command_template, template_command,
    credentials, secret_variables,
    metric_histories, history_placement, metric_estimates,
    model_files, model_metric_datasets,
    reserved_tags, extension_values,
    digest_kinds, digest_algorithms, recommended_digests,
)

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
