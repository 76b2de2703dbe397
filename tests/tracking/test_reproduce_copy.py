"""The copy of a re-run from reproduce's private store into the target store, in process, on real
SQLite stores: what the target holds, and a copy an interrupt cut short after the import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pytest

from manifest.document.canonical import manifest_digest
from manifest.tracking.exporting.files import export_to_files
from manifest.tracking.exporting.options import ExportOptions
from manifest.tracking.importing.batch import import_paths
from manifest.tracking.importing.options import ImportOptions
from manifest.tracking.reproduce import PrivateStore, TargetStore, copy_rerun, reproduction_experiment, reproduction_tags, retag_left_behind

pytestmark = pytest.mark.e2e  # real MLflow stores

SOURCE: dict[str, Any] = {
    "spec_version": "1.0", "id": "urn:uuid:00000000-0000-4000-8000-000000000001", "name": "src",
    "provenance": {"source": {"system": "mlflow", "tracking_uri": "http://mlflow.example:5000", "experiment_name": "exp", "run_id": "a" * 32}},
    "run": {"status": "FINISHED", "start_time": "2026-01-01T00:00:00Z"},
    "metrics": {"acc": {"value": 0.5}},
}


@pytest.fixture
def stores(tmp_path: Path) -> tuple[PrivateStore, TargetStore]:
    private = PrivateStore.create(tmp_path / "private", SOURCE)
    private.client.log_metric(private.run_id, "acc", 0.5)
    target = TargetStore.open(f"sqlite:///{tmp_path / 'target.db'}", reproduction_experiment(SOURCE))
    return private, target


def test_the_copy_is_a_reproduction_of_the_source_not_an_import_of_the_private_run(stores):
    private, target = stores
    assert mlflow.MlflowClient(private.uri).get_experiment(private.experiment_id).name == "exp"  # the name the script sets
    private.end("KILLED")
    run_id = copy_rerun(private, target, SOURCE, "interrupted", lambda s: None)
    run = target.client.get_run(run_id)
    assert target.client.get_experiment(run.info.experiment_id).name == "exp (reproductions)"
    assert run.info.status == "KILLED" and run.data.metrics == {"acc": 0.5}
    tags = run.data.tags
    assert tags["manifest.derived_from.relation"] == "reproduced" and tags["manifest.derived_from.id"] == SOURCE["id"]
    assert tags["manifest.derived_from.sha256"] == manifest_digest(SOURCE)["sha256"]
    assert tags["manifest.source.run_id"] == "a" * 32 and tags["manifest.source.experiment"] == "exp"
    assert tags["manifest.source.tracking_uri"] == "http://mlflow.example:5000"
    assert tags["manifest.reproduce.error"] == "interrupted"
    assert mlflow.get_tracking_uri() == target.uri  # MLflow's default is not left on the private store


def test_a_copy_cut_short_after_the_import_is_still_tagged_as_a_reproduction(stores, tmp_path):
    """What an interrupt between the end of the import and the re-tagging leaves: an import of
    the private run (relation imported), which retag_left_behind turns into the reproduction."""
    private, target = stores
    private.end("FINISHED")
    out = tmp_path / "x.yaml"
    export_to_files(private.client, [private.run_id], tracking_uri=private.uri, output=str(out), fmt="yaml", options=ExportOptions(), many=False)
    [(_, run_id)] = import_paths(target.client, [str(out)], tracking_uri=target.uri, options=ImportOptions(experiment=target.experiment, allow_duplicate=True))
    assert target.client.get_run(run_id).data.tags["manifest.derived_from.relation"] == "imported"
    retag_left_behind(target.client, target, private.run_id, reproduction_tags(SOURCE))
    tags = target.client.get_run(run_id).data.tags
    assert tags["manifest.derived_from.relation"] == "reproduced" and tags["manifest.source.run_id"] == "a" * 32


def test_a_source_without_store_or_experiment_leaves_no_private_lineage(tmp_path):
    bare = dict(SOURCE, provenance={"source": {"system": "mlflow", "run_id": "b" * 32}})
    private = PrivateStore.create(tmp_path / "private", bare)
    assert mlflow.MlflowClient(private.uri).get_experiment(private.experiment_id).name == "Default"
    target = TargetStore.open(f"sqlite:///{tmp_path / 'target.db'}", reproduction_experiment(bare))
    private.end("FINISHED")
    run = target.client.get_run(copy_rerun(private, target, bare, None, lambda s: None))
    assert target.client.get_experiment(run.info.experiment_id).name == "Default (reproductions)"
    assert "manifest.source.tracking_uri" not in run.data.tags and "manifest.source.experiment" not in run.data.tags
    assert "manifest.reproduce.error" not in run.data.tags and run.info.status == "FINISHED"
