"""Public: record at training time what MLflow does not (see :mod:`manifest.tracking.capture`).

    from manifest import capture
    with mlflow.start_run():
        capture.log_context(data=["data/iris.csv"], seeds=capture.seed_everything(42))
"""

from __future__ import annotations

from .tracking.capture import (
    CONTEXT_DIR,
    CONTEXT_FILE,
    CONTEXT_VERSION,
    DEFAULT_ENV_ALLOWLIST,
    DIFF_FILE,
    collect_context,
    command_line,
    log_context,
    seed_everything,
    write_context_dir,
)

__all__ = [
    "CONTEXT_DIR", "CONTEXT_FILE", "CONTEXT_VERSION", "DEFAULT_ENV_ALLOWLIST", "DIFF_FILE",
    "collect_context", "command_line", "log_context", "seed_everything", "write_context_dir",
]
