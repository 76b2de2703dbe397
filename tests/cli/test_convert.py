"""``manifest convert``: one manifest in each ecosystem's format, checked by that ecosystem's own
reader; an invalid manifest is refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.ecosystems import check, check_citation, check_cyclonedx
from support.paths import EXAMPLE

from manifest.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_in_toto(tmp_path: Path):
    r = run("convert", str(EXAMPLE), "--to", "in-toto")
    assert r.exit_code == 0, r.output
    check(json.loads(r.stdout))


def test_cyclonedx_to_a_file(tmp_path: Path):
    out = tmp_path / "bom.json"
    r = run("convert", str(EXAMPLE), "--to", "cyclonedx", "-o", str(out))
    assert r.exit_code == 0, r.output
    check_cyclonedx(out)
    assert json.loads(out.read_text())["metadata"]["component"]["type"] == "machine-learning-model"


def test_ro_crate_loads_with_ro_crate_py(tmp_path: Path):
    crate = tmp_path / "crate"
    crate.mkdir()
    r = run("convert", str(EXAMPLE), "--to", "ro-crate", "-o", str(crate / "ro-crate-metadata.json"))
    assert r.exit_code == 0, r.output
    from rocrate.rocrate import ROCrate

    actions = [e for e in ROCrate(str(crate)).get_entities() if e.type == "CreateAction"]
    assert len(actions) == 1 and actions[0].get("instrument")


@pytest.mark.e2e
def test_citation_passes_cffconvert(tmp_path: Path):
    out = tmp_path / "CITATION.cff"
    assert run("convert", str(EXAMPLE), "--to", "citation", "-o", str(out)).exit_code == 0
    check_citation(out)
    assert "Researcher" in out.read_text()


def test_an_invalid_manifest_is_refused_and_nothing_written(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace('spec_version: "1.0"', 'spec_version: "1.0"\nunknown_field: 1'))
    out = tmp_path / "out.json"
    r = run("convert", str(bad), "--to", "in-toto", "-o", str(out))
    assert r.exit_code == 1 and "unknown_field" in r.output and not out.exists()


def test_model_choice_is_checked():
    assert run("convert", str(EXAMPLE), "--to", "in-toto", "--model", "x").exit_code == 2
    r = run("convert", str(EXAMPLE), "--to", "cyclonedx", "--model", "nope")
    assert r.exit_code == 2 and "no model 'nope'" in r.output and "model" in r.output
