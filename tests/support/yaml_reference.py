"""An independent reading of YAML for differential tests: ruamel.yaml's own composer and
constructor with the project's core-schema resolver (the reader builds values from parser events
instead). Non-finite floats become the strings the data model uses."""

from __future__ import annotations

import math
from typing import Any

from ruamel.yaml import YAML

from manifest.document.yaml_core import CoreResolver


def reference_load(text: str) -> Any:
    y = YAML(typ="safe", pure=False)
    y.Resolver = CoreResolver
    y.allow_duplicate_keys = False
    return _data_model(y.load(text))


def _data_model(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _data_model(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_data_model(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v
