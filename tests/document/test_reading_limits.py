"""Every class of bad input gets one readable message, the right exit code, and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.paths import EXAMPLE, minimal

pytestmark = pytest.mark.e2e


def one_problem(r, code: int, needle: str) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2, lines  # the problem, then the summary
    assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "name, text, needle, where",
    [
        ("syntax.yaml", "a: [1, 2\nb: 3\n", "invalid YAML", ":2:2: "),
        ("syntax.json", '{"spec_version": "1.0",\n "id": }', "invalid JSON: Expecting value", ":2:8: "),
        ("dup.yaml", 'spec_version: "1.0"\nid: a\nid: b\n', 'duplicate key "id" (first at line 2)', ":3:1: "),
        ("dup.json", '{"spec_version": "1.0",\n "run": {"status": "X", "status": "Y"}}', 'duplicate key "status"', ":2:25: /run/status: "),
        ("empty.yaml", "", "the document is empty", ":1:1: /: "),
        ("blank.json", "  \n\n", "the document is empty", ":1:1: /: "),
        ("comments.yaml", "# nothing here\n---\n", "the document is empty", ":1:1: /: "),
        ("list.yaml", "- 1\n- 2\n", "the top level must be a mapping (object), not an array", ":1:1: /: "),
        ("scalar.json", '"hello"', "not a string", ":1:1: /: "),
        ("nover.yaml", "id: x\n", "spec_version is missing; this tool knows spec version 1.0", ":1:1: /: "),
        ("newver.yaml", 'spec_version: "2.0"\nid: x\n', "spec version '2.0' is not known to this tool, which knows 1.0", ":1:15: /spec_version: "),
        ("numver.yaml", "spec_version: 1.0\n", "spec_version must be a string", ":1:15: /spec_version: "),
        ("nan.json", '{"spec_version": "1.0", "x": NaN}', 'write non-finite numbers as the string "NaN"', ":1:30: "),
        ("timestamp.yaml", "spec_version: !!timestamp 2026-01-01\n", "YAML tag refused", ":1:15: "),
        ("set.yaml", "spec_version: !!set {a}\n", "YAML tag refused", ":1:15: "),
        ("custom.yaml", "spec_version: !vault abc\n", "YAML tag refused", ":1:15: "),
        ("key.yaml", "? [a, b]\n: 1\n", "is not a string", ":1:3: "),
        ("recursive.yaml", "a: &x [1, *x]\n", "an alias refers to a node that contains it", ":1:11: "),
        ("deep.json", "[" * 5000 + "]" * 5000, "nesting is deeper than 64 levels", ": "),
        ("deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n", "nesting is deeper than 64 levels", ": "),
    ],
)
def test_unreadable_documents(cli, tmp_path: Path, name: str, text: str, needle: str, where: str):
    p = tmp_path / name
    p.write_text(text)
    line = one_problem(cli("validate", str(p)), 1, needle)
    assert line.startswith(str(p) + where), line


def test_non_utf8(cli, tmp_path: Path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes('spec_version: "1.0"\nname: caf\xe9\n'.encode("latin-1"))
    line = one_problem(cli("validate", str(p)), 1, "not UTF-8: byte 0xe9")
    assert line.startswith(f"{p}:2:10: ")


def test_utf8_bom_is_accepted(cli, tmp_path: Path):
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert cli("validate", str(p)).returncode == 0


def test_hostile_yaml_is_refused_not_executed(cli, tmp_path: Path):
    marker = tmp_path / "pwned"
    for i, payload in enumerate(
        [
            f"!!python/object/apply:os.system ['touch {marker}']",
            f"!!python/object/new:os.system ['touch {marker}']",
            "!!python/name:os.system",
            f"!!python/object/apply:subprocess.check_call [[touch, {marker}]]",
        ]
    ):
        p = tmp_path / f"hostile{i}.yaml"
        p.write_text(f'spec_version: "1.0"\nid: {payload}\n')
        one_problem(cli("validate", str(p)), 1, "YAML tag refused")
    assert not marker.exists()
    # through the Python API as well
    import manifest
    from manifest.core.problems import InvalidManifest

    with pytest.raises(InvalidManifest, match="tag refused"):
        manifest.loads(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert not marker.exists()


def test_alias_bomb_is_bounded(cli, tmp_path: Path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):  # 9**12 nodes if expanded
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    p = tmp_path / "bomb.yaml"
    p.write_text("\n".join(lines) + "\n")
    one_problem(cli("validate", str(p), timeout=60), 1, "aliases expand the document by more than 100,000 nodes")


def test_aliases_of_one_long_string_are_bounded_in_characters(cli, tmp_path: Path):
    """1,000 aliases of a 1 MB string are only 1,000 nodes, but a gigabyte once expanded: every
    consumer (validation, the import digest, diff) would build it. Refused when read."""
    text = 'spec_version: "1.0"\nid: x\ndescription: &d "' + "x" * 1_000_000 + '"\ntags:\n' + "".join(f"  t{i}: *d\n" for i in range(1000))
    p = tmp_path / "wide.yaml"
    p.write_text(text)
    one_problem(cli("validate", str(p), timeout=60), 1, "aliases expand the document by more than 1,048,576 characters of text")
    r = cli("import", str(p), "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", timeout=120)
    assert r.returncode == 1 and "1,048,576 characters" in r.stdout + r.stderr, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert not (tmp_path / "mlflow.db").exists()  # refused before any store is opened


def test_modest_aliases_are_fine(cli, tmp_path: Path):
    text = (
        'spec_version: "1.0"\nid: x\nname: aliases\n'
        "provenance:\n  created_at: &t 2026-01-02T03:04:05.678Z\n  created_by: {name: t, version: '0'}\n"
        "run:\n  status: FINISHED\n  start_time: *t\n"
    )
    p = tmp_path / "alias.yaml"
    p.write_text(text)
    r = cli("validate", str(p))
    assert r.returncode == 0, r.stdout


def test_hundred_megabyte_file_is_refused_by_size(cli, tmp_path: Path):
    p = tmp_path / "huge.json"
    with p.open("wb") as fh:
        fh.write(b'{"spec_version": "1.0", "description": "')
        fh.write(b"x" * (100 * 1024 * 1024))
        fh.write(b'"}')
    r = cli("validate", str(p))
    line = one_problem(r, 2, "file is 100.0 MiB, over the limit of 64.0 MiB (raise it with --max-file-size)")
    assert line.startswith(str(p) + ": ")


def test_hundred_megabyte_file_validated_when_allowed(cli, tmp_path: Path):
    d = minimal()
    d["description"] = "x" * (100 * 1024 * 1024)
    p = tmp_path / "huge.json"
    p.write_text(json.dumps(d))
    r = cli("validate", "--max-file-size", "128M", str(p))
    assert r.returncode == 0, r.stdout[-500:]


def test_missing_path_and_empty_directory(cli, tmp_path: Path):
    r = cli("validate", str(tmp_path / "nope.yaml"))
    one_problem(r, 2, "no such file or directory")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    r = cli("validate", str(tmp_path / "empty"))
    assert r.returncode == 2
    assert "directory holds no .yaml, .yml or .json file" in r.stdout


def test_io_error_exits_2(cli):
    """Reading /proc/self/mem at offset 0 fails with EIO for any user, root included."""
    line = one_problem(cli("validate", "/proc/self/mem"), 2, "cannot read: Input/output error")
    assert line.startswith("/proc/self/mem: ")


def test_mixed_invalid_and_unreadable_exits_2(cli, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\n")
    r = cli("validate", str(bad), str(tmp_path / "missing.yaml"))
    assert r.returncode == 2
    assert "spec_version is missing" in r.stdout and "no such file" in r.stdout
