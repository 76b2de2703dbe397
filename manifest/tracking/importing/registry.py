"""The model registry recreated as it was (spec A.8): every registered model an import brings,
with its versions in source order under the same numbers, its aliases, tags and descriptions.

Planned with the runs, before anything is written: where each version's model comes from (the
export index when there is one, else the manifests' ``registered`` records), which numbers are
gaps, and whether the target already holds the registered model. MLflow numbers versions itself
and never reuses a number, even of a deleted version, so a gap (a version deleted in the source,
or not exported) is kept by creating a placeholder version and deleting it. A registered model
that already has versions is refused unless ``--registry-merge`` (append in source order, move
the aliases), except for the versions an interrupted import of the same runs made (resume).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.problems import BadRequest, InvalidManifest, Problem, Refused
from ...core.text import one_line
from ..exporting.registry import all_versions
from .models import logged_model_name
from .options import ImportOptions
from .prepare import Prepared

#: The logged-model tag in which a tracking server lists the registry versions made from the model.
MODEL_VERSIONS_TAG = "mlflow.modelVersions"


@dataclass
class VersionPlan:
    """One source version: the manifest and model it comes from, or why it is a placeholder."""

    number: int
    prep: Prepared | None = None
    model_index: int | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    stage: str | None = None
    placeholder: str | None = None  # why there is no model to register
    done: str | None = None  # the target's version number, when an earlier import made it

    @property
    def real(self) -> bool:
        return self.prep is not None and self.placeholder is None


@dataclass
class ModelPlan:
    name: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    by_number: dict[int, VersionPlan] = field(default_factory=dict)
    #: from an export index: every version the source held is listed
    complete: bool = False
    merge: bool = False
    exists: bool = False

    @property
    def versions(self) -> list[VersionPlan]:
        return [self.by_number[n] for n in sorted(self.by_number)]


def _number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else None


def _model_index(prep: Prepared, model_id: str | None) -> int | None:
    for i, m in enumerate(prep.data.get("models") or []):
        if m.get("id") == model_id:
            return i
    return None


def _add(mp: ModelPlan, vp: VersionPlan, where: str) -> None:
    old = mp.by_number.get(vp.number)
    if old is not None and old.prep is not None and vp.prep is not None and old.prep is not vp.prep:
        raise InvalidManifest(Problem("index-inconsistent", f"registered model {mp.name!r} version {vp.number} is claimed by both {old.prep.doc.name} and {vp.prep.doc.name}", file=where))
    if old is None or old.prep is None:
        mp.by_number[vp.number] = vp


def _from_index(plans: dict[str, ModelPlan], index_path: Path, index: dict[str, Any], by_file: dict[Path, Prepared]) -> None:
    for m in index.get("registered_models") or []:
        mp = plans.setdefault(m["name"], ModelPlan(m["name"]))
        mp.description, mp.tags, mp.complete = m.get("description"), dict(m.get("tags") or {}), bool(m["complete"])
        mp.aliases.update({a: int(v) for a, v in (m.get("aliases") or {}).items()})
        for v in m["versions"]:
            vp = VersionPlan(int(v["version"]), description=v.get("description"), tags=dict(v.get("tags") or {}), stage=v.get("stage"))
            if "file" in v:
                vp.prep = by_file.get((index_path.parent / v["file"]).resolve())
                vp.model_index = _model_index(vp.prep, v.get("model_id")) if vp.prep else None
                if vp.prep is None:
                    vp.placeholder = f"its manifest {v['file']} is not part of this import"
                elif vp.model_index is None:
                    vp.placeholder = f"{v['file']} lists no model {v.get('model_id')!r}"
            else:
                vp.placeholder = v.get("missing") or "not in the export"
            _add(mp, vp, str(index_path))


def _from_manifests(plans: dict[str, ModelPlan], prepared: list[Prepared], indexed: set[str]) -> None:
    """The ``registered`` records of the manifests, for registered models no index describes."""
    for p in prepared:
        for i, m in enumerate(p.data.get("models") or []):
            for r in m.get("registered") or []:
                n = _number(r["version"])
                if n is None or r["name"] in indexed:
                    continue
                mp = plans.setdefault(r["name"], ModelPlan(r["name"]))
                _add(mp, VersionPlan(n, p, i, r.get("description"), dict(r.get("tags") or {}), r.get("stage")), p.doc.name)
                mp.aliases.update({a: n for a in r.get("aliases") or []})


def plan_registry(prepared: list[Prepared], indexes: list[tuple[Path, dict[str, Any]]]) -> list[ModelPlan]:
    """Every registered model the import recreates, its numbers 1..highest all planned: a
    version whose model did not come along (no files) or is not in the export is a placeholder."""
    by_file = {Path(p.doc.name).resolve(): p for p in prepared}
    plans: dict[str, ModelPlan] = {}
    for path, index in indexes:
        _from_index(plans, path, index, by_file)
    _from_manifests(plans, prepared, {m["name"] for _, ix in indexes for m in ix.get("registered_models") or []})
    for mp in plans.values():
        for vp in mp.by_number.values():
            if vp.real and vp.model_index not in vp.prep.model_dirs:  # type: ignore[union-attr]
                vp.placeholder = f"the files of its model are not next to {vp.prep.doc.name} (export with --with-models)"  # type: ignore[union-attr]
        why = "deleted in the source" if mp.complete else "not in the export"
        for n in range(1, max(mp.by_number, default=0) + 1):
            mp.by_number.setdefault(n, VersionPlan(n, placeholder=why))
    # a model whose versions all lack their models cannot be recreated (placeholders need a model);
    # one that had no versions at all (a whole-store export lists it) is recreated empty
    return [plans[n] for n in sorted(plans) if any(v.real for v in plans[n].versions) or not plans[n].by_number]


def check_registry(client: Any, plans: list[ModelPlan], options: ImportOptions, found: dict[int, str]) -> None:
    """Refuse (exit 5), before anything is written, a registered model whose versions would not
    keep their numbers: one that already has versions in the target (or had: MLflow numbers new
    ones after deleted ones), unless ``registry_merge``. Versions an earlier import of the same
    runs made (``found``: id(prepared) -> run id already in the store) are recognised by their run
    and kept, so an interrupted import resumes."""
    refused = []
    for mp in plans:
        if options.register_model == mp.name:
            raise BadRequest(Problem("usage", f"--register-model {one_line(mp.name)!r} names a registered model this import recreates from its records; give another name, or --no-registry"))
        existing = all_versions(client, mp.name)
        mp.exists = bool(existing) or _registered_model(client, mp.name) is not None
        if not mp.by_number:
            continue  # no versions to number: made when missing, its description and tags added otherwise
        ours = {found[id(v.prep)]: v for v in mp.versions if v.prep is not None and id(v.prep) in found}
        foreign = []
        for mv in existing:
            vp = ours.get(mv.run_id)
            if vp is not None and (options.registry_merge or int(mv.version) == vp.number):
                vp.done = str(mv.version)
            else:
                foreign.append(str(mv.version))
        if options.registry_merge:
            mp.merge = bool(foreign) or (mp.exists and not existing)
            continue
        if foreign or (mp.exists and not existing and not any(v.done for v in mp.versions)):
            held = f"already has version{'s' if len(foreign) > 1 else ''} {', '.join(foreign)}" if foreign else "exists (its versions were deleted, and MLflow numbers new ones after them)"
            first = next((v.prep.doc.name for v in mp.versions if v.prep is not None), None)
            refused.append(Problem("registry-exists", f"registered model {one_line(mp.name)!r} {held} in the target store; pass --registry-merge to add this import's versions after them (its aliases move to the new versions), or --no-registry to import the runs alone", file=first))
    if refused:
        raise Refused(refused)


def _registered_model(client: Any, name: str) -> Any:
    try:
        return client.get_registered_model(name)
    except Exception as exc:  # noqa: BLE001 - "does not exist" is the answer; anything else is raised
        if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def models_of_run(client: Any, run_id: str, prep: Prepared) -> dict[int, str]:
    """The target's logged models of an imported run, by the manifest's model index (matched by
    the name the import gave them, in creation order: an import creates them in the manifest's order)."""
    run = client.get_run(run_id)
    made = list(client.search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"))
    made.sort(key=lambda lm: (lm.creation_timestamp or 0, lm.model_id))
    out: dict[int, str] = {}
    for i, m in enumerate(prep.data.get("models") or []):
        match = next((lm for lm in made if lm.name == logged_model_name(m["name"]) and lm.model_id not in out.values()), None)
        if match is not None:
            out[i] = match.model_id
    return out


def apply_registry(client: Any, plans: list[ModelPlan], created: dict[int, tuple[str, dict[int, str]]], options: ImportOptions) -> None:
    """Create the planned versions in order (placeholders created and deleted), then the aliases.
    ``created``: id(prepared) -> (new run id, manifest model index -> new model id). Whatever
    cannot be recreated as it was is said in a warning."""
    for mp in plans:
        _ensure_model(client, mp)
        numbers: dict[int, str] = {}
        consumed = max((int(v.done) for v in mp.versions if v.done is not None), default=0)  # numbers an earlier import used
        for vp in mp.versions:
            if vp.done is not None:
                numbers[vp.number] = vp.done
            elif mp.merge and not vp.real:
                continue  # appended versions take the store's next numbers; no gap to keep
            elif not mp.merge and vp.number < consumed:
                if vp.real:
                    options.log(f"warning: registered model {mp.name!r}: source version {vp.number} is missing in the target, whose numbers are used up to {consumed}; it is added after them")
                    _create(client, mp, vp, created, options, numbers)
            else:
                _create(client, mp, vp, created, options, numbers)
        for alias, n in sorted(mp.aliases.items()):
            if n in numbers:
                client.set_registered_model_alias(mp.name, alias, numbers[n])
                options.log(f"registered model {mp.name!r}: alias {alias!r} -> version {numbers[n]}")
            else:
                options.log(f"warning: registered model {mp.name!r}: alias {alias!r} is not set: source version {n} has no model in this import")


def _create(client: Any, mp: ModelPlan, vp: VersionPlan, created: dict[int, tuple[str, dict[int, str]]], options: ImportOptions, numbers: dict[int, str]) -> None:
    """One version: the real one from its recreated model, or a placeholder deleted at once."""
    real = vp.real and vp.model_index in created.get(id(vp.prep), ("", {}))[1]
    if vp.real and not real:
        vp.placeholder = f"the model of {vp.prep.doc.name} was not recreated"  # type: ignore[union-attr]
    if vp.placeholder and vp.prep is not None:
        options.log(f"warning: registered model {mp.name!r}: source version {vp.number} is kept as a deleted placeholder: {vp.placeholder}")
    target = vp if real else _filler(mp, vp, created)
    if target is None:
        options.log(f"warning: registered model {mp.name!r}: source version {vp.number} could not be kept (no model of this import to hold its number)")
        return
    run_id, model_ids = created[id(target.prep)]
    model_id = model_ids[target.model_index]  # type: ignore[index]
    source = client.get_logged_model(model_id).artifact_location
    if real:
        mv = client.create_model_version(mp.name, source, run_id=run_id, tags=vp.tags or None, description=vp.description, model_id=model_id)
        if vp.stage and vp.stage not in ("None",):
            client.transition_model_version_stage(mp.name, mv.version, vp.stage)
        numbers[vp.number] = str(mv.version)
        options.registered(mp.name, vp.number, str(mv.version))
        options.log(f"registered model {mp.name!r} version {mv.version} <- {target.prep.doc.name} (source version {vp.number})")  # type: ignore[union-attr]
    else:
        before = (client.get_logged_model(model_id).tags or {}).get(MODEL_VERSIONS_TAG)
        mv = client.create_model_version(mp.name, source, run_id=run_id, model_id=model_id, description=f"placeholder for source version {vp.number} ({vp.placeholder})")
        client.delete_model_version(mp.name, mv.version)
        _restore_tag(client, model_id, before)
        options.log(f"registered model {mp.name!r} version {mv.version}: a deleted placeholder ({vp.placeholder})")
    if not mp.merge and str(mv.version) != str(vp.number):
        options.log(f"warning: registered model {mp.name!r}: source version {vp.number} became version {mv.version} (the target had used that number before)")


def _restore_tag(client: Any, model_id: str, before: str | None) -> None:
    """A server records every version made from a logged model in its ``mlflow.modelVersions``
    tag, and keeps it when the version is deleted: the placeholder must not stay named there."""
    now = (client.get_logged_model(model_id).tags or {}).get(MODEL_VERSIONS_TAG)
    if now == before:
        return
    if before is None:
        client.delete_logged_model_tag(model_id, MODEL_VERSIONS_TAG)
    else:
        client.set_logged_model_tags(model_id, {MODEL_VERSIONS_TAG: before})


def _ensure_model(client: Any, mp: ModelPlan) -> None:
    """The registered model with its description and tags (an existing one keeps its own)."""
    if _registered_model(client, mp.name) is None:
        client.create_registered_model(mp.name, tags=mp.tags or None, description=mp.description)
        return
    current = client.get_registered_model(mp.name)
    for k, v in mp.tags.items():
        if k not in (current.tags or {}):
            client.set_registered_model_tag(mp.name, k, v)
    if mp.description and not current.description:
        client.update_registered_model(mp.name, description=mp.description)


def _filler(mp: ModelPlan, gap: VersionPlan, created: dict[int, tuple[str, dict[int, str]]]) -> VersionPlan | None:
    """A real version whose model a placeholder can point at: the next one, else the last."""
    real = [v for v in mp.versions if v.real and v.model_index in created.get(id(v.prep), ("", {}))[1]]
    after = [v for v in real if v.number > gap.number]
    return after[0] if after else (real[-1] if real else None)
