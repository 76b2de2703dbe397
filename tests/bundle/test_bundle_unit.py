"""Fast unit tests of manifest.bundle: results tables, the layout, and checking a hand-made bundle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from manifest.bundle.checking import check_bundle
from manifest.bundle.layout import is_bundle_part
from manifest.bundle.tables import render_latex, render_markdown, results_table


def run(name: str, metrics: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {"name": name, "params": params, "metrics": {k: {"value": v} for k, v in metrics.items()}}


# --------------------------------------------------------------------------- tables


def test_replicates_grouped_by_seed_params():
    docs = [
        run("a", {"acc": 0.9}, lr=0.1, seed=1, const="x"),
        run("b", {"acc": 0.8}, lr=0.1, seed=2, const="x"),
        run("c", {"acc": 0.5}, lr=0.2, seed=1, const="x"),
        run("d", {"acc": 0.7}, lr=0.2, seed=2, const="x"),
        run("e", {"acc": 0.6}, lr=0.2, seed=3, const="x"),
    ]
    table = results_table(docs, ["acc", "loss"])
    # lr=0.1: mean 0.85, sd 0.1/√2 = 0.0707, CI 0.85 ± 12.706 · 0.05 = [0.2147, 1.4853];
    # lr=0.2: mean 0.6, sd 0.1, CI 0.6 ± 4.303 · 0.1/√3 = [0.3516, 0.8484]; decimals from the sd
    assert table == {
        "param_columns": ["lr"],
        "seed_params": ["seed"],
        "metrics": ["acc", "loss"],
        "replicated": True,
        "rows": [
            {"run": "a (+1 replicate)", "params": {"lr": "0.1"}, "metrics": {"acc": "0.850 ± 0.071", "loss": "—"}, "ci": {"acc": "[0.215, 1.485]", "loss": "—"}, "n": 2},
            {"run": "c (+2 replicates)", "params": {"lr": "0.2"}, "metrics": {"acc": "0.60 ± 0.10", "loss": "—"}, "ci": {"acc": "[0.35, 0.85]", "loss": "—"}, "n": 3},
        ],
    }


def test_a_reproduction_is_never_counted_as_a_replicate():
    """A re-run of one seed (manifest reproduce) repeats a measurement: the table shows the run once."""
    original = run("a", {"acc": 1.0}, lr=0.1, seed=1)
    other = run("b", {"acc": 0.5}, lr=0.2, seed=1)
    again = run("reproduce a", {"acc": 1.0}, lr=0.1, seed=1)
    again["provenance"] = {"derived_from": {"id": "urn:uuid:x", "relation": "reproduced"}}
    table = results_table([original, other, again], ["acc"])
    assert [(r["run"], r["n"], r["metrics"]["acc"]) for r in table["rows"]] == [("a", 1, "1"), ("b", 1, "0.5")]


def test_runs_with_the_same_seed_are_repeated_measurements_not_replicates():
    """Same params and same seed: one replicate measured twice; it must not make n=2."""
    docs = [run("a", {"acc": 1.0}, lr=0.1, seed=1), run("a again", {"acc": 1.0}, lr=0.1, seed=1), run("b", {"acc": 0.5}, lr=0.1, seed=2), run("c", {"acc": 0.7}, lr=0.2, seed=1)]
    rows = {r["run"]: r for r in results_table(docs, ["acc"])["rows"]}
    pooled = rows["a (+1 replicate, +1 repeated measurement)"]
    assert (pooled["n"], pooled["metrics"]["acc"], pooled["ci"]["acc"]) == (2, "0.75 ± 0.35", "[-2.43, 3.93]")  # seeds 1 and 2, once each: 0.75 ± 12.706 · 0.25
    assert pooled["repeated"] == 1 and (rows["c"]["n"], rows["c"]["metrics"]["acc"], rows["c"]["ci"]["acc"]) == (1, "0.7 ± —", "—")
    alone = results_table([run("x", {"acc": 0.9}, seed=7), run("x2", {"acc": 0.9}, seed=7)], ["acc"])["rows"]
    assert [(r["run"], r["n"], r["metrics"]["acc"]) for r in alone] == [("x (+1 repeated measurement)", 1, "0.9, 0.9")]


def test_seed_like_names_and_runs_without_seeds():
    docs = [run("a", {"acc": 0.5}, random_state=0, **{"model.rng_seed": 1}), run("b", {"acc": 0.25}, random_state=1, **{"model.rng_seed": 1})]
    table = results_table(docs, ["acc"])
    assert table["param_columns"] == [] and table["seed_params"] == ["random_state"]
    assert table["rows"] == [{"run": "a (+1 replicate)", "params": {}, "metrics": {"acc": "0.38 ± 0.18"}, "ci": {"acc": "[-1.21, 1.96]"}, "n": 2}]


def test_a_single_non_finite_value_is_shown():
    table = results_table([run("a", {"acc": "NaN", "top": "Infinity"}, lr=1), run("b", {"acc": 1, "top": 2}, lr=2)], ["acc", "top"])
    assert [r["metrics"] for r in table["rows"]] == [{"acc": "nan", "top": "inf"}, {"acc": "1", "top": "2"}]


def test_replicates_with_a_non_finite_metric_do_not_crash():
    docs = [run("a", {"acc": "NaN"}, seed=1), run("b", {"acc": 0.25}, seed=2)]
    assert results_table(docs, ["acc"])["rows"] == [{"run": "a (+1 replicate)", "params": {}, "metrics": {"acc": "nan ± nan"}, "ci": {"acc": "[nan, nan]"}, "n": 2}]
    no_seed = results_table([run("x", {"acc": 0.123456}, lr=1), run("y", {"acc": 1}, lr=2)], ["acc"])
    assert [(r["run"], r["params"], r["metrics"]) for r in no_seed["rows"]] == [("x", {"lr": "1"}, {"acc": "0.1235"}), ("y", {"lr": "2"}, {"acc": "1"})]


def test_render_markdown_escapes_pipes():
    table = results_table([run("a|b", {"acc": 0.5}, opt="x|y", seed=1), run("c", {"acc": 0.75}, opt="z", seed=2)], ["acc"])
    assert render_markdown(table) == (
        "| run | opt | acc |\n"
        "|---|---|---|\n"
        "| a\\|b | x\\|y | 0.5 |\n"
        "| c | z | 0.75 |\n"
        "\n"
        "Runs that differ only in seed are replicates: mean ± sample standard deviation over n runs.\n"
    )
    assert render_markdown(results_table([run("solo", {"acc": 1.0})], ["acc"])) == "| run | acc |\n|---|---|\n| solo | 1 |\n"


def test_render_latex_escapes():
    table = results_table([run("a_b & c", {"val%": 0.5}, seed=1, **{"lr$": "~^#{}\\"}), run("r2", {"val%": 0.5}, seed=2, **{"lr$": "~^#{}\\"})], ["val%"])
    assert render_latex(table) == (
        "% requires \\usepackage{booktabs}\n"
        "\\begin{table}[htbp]\n"
        "\\centering\n"
        "\\caption{Results by run and metric. Runs that differ only in seed are replicates: mean $\\pm$ sample standard deviation over n runs. "
        "95\\% CI: confidence interval of the mean, Student's t with n $-$ 1 degrees of freedom (--- where n \\textless{} 2). "
        "Decimals follow the standard deviation (2 significant digits); single values show 4.}\n"
        "\\label{tab:results}\n"
        "\\begin{tabular}{lrrr}\n"
        "\\toprule\n"
        "run & n & val\\% & val\\% 95\\% CI \\\\\n"
        "\\midrule\n"
        "a\\_b \\& c (+1 replicate) & 2 & 0.5 $\\pm$ 0 & [0.5, 0.5] \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
        "\\end{table}\n"
    )
    other = results_table([run("x", {"m": 1}, **{"lr$": "~^#{}\\"}), run("y", {"m": 2}, **{"lr$": "a|b<c>"})], ["m"])
    assert render_latex(other).splitlines()[3:5] == ["\\caption{Results by run and metric.}", "\\label{tab:results}"]
    assert render_latex(other).splitlines()[7:10] == ["run & lr\\$ & m \\\\", "\\midrule", "x & \\textasciitilde{}\\textasciicircum{}\\#\\{\\}\\textbackslash{} & 1 \\\\"]
    assert render_latex(other).splitlines()[10] == "y & a\\textbar{}b\\textless{}c\\textgreater{} & 2 \\\\"
    assert "\\label{tab:iris}" in render_latex(other, label="tab:iris")


def test_latex_row_starting_with_a_bracket_is_not_taken_for_a_length():
    """After ``\\\\`` LaTeX reads ``[...]`` as the row's extra space: the first cell is guarded."""
    rows = render_latex(results_table([run("[x]", {"m": 1}, lr=1), run("y", {"m": 2}, lr=2)], ["m"])).splitlines()
    assert "{}[x] & 1 & 1 \\\\" in rows


