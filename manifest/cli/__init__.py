"""Layer 7, the ``manifest`` command line: click only, one module per command (``cmd_*``), each a
thin layer over the API, loaded only when its command runs. Exit codes are those of
:mod:`manifest.core.problems` (spec 16.3).

``manifest validate``, ``schema``, ``diff``, ``verify`` and ``env`` never import MLflow: the
commands that need it import the tracking layer when they run.
"""

from __future__ import annotations

from .app import main

__all__ = ["main"]
