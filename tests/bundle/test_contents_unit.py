"""A bundle's source archives and data copies: git's own ids are the expected values (git computes
them here, the code under test computes them without git), archives are deterministic and unpack
safely, data copies are refused when they differ from what was recorded."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from support.mlflow_runs import git

from manifest.bundle.contents import DataCopies, archive_code, bundle_data_path, check_source, copy_data, extract_source, place_data, write_tar
from manifest.core.problems import IntegrityError, NotFound
from manifest.machine.git import commit_id, commit_object, commit_tree, tree_id

pytestmark = pytest.mark.e2e  # git runs in subprocesses


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    (repo / "src" / "deep").mkdir(parents=True)
    (repo / "src" / "deep" / "x.py").write_text("print('x')\n")
    (repo / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "link").symlink_to("src/deep/x.py")
    (repo / "name with space.txt").write_text("y\n")
    (repo / ".gitattributes").write_text("src/deep/x.py export-ignore\nrun.sh export-subst\n")  # git archive would drop or alter these
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q", "-m", "c")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    return repo, head


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_tree_and_commit_ids_agree_with_git(tmp_path: Path):
    repo, head = _repo(tmp_path)
    tree, entries, submodules = commit_tree(repo, head)
    assert tree == _git(repo, "rev-parse", "HEAD^{tree}") and not submodules
    assert {e.path for e in entries} == {"src/deep/x.py", "run.sh", "link", "name with space.txt", ".gitattributes"}
    assert commit_id(commit_object(repo, head)) == head
    assert tree_id(repo / "src") == _git(repo, "rev-parse", "HEAD:src")  # a subtree, hashed from the files


def test_the_archive_is_the_commit_and_checks_out_offline(tmp_path: Path):
    repo, head = _repo(tmp_path)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    entry = archive_code(bundle, {"commit": head}, None, repo=repo, anonymize=False, done={}, log=lambda s: None)
    assert entry.archive == f"code/{head[:12]}.tar.gz" and entry.commit_object == f"code/{head[:12]}.commit"
    result, src = check_source(bundle, entry.to_dict(), {"commit": head}, tmp_path / "work")
    assert result.verdict == "pass", result.reason
    assert src is not None and (src / "src" / "deep" / "x.py").read_text() == "print('x')\n" and (src / "link").is_symlink()
    assert "$Format" not in (src / "run.sh").read_text()  # export-subst did not apply


def test_an_anonymised_archive_proves_the_tree_only(tmp_path: Path):
    repo, head = _repo(tmp_path)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    entry = archive_code(bundle, {"commit": head}, None, repo=repo, anonymize=True, done={}, log=lambda s: None)
    assert entry.commit_object is None and not list((bundle / "code").glob("*.commit"))
    result, _ = check_source(bundle, entry.to_dict(), {"commit": head}, tmp_path / "work")
    assert result.verdict == "warn" and "not proven" in result.reason


def test_a_dirty_run_is_the_commit_plus_its_diff(tmp_path: Path):
    repo, head = _repo(tmp_path)
    (repo / "src" / "deep" / "x.py").write_text("print('changed')\n")
    diff = subprocess.run(["git", "-C", str(repo), "diff", "HEAD", "--binary"], capture_output=True, check=True).stdout
    import hashlib

    code = {"commit": head, "dirty": True, "diff_digest": {"sha256": hashlib.sha256(diff).hexdigest()}}
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    entry = archive_code(bundle, code, diff, repo=repo, anonymize=False, done={}, log=lambda s: None)
    result, src = check_source(bundle, entry.to_dict(), code, tmp_path / "work")
    assert result.verdict == "pass" and "with the recorded diff" in result.reason, result.reason
    assert src is not None and (src / "src" / "deep" / "x.py").read_text() == "print('changed')\n"
    (bundle / entry.diff).write_bytes(diff.replace(b"changed", b"chanGed"))  # type: ignore[operator]
    result, _ = check_source(bundle, entry.to_dict(), code, tmp_path / "work2")
    assert result.verdict == "fail" and "diff digest" in result.reason


def test_an_altered_archive_or_commit_object_fails(tmp_path: Path):
    repo, head = _repo(tmp_path)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    entry = archive_code(bundle, {"commit": head}, None, repo=repo, anonymize=False, done={}, log=lambda s: None)
    obj = bundle / entry.commit_object  # type: ignore[operator]
    obj.write_bytes(obj.read_bytes().replace(b"\n\nc\n", b"\n\nd\n"))
    result, _ = check_source(bundle, entry.to_dict(), {"commit": head}, tmp_path / "w1")
    assert result.verdict == "fail" and "is not the object of commit" in result.reason
    result, _ = check_source(bundle, {**entry.to_dict(), "commit": "0" * 40}, {"commit": head}, tmp_path / "w2")
    assert result.verdict == "fail" and "the manifest records" in result.reason
    result, _ = check_source(bundle, {**entry.to_dict(), "archive": "../../etc/passwd"}, {"commit": head}, tmp_path / "w3")
    assert result.verdict == "fail" and "unsafe" in result.reason


def test_the_archive_is_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "a" / "f").write_text("1")
    (src / "b").write_text("2")
    write_tar(src, tmp_path / "one.tar.gz", "root")
    (src / "b").touch()  # another mtime on disk: the same archive
    write_tar(src, tmp_path / "two.tar.gz", "root")
    assert (tmp_path / "one.tar.gz").read_bytes() == (tmp_path / "two.tar.gz").read_bytes()
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        assert [m.name for m in tar.getmembers()] == ["root/a", "root/a/f", "root/b"] and {m.mtime for m in tar.getmembers()} == {315532800}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798761600")
    write_tar(src, tmp_path / "three.tar.gz", "root")
    with tarfile.open(tmp_path / "three.tar.gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1798761600}


def _tar_with(tmp_path: Path, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        root = tarfile.TarInfo("root")
        root.type = tarfile.DIRTYPE
        tar.addfile(root)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = tmp_path / "evil.tar.gz"
    out.write_bytes(buf.getvalue())
    return out


@pytest.mark.parametrize("name, kind, link", [("root/../../escape", tarfile.REGTYPE, ""), ("/abs", tarfile.REGTYPE, ""), ("root/l", tarfile.SYMTYPE, "/etc/passwd"), ("root/dev", tarfile.CHRTYPE, "")])
def test_a_hostile_archive_is_refused_unpacked(tmp_path: Path, name: str, kind: bytes, link: str):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    archive = _tar_with(tmp_path, info, b"x" if kind == tarfile.REGTYPE else b"")
    with pytest.raises(IntegrityError):
        extract_source(archive, tmp_path / "out")
    assert not (tmp_path / "escape").exists() and not Path("/abs").exists()


def test_bundle_data_paths():
    assert bundle_data_path("data/iris.csv") == "data/data/iris.csv"
    assert bundle_data_path("/home/alice/iris.csv") == "data/iris.csv"
    assert bundle_data_path("file:///home/alice/iris.csv") == "data/iris.csv"
    assert bundle_data_path("../outside.csv") is None
    assert bundle_data_path("s3://bucket/x.csv") is None


def _input(path: Path, uri: str) -> dict:
    import hashlib

    data = path.read_bytes()
    return {"name": "d", "kind": "file", "uri": uri, "size": len(data), "digest": {"sha256": hashlib.sha256(data).hexdigest()}}


def test_data_is_copied_checked_and_placed_back(tmp_path: Path):
    (tmp_path / "run" / "data").mkdir(parents=True)
    (tmp_path / "run" / "data" / "x.csv").write_text("a,b\n1,2\n")
    m = {"name": "r", "data": [_input(tmp_path / "run" / "data" / "x.csv", "data/x.csv"), {"name": "mem", "kind": "memory"}, {"name": "s3", "kind": "file", "uri": "s3://b/k", "digest": {"sha256": "0" * 64}}]}
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    copies, warned = DataCopies(), []
    copy_data(bundle, "manifests/r.yaml", m, data_root=None, run_dir=tmp_path / "run", max_bytes=1 << 20, copies=copies, log=warned.append)
    assert copies.copied == {"manifests/r.yaml": {"d": "data/data/x.csv"}} and (bundle / "data" / "data" / "x.csv").read_text() == "a,b\n1,2\n"
    assert set(copies.not_copied["manifests/r.yaml"]) == {"mem", "s3"} and len(warned) == 1 and "remote" in warned[0]
    work = tmp_path / "rerun"
    work.mkdir()
    assert place_data(bundle, copies.copied["manifests/r.yaml"], m, work) == ["data/x.csv"]
    (bundle / "data" / "data" / "x.csv").write_text("a,b\n1,3\n")
    with pytest.raises(IntegrityError):
        place_data(bundle, copies.copied["manifests/r.yaml"], m, work)


def test_data_that_differs_from_its_digest_is_never_bundled(tmp_path: Path):
    (tmp_path / "x.csv").write_text("1\n")
    m = {"name": "r", "data": [_input(tmp_path / "x.csv", "x.csv")]}
    (tmp_path / "x.csv").write_text("2\n")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    with pytest.raises(IntegrityError) as exc:
        copy_data(bundle, "m.yaml", m, data_root=tmp_path, run_dir=None, max_bytes=1 << 20, copies=DataCopies(), log=lambda s: None)
    assert exc.value.problems[0].code == "digest-mismatch"
    with pytest.raises(NotFound) as nf:
        copy_data(bundle, "m.yaml", {"name": "r", "data": [{**m["data"][0], "uri": "missing.csv"}]}, data_root=tmp_path, run_dir=None, max_bytes=1 << 20, copies=DataCopies(), log=lambda s: None)
    assert nf.value.problems[0].code == "data-unavailable" and "--data-root" in nf.value.problems[0].message


def test_data_above_the_limit_is_left_out_with_a_reason(tmp_path: Path):
    (tmp_path / "x.csv").write_text("12345\n")
    m = {"name": "r", "data": [_input(tmp_path / "x.csv", "x.csv")]}
    copies, warned = DataCopies(), []
    copy_data(tmp_path / "b", "m.yaml", m, data_root=tmp_path, run_dir=None, max_bytes=3, copies=copies, log=warned.append)
    assert not copies.copied and "above the limit of 3" in copies.not_copied["m.yaml"]["d"] and warned


def test_a_local_repository_without_code_is_named_and_the_bundle_checks_out(tmp_path: Path):
    from support.paths import EXAMPLE

    from manifest.bundle.checking import check_bundle
    from manifest.bundle.writing import write_bundle, write_sums
    from manifest.document.reader import load_path
    from manifest.document.writer import dumps

    root = tmp_path / "b"
    (root / "manifests").mkdir(parents=True)
    m = load_path(EXAMPLE).data
    m["code"]["repository"] = "/home/alice/iris"
    path = root / "manifests" / "rf.yaml"
    path.write_text(dumps(m))
    warnings = write_bundle(root, [(path, m)], source={"experiment": "iris"}, log=lambda s: None)
    assert any("'rf-100-trees'" in w and "local path (/home/alice/iris)" in w and "--with-code" in w for w in warnings), warnings
    assert check_bundle(root) == []
    (root / "results.md").write_text("changed\n")  # the index's file list catches it, as SHA256SUMS does
    codes = sorted(p.code for p in check_bundle(root))
    assert codes == ["bundle-checksum-mismatch", "bundle-index-mismatch"], codes
    write_sums(root)
    assert [p.code for p in check_bundle(root)] == ["bundle-index-mismatch"]


def test_a_lone_absolute_member_is_refused_not_stripped(tmp_path: Path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("/root/x")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "a.tar.gz").write_bytes(buf.getvalue())
    with pytest.raises(IntegrityError, match="not a safe relative path"):
        extract_source(tmp_path / "a.tar.gz", tmp_path / "out")


def _forged(bundle: Path, entry: dict, files: dict[str, bytes]) -> None:
    """Replace the bundle's archive by one holding ``files`` (what an attacker could write)."""
    src = bundle.parent / "forged" / entry["root"]
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    write_tar(src, bundle / entry["archive"], entry["root"])