# --------------------------------------------------------------------------- layout


@pytest.mark.parametrize(("rel", "part"), [
    ("index.json", True), ("SHA256SUMS", True), ("README.md", True), ("results.md", True), ("results.tex", True),
    ("plots/loss.png", True), ("manifests/run.yaml", True),
    ("notes.txt", False), ("sub/index.json", False), ("plots", False), ("manifests", False), ("results.csv", False),
])
def test_is_bundle_part(rel, part):
    assert is_bundle_part(rel) is part


# --------------------------------------------------------------------------- checking


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A bundle written by hand: a manifest, an index with its digest, a README, SHA256SUMS over all."""
    d = tmp_path / "paper"
    (d / "manifests").mkdir(parents=True)
    manifest = b'spec_version: "1.0"\nname: r\n'
    (d / "manifests" / "r.yaml").write_bytes(manifest)
    (d / "README.md").write_bytes(b"# bundle\n")
    (d / "index.json").write_text(json.dumps({"bundle_version": 1, "manifests": [{"path": "manifests/r.yaml", "sha256": sha(manifest)}]}))
    lines = [f"{sha((d / rel).read_bytes())}  {rel}" for rel in ("README.md", "index.json", "manifests/r.yaml")]
    (d / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return d


def codes(d: Path) -> list[tuple[str, str | None]]:
    return [(p.code, p.file) for p in check_bundle(d)]


def test_intact_bundle(bundle: Path):
    assert check_bundle(bundle) == []


def test_missing_file(bundle: Path):
    (bundle / "README.md").unlink()
    assert codes(bundle) == [("bundle-file-missing", str(bundle / "README.md"))]


def test_changed_byte(bundle: Path):
    (bundle / "README.md").write_bytes(b"# bundlE\n")
    problems = check_bundle(bundle)
    assert [(p.code, p.file) for p in problems] == [("bundle-checksum-mismatch", str(bundle / "README.md"))]
    assert problems[0].message == f"README.md: sha256 is {sha(b'# bundlE' + bytes([10]))}, SHA256SUMS says {sha(b'# bundle' + bytes([10]))}"


def test_changed_manifest_is_a_checksum_and_an_index_problem(bundle: Path):
    (bundle / "manifests" / "r.yaml").write_bytes(b'spec_version: "1.0"\nname: R\n')
    assert codes(bundle) == [("bundle-checksum-mismatch", str(bundle / "manifests" / "r.yaml")), ("bundle-index-mismatch", str(bundle / "manifests" / "r.yaml"))]


def test_unlisted_file(bundle: Path):
    (bundle / "plots").mkdir()
    (bundle / "plots" / "extra.png").write_bytes(b"\x89PNG")
    problems = check_bundle(bundle)
    assert [(p.code, p.message) for p in problems] == [("bundle-file-unlisted", "plots/extra.png is not covered by SHA256SUMS")]


def test_bad_sums_line(bundle: Path):
    sums = bundle / "SHA256SUMS"
    sums.write_text(sums.read_text() + "not a checksum line\n")
    problems = check_bundle(bundle)
    assert [(p.code, p.line, p.column, p.message) for p in problems] == [("bundle-sums-syntax", 4, 1, "line 4 is not '<sha256>  <path>'")]


def test_missing_sums_and_index(bundle: Path):
    (bundle / "SHA256SUMS").unlink()
    (bundle / "index.json").write_text("{}")
    assert codes(bundle) == [("bundle-sums-missing", str(bundle / "SHA256SUMS")), ("bundle-index-missing", str(bundle / "index.json"))]


def test_manifest_listed_in_the_index_but_missing(bundle: Path):
    index = json.loads((bundle / "index.json").read_text())
    index["manifests"].append({"path": "manifests/gone.yaml", "sha256": "0" * 64})
    (bundle / "index.json").write_text(json.dumps(index))
    lines = [f"{sha((bundle / rel).read_bytes())}  {rel}" for rel in ("README.md", "index.json", "manifests/r.yaml")]
    (bundle / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    assert codes(bundle) == [("bundle-manifest-missing", str(bundle / "manifests" / "gone.yaml"))]
