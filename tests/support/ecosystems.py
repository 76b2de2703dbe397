"""Each ecosystem's own check of what a bundle holds, in one place for the format tests and the
end-to-end bundle test: the in-toto bindings, cyclonedx-python-lib's strict validator, cffconvert
and roc-validator (each in a venv of its own, ``make tools``), and Chromium (``make system-deps``).
A missing tool fails the test with what to run; nothing is skipped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement

ROOT = Path(__file__).resolve().parents[2]
CFFCONVERT = ROOT / ".tools" / "cff" / "bin" / "cffconvert"
CHROMIUM = Path("/usr/bin/chromium")


def validate_descriptor(rd: Any, where: str) -> None:
    """The bindings' rule (name, uri or digest), then the spec's (uri, digest or content)."""
    ResourceDescriptor.copy_from_pb(rd).validate()
    if not (rd.uri or rd.digest or rd.content):
        raise ValueError(f"{where}: a ResourceDescriptor needs uri, digest or content")


def validate_provenance(p: provenance_pb2.Provenance) -> None:
    """The checks of ``Provenance.Validate`` of the reference (Go) bindings, one for one."""
    if not p.HasField("build_definition"):
        raise ValueError("BuildDefinition required")
    bd = p.build_definition
    if not bd.build_type:
        raise ValueError("BuildDefinition.BuildType required")
    if not bd.HasField("external_parameters"):
        raise ValueError("BuildDefinition.ExternalParameters required")
    for i, rd in enumerate(bd.resolved_dependencies):
        validate_descriptor(rd, f"resolvedDependencies[{i}]")
    if not p.HasField("run_details"):
        raise ValueError("RunDetails required")
    if not p.run_details.HasField("builder"):
        raise ValueError("RunDetails.Builder required")
    if not p.run_details.builder.id:
        raise ValueError("Builder.Id required")
    for i, rd in enumerate(p.run_details.builder.builder_dependencies):
        validate_descriptor(rd, f"builderDependencies[{i}]")
    for i, rd in enumerate(p.run_details.byproducts):
        validate_descriptor(rd, f"byproducts[{i}]")


def check(st: dict[str, Any]) -> provenance_pb2.Provenance:
    """Parse and validate as a consumer would; raise on anything the bindings refuse."""
    pb = json_format.Parse(json.dumps(st), statement_pb2.Statement(), ignore_unknown_fields=False)
    Statement.copy_from_pb(pb).validate()
    for i, rd in enumerate(pb.subject):
        validate_descriptor(rd, f"subject[{i}]")
    prov = json_format.Parse(json.dumps(st["predicate"]), provenance_pb2.Provenance(), ignore_unknown_fields=False)
    validate_provenance(prov)
    return prov


def check_in_toto(path: Path) -> provenance_pb2.Provenance:
    return check(json.loads(path.read_text(encoding="utf-8")))


def check_cyclonedx(path: Path) -> None:
    from cyclonedx.schema import SchemaVersion  # lazy: only the BOM checks need the library
    from cyclonedx.validation.json import JsonStrictValidator  # lazy: as above

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(path.read_text(encoding="utf-8"))
    assert error is None, f"{path}: {error}"


def check_citation(path: Path) -> None:
    if not CFFCONVERT.exists():
        pytest.fail(f"{CFFCONVERT} is missing: run make tools")
    proc = subprocess.run([str(CFFCONVERT), "--validate", "-i", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def render_page(page: Path, screenshot: Path) -> tuple[str, list[str], Path]:
    """Open ``page`` in headless Chromium: its rendered text, every request but its own, and a
    full-page screenshot."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run make system-deps (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright  # lazy: only the page checks drive a browser

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            url = page.resolve().as_uri()
            requests: list[str] = []
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto(url)
            broken = tab.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
            assert broken == 0, f"{broken} image(s) did not decode"
            text = tab.inner_text("body")
            tab.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return text, [u for u in requests if u != url], screenshot


def check_crate(root: Path) -> int:
    """roc-validator (Process Run Crate, REQUIRED level, offline) on the crate directory ``root``,
    then ro-crate-py loads it; the number of CreateActions."""
    import tempfile  # lazy: as below

    from rocrate.rocrate import ROCrate  # lazy: only the crate checks need the library

    from support.rocrate_offline import fill_cache, validate  # lazy: as above

    with tempfile.TemporaryDirectory(prefix="roc-") as tmp:
        verdict = validate(root, fill_cache(Path(tmp)))
    assert verdict.passed, verdict.summary()
    crate = ROCrate(str(root))
    actions = [e for e in crate.get_entities() if "CreateAction" in (e.type if isinstance(e.type, list) else [e.type])]
    assert actions and all(a.get("instrument") for a in actions), [a.id for a in actions]
    return len(actions)
