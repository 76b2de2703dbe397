"""``manifest digest``, run through its installed entry point, against ``sha256sum`` and ``md5sum``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import ROOT

pytestmark = pytest.mark.e2e

SPEC = (ROOT / "spec" / "manifest-1.0.md").read_text(encoding="utf-8")


def _sum(tool: str, path: Path) -> str:
    return subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def _shell_dir_hash(root: Path) -> str:
    """The pipeline of spec 6.3, run by the shell (names without line feed or backslash)."""
    script = "(cd \"$1\" && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -r -d '\\n' sha256sum) | sha256sum | cut -d' ' -f1"
    return subprocess.run(["bash", "-c", script, "_", str(root)], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_text("hello\n")
    (root / ".hidden").write_text("h")
    (root / "with space é.csv").write_text("1,2\n")
    (root / "sub" / "b.bin").write_bytes(bytes(range(256)) * 40)
    (root / "sub" / "deeper" / "c").write_text("")
    (root / "link").symlink_to(root / "a.txt")
    return root


def test_a_file_and_a_directory_as_sha256sum_sees_them(cli, tree: Path):
    f = tree / "sub" / "b.bin"
    r = cli("digest", str(f), str(tree))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"file  10240  sha256={_sum('sha256sum', f)}  {f}"
    total = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())
    assert lines[1] == f"directory  {total}  dirHash={_shell_dir_hash(tree)}  {tree}"


def test_json_holds_what_a_manifest_holds(cli, tree: Path):
    f = tree / "a.txt"
    r = cli("digest", "--format", "json", "-a", "md5", "-a", "sha256", str(f), str(tree))
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got[0] == {"path": str(f), "kind": "file", "size": 6, "digest": {"md5": _sum("md5sum", f), "sha256": _sum("sha256sum", f)}}
    assert got[1]["kind"] == "directory" and got[1]["digest"] == {"dirHash": _shell_dir_hash(tree)}  # no md5 for a tree


def test_the_manifest_digest_of_the_spec_vector(cli, tmp_path: Path):
    """Spec 13.2's first test vector: the SHA-256 of the canonical text the spec prints."""
    section = SPEC[SPEC.index("### 13.2 Manifest digest") : SPEC.index("### 13.3")]
    manifest_yaml = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    canonical = re.search(r"```text\n(.*?)\n```", section, re.S).group(1)
    (tmp_path / "m.yaml").write_text(manifest_yaml)
    r = cli("digest", "--manifest", "--format", "json", str(tmp_path / "m.yaml"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"path": str(tmp_path / "m.yaml"), "digest": {"sha256": hashlib.sha256(canonical.encode()).hexdigest()}}]
    r = cli("digest", "--manifest", "-", input=manifest_yaml)
    assert r.stdout == f"manifest  sha256={hashlib.sha256(canonical.encode()).hexdigest()}  -\n"


def test_an_invalid_manifest_exits_1_with_its_problems(cli, tmp_path: Path):
    (tmp_path / "bad.yaml").write_text('spec_version: "1.0"\n')
    r = cli("digest", "--manifest", str(tmp_path / "bad.yaml"))
    assert r.returncode == 1 and r.stdout == "" and "missing required property" in r.stderr and "Traceback" not in r.stderr


def test_unreadable_paths_exit_2_in_one_line_each_and_the_rest_is_printed(cli, tmp_path: Path):
    (tmp_path / "ok").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    r = cli("digest", str(tmp_path / "missing"), str(tmp_path / "fifo"), str(tmp_path / "ok"), timeout=60)
    assert r.returncode == 2
    assert r.stdout == f"file  1  sha256={_sum('sha256sum', tmp_path / 'ok')}  {tmp_path / 'ok'}\n"
    errors = r.stderr.splitlines()
    assert errors == [f"manifest: {tmp_path / 'missing'}: no such file or directory",
                      f"manifest: {tmp_path / 'fifo'}: is not a regular file or directory (a FIFO, device or socket); it is not opened"]


def test_a_file_that_may_not_be_read_exits_2(tmp_path: Path):
    """Run as an unprivileged user (CI runs as root, who reads files whatever their permissions)."""
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="manifest-perm-", dir="/tmp"))
    try:
        d.chmod(0o755)
        (d / "secret").write_text("x")
        (d / "secret").chmod(0)
        cmd = [str(Path(sys.executable).parent / "manifest"), "digest", str(d)]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(d)})
        assert r.returncode == 2, (r.stdout, r.stderr)
        assert "permission denied" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_names_a_tree_cannot_hold_are_refused_and_printed_escaped(cli, tmp_path: Path):
    nl = tmp_path / "nl"
    nl.mkdir()
    (nl / "a\nfake line").write_text("A")
    r = cli("digest", str(nl))
    assert r.returncode == 2 and r.stdout == ""
    (line,) = r.stderr.splitlines()  # the line feed of the name is escaped, not printed
    assert "a\\nfake line" in line and "line feed" in line and "Traceback" not in line
    raw = tmp_path / "raw"
    raw.mkdir()
    with open(os.fsencode(raw) + b"/caf\xe9", "wb") as fh:
        fh.write(b"x")
    r = cli("digest", str(raw))
    assert r.returncode == 2 and "caf\\xe9" in r.stderr and "UTF-8" in r.stderr and "internal error" not in r.stderr


def test_odd_file_names_given_as_paths_are_digested_and_printed_on_one_line(manifest_bin: Path, tmp_path: Path):
    odd = tmp_path / "two\nlines"
    odd.write_text("x")
    raw = os.fsencode(tmp_path) + b"/caf\xe9"
    with open(raw, "wb") as fh:
        fh.write(b"x")
    proc = subprocess.run([str(manifest_bin), "digest", str(odd), raw], capture_output=True)  # bytes: the name is not UTF-8
    assert proc.returncode == 0, proc.stderr
    sha = hashlib.sha256(b"x").hexdigest()
    assert proc.stdout.decode("utf-8").splitlines() == [f"file  1  sha256={sha}  {tmp_path}/two\\nlines", f"file  1  sha256={sha}  {tmp_path}/caf\\xe9"]


def test_usage_errors_exit_2(cli):
    for args in (("digest",), ("digest", "-a", "crc32", "x"), ("digest", "--format", "xml", "x")):
        r = cli(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, args
