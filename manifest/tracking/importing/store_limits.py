"""What the target MLflow would refuse or cut short, checked before the first write (spec A.8).

A manifest can be valid and still hold what MLflow will not take: a metric named ``a/../b``, a
model name with ``/``, a 7,000-character parameter (which MLflow truncates, so the imported run would
no longer be what was verified), a dataset fingerprint longer than its column. Found part-way, such
an error would leave a run to clean up; found here, it is one message with its pointer, before any
experiment or run exists. The limits and name rules are MLflow's own (``mlflow.utils.validation``),
so they follow the installed version. Everything here is a property of the target, not of the
document, which is why it lives in import's planning and not in the spec's rules.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from mlflow.utils import validation as v

from ...core.params import param_text
from ...core.pointers import join_pointer
from ...core.problems import InvalidManifest, Problem
from ...core.text import shorten
from ..tags import TAG_RUN_ERROR

_ALIAS = re.compile(r"[\w\-]*")
_VERSION_ALIAS = re.compile(r"[vV]\d+")


def _limit(name: str, default: int) -> int:
    return int(getattr(v, name, default))


MAX_KEY = _limit("MAX_ENTITY_KEY_LENGTH", 250)
MAX_PARAM_VALUE = _limit("MAX_PARAM_VAL_LENGTH", 6000)
MAX_TAG_VALUE = _limit("MAX_TAG_VAL_LENGTH", 8000)
MAX_EXPERIMENT_NAME = _limit("MAX_EXPERIMENT_NAME_LENGTH", 500)
MAX_DATASET_NAME = _limit("MAX_DATASET_NAME_SIZE", 500)
MAX_DATASET_DIGEST = _limit("MAX_DATASET_DIGEST_SIZE", 36)
MAX_DATASET_SOURCE = _limit("MAX_DATASET_SOURCE_SIZE", 65535)
MAX_DATASET_SCHEMA = _limit("MAX_DATASET_SCHEMA_SIZE", 1048575)
MAX_DATASET_PROFILE = _limit("MAX_DATASET_PROFILE_SIZE", 16777215)
MAX_INPUT_TAG_KEY = _limit("MAX_INPUT_TAG_KEY_SIZE", 255)
MAX_INPUT_TAG_VALUE = _limit("MAX_INPUT_TAG_VALUE_SIZE", 500)
MAX_REGISTRY_TAG_VALUE = _limit("MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH", 100_000)
MAX_ALIAS = _limit("MAX_REGISTERED_MODEL_ALIAS_LENGTH", 255)


def check_store_limits(data: dict[str, Any], run_tags: dict[str, str], experiment: str, name: str) -> None:
    """Raise :class:`InvalidManifest` (every problem, with pointers) if MLflow would refuse or
    truncate anything of this import; ``run_tags`` are the tags the run will get."""
    problems = list(_problems(data, run_tags, experiment))
    if problems:
        raise InvalidManifest(problems, file=name)


def _problems(data: dict[str, Any], run_tags: dict[str, str], experiment: str) -> Iterator[Problem]:
    if not experiment or len(experiment) > MAX_EXPERIMENT_NAME:
        yield _too("the experiment name", len(experiment), MAX_EXPERIMENT_NAME, "/provenance/source/experiment_name")
    for key, value in (data.get("params") or {}).items():
        ptr = join_pointer(["params", key])
        yield from _entity_name("parameter", key, ptr)
        text = param_text(value)
        if len(text) > MAX_PARAM_VALUE:
            yield _too(f"parameter {shorten(repr(key), 60)}'s value", len(text), MAX_PARAM_VALUE, ptr, truncated=True)
    user_tags = data.get("tags") or {}
    for key, value in run_tags.items():
        ptr = join_pointer(["tags", key]) if key in user_tags else _field_of(key)
        yield from _entity_name("tag", key, ptr)
        if len(value) > MAX_TAG_VALUE:
            yield _too(f"tag {shorten(repr(key), 60)}'s value", len(value), MAX_TAG_VALUE, ptr, truncated=True)
    for metric in data.get("metrics") or {}:
        yield from _entity_name("metric", metric, join_pointer(["metrics", metric]))
    for i, d in enumerate(data.get("data") or []):
        yield from _dataset(d, f"/data/{i}")
    for i, m in enumerate(data.get("models") or []):
        yield from _model(m, f"/models/{i}")


def _field_of(tag: str) -> str:
    """The field a system tag of the new run comes from (for the pointer of a problem)."""
    return {"mlflow.runName": "/name", "mlflow.note.content": "/description", "mlflow.user": "/run/user", "mlflow.source.git.repoURL": "/code/repository", "mlflow.source.name": "/code/source_name", TAG_RUN_ERROR: "/run/error"}.get(
        tag, join_pointer(["provenance", "source", "system_tags", tag])
    )


def _too(what: str, n: int, limit: int, ptr: str, *, truncated: bool = False) -> Problem:
    fate = f"MLflow would cut it to {limit:,} characters, and the imported run would differ from the manifest" if truncated else f"MLflow refuses more than {limit:,}"
    return Problem("store-limit", f"{what} has {n:,} characters; {fate}", ptr)


def _entity_name(kind: str, key: str, ptr: str) -> Iterator[Problem]:
    """MLflow's rules for a param, metric or tag name: its characters, no path tricks, 250 characters."""
    shown = shorten(repr(key), 60)
    if not v.validate_param_and_metric_name(key):
        yield Problem("store-limit", f"{kind} name {shown} has characters MLflow refuses: {v.bad_character_message()}", ptr)
    elif v.path_not_unique(key):
        yield Problem("store-limit", f"{kind} name {shown} is refused by MLflow: names are used as file paths and must not change when normalised (no '..', '//', './' or leading '/')", ptr)
    if len(key) > MAX_KEY:
        yield _too(f"{kind} name {shorten(repr(key), 40)}", len(key), MAX_KEY, ptr)


