"""Public: edit a manifest file in place, keeping comments and layout; saving validates first.

    from manifest.edit import ManifestFile
    mf = ManifestFile.open("run.yaml")
    mf.data["description"] = "Re-run with the fixed split"
    mf.save()                      # refuses an invalid manifest; writes atomically

The editing itself is :mod:`manifest.document.editing`, which knows only syntax; this is where it
is joined to full validation (:func:`manifest.spec.validation.require_valid`).
"""

from __future__ import annotations

from .core.problems import Problem
from .document import editing
from .spec.validation import require_valid


class ManifestFile(editing.ManifestFile):
    """A manifest file opened for editing; :meth:`save` refuses to write an invalid manifest."""

    check = staticmethod(require_valid)


__all__ = ["ManifestFile", "Problem"]
