"""The model-card facts MLflow records for a logged model, read from its ``MLmodel`` (spec 7, ModelCard).

MLflow keeps the signature as JSON strings inside YAML; the card holds them parsed, so that a
reader (or a CycloneDX ``modelCard``) gets the input schema as data. The framework is the flavor
that records its own version (``sklearn_version: 1.5.2``); MLflow records no task for most flavors,
so a task appears only where a flavor states one (``transformers``). Nothing is guessed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...document.reader import parse_text

#: Flavor names whose framework goes by another name.
FRAMEWORKS = {"sklearn": "scikit-learn", "pytorch": "PyTorch", "tensorflow": "TensorFlow", "keras": "Keras", "xgboost": "XGBoost", "lightgbm": "LightGBM", "catboost": "CatBoost"}


def model_card(mlmodel: Path) -> dict[str, Any] | None:
    """``models[].card`` from an ``MLmodel`` file, or ``None`` when it states none of it."""
    try:
        data = parse_text(mlmodel.read_text(encoding="utf-8"), "yaml").data
    except Exception:  # noqa: BLE001 - an unreadable MLmodel has no card; the files are still listed
        return None
    if not isinstance(data, dict):
        return None
    card: dict[str, Any] = {}
    flavors = data.get("flavors") if isinstance(data.get("flavors"), dict) else {}
    framework = _framework(flavors)
    if framework:
        card["framework"] = framework
    task = next((f["task"] for f in flavors.values() if isinstance(f, dict) and isinstance(f.get("task"), str) and f["task"]), None)
    if task:
        card["task"] = task
    signature = _signature(data.get("signature"))
    if signature:
        card["signature"] = signature
    return card or None


def _framework(flavors: dict[str, Any]) -> str | None:
    for name, conf in sorted(flavors.items()):
        if name == "python_function" or not isinstance(conf, dict):
            continue
        version = next((v for k, v in conf.items() if k.endswith("_version") and k != "python_version" and isinstance(v, str) and v), None)
        if version:
            return f"{FRAMEWORKS.get(name, name)} {version}"
    return None


def _signature(sig: Any) -> dict[str, Any] | None:
    """The signature's ``inputs``, ``outputs`` and ``params``, each a list of objects, parsed from
    MLflow's JSON strings; a part that is absent or not such a list is left out."""
    if not isinstance(sig, dict):
        return None
    out: dict[str, Any] = {}
    for key in ("inputs", "outputs", "params"):
        raw = sig.get(key)
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[key] = value
    return out or None
