"""MLflow dataset inputs as manifest data inputs, completed by what ``manifest.capture`` recorded."""

from __future__ import annotations

import json
from typing import Any

from ...core.uris import strip_credentials, strip_source_credentials

#: Fields of a captured data entry that complete the MLflow dataset input it describes.
CAPTURED_DATA_FIELDS = ("kind", "media_type", "size", "digest", "split", "license", "description")
#: ``mlflow.data.context`` values and the data roles they stand for.
ROLES = {
    "train": "training", "training": "training", "val": "validation", "valid": "validation", "validation": "validation",
    "test": "test", "testing": "test", "eval": "evaluation", "evaluation": "evaluation", "inference": "inference",
}


def json_or_none(text: str | None) -> Any:
    """The JSON value of ``text``, or ``None`` when it is empty or not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _table_schema(schema_text: str | None) -> dict[str, Any] | None:
    s = json_or_none(schema_text)
    if not isinstance(s, dict):
        return None
    cols = s.get("mlflow_colspec") or s.get("mlflow_tensorspec", {}).get("features")
    if isinstance(cols, str):
        cols = json_or_none(cols)
    if not isinstance(cols, list):
        return None
    fields = []
    for c in cols:
        if isinstance(c, dict) and "name" in c:
            f: dict[str, Any] = {"name": str(c["name"])}
            t = c.get("type")
            if isinstance(t, str) and t:
                f["type"] = t
            fields.append(f)
    return {"fields": fields} if fields else None


def data_inputs(run: Any, ctx_data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MLflow dataset inputs, completed by the captured data entries that describe them.

    A captured entry describes a dataset input when their names are equal, or else when it is the
    only captured entry with the input's source URI and the input is the only one with that URI
    (a split of a file has the file's URI but not its bytes). Captured entries that describe no
    input are added after them.
    """
    inputs = list(run.inputs.dataset_inputs) if run.inputs else []
    names = [di.dataset.name for di in inputs]
    sources = [_source_uri(di.dataset.source) for di in inputs]
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    matched: set[int] = set()
    for idx, di in enumerate(inputs):
        tags = {t.key: t.value for t in di.tags}
        name = _unique_name(di.dataset, tags.get("mlflow.data.context"), names, used)
        used.add(name)
        entry = _entry(name, tags.get("mlflow.data.context"), sources[idx])
        cap_i = _captured_for(name, sources[idx], sources, ctx_data, matched)
        if cap_i is not None:
            matched.add(cap_i)
            _complete(entry, ctx_data[cap_i])
        _describe_dataset(entry, di.dataset, name, tags)
        out.append(entry)
    for i, d in enumerate(ctx_data):
        if i not in matched:
            extra = dict(d)
            while extra["name"] in used:
                extra["name"] = f"{extra['name']}-captured"
            used.add(extra["name"])
            out.append(extra)
    return out


def _source_uri(source: str | None) -> str | None:
    src = json_or_none(source)
    uri = (src.get("uri") or src.get("url") or src.get("path")) if isinstance(src, dict) else None
    return uri if isinstance(uri, str) and uri else None


def _unique_name(ds: Any, context: str | None, names: list[str], used: set[str]) -> str:
    """The dataset's name, made unique by its context (``train``...) or else its fingerprint."""
    if names.count(ds.name) <= 1 and ds.name not in used:
        return str(ds.name)
    by_context = f"{ds.name}-{context}"
    return by_context if context and by_context not in used else f"{ds.name}-{ds.digest}"


def _entry(name: str, context: str | None, uri: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    if context:
        entry["role"] = ROLES.get(context.lower(), context)
    if uri:
        entry["uri"] = strip_credentials(uri)
    return entry


def _captured_for(name: str, uri: str | None, sources: list[str | None], ctx_data: list[dict[str, Any]], matched: set[int]) -> int | None:
    """The index of the captured entry that describes this input, if one does."""
    cap_i = next((i for i, c in enumerate(ctx_data) if i not in matched and c.get("name") == name), None)
    if cap_i is None and uri and sources.count(uri) == 1:
        same = [i for i, c in enumerate(ctx_data) if i not in matched and c.get("uri") == uri]
        cap_i = same[0] if len(same) == 1 else None
    return cap_i


def _complete(entry: dict[str, Any], captured: dict[str, Any]) -> None:
    for k in CAPTURED_DATA_FIELDS:
        if k in captured:
            entry[k] = captured[k]
    if entry.get("kind") == "memory":
        entry.pop("uri", None)  # the source URI names where the rows came from, not these bytes


def _describe_dataset(entry: dict[str, Any], ds: Any, name: str, tags: dict[str, str]) -> None:
    """Rows, table schema and profile from MLflow's dataset, and its own fields under ``tracking``."""
    profile = json_or_none(ds.profile)
    if isinstance(profile, dict) and isinstance(profile.get("num_rows"), int):
        entry["rows"] = profile["num_rows"]
    ts = _table_schema(ds.schema)
    if ts:
        entry["table_schema"] = ts
    if isinstance(profile, dict):
        entry["profile"] = profile
    tracking: dict[str, Any] = {}
    if name != ds.name:
        tracking["name"] = ds.name
    tracking["fingerprint"] = ds.digest
    tracking["source_type"] = ds.source_type
    tracking["source"] = strip_source_credentials(ds.source or "")
    if ds.schema:
        tracking["schema"] = ds.schema
    if ds.profile:
        tracking["profile"] = ds.profile
    if tags:
        tracking["tags"] = tags
    entry["tracking"] = {k: v for k, v in tracking.items() if v not in (None, "") or k == "source"}
