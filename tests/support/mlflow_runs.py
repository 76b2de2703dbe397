"""Runs made by real MLflow code, in the shapes users make them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

LONG_PARAM = "x" * 5990 + "0123456789"  # 6,000 characters: the longest value MLflow keeps whole
TRICKY_PARAMS = {"lr": "0.10", "alpha": "1e5", "flag": "True", "other_flag": "true", "nothing": "None", "spaced": " 1",
                 "under": "1_000", "n_estimators": "100", "ratio": "0.2", "big": "12345678901234567890", "neg_zero": "-0",
                 "unicode": "naïve ✓ 数据", "long": LONG_PARAM}


def fluent_run(experiment: str, *, points: int = 50, with_model: bool = True, register_as: str | None = "iris-rf") -> dict[str, Any]:
    """Params of every kind, metrics with history, NaN and inf, datasets, artifacts, a model."""
    import mlflow
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    mlflow.set_experiment(experiment)
    X, y = load_iris(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=42)
    with mlflow.start_run(run_name="fluent ✓ run") as run:
        mlflow.log_params(TRICKY_PARAMS)
        mlflow.set_tags({"team": "vision", "ünïcode": "välue", "mlflow.note.content": "A run with everything."})
        train = mlflow.data.from_pandas(Xtr.assign(target=ytr), source="data/iris.csv", name="iris-train")
        test = mlflow.data.from_pandas(Xte.assign(target=yte))
        arr = mlflow.data.from_numpy(np.arange(12.0).reshape(4, 3), name="array")
        mlflow.log_input(train, context="training")
        mlflow.log_input(test, context="testing")
        mlflow.log_input(arr, context="eval")
        for i in range(points):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        mlflow.log_metric("nan_metric", float("nan"), step=0)
        mlflow.log_metric("inf_metric", float("inf"), step=0)
        mlflow.log_metric("neg_inf_metric", float("-inf"), step=0)
        mlflow.log_metric("acc/val: top-1", 0.5, step=0)
        mlflow.log_metric("acc/val: top-1", 0.75, step=1)
        mlflow.log_text("hello", "notes/readme.txt")
        mlflow.log_dict({"a": 1}, "config/settings.json")
        info: dict[str, Any] = {"run_id": run.info.run_id}
        if with_model:
            clf = RandomForestClassifier(n_estimators=5, random_state=42).fit(Xtr, ytr)
            signature = mlflow.models.infer_signature(Xte, clf.predict(Xte))
            mi = mlflow.sklearn.log_model(clf, name="model", skops_trusted_types=["sklearn.tree._tree.Tree"], registered_model_name=register_as, params={"n_estimators": 5}, signature=signature)
            mlflow.log_metric("accuracy", float(clf.score(Xte, yte)), model_id=mi.model_id, dataset=test)
            info["model_id"] = mi.model_id
    if with_model and register_as:
        client = mlflow.MlflowClient()
        client.set_registered_model_alias(register_as, "champion", "1")
    return info


def grid_search_runs(experiment: str) -> str:
    """``mlflow.sklearn.autolog`` of a small grid search: a parent run and nested child runs."""
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV
    from sklearn.tree import DecisionTreeClassifier

    mlflow.set_experiment(experiment)
    mlflow.sklearn.autolog(log_models=False, log_datasets=True, silent=True)
    try:
        X, y = load_iris(return_X_y=True)
        with mlflow.start_run(run_name="grid") as parent:
            GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]}, cv=2).fit(X, y)
        return parent.info.run_id
    finally:
        mlflow.sklearn.autolog(disable=True)


TRAIN_SCRIPT = textwrap.dedent(
    '''
    import argparse, mlflow
    from manifest import capture

    p = argparse.ArgumentParser()
    p.add_argument("--n-estimators", type=int, default=10)
    p.add_argument("--test-size", type=float, default=0.2)
    a = p.parse_args()
    seeds = capture.seed_everything(42)
    mlflow.set_experiment("scripted")
    with mlflow.start_run(run_name="scripted") as run:
        mlflow.log_params({"n_estimators": a.n_estimators, "test_size": a.test_size})
        capture.log_context(data=[{"path": "data/train.csv", "name": "train", "role": "training"}, "data/images"], seeds=seeds)
        mlflow.log_metric("score", 0.5 + a.n_estimators / 1000)
        print(run.info.run_id)
    '''
)


def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout.strip()


def script_repo(root: Path, *, dirty: bool = True, remote: str = "https://user:s3cret@example.org/lab/iris.git") -> Path:
    """A git repository holding a training script that calls the capture API, and its data."""
    repo = root / "repo"
    (repo / "data" / "images").mkdir(parents=True)
    (repo / "train.py").write_text(TRAIN_SCRIPT)
    (repo / "data" / "train.csv").write_text("a,b\n1,2\n3,4\n")
    (repo / "data" / "images" / "x.bin").write_bytes(bytes(range(256)))
    (repo / "data" / "images" / "y.bin").write_bytes(b"\x00" * 10)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", remote)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    if dirty:
        (repo / "train.py").write_text(TRAIN_SCRIPT + "# an uncommitted change\n")
    return repo


def run_script(repo: Path, env: dict[str, str], *args: str) -> str:
    """Run the training script as a user would (``python train.py ...``); return its run id."""
    full = dict(os.environ, **env, MLFLOW_DISABLE_TELEMETRY="true")
    proc = subprocess.run([sys.executable, "train.py", *args], cwd=repo, capture_output=True, text=True, env=full, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def registry_story(experiment: str, name: str = "iris-classifier") -> dict[str, Any]:
    """A team's registry as it grows: four trainings registered as versions 1-4, version 2
    deleted (a bad model), ``champion`` on 3 and ``challenger`` on 4, tags and descriptions on
    the model and its versions. Returns version -> run id of the three that remain."""
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    mlflow.set_experiment(experiment)
    X, y = load_iris(return_X_y=True)
    client = mlflow.MlflowClient()
    client.create_registered_model(name, tags={"team": "vision"}, description="Iris species from four measurements.")
    runs: dict[str, str] = {}
    for version, depth in zip("1234", (1, 2, 3, 4)):
        with mlflow.start_run(run_name=f"depth-{depth}") as run:
            mlflow.log_param("max_depth", depth)
            clf = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y)
            mlflow.log_metric("accuracy", float(clf.score(X, y)))
            mlflow.sklearn.log_model(clf, name="model", serialization_format="cloudpickle", registered_model_name=name, pip_requirements=["scikit-learn"])
        runs[version] = run.info.run_id
        client.update_model_version(name, version, description=f"depth {depth}")
        client.set_model_version_tag(name, version, "validated", "yes" if depth != 2 else "no")
    client.delete_model_version(name, "2")
    client.set_registered_model_alias(name, "champion", "3")
    client.set_registered_model_alias(name, "challenger", "4")
    del runs["2"]
    return runs
