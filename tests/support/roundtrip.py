"""What a round trip (export -> import -> export) may change, and nothing else.

Identity and provenance differ by design: the manifest ``id`` and ``provenance`` (a new run, a
new export). MLflow does not let an import choose ids or creation times, so the ids, URIs and
``created_at`` of logged models differ, and so does the ``MLmodel`` file, which names those ids
(hence its digest and the model's directory digest and size). A round trip into the same store
leaves the registry alone (``--no-registry``: its versions belong to the original); copies of
the registry are checked in ``test_registry.py``. A child's parent run id is the new parent's id;
callers check the tree separately.
"""

from __future__ import annotations

import copy
from typing import Any


def comparable(m: dict[str, Any]) -> dict[str, Any]:
    m = copy.deepcopy(m)
    m.pop("id", None)
    m.pop("provenance", None)
    parent = m.get("run", {}).get("parent")
    if parent:
        parent["run_id"] = "<parent>"
    for art in m.get("artifacts", []):
        art.pop("local_path", None)  # where a bundle keeps its copy, not a property of the run
    for model in m.get("models", []):
        for key in ("id", "uri", "created_at", "registered", "local_path", "digest", "size"):
            model.pop(key, None)
        model["files"] = [f if f["path"] != "MLmodel" else {"path": "MLmodel"} for f in model.get("files", [])]
        model.get("tags", {}).pop("mlflow.modelVersions", None)
    return m
