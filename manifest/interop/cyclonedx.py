"""A manifest's model as a CycloneDX 1.6 ML-BOM (JSON): the model with its model card, the data it
was trained and evaluated on, and the Python packages of its environment.

One BOM describes one model (``metadata.component``, of type ``machine-learning-model``); a run with
several models gives several BOMs (:func:`ml_boms`). The BOM is a pure function of the manifest:
its serial number is derived from the manifest id and the model name, its timestamp is the
manifest's, never the clock's, so the same manifest gives the same bytes.

What CycloneDX has no field for is kept, not guessed, in ``properties`` named
``experiment-manifest:<what>``: a model's directory digest (``dirHash`` is a SHA-256 of a file
listing, not of the model's bytes, so it is no CycloneDX ``SHA-256`` hash), its framework, a
metric's standard deviation and repetitions (a standard deviation is not a confidence interval;
``confidenceInterval`` comes only from a recorded ``interval``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

from ..core.reals import json_real, same_real
from ..document.writer import normalize
from .in_toto import pypi_purl, resource_uri

SPEC_VERSION = "1.6"
SCHEMA = "http://cyclonedx.org/schema/bom-1.6.schema.json"
#: Namespace of property names (CycloneDX property taxonomy style: ``<namespace>:<name>``).
PROPERTY = "experiment-manifest:"
#: Manifest digest algorithms and their CycloneDX names (``dirHash`` has none).
HASH_ALGORITHMS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512", "sha3_256": "SHA3-256", "sha3_512": "SHA3-512", "blake2b": "BLAKE2b-512"}
_SERIAL = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_RELATIVE_REF = re.compile(r"[^\s<>\"{}|\\^`\x00-\x1f\x7f-\x9f:]+")


def serial_number(manifest_id: str, model_name: str) -> str:
    """``urn:uuid:`` + UUIDv5 (URL namespace) of ``<manifest id>#models/<model name, percent-encoded>``:
    stable for one model of one manifest, distinct for every other."""
    name = manifest_id + "#models/" + quote(model_name, safe="")
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _hashes(digest: Any) -> list[dict[str, str]]:
    return [{"alg": alg, "content": digest[key]} for key, alg in HASH_ALGORITHMS.items() if isinstance(digest, dict) and isinstance(digest.get(key), str)]


def _text(v: Any) -> str:
    """A manifest real or count as the string CycloneDX wants (``1.0``, ``NaN``, ``5``)."""
    v = json_real(v)
    return repr(v) if isinstance(v, float) else str(v)


def _props(pairs: list[tuple[str, Any]]) -> list[dict[str, str]]:
    return [{"name": PROPERTY + name, "value": value if isinstance(value, str) else _text(value)} for name, value in pairs if value not in (None, "")]


def _url(text: Any) -> str | None:
    """An absolute URI, or a relative reference such as ``data/iris.csv``; nothing else is a URL."""
    uri = resource_uri(text)
    if uri:
        return uri
    return text if isinstance(text, str) and _RELATIVE_REF.fullmatch(text) else None


def _licenses(expression: Any) -> list[dict[str, str]] | None:
    return [{"expression": expression}] if isinstance(expression, str) and expression else None


def _add(d: dict[str, Any], key: str, value: Any) -> None:
    if value not in (None, "", [], {}):
        d[key] = value


# --------------------------------------------------------------------------- components


def data_component(inp: dict[str, Any]) -> dict[str, Any]:
    """A data input as a ``data`` component: its file digests as hashes, a directory's ``dirHash``
    and the input's role, kind, rows and split source as properties."""
    name = str(inp.get("name", ""))
    data: dict[str, Any] = {"type": "dataset", "name": name}
    url = _url(inp.get("uri"))
    _add(data, "contents", {"url": url} if url else None)
    comp: dict[str, Any] = {"type": "data", "bom-ref": f"data:{name}", "name": name}
    _add(comp, "version", inp.get("version"))
    _add(comp, "description", inp.get("description"))
    _add(comp, "hashes", _hashes(inp.get("digest")))
    _add(comp, "licenses", _licenses(inp.get("license")))
    split = inp.get("split") or {}
    digest = inp.get("digest") or {}
    _add(comp, "properties", _props([("role", inp.get("role")), ("kind", inp.get("kind")), ("rows", inp.get("rows")), ("size", inp.get("size")), ("split-of", split.get("of")), ("dirHash", digest.get("dirHash"))]))
    comp["data"] = [data]
    return comp