def test_a_diff_the_manifest_does_not_record_is_refused(tmp_path: Path):
    repo, head = _repo(tmp_path)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    entry = archive_code(bundle, {"commit": head}, None, repo=repo, anonymize=False, done={}, log=lambda s: None).to_dict()
    evil = b"--- a/run.sh\n+++ b/run.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hi\n+echo EVIL\n"
    (bundle / "code" / "evil.diff").write_bytes(evil)
    result, _ = check_source(bundle, {**entry, "diff": "code/evil.diff"}, {"commit": head, "dirty": False}, tmp_path / "w")
    assert result.verdict == "fail" and "records a clean tree" in result.reason
    result, _ = check_source(bundle, {**entry, "diff": "code/evil.diff"}, {"commit": head, "dirty": True}, tmp_path / "w2")
    assert result.verdict == "fail" and "without a digest" in result.reason


def test_the_change_made_elsewhere_than_the_diff_says_is_refused(tmp_path: Path):
    """git apply takes hunks at an offset: taking the diff back from an archive that changed the
    *second* copy of a block gives the commit's tree too; applying it forward again does not."""
    import hashlib

    repo = tmp_path / "repo"
    repo.mkdir()
    block = "def f():\n    x = 1\n    y = 2\n    return x + y\n\n\n"
    (repo / "m.py").write_text(block + "# between\n" * 5 + block)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-q", "-m", "c")
    head = _git(repo, "rev-parse", "HEAD")
    first_changed = (block.replace("y = 2", "y = 3") + "# between\n" * 5 + block)
    (repo / "m.py").write_text(first_changed)
    diff = subprocess.run(["git", "-C", str(repo), "diff", "HEAD", "--binary"], capture_output=True, check=True).stdout
    code = {"commit": head, "dirty": True, "diff_digest": {"sha256": hashlib.sha256(diff).hexdigest()}}
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    entry = archive_code(bundle, code, diff, repo=repo, anonymize=False, done={}, log=lambda s: None).to_dict()
    assert check_source(bundle, entry, code, tmp_path / "w0")[0].verdict == "pass"
    _forged(bundle, entry, {"m.py": (block + "# between\n" * 5 + block.replace("y = 2", "y = 3")).encode()})
    result, _ = check_source(bundle, entry, code, tmp_path / "w1")
    assert result.verdict == "fail", result.reason
