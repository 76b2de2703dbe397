"""The experiments of a whole-store export recreated before its runs (spec/export-1.1.md, Section
5): each under its own name, with its tags and description; one deleted in the source is
deleted again once its runs are in."""

from __future__ import annotations

from typing import Any, Callable

from ...core.problems import NotFound, Problem
from ...core.text import one_line
from ...core.uris import mask_uri


def is_whole_store(index: dict[str, Any]) -> bool:
    """Whether an export index is that of ``manifest export --all`` (index 1.1)."""
    return bool((index.get("selection") or {}).get("all"))


def recreate_experiments(client: Any, index: dict[str, Any], *, tracking_uri: str, log: Callable[[str], None], created: Callable[[str], None] = lambda n: None) -> list[str]:
    """Make every experiment of the index exist, active, with its tags; returns the ids of those
    to delete again after the import: deleted in the source, and created or restored here (an
    experiment the target holds active stays active). An experiment the target holds already is
    used (so an interrupted import resumes) and gains the source's tags; one the target holds
    deleted is restored only when the source's is deleted too."""
    to_delete: list[str] = []
    for e in index.get("experiments") or []:
        name, tags, deleted = e["name"], dict(e.get("tags") or {}), e.get("lifecycle_stage") == "deleted"
        exp = client.get_experiment_by_name(name)
        if exp is None:
            eid = str(client.create_experiment(name, tags=tags or None))
            created(name)
            log(f"created experiment {one_line(name)!r} (source id {e['id']})")
        else:
            eid = str(exp.experiment_id)
            if exp.lifecycle_stage == "deleted":
                if not deleted:
                    raise NotFound(Problem("experiment-deleted", f"experiment {name!r} exists in {mask_uri(tracking_uri)} but is deleted, while the source's is active; restore it (mlflow experiments restore) and import again"))
                client.restore_experiment(eid)
            for k, v in tags.items():
                if (exp.tags or {}).get(k) != v:
                    client.set_experiment_tag(eid, k, v)
        if deleted and (exp is None or exp.lifecycle_stage == "deleted"):
            to_delete.append(eid)  # only what this import made or restored goes back to the trash
        elif deleted:
            log(f"warning: experiment {one_line(name)!r} is deleted in the source but active in {mask_uri(tracking_uri)}; it is left active")
    return to_delete


def delete_again(client: Any, ids: list[str]) -> None:
    """The experiments deleted in the source, deleted in the target once their runs are in."""
    for eid in ids:
        client.delete_experiment(eid)
