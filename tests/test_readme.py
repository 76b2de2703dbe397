"""Every `sh` block of README.md runs, in order, as the tutorial says (examples/iris in a git checkout)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from iris_env import make_iris

README = Path(__file__).resolve().parent.parent / "README.md"


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_commands_first():
    text = README.read_text()
    first_section = text.split("\n## ")[1]
    assert first_section.startswith("Two commands") and "make demo" in first_section and "make test" in first_section


def test_every_sh_block_runs(tmp_path):
    iris = make_iris(tmp_path)
    blocks = sh_blocks()
    assert len(blocks) >= 6
    script = "set -euo pipefail\n" + "\n".join(blocks)
    env = dict(iris.env(), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("MLFLOW_TRACKING_URI")  # the tutorial uses MLflow's default store in the current directory
    proc = subprocess.run(["bash", "-c", script], cwd=iris.workdir, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr
    assert (iris.workdir / "paper" / "SHA256SUMS").exists() and (iris.workdir / "requirements-run.txt").exists()
    assert "every metric within tolerance" in proc.stdout
    assert "aliases: [champion]" in proc.stdout
    assert "(n=4)" in proc.stdout  # the 10-tree runs differ only in random_state: replicates, grouped


def test_make_demo_script_runs_end_to_end(tmp_path):
    """What `make demo` runs, with its working directory moved to a temporary one."""
    env = dict(os.environ, MANIFEST_DEMO_DIR=str(tmp_path / "demo"), MLFLOW_DISABLE_TELEMETRY="true")
    proc = subprocess.run([sys.executable, str(README.parent / "examples" / "demo.py")], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "0 differences (≠)" in proc.stdout  # the imported run equals the original
    assert "rolled back: iris-classifier@champion -> version 1" in proc.stdout
    assert "1 bundle checked: checksums and index intact" in proc.stdout
