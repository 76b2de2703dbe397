"""The names this tool reads and writes in MLflow: tags, the capture artifacts, and MLflow's own
tags that map into manifest fields. One home, so export, import and reproduce agree."""

from __future__ import annotations

#: The run-artifact folder where ``manifest.capture`` logs what MLflow does not record.
CONTEXT_DIR = "manifest-context"
CONTEXT_NAME = "context.json"
DIFF_NAME = "git.diff"
#: Copies of the run's configuration and untracked files, under the context directory (``files/<path>``).
CODE_FILES_DIR = "files"
CONTEXT_FILE = f"{CONTEXT_DIR}/{CONTEXT_NAME}"
DIFF_FILE = f"{CONTEXT_DIR}/{DIFF_NAME}"
CONTEXT_VERSION = 1

#: MLflow tags that map into manifest fields (not kept among ``system_tags``).
MAPPED_TAGS = frozenset({
    "mlflow.runName", "mlflow.user", "mlflow.source.git.commit", "mlflow.source.git.branch",
    "mlflow.source.git.repoURL", "mlflow.source.name", "mlflow.source.type", "mlflow.parentRunId",
    "mlflow.note.content",
})
#: MLflow tags that name another run or model by id: never restored from a manifest, since in
#: another store the id would name an unrelated run (the parent link is rebuilt from ``run.parent``).
LINKING_TAGS = frozenset({"mlflow.parentRunId", "mlflow.rootRunId", "mlflow.log-model.history", "mlflow.loggedModels", "mlflow.modelVersions"})
#: Tags this tool sets; export turns the ``derived_from`` ones back into ``provenance.derived_from``.
TAG_DERIVED_ID = "manifest.derived_from.id"
TAG_DERIVED_SHA256 = "manifest.derived_from.sha256"
TAG_DERIVED_RELATION = "manifest.derived_from.relation"
TAG_SOURCE_RUN = "manifest.source.run_id"
#: The imported run's identity (spec A.8): the SHA-256 of ``system:run_id`` of its source, or of
#: ``manifest:id`` without one. Hashed, so that any source string is a safe search value.
TAG_IDENTITY = "manifest.identity"
TAG_SOURCE_EXPERIMENT = "manifest.source.experiment"
TAG_SOURCE_URI = "manifest.source.tracking_uri"
TAG_IMPORT_ERROR = "manifest.import.error"
#: Why a run FAILED or was KILLED (``run.error``), as :func:`manifest.capture.log_error` recorded it.
TAG_RUN_ERROR = "manifest.run.error"
#: Set at the end of an import: a run without it was left by an interrupted import.
TAG_IMPORT_COMPLETE = "manifest.import.complete"
TAG_REPRODUCES = "manifest.reproduces"
TAG_REPRODUCE_ERROR = "manifest.reproduce.error"
