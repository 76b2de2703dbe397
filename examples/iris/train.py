"""Reference use case: a RandomForest on iris, tracked with MLflow so that anyone can reproduce it.

    python train.py                                   # 100 trees, 20% test split, random_state 42
    python train.py --n-estimators 10 --alias challenger

Trains into the tracking store named by MLFLOW_TRACKING_URI (default: the embedded SQLite store
``sqlite:///mlflow.db`` here), and records everything a manifest needs: params, the accuracy (on
the test split, linked to the model and the test dataset), the input data with its content digest,
the code version, the environment and seeds (``manifest.capture``), and the model, registered as
``iris-classifier`` with an alias.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from manifest import capture

HERE = Path(__file__).resolve().parent
DATA = "data/iris.csv"  # relative to this directory, as the manifest records it
FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def load_iris_csv(path: Path) -> pd.DataFrame:
    """scikit-learn's iris.csv: a header line of counts and class names, then 150 rows."""
    return pd.read_csv(path, skiprows=1, names=[*FEATURES, "target"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-estimators", type=int, default=100)
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--random-state", type=int, default=42)
    p.add_argument("--experiment", default="iris-random-forest")
    p.add_argument("--registered-model", default="iris-classifier", help="registered model name ('' to skip registering)")
    p.add_argument("--alias", default="champion", help="registry alias to point at the new version")
    args = p.parse_args()

    seeds = capture.seed_everything(args.random_state)
    df = load_iris_csv(HERE / DATA)
    X, y = df[FEATURES], df["target"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=args.test_size, random_state=args.random_state)

    mlflow.set_experiment(args.experiment)
    with mlflow.start_run(run_name=f"rf-{args.n_estimators}-trees") as run:
        mlflow.log_params({"n_estimators": args.n_estimators, "test_size": args.test_size, "random_state": args.random_state, "criterion": "gini"})
        train_fraction = round(1 - args.test_size, 10)
        split = {"of": "iris", "method": "random", "seed": args.random_state}
        capture.log_context(
            data=[
                {"path": str(HERE / DATA), "uri": DATA, "name": "iris", "role": "source", "license": "CC-BY-4.0",
                 "description": "Fisher's iris data as shipped with scikit-learn (150 rows, 4 features, 3 classes)."},
                {"name": "iris-train", "kind": "memory", "split": {**split, "fraction": train_fraction}},
                {"name": "iris-test", "kind": "memory", "split": {**split, "fraction": args.test_size}},
            ],
            seeds={**seeds, "sklearn.random_state": args.random_state},
            # how params reach this script, so that `manifest reproduce` can re-run it with them
            command_template=["python", "train.py", "--n-estimators", "{n_estimators}", "--test-size", "{test_size}", "--random-state", "{random_state}",
                              "--experiment", args.experiment, "--registered-model", "", "--alias", ""],  # a re-run leaves the registry alone
            determinism={"level": "bitwise", "settings": {"n_jobs": 1}},
            # who made it and how to cite it, for a paper bundle's CITATION.cff, RO-Crate and page
            authors=[{"name": "Ada Researcher", "type": "person", "given_name": "Ada", "family_name": "Researcher",
                      "orcid": "https://orcid.org/0000-0002-1825-0097", "affiliation": "Example Lab", "roles": ["software", "investigation"]}],
            license="CC-BY-4.0",
            citation={"title": "RandomForest on iris: a reference run", "version": "1.0"},
        )
        source = mlflow.data.from_pandas(df, source=DATA, name="iris", targets="target")
        train = mlflow.data.from_pandas(X_train.assign(target=y_train), source=DATA, name="iris-train", targets="target")
        test = mlflow.data.from_pandas(X_test.assign(target=y_test), source=DATA, name="iris-test", targets="target")
        mlflow.log_input(source, context="source")
        mlflow.log_input(train, context="training")
        mlflow.log_input(test, context="test")

        clf = RandomForestClassifier(n_estimators=args.n_estimators, random_state=args.random_state, n_jobs=1).fit(X_train, y_train)
        pred = clf.predict(X_test)
        # learning curve: test accuracy of the forest's first k trees (step = number of trees)
        votes = None
        for k, tree in enumerate(clf.estimators_, start=1):
            proba = tree.predict_proba(X_test.to_numpy())
            votes = proba if votes is None else votes + proba
            if k % max(1, args.n_estimators // 20) == 0 or k == args.n_estimators:
                mlflow.log_metric("accuracy_by_trees", float((votes.argmax(axis=1) == y_test.to_numpy()).mean()), step=k)
        info = mlflow.sklearn.log_model(
            clf, name="model", input_example=X_test.head(3), registered_model_name=args.registered_model or None,
            skops_trusted_types=["sklearn.tree._tree.Tree"],  # a RandomForest needs this with skops
        )
        mlflow.log_metric("accuracy", float(accuracy_score(y_test, pred)), model_id=info.model_id, dataset=test)
        mlflow.log_metric("f1_macro", float(f1_score(y_test, pred, average="macro")), model_id=info.model_id, dataset=test)

    client = MlflowClient()
    version = info.registered_model_version
    if args.alias and args.registered_model and version is not None:
        client.set_registered_model_alias(args.registered_model, args.alias, str(version))
    registered = f"registered as {args.registered_model} v{version}" + (f" @{args.alias}" if args.alias else "") if args.registered_model else "not registered"
    print(f"run {run.info.run_id} model {info.model_id} {registered}")
    print(run.info.run_id)


if __name__ == "__main__":
    main()
