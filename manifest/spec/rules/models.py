"""Rules of ``models`` (spec 15.6): unique file paths; size and digest agree with the files; a model
metric's dataset is a data input."""

from __future__ import annotations

from typing import Any, Iterator

from ...core.digests import DIR_HASH, dir_hash, name_problem
from ...core.problems import Problem


def model_files(d: dict[str, Any]) -> Iterator[Problem]:
    for i, m in enumerate(d.get("models") or []):
        files = m.get("files")
        if not files:
            continue
        paths = [f["path"] for f in files]
        if len(set(paths)) != len(paths):
            yield Problem("duplicate-path", "a file path is listed twice", f"/models/{i}/files")
            continue
        if "size" in m and m["size"] != sum(f["size"] for f in files):
            yield Problem("model-size-mismatch", f"size {m['size']} is not the sum of the files' sizes ({sum(f['size'] for f in files)})", f"/models/{i}/size")
        yield from _tree_digest(i, m, files)


def _tree_digest(i: int, m: dict[str, Any], files: list[dict[str, Any]]) -> Iterator[Problem]:
    """``digest.dirHash`` against the directory digest of the listed files (spec 6.3), when
    every file has a ``sha256``; a path with a line feed has no line in the listing."""
    want = (m.get("digest") or {}).get(DIR_HASH)
    if not want or not all("sha256" in f["digest"] for f in files):
        return
    unhashable = [(j, why) for j, f in enumerate(files) if (why := name_problem(f["path"]))]
    for j, why in unhashable:
        yield Problem("unhashable-name", f"the path {why}, so the model's files have no directory digest (spec 6.3)", f"/models/{i}/files/{j}/path")
    if unhashable:
        return
    if dir_hash((f["path"], f["digest"]["sha256"]) for f in files) != want:
        yield Problem("model-digest-mismatch", "digest.dirHash is not the directory digest of the listed files", f"/models/{i}/digest/{DIR_HASH}")


def model_metric_datasets(d: dict[str, Any]) -> Iterator[Problem]:
    """Warning ``model-metric-unknown-dataset`` (spec 7, ModelMetricDataset): naming an input of
    ``data`` ties a model's score to the input's role and digest; another name ties it to nothing a
    reader can look up. (A model metric may come from a tracking system that names its datasets
    otherwise, so this is a warning, where ``metric-unknown-dataset`` is an error.)"""
    inputs = {inp.get("name") for inp in d.get("data") or []}
    # the tracking system's own dataset names (data[].tracking.name, when a writer renamed an input
    # to keep names unique) name an input as well
    inputs |= {(inp.get("tracking") or {}).get("name") for inp in d.get("data") or []} - {None}
    for i, m in enumerate(d.get("models") or []):
        for j, metric in enumerate(m.get("metrics") or []):
            dataset = metric.get("dataset")
            if dataset and dataset["name"] not in inputs:
                yield Problem("model-metric-unknown-dataset", f"dataset {dataset['name']!r} names no data input (data[].name or data[].tracking.name)", f"/models/{i}/metrics/{j}/dataset/name")