def library_components(packages: dict[str, Any]) -> list[dict[str, Any]]:
    """Each installed distribution as a ``library`` with its purl (also its ``bom-ref``); names that
    normalise to one purl are listed once."""
    out: dict[str, dict[str, Any]] = {}
    for name, version in sorted(packages.items()):
        purl = pypi_purl(name, str(version))
        out.setdefault(purl, {"type": "library", "bom-ref": purl, "name": name, "version": str(version), "purl": purl})
    return list(out.values())


# --------------------------------------------------------------------------- the model card


def _run_metric_match(manifest: dict[str, Any], name: str, dataset: Any, value: Any) -> dict[str, Any]:
    """The run's metric of that name on that dataset with that value, whose spread applies here."""
    metric = (manifest.get("metrics") or {}).get(name) or {}
    same = metric.get("dataset") == dataset and "value" in metric and value is not None and same_real(metric["value"], value)
    return metric if same else {}


def performance_metrics(manifest: dict[str, Any], model: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
    """The model's metrics, and with a single model the run's other metrics too (a run with one
    model measured that model); ``slice`` is the dataset, ``confidenceInterval`` a recorded
    ``interval``. Also the properties for what CycloneDX cannot hold (std, repetitions, level)."""
    entries: list[tuple[str, Any, Any, dict[str, Any]]] = []
    for mm in model.get("metrics") or []:
        dataset = (mm.get("dataset") or {}).get("name")
        entries.append((str(mm.get("name", "")), mm.get("value"), dataset, _run_metric_match(manifest, str(mm.get("name", "")), dataset, mm.get("value"))))
    if len(manifest.get("models") or []) == 1:
        seen = {(name, dataset) for name, _, dataset, _ in entries}
        entries += [(name, m.get("value"), m.get("dataset"), m) for name, m in sorted((manifest.get("metrics") or {}).items()) if (name, m.get("dataset")) not in seen]
    metrics, props = [], []
    for name, value, dataset, run_metric in entries:
        pm: dict[str, Any] = {"type": name, "value": _text(value)}
        _add(pm, "slice", dataset)
        interval = run_metric.get("interval") or {}
        if "lower" in interval and "upper" in interval:
            pm["confidenceInterval"] = {"lowerBound": _text(interval["lower"]), "upperBound": _text(interval["upper"])}
        metrics.append(pm)
        where = f"metric:{name}" + (f"@{dataset}" if dataset else "")
        props += [(f"{where}:{k}", v) for k, v in (("std", run_metric.get("std")), ("repetitions", run_metric.get("repetitions")), ("interval-level", interval.get("level")), ("interval-method", interval.get("method")))]
    return metrics, props


def model_card(manifest: dict[str, Any], model: dict[str, Any], datasets: list[str]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The model card (task, datasets by reference, metrics, use cases and limitations) and the
    properties that go beside it."""
    card = model.get("card") or {}
    params: dict[str, Any] = {}
    _add(params, "task", card.get("task"))
    _add(params, "datasets", [{"ref": ref} for ref in datasets])
    out: dict[str, Any] = {}
    _add(out, "modelParameters", params)
    metrics, props = performance_metrics(manifest, model)
    _add(out, "quantitativeAnalysis", {"performanceMetrics": metrics} if metrics else None)
    considerations: dict[str, Any] = {}
    _add(considerations, "useCases", [card["intended_use"]] if card.get("intended_use") else None)
    _add(considerations, "technicalLimitations", [card["limitations"]] if card.get("limitations") else None)
    _add(out, "considerations", considerations)
    return out, [("framework", card.get("framework")), ("parameter-count", card.get("parameter_count")), *props]


def model_component(manifest: dict[str, Any], model: dict[str, Any], datasets: list[str]) -> dict[str, Any]:
    """The model: a ``machine-learning-model`` whose files are ``file`` sub-components with their
    hashes (a model of several files has no single hash of its own), its card, authors, license and
    where it and its code live."""
    name = str(model.get("name", ""))
    ref = f"model:{name}"
    comp: dict[str, Any] = {"type": "machine-learning-model", "bom-ref": ref, "name": name}
    _add(comp, "authors", [{"name": a["name"]} for a in manifest.get("authors") or [] if isinstance(a.get("name"), str) and a["name"]])
    _add(comp, "licenses", _licenses(model.get("license") or manifest.get("license")))
    refs = [{"type": "distribution", "url": u} for u in [resource_uri(model.get("uri"))] if u]
    refs += [{"type": "vcs", "url": u} for u in [resource_uri((manifest.get("code") or {}).get("repository"))] if u]
    _add(comp, "externalReferences", refs)
    card, props = model_card(manifest, model, datasets)
    comp["modelCard"] = card
    flavors = [("flavor", f) for f in model.get("flavors") or []]
    _add(comp, "properties", _props([("model-id", model.get("id")), ("size", model.get("size")), ("dirHash", (model.get("digest") or {}).get("dirHash")), *flavors, *props]))
    files = [{"type": "file", "bom-ref": f"{ref}/{f.get('path', '')}", "name": str(f.get("path", "")), "hashes": _hashes(f.get("digest"))} for f in model.get("files") or []]
    _add(comp, "components", files)
    return comp


# --------------------------------------------------------------------------- the BOM


def ml_bom(manifest: dict[str, Any], model_index: int = 0, *, serial: str | None = None) -> dict[str, Any]:
    """The CycloneDX 1.6 BOM of model ``model_index`` of ``manifest`` (a dict of JSON values).

    ``serial`` replaces the derived serial number (:func:`serial_number`); it must be a lowercase
    ``urn:uuid:``. Raises :class:`ValueError` when the manifest has no such model.
    """
    models = manifest.get("models") or []
    if not 0 <= model_index < len(models):
        raise ValueError(f"the manifest has {len(models)} model(s), so no model {model_index}")
    model = models[model_index]
    if serial is not None and not _SERIAL.fullmatch(serial):
        raise ValueError(f"a CycloneDX serial number is urn:uuid:<lowercase UUID>, not {serial!r}")
    prov = manifest.get("provenance") or {}
    run = manifest.get("run") or {}
    data = [data_component(inp) for inp in manifest.get("data") or []]
    libraries = library_components((manifest.get("environment") or {}).get("packages") or {})
    component = model_component(manifest, model, [d["bom-ref"] for d in data])
    tool = prov.get("created_by") or {}
    metadata: dict[str, Any] = {}
    _add(metadata, "timestamp", prov.get("created_at") or run.get("end_time") or run.get("start_time"))
    _add(metadata, "tools", {"components": [{"type": "application", "name": str(tool["name"]), "version": str(tool.get("version", ""))}]} if tool.get("name") else None)
    metadata["component"] = component
    _add(metadata, "properties", _props([("manifest-id", manifest.get("id")), ("run-name", manifest.get("name")), ("source-run-id", (prov.get("source") or {}).get("run_id"))]))
    bom: dict[str, Any] = {
        "$schema": SCHEMA,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial or serial_number(str(manifest.get("id", "")), component["name"]),
        "version": 1,
        "metadata": metadata,
    }
    _add(bom, "components", data + libraries)
    if libraries:
        bom["dependencies"] = [{"ref": component["bom-ref"], "dependsOn": [lib["bom-ref"] for lib in libraries]}]
    return normalize(bom)


def ml_boms(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One BOM per model of the manifest, in the manifest's order."""
    return [ml_bom(manifest, i) for i in range(len(manifest.get("models") or []))]
