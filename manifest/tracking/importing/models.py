"""Recreating a run's logged models: created, files uploaded, finalized, linked, registered.

A model MLflow 2 logged into a run's artifacts (``models[].uri`` ``runs:/RUN_ID/PATH``, named by
its artifact path) becomes a logged model like any other: MLflow 3 has no other kind.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlflow.entities import LoggedModelOutput, LoggedModelStatus
from mlflow.exceptions import MlflowException
from mlflow.models import Model

from ...core.params import param_text
from .options import ImportOptions
from .prepare import Prepared


def _rewrite_mlmodel(model_dir: Path, model_id: str, run_id: str) -> None:
    """Point ``MLmodel`` at the new run and model ids (the documented exception to byte identity)."""
    mlmodel = model_dir / "MLmodel"
    if not mlmodel.is_file():
        return
    m = Model.load(str(mlmodel))
    m.run_id = run_id
    if hasattr(m, "model_id"):
        m.model_id = model_id
    m.save(str(mlmodel))


#: Characters MLflow 3 refuses in a logged model's name (``_validate_logged_model_name``); an
#: MLflow 2 model's name is its artifact path, which may hold them (``models/rf``, ``model.v2``).
_REFUSED_IN_NAME = re.compile(r"[/:.%\"']")


def logged_model_name(name: str) -> str:
    """The name a manifest model gets in MLflow 3: its own, with each character MLflow 3
    refuses in a logged model's name replaced by ``_``."""
    return _REFUSED_IN_NAME.sub("_", name)


def create_models(client: Any, run_id: str, exp_id: str, prep: Prepared, options: ImportOptions) -> dict[int, str]:
    """Create the logged models whose files came with the manifest; returns index -> new model id."""
    ids: dict[int, str] = {}
    for i, model in enumerate(prep.data.get("models") or []):
        if i not in prep.model_dirs:
            options.log(f"warning: model {model['name']!r} has no files next to the manifest (export with --with-models); it is not recreated")
            continue
        params = {k: param_text(v) for k, v in (model.get("params") or {}).items()}
        name = logged_model_name(model["name"])
        if name != model["name"]:
            options.log(f"warning: model {model['name']!r} is created as {name!r}: MLflow 3 refuses '/', ':', '.', '%' and quotes in a logged model's name")
        lm = client.create_logged_model(exp_id, name=name, source_run_id=run_id, tags=model.get("tags") or None, params=params or None)
        ids[i] = lm.model_id
    return ids


def finish_models(client: Any, run_id: str, prep: Prepared, options: ImportOptions, model_ids: dict[int, str]) -> None:
    """Upload each model's files (MLmodel rewritten to the new ids), finalize, link, register."""
    for i, model_id in model_ids.items():
        model = prep.data["models"][i]
        staged = prep.model_dirs[i]  # the checked copy: exactly the listed files
        _rewrite_mlmodel(staged, model_id, run_id)  # the one documented change to what was checked
        client.log_model_artifacts(model_id, str(staged))
        client.finalize_logged_model(model_id, LoggedModelStatus.READY)
        client.log_outputs(run_id, [LoggedModelOutput(model_id, int(model.get("step", 0)))])
        if options.register_model:
            try:
                client.create_registered_model(options.register_model)
            except MlflowException as exc:
                if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                    raise
            source = client.get_logged_model(model_id).artifact_location
            mv = client.create_model_version(options.register_model, source, run_id=run_id, model_id=model_id)
            options.log(f"registered model {options.register_model!r} version {mv.version} -> {model_id}")
