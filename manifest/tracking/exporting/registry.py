"""The model registry as it is, for the export index: ``--model NAME``, ``NAME@ALIAS`` and
``NAME/VERSION`` resolved to the versions (and so the runs) behind them, and each registered
model's versions in order with aliases, tags and descriptions.

MLflow numbers versions itself and never reuses a number, so the index records every number it
saw and whether the list is complete: an importer keeps the numbers by filling the gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...core.problems import NotFound, Problem
from ..store import mlflow_errors


@dataclass(frozen=True)
class ModelSelection:
    """What ``--model`` asked for: the registered model and its chosen versions (ascending)."""

    name: str
    versions: tuple[Any, ...]
    #: every version the registry holds was chosen (``--model NAME``)
    complete: bool


def name_filter(name: str) -> str:
    """An MLflow search filter for one registered-model name (quoted with what it does not hold)."""
    if "'" not in name:
        return f"name='{name}'"
    if '"' not in name:
        return f'name="{name}"'
    raise NotFound(Problem("not-found", f"registered model {name!r}: a name with both quote characters cannot be searched in MLflow"))


def _number(mv: Any) -> int:
    return int(mv.version)


def all_versions(client: Any, name: str) -> list[Any]:
    """Every (not deleted) version of a registered model, ascending, aliases included."""
    found = []
    token = None
    while True:
        page = client.search_model_versions(name_filter(name), max_results=1000, page_token=token)
        found.extend(page)
        token = getattr(page, "token", None)
        if not token:
            break
    return sorted((mv for mv in found if mv.name == name), key=_number)


def parse_model_spec(spec: str) -> tuple[str, str | None, str | None]:
    """``NAME`` | ``NAME@ALIAS`` | ``NAME/VERSION`` -> (name, alias, version). MLflow refuses
    ``/`` in names, so the last ``/`` always starts a version; ``@`` starts an alias."""
    if "/" in spec:
        name, _, version = spec.rpartition("/")
        return name, None, version
    if "@" in spec:
        name, _, alias = spec.rpartition("@")
        return name, alias, None
    return spec, None, None


def select_model(client: Any, spec: str, tracking_uri: str) -> ModelSelection:
    """The versions ``--model`` names; :class:`NotFound` (exit 4) for an unknown model, alias or version."""
    name, alias, version = parse_model_spec(spec)
    with mlflow_errors(tracking_uri, f"(registered model {name!r})"):
        try:
            rm = client.get_registered_model(name)
        except Exception as exc:  # noqa: BLE001 - classified below
            if getattr(exc, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
                raise
            raise NotFound(Problem("not-found", f"registered model {name!r} does not exist")) from None
        versions = all_versions(client, name)
    if alias is not None:
        target = (rm.aliases or {}).get(alias)
        if target is None:
            known = ", ".join(sorted(rm.aliases or {})) or "none"
            raise NotFound(Problem("not-found", f"registered model {name!r} has no alias {alias!r} (its aliases: {known})"))
        version = str(target)
    if version is not None:
        chosen = [mv for mv in versions if str(mv.version) == version]
        if not chosen:
            raise NotFound(Problem("not-found", f"registered model {name!r} has no version {version!r} (its versions: {', '.join(str(v.version) for v in versions) or 'none'})"))
        return ModelSelection(name, tuple(chosen), complete=False)
    if not versions:
        raise NotFound(Problem("no-runs", f"registered model {name!r} has no versions"))
    return ModelSelection(name, tuple(versions), complete=True)


def model_id_of(mv: Any) -> str | None:
    """The logged model a version points at (MLflow 3), or ``None`` for a ``runs:/`` source."""
    mid = getattr(mv, "model_id", None)
    if mid:
        return str(mid)
    source = str(mv.source or "")
    return source[len("models:/"):] if source.startswith("models:/m-") else None


def run_artifact_path(source: str, run_id: str, artifact_uri: str) -> str | None:
    """The directory in run ``run_id``'s artifacts that a version's ``source`` names, or ``None``.

    MLflow 2 versions have no model id: their source is ``runs:/RUN_ID/PATH``, or the artifact
    URI that ``runs:/`` resolved to (``mlflow.register_model`` stores that one), possibly spelt
    with another host than the run's ``artifact_uri``, so ``/RUN_ID/artifacts/`` is also accepted.
    """
    source = str(source or "").rstrip("/")
    if source.startswith("runs:/"):
        rid, _, path = source[len("runs:/"):].lstrip("/").partition("/")
        return (path.strip("/") or None) if rid == run_id else None
    root = str(artifact_uri or "").rstrip("/")
    if root and source.startswith(root + "/"):
        return source[len(root) + 1:].strip("/") or None
    marker = f"/{run_id}/artifacts/"
    if marker in source:
        return source.split(marker, 1)[1].strip("/") or None
    return None


def version_entry(mv: Any, file: str | None, why_missing: str | None) -> dict[str, Any]:
    """One version of the index: where its run's manifest is, or why it is not in the export."""
    entry: dict[str, Any] = {"version": str(mv.version)}
    if mv.run_id:
        entry["run_id"] = str(mv.run_id)
    if model_id_of(mv):
        entry["model_id"] = model_id_of(mv)
    if file is not None:
        entry["file"] = file
    if mv.description:
        entry["description"] = mv.description
    if mv.tags:
        entry["tags"] = dict(sorted(mv.tags.items()))
    if mv.current_stage and mv.current_stage != "None":
        entry["stage"] = mv.current_stage
    if file is None:
        entry["missing"] = why_missing or "its run was not exported"
    return entry


def registered_model_entry(client: Any, name: str, versions: list[dict[str, Any]], complete: bool) -> dict[str, Any]:
    """A registered model of the index: its description, tags, and the aliases of listed versions."""
    rm = client.get_registered_model(name)
    listed = {v["version"] for v in versions}
    entry: dict[str, Any] = {"name": name}
    if rm.description:
        entry["description"] = rm.description
    if rm.tags:
        entry["tags"] = dict(sorted(rm.tags.items()))
    aliases = {a: str(v) for a, v in sorted((rm.aliases or {}).items()) if str(v) in listed}
    if aliases:
        entry["aliases"] = aliases
    entry["complete"] = complete
    entry["versions"] = sorted(versions, key=lambda v: int(v["version"]))
    return entry
