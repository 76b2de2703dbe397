"""A real MLflow 2 server for migration tests: MLflow 2.22 in a venv of its own (``make tools``),
its ``mlflow server`` started here, and runs made in it by MLflow 2's own logging code.

MLflow 2 cannot live in the project's venv (MLflow 3), so everything MLflow 2 does runs in a
subprocess of the MLflow 2 venv's interpreter: the server, and the script that fills it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

from .mlflow_env import Server, start_server
from .paths import ROOT

#: The last MLflow 2 release (PyPI); its server needs SQLAlchemy < 2.1.
MLFLOW2_VERSION = "2.22.5"
MLFLOW2_VENV = ROOT / ".tools" / "mlflow2"
MLFLOW2_PYTHON = MLFLOW2_VENV / "bin" / "python"
MLFLOW2_BIN = MLFLOW2_VENV / "bin" / "mlflow"
#: How to make the venv by hand (``make tools`` runs the same).
MLFLOW2_INSTALL = f"python3 -m venv .tools/mlflow2 && .tools/mlflow2/bin/pip install 'mlflow=={MLFLOW2_VERSION}' 'sqlalchemy<2.1' scikit-learn"

EXPERIMENT = "legacy-iris"
REGISTERED = "legacy-iris-classifier"

#: Run by the MLflow 2 interpreter (experiment and registered model names as arguments, the
#: server's URI on standard input); prints what it made as JSON.
POPULATE = textwrap.dedent(
    """
    import json, os, sys, tempfile
    import mlflow
    import sklearn
    from mlflow import MlflowClient
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    experiment, registered = sys.argv[1:3]
    uri = sys.stdin.readline().strip()  # given once the server answers: MLflow 2 is imported meanwhile
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, registry_uri=uri)
    exp_id = client.create_experiment(experiment, tags={"team": "vision", "mlflow.note.content": "Iris models trained with MLflow 2."})
    X, y = load_iris(return_X_y=True)
    made = {"mlflow_version": mlflow.__version__, "experiment_id": exp_id, "runs": {}, "predictions": {}}
    t0 = 1_700_000_000_000
    for k, c in enumerate((0.5, 2.0)):
        with mlflow.start_run(experiment_id=exp_id, run_name=f"logreg-c{c}") as run:
            mlflow.log_params({"C": str(c), "max_iter": "200", "solver": "lbfgs"})
            mlflow.set_tags({"team": "vision", "stage": f"try-{k}", "mlflow.note.content": f"C = {c}"})
            for step in range(6):
                client.log_metric(run.info.run_id, "loss", 1.0 / (step + 1 + k), timestamp=t0 + 1000 * step, step=step)
            client.log_metric(run.info.run_id, "loss", 0.125, timestamp=t0 + 5000, step=5)  # two points on one step
            client.log_metric(run.info.run_id, "accuracy", 0.9 + k / 100, timestamp=t0, step=0)
            mlflow.log_text(f"notes for C = {c}\\n", "notes/readme.txt")
            model = LogisticRegression(C=c, max_iter=200).fit(X, y)
            # pinned by hand: inferring them loads the model in a subprocess (5-15 s a model here)
            pins = [f"mlflow=={mlflow.__version__}", f"scikit-learn=={sklearn.__version__}"]
            mlflow.sklearn.log_model(model, "model", pip_requirements=pins)
            if k == 1:
                # a path MLflow 3 refuses as a model name, and a model saved and logged as plain
                # artifacts: no mlflow.log-model.history entry names it
                mlflow.sklearn.log_model(model, "extra/model.v2", pip_requirements=pins)
                saved = os.path.join(tempfile.mkdtemp(), "saved")
                mlflow.sklearn.save_model(model, saved, pip_requirements=pins)
                mlflow.log_artifacts(saved, "saved")
            made["predictions"][run.info.run_name] = model.predict(X[::10]).tolist()
        made["runs"][run.info.run_name] = run.info.run_id
    a, b = made["runs"]["logreg-c0.5"], made["runs"]["logreg-c2.0"]
    client.create_registered_model(registered, tags={"owner": "vision"}, description="Iris species, MLflow 2 era.")
    v1 = mlflow.register_model(f"runs:/{a}/model", registered)  # MLflow 2's usual way; it stores the artifact URI
    art_b = client.get_run(b).info.artifact_uri
    v2 = client.create_model_version(registered, f"{art_b}/model", run_id=b, description="deleted later")
    v3 = client.create_model_version(registered, f"runs:/{b}/model", run_id=b, tags={"validated": "yes"}, description="C = 2.0, validated")
    client.update_model_version(registered, v1.version, description="C = 0.5")
    client.set_model_version_tag(registered, v1.version, "validated", "no")
    client.delete_model_version(registered, v2.version)
    client.set_registered_model_alias(registered, "champion", v3.version)
    client.set_registered_model_alias(registered, "baseline", v1.version)
    # a version whose source is a directory of the run that holds no model: the export must name it
    client.create_registered_model(registered + "-notes")
    client.create_model_version(registered + "-notes", f"{client.get_run(a).info.artifact_uri}/notes", run_id=a)
    made["versions"] = {str(v.version): client.get_model_version(registered, v.version).source for v in (v1, v3)}
    print(json.dumps(made))
    """
)


def venv_missing() -> str | None:
    """Why the MLflow 2 venv cannot be used (with the command that makes it), or ``None``."""
    if MLFLOW2_PYTHON.is_file() and MLFLOW2_BIN.is_file():
        return None
    return f"the MLflow 2 venv {MLFLOW2_VENV} does not exist; make it with `make tools` or: {MLFLOW2_INSTALL}"


def start_mlflow2_server(root: Path) -> Server:
    """An MLflow 2 ``mlflow server`` (SQLite in ``root``, proxied artifacts, one worker, a free
    port); stop it with :func:`stop_mlflow2_server`."""
    return start_server(root, mlflow_bin=MLFLOW2_BIN)


def stop_mlflow2_server(server: Server, timeout: float = 20) -> None:
    """Stop the server and its gunicorn: MLflow 2's ``mlflow server`` starts gunicorn as a child
    that outlives a SIGTERM to the command (MLflow 3's uvicorn does not), so it is stopped by its id."""
    children = _children(server.proc.pid)
    server.stop()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while (alive := [p for p in children if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def mlflow2_server(root: Path) -> Iterator[Server]:
    """An MLflow 2 server for the duration (see :func:`start_mlflow2_server`)."""
    server = start_mlflow2_server(root)
    try:
        yield server
    finally:
        stop_mlflow2_server(server)


def _children(pid: int) -> list[int]:
    """The direct children of a process (Linux ``/proc``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    """Whether the process still runs (a zombie, its parent gone, has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def begin_populate(workdir: Path, *, experiment: str = EXPERIMENT, registered: str = REGISTERED) -> subprocess.Popen[str]:
    """Start the MLflow 2 script that fills a server (:data:`POPULATE`); it imports MLflow 2 and
    scikit-learn (about 4 s) while the server starts, then waits for :func:`finish_populate`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}  # this process's URIs are not MLflow 2's
    env.update(MLFLOW_DISABLE_TELEMETRY="true", PYTHONNOUSERSITE="1")
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "populate.py"
    script.write_text(POPULATE, encoding="utf-8")
    return subprocess.Popen([str(MLFLOW2_PYTHON), str(script), experiment, registered], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workdir, env=env)


def finish_populate(proc: subprocess.Popen[str], server: Server, timeout: float = 300) -> dict[str, Any]:
    """Let the script fill ``server``; returns its run ids by run name, the experiment id, the
    sources of the registered versions and the models' predictions."""
    try:
        out, err = proc.communicate(server.uri + "\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"populating the MLflow 2 server failed ({proc.returncode}):\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def populate(server: Server, *, experiment: str = EXPERIMENT, registered: str = REGISTERED, timeout: float = 300) -> dict[str, Any]:
    """Fill a running MLflow 2 server with MLflow 2's own code (:data:`POPULATE`)."""
    return finish_populate(begin_populate(server.root / "populate", experiment=experiment, registered=registered), server, timeout)