def _dataset(d: dict[str, Any], ptr: str) -> Iterator[Problem]:
    t = d.get("tracking")
    if not t or "fingerprint" not in t:
        return
    tp = ptr + "/tracking"
    for field, value, limit in (
        ("name", t.get("name", d["name"]), MAX_DATASET_NAME),
        ("fingerprint", t["fingerprint"], MAX_DATASET_DIGEST),
        ("source", t.get("source", ""), MAX_DATASET_SOURCE),
        ("schema", t.get("schema") or "", MAX_DATASET_SCHEMA),
        ("profile", t.get("profile") or "", MAX_DATASET_PROFILE),
    ):
        if len(value) > limit:
            yield _too(f"the dataset's {field}", len(value), limit, f"{tp}/{field}" if field in t else f"{ptr}/name")
    for key, value in (t.get("tags") or {}).items():
        kp = join_pointer(["data", ptr.rsplit("/", 1)[1], "tracking", "tags", key])
        if len(key) > MAX_INPUT_TAG_KEY:
            yield _too(f"dataset tag name {shorten(repr(key), 40)}", len(key), MAX_INPUT_TAG_KEY, kp)
        if len(value) > MAX_INPUT_TAG_VALUE:
            yield _too(f"dataset tag {shorten(repr(key), 40)}'s value", len(value), MAX_INPUT_TAG_VALUE, kp)


def _model(m: dict[str, Any], ptr: str) -> Iterator[Problem]:
    for key, value in (m.get("params") or {}).items():
        kp = f"{ptr}/params{join_pointer([key])}"
        yield from _entity_name("model parameter", key, kp)
        if len(param_text(value)) > MAX_PARAM_VALUE:
            yield _too(f"model parameter {shorten(repr(key), 60)}'s value", len(param_text(value)), MAX_PARAM_VALUE, kp, truncated=True)
    for key, value in (m.get("tags") or {}).items():
        kp = f"{ptr}/tags{join_pointer([key])}"
        yield from _entity_name("model tag", key, kp)
        if len(value) > MAX_TAG_VALUE:
            yield _too(f"model tag {shorten(repr(key), 60)}'s value", len(value), MAX_TAG_VALUE, kp, truncated=True)
    for j, r in enumerate(m.get("registered") or []):
        yield from _registered(r, f"{ptr}/registered/{j}")


def _registered(r: dict[str, Any], ptr: str) -> Iterator[Problem]:
    name = r.get("name", "")
    if not name.strip() or "/" in name or ":" in name or v.path_not_unique(name):
        yield Problem("store-limit", f"registered model name {shorten(repr(name), 60)} is refused by MLflow: it must not be blank, contain '/' or ':', or change when normalised as a path", f"{ptr}/name")
    for k, alias in enumerate(r.get("aliases") or []):
        ap = f"{ptr}/aliases/{k}"
        if not _ALIAS.fullmatch(alias) or not alias or len(alias) > MAX_ALIAS:
            yield Problem("store-limit", f"alias {shorten(repr(alias), 60)} is refused by MLflow: aliases are 1 to {MAX_ALIAS} letters, digits, '_' or '-'", ap)
        elif alias.lower() == "latest" or _VERSION_ALIAS.fullmatch(alias):
            yield Problem("store-limit", f"alias {alias!r} is reserved by MLflow ('latest' and 'v' followed by digits name versions)", ap)
    for key, value in (r.get("tags") or {}).items():
        kp = f"{ptr}/tags{join_pointer([key])}"
        yield from _entity_name("model version tag", key, kp)
        if len(value) > MAX_REGISTRY_TAG_VALUE:
            yield _too(f"model version tag {shorten(repr(key), 40)}'s value", len(value), MAX_REGISTRY_TAG_VALUE, kp)
