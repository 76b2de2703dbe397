"""Public: record at training time what MLflow does not (see :mod:`manifest.tracking.capture`).

    from manifest import capture
    with mlflow.start_run():
        capture.log_context(data=["data/iris.csv"], seeds=capture.seed_everything(42))
"""

from __future__ import annotations

from .tracking.capture import *  # noqa: F403  # the public names, listed once in its __all__
from .tracking.capture import __all__  # noqa: F401
