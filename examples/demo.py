"""`make demo`: the reference use case end to end, on the embedded default store (SQLite).

Trains the iris RandomForest with MLflow (and the capture API), exports the run as a manifest,
validates it, imports it as a new run, and compares the two side by side; then trains a second
version, compares the versions from their manifests, promotes it and rolls back by moving the
registry alias; writes and checks a paper bundle; finally makes the reviewer's copy (data and
code inside, anonymised, signed, zipped) and checks and re-runs it where it is unpacked.
Everything goes under .demo/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "iris"
DEMO = Path(os.environ.get("MANIFEST_DEMO_DIR") or ROOT / ".demo").resolve()
BIN = Path(sys.executable).parent
STORE = f"sqlite:///{DEMO}/mlflow.db"
ENV = dict(os.environ, MLFLOW_TRACKING_URI=STORE, MLFLOW_DISABLE_TELEMETRY="true", PYTHONWARNINGS="ignore")
ENV.pop("MLFLOW_REGISTRY_URI", None)  # the registry is the demo store


def sh(*args: str, cwd: Path = ROOT, check: bool = True, quiet: bool = False) -> str:
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"\n$ {shown.replace(str(BIN) + '/', '').replace(str(ROOT) + '/', '')}", flush=True)
    proc = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    if not quiet and proc.stdout.strip():
        print(proc.stdout.rstrip())
    if check and proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"demo step failed with exit code {proc.returncode}")
    return proc.stdout


def train(*extra: str) -> str:
    out = sh(str(BIN / "python"), "train.py", *extra, cwd=EXAMPLE)
    return out.strip().splitlines()[-1]


def main() -> int:
    t0 = time.monotonic()
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    (DEMO / "runs").mkdir()
    import mlflow

    # artifacts of the demo store under .demo/, not ./mlruns in the example directory
    mlflow.MlflowClient(STORE).create_experiment("iris-random-forest", artifact_location=(DEMO / "artifacts").as_uri())
    mlflow.MlflowClient(STORE).create_experiment("iris-imported", artifact_location=(DEMO / "artifacts-imported").as_uri())

    print("== 1. Train the reference model (100 trees, test split 0.2, random_state 42) into", STORE)
    run_a = train()
    print("\n== 2. Export the run as a manifest and validate it")
    sh(str(BIN / "manifest"), "export", run_a, "-o", str(DEMO / "runs" / "original.yaml"), "--with-models", "--with-artifacts")
    sh(str(BIN / "manifest"), "validate", str(DEMO / "runs" / "original.yaml"))
    print("\n== 3. Import it as a new run, export that, and compare the two side by side")
    # a copy in the same store leaves the registry alone: its version 1 stays the original's
    run_b = sh(str(BIN / "manifest"), "import", str(DEMO / "runs" / "original.yaml"), "--experiment", "iris-imported", "--no-registry").strip().splitlines()[-1]
    sh(str(BIN / "manifest"), "export", run_b, "-o", str(DEMO / "runs" / "imported.yaml"))
    sh(str(BIN / "manifest"), "diff", str(DEMO / "runs" / "original.yaml"), str(DEMO / "runs" / "imported.yaml"))
    print("\n== 4. The model registry: a second version, compared from the manifests, promoted, rolled back")
    run_c = train("--n-estimators", "10", "--alias", "challenger")
    sh(str(BIN / "manifest"), "export", run_c, "-o", str(DEMO / "runs" / "ten-trees.yaml"))
    sh(str(BIN / "manifest"), "diff", "--only-differences", str(DEMO / "runs" / "original.yaml"), str(DEMO / "runs" / "ten-trees.yaml"), check=False)
    client = mlflow.MlflowClient(STORE)
    client.set_registered_model_alias("iris-classifier", "champion", "2")
    print("\npromoted: iris-classifier@champion -> version", client.get_model_version_by_alias("iris-classifier", "champion").version)
    client.set_registered_model_alias("iris-classifier", "champion", "1")
    print("rolled back: iris-classifier@champion -> version", client.get_model_version_by_alias("iris-classifier", "champion").version)
    sh(str(BIN / "manifest"), "export", run_a, "-o", str(DEMO / "runs" / "original-after-rollback.yaml"))
    text = (DEMO / "runs" / "original-after-rollback.yaml").read_text()
    print("the manifest records the registry state:", " ".join(ln.strip() for ln in text.splitlines() if "aliases:" in ln))
    print("\n== 5. A bundle for a paper's supplementary material, and its check")
    sh(str(BIN / "manifest"), "export", "--experiment", "iris-random-forest", "--bundle", str(DEMO / "paper"), "--with-models", "--metrics", "accuracy,f1_macro,accuracy_by_trees")
    sh(str(BIN / "manifest"), "validate", str(DEMO / "paper"))
    print((DEMO / "paper" / "results.md").read_text())
    print("\n== 6. The reviewer's copy: data and code inside, anonymised, signed, zipped; checked and re-run where it is unpacked")
    sh(str(BIN / "manifest"), "keygen", str(DEMO / "keys" / "author"))
    sh(str(BIN / "manifest"), "export", "--experiment", "iris-random-forest", "--bundle", str(DEMO / "review"), "--with-models", "--with-data", "--with-code", "--anonymize", "--archive", "--sign-key", str(DEMO / "keys" / "author"), cwd=EXAMPLE)
    unpacked = DEMO / "reviewer"
    import zipfile

    with zipfile.ZipFile(DEMO / "review.zip") as zf:
        zf.extractall(unpacked)
    sh(str(BIN / "manifest"), "validate", ".", cwd=unpacked)
    sh(str(BIN / "manifest"), "verify", ".", "--signature", "--key", str(DEMO / "keys" / "author.pub"), cwd=unpacked)
    sh(str(BIN / "manifest"), "verify", ".", cwd=unpacked)
    first = sorted((unpacked / "manifests").glob("rf-100-trees-*.yaml"))[0]
    sh(str(BIN / "manifest"), "reproduce", "--yes", str(first.relative_to(unpacked)), "--tracking-uri", f"sqlite:///{DEMO}/review.db", cwd=unpacked)
    print(f"demo finished in {time.monotonic() - t0:.0f} s; everything is under {DEMO}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
