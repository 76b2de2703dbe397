"""Where things are in the repository, and the smallest valid manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "iris" / "manifest.yaml"


def minimal() -> dict[str, Any]:
    return {
        "spec_version": "1.0",
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "name": "minimal",
        "provenance": {"created_at": "2026-01-02T03:04:05.678Z", "created_by": {"name": "test", "version": "0"}},
        "run": {"status": "FINISHED", "start_time": "2026-01-02T03:04:05.678Z", "end_time": "2026-01-02T03:05:05.678Z"},
    }
