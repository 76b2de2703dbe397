"""`make demo`: the main job, end to end, on the embedded default store.

Until export and import land, the demo validates the shipped examples, shows what a problem
report looks like, and prints the canonical digest of the reference manifest.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path(sys.executable).parent / "manifest"


def step(title: str, *args: str) -> int:
    print(f"\n$ manifest {' '.join(args)}", flush=True)
    return subprocess.run([str(MANIFEST), *args], cwd=ROOT).returncode


def main() -> int:
    print("experiment-manifest demo: validating the reference example")
    if step("validate", "validate", "examples/") != 0:
        return 1
    from manifest.parse import load_path
    from manifest.write import dumps_yaml, manifest_digest

    data = load_path(ROOT / "examples" / "iris" / "manifest.yaml").data
    print(f"\ncanonical digest (RFC 8785 JCS, sha256): {manifest_digest(data)['sha256']}")
    data["run"]["end_time"] = "2020-01-01T00:00:00.000Z"
    data["params"]["n_estimators"] = "100"
    data["metrics"]["accuracy"]["value"] = "high"
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp) / "broken.yaml"
        broken.write_text(dumps_yaml(data))
        print("\nA broken copy (end before start, a non-number metric) is reported like this:")
        code = step("validate", "validate", str(broken))
        if code != 1:
            return 1
    print("\ndemo finished: the example is valid and the broken copy was caught (exit code 1).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
