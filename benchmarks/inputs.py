"""Generate the inputs of the validation benchmarks (deterministically, with the project's writers).

Everything lands under one directory (by default ``.bench/validate/inputs``, which is git-ignored):

* ``bulk/yaml/mNNNN.yaml`` and ``bulk/json/mNNNN.json`` - variants of ``examples/iris/manifest.yaml``
  (id, name, run id, params, metric values and the cross-validation history differ per file);
* ``history/inline.yaml``, ``history/inline.json`` - the iris manifest plus a metric ``loss`` whose
  1,000,000 points are inline;
* ``history/sidecar/manifest.yaml`` + ``history/sidecar/history/loss.json`` - the same metric as a
  sidecar file referenced from a small YAML manifest.

Generation takes ~20 s (most of it writing the 1M-point inline files), so a ``stamp.json`` records
what was generated; the inputs are reused while the stamp (generator source, parameters, example and
package version) is unchanged.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import shutil
import uuid
from pathlib import Path
from typing import Any

from .common import ROOT

EXAMPLE = ROOT / "examples" / "iris" / "manifest.yaml"
#: Bump when the shape of the generated inputs changes (the generator's source is hashed too).
GENERATOR_VERSION = 1
T0_MS = 1795754294700  # first timestamp of the long history (epoch ms)


def _stamp(n_files: int, n_points: int) -> dict[str, Any]:
    from manifest import __version__

    src = Path(__file__).read_bytes()
    return {
        "generator_version": GENERATOR_VERSION,
        "generator_sha256": hashlib.sha256(src).hexdigest(),
        "example_sha256": hashlib.sha256(EXAMPLE.read_bytes()).hexdigest(),
        "manifest_version": __version__,
        "n_files": n_files,
        "n_points": n_points,
    }


def _base() -> dict[str, Any]:
    from manifest.document.reader import load_path

    return load_path(EXAMPLE).data


def variant(base: dict[str, Any], i: int, rng: random.Random) -> dict[str, Any]:
    """A valid manifest like the iris example but not byte-identical to any other variant."""
    d = copy.deepcopy(base)
    d["id"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    d["name"] = f"rf-{i:04d}-{rng.choice(['gini', 'entropy', 'log_loss'])}"
    d["provenance"]["source"]["run_id"] = f"{rng.getrandbits(128):032x}"
    p = d["params"]
    p["criterion"] = rng.choice(["gini", "entropy", "log_loss"])
    p["max_depth"] = rng.choice([None, 3, 5, 8, 12])
    p["n_estimators"] = rng.randint(10, 500)
    p["random_state"] = rng.randint(0, 2**31 - 1)
    p["test_size"] = round(rng.uniform(0.1, 0.4), 3)
    acc = rng.random()
    d["metrics"]["accuracy"]["value"] = acc
    for mm in d["models"][0].get("metrics", []):
        if mm["name"] == "accuracy":
            mm["value"] = acc
    cv = d["metrics"]["cv_accuracy"]
    cv["history"]["value"] = [rng.random() for _ in cv["history"]["value"]]
    cv["value"] = cv["history"]["value"][-1]  # the final value is the last point's
    return d


def long_history(n: int, seed: int = 7) -> dict[str, list[Any]]:
    """``n`` points of a decreasing, noisy loss: steps 0..n-1, one point every 10 ms."""
    rng = random.Random(seed)
    return {
        "step": list(range(n)),
        "timestamp": [T0_MS + 10 * i for i in range(n)],
        "value": [2.0 / (1.0 + i / 1000.0) + rng.random() * 0.01 for i in range(n)],
    }


def _with_metric(base: dict[str, Any], metric: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(base)
    d["metrics"]["loss"] = metric
    return d


def generate(out: Path, *, n_files: int = 1000, n_points: int = 1_000_000, force: bool = False, log: Any = print) -> dict[str, Any]:
    """Write (or reuse) the inputs under ``out``; return a description of them."""
    from manifest.core.digests import file_digest
    from manifest.document.writer import dumps_history, dumps_json, dumps_yaml

    stamp = _stamp(n_files, n_points)
    stamp_file = out / "stamp.json"
    if not force and stamp_file.is_file():
        try:
            old = json.loads(stamp_file.read_text())
        except ValueError:
            old = None
        if old and old.get("stamp") == stamp:
            log(f"inputs: reusing {out} (unchanged generator; pass --regen to rebuild)")
            return old["layout"]
    if out.exists():
        shutil.rmtree(out)
    log(f"inputs: generating under {out} (one-off, ~20 s) ...")
    base = _base()

    # -- 2. many typical manifests, once as YAML and once as JSON (different random variants)
    bulk: dict[str, Any] = {}
    for fmt, dumps in (("yaml", dumps_yaml), ("json", dumps_json)):
        rng = random.Random(f"bulk-{fmt}")
        d = out / "bulk" / fmt
        d.mkdir(parents=True)
        files, total = [], 0
        for i in range(n_files):
            text = dumps(variant(base, i, rng)).encode("utf-8")
            f = d / f"m{i:04d}.{fmt}"
            f.write_bytes(text)
            files.append(str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else str(f))
            total += len(text)
        bulk[fmt] = {"dir": str(d), "files": files, "count": n_files, "bytes": total}

    # -- 3. one metric with n_points history points: inline YAML, inline JSON, sidecar
    hist = long_history(n_points)
    last = {"value": hist["value"][-1], "step": hist["step"][-1], "timestamp": hist["timestamp"][-1]}
    common = {**last, "direction": "minimize", "description": "Training loss, one point per step."}
    h = out / "history"
    (h / "sidecar" / "history").mkdir(parents=True)
    inline = _with_metric(base, {**common, "history": hist})
    (h / "inline.yaml").write_bytes(dumps_yaml(inline).encode("utf-8"))
    (h / "inline.json").write_bytes(dumps_json(inline).encode("utf-8"))
    del inline
    side = h / "sidecar" / "history" / "loss.json"
    side.write_bytes(dumps_history(hist))
    size, digest = file_digest(side)
    ref = {"path": "history/loss.json", "size": size, "digest": digest, "points": n_points}
    (h / "sidecar" / "manifest.yaml").write_bytes(dumps_yaml(_with_metric(base, {**common, "history_file": ref})).encode("utf-8"))
    history = {
        "points": n_points,
        "inline_yaml": str(h / "inline.yaml"),
        "inline_json": str(h / "inline.json"),
        "sidecar_manifest": str(h / "sidecar" / "manifest.yaml"),
        "sidecar_dir": str(h / "sidecar"),
        "sidecar_file": str(side),
    }
    layout = {"bulk": bulk, "history": history}
    stamp_file.write_text(json.dumps({"stamp": stamp, "layout": layout}, indent=1))
    return layout
