"""The pre-commit hook of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit try-repo`` on a
temporary repository; and shell completion through Click's protocol (bash, zsh, fish)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from support.paths import EXAMPLE, ROOT

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
HOOK_ID = "manifest-validate"


def _hook() -> dict:
    if not HOOKS_FILE.exists() and not (ROOT / ".git").exists():
        pytest.skip("not a git work tree (an sdist leaves .pre-commit-hooks.yaml out)")
    hooks = YAML(typ="safe").load(HOOKS_FILE.read_text())
    return next(h for h in hooks if h["id"] == HOOK_ID)


# --------------------------------------------------------------------------- the hook definition


def test_the_hook_runs_manifest_validate_with_pip():
    hook = _hook()
    assert hook["entry"] == "manifest validate" and hook["language"] == "python"
    assert hook.get("pass_filenames", True) is True and hook["require_serial"] is True


@pytest.mark.parametrize(
    "path, checked",
    [
        ("manifest.yaml", True),
        ("manifest.yml", True),
        ("manifest.json", True),
        ("runs/2026/manifest.yaml", True),
        ("rf-100.manifest.yaml", True),
        ("runs/rf-100.manifest.yml", True),
        ("runs/rf-100.manifest.json", True),
        ("config.yaml", False),
        ("mymanifest.yaml", False),
        ("manifest.yaml.orig", False),
        ("manifests/run.yaml", False),
        (".manifest.yaml", False),
        # what `manifest export` writes next to RUN.yaml: history sidecars, code and artifact copies
        ("runs/r1.history/manifest.json", False),
        ("runs/r1.code/manifest.yaml", False),
        ("runs/r1.artifacts/manifest.json", False),
    ],
)
def test_which_files_the_hook_checks(path: str, checked: bool):
    hook = _hook()
    included = re.search(hook["files"], path) is not None and re.search(hook.get("exclude", "^$"), path) is None
    assert included is checked


# --------------------------------------------------------------------------- the real pre-commit


def _git_env(pre_commit_home: Path) -> dict[str, str]:
    """Git and pre-commit without the user's configuration, cache or hooks' environment (a test run
    from inside a git hook inherits GIT_DIR and GIT_INDEX_FILE)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT")) and k != "SKIP"}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(pre_commit_home))
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=120)


def _new_repo(path: Path, env: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, env, "init", "-q")
    _git(path, env, "config", "user.email", "test@example.invalid")
    _git(path, env, "config", "user.name", "test")
    _git(path, env, "config", "commit.gpgsign", "false")
    return path


@pytest.fixture(scope="module")
def pre_commit_bin() -> Path:
    exe = Path(sys.executable).parent / "pre-commit"
    assert exe.exists(), f"{exe} is not installed; run `make install` (pre-commit is in the test extra)"
    return exe


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One PRE_COMMIT_HOME for the module, never the user's ~/.cache/pre-commit. (try-repo
    installs the hook into a temporary store of its own on every run; this holds its log.)"""
    return _git_env(tmp_path_factory.mktemp("pre-commit-home"))


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, pre_commit_env: dict[str, str]) -> Path:
    """This working tree as it is, committed in a repository of its own. `pre-commit try-repo`
    on a dirty tree clones HEAD and adds staged and modified tracked files only: an untracked
    file (a new .pre-commit-hooks.yaml) would be missing. So: tracked and untracked files not
    ignored, copied, one commit."""
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git work tree (pre-commit installs hooks from git repositories)")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, env=pre_commit_env, check=True, capture_output=True, timeout=120).stdout
    repo = _new_repo(tmp_path_factory.mktemp("hook-repo"), pre_commit_env)
    for rel in sorted({n for n in listed.decode("utf-8", "surrogateescape").split("\0") if n}):
        src, dst = ROOT / rel, repo / rel
        if src.is_symlink():
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(src), dst)
        elif src.is_file():  # not deleted meanwhile, not a submodule
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    assert (repo / ".pre-commit-hooks.yaml").is_file() and (repo / "pyproject.toml").is_file()
    _git(repo, pre_commit_env, "add", "-A")
    _git(repo, pre_commit_env, "commit", "-q", "-m", "the working tree under test")
    return repo


@pytest.fixture
def project(tmp_path: Path, pre_commit_env: dict[str, str]) -> Path:
    """A repository that uses the hook: one valid manifest, committed, and files the hook must
    leave alone (a YAML that is not a manifest, a history sidecar named like one)."""
    repo = _new_repo(tmp_path / "project", pre_commit_env)
    (repo / "runs").mkdir()
    shutil.copy2(EXAMPLE, repo / "runs" / "manifest.yaml")
    (repo / "config.yaml").write_text("not: a manifest\n")
    (repo / "runs" / "r1.history").mkdir()
    (repo / "runs" / "r1.history" / "manifest.json").write_text('{"step":[0],"value":[1.0]}\n')
    _git(repo, pre_commit_env, "add", "-A")
    _git(repo, pre_commit_env, "commit", "-q", "-m", "a valid manifest")
    return repo


def _try_repo(pre_commit_bin: Path, hook_repo: Path, project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(pre_commit_bin), "try-repo", str(hook_repo), HOOK_ID, "--all-files", "--color", "never"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )


@pytest.mark.e2e
def test_pre_commit_accepts_the_hooks_file(pre_commit_bin: Path, pre_commit_env: dict[str, str]):
    _hook()
    r = subprocess.run([str(pre_commit_bin), "validate-manifest", str(HOOKS_FILE)], env=pre_commit_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.e2e
@pytest.mark.slow
def test_a_repository_of_valid_manifests_passes(pre_commit_bin: Path, hook_repo: Path, project: Path, pre_commit_env: dict[str, str]):
    r = _try_repo(pre_commit_bin, hook_repo, project, pre_commit_env)
    assert r.returncode == 0, r.stdout
    assert re.search(r"^Validate experiment manifests\.+Passed$", r.stdout, flags=re.M), r.stdout


@pytest.mark.e2e
@pytest.mark.slow
def test_an_invalid_manifest_fails_naming_the_file_and_the_problem(pre_commit_bin: Path, hook_repo: Path, project: Path, pre_commit_env: dict[str, str]):
    text = EXAMPLE.read_text()
    broken = re.sub(r"^name: .*\n", "", text, count=1, flags=re.M)
    assert broken != text
    (project / "runs" / "broken.manifest.yaml").write_text(broken)
    _git(project, pre_commit_env, "add", "runs/broken.manifest.yaml")  # staged, not committed
    r = _try_repo(pre_commit_bin, hook_repo, project, pre_commit_env)
    assert r.returncode == 1, r.stdout
    assert re.search(r"^Validate experiment manifests\.+Failed$", r.stdout, flags=re.M), r.stdout
    # `manifest validate` ran and said "invalid" (1), not "usage error" (2); the install worked
    assert "- exit code: 1\n" in r.stdout and "An error has occurred" not in r.stdout, r.stdout
    assert re.search(r'^runs/broken\.manifest\.yaml:\d+:\d+: /: missing required property "name"$', r.stdout, flags=re.M), r.stdout
    # both manifests, and only they, were handed over: config.yaml and the sidecar were not
    assert "2 manifests checked: 1 valid, 1 invalid (1 error, 0 warnings)" in r.stdout, r.stdout
    assert not re.search(r"^(runs/manifest\.yaml|config\.yaml|runs/r1\.history/manifest\.json):", r.stdout, flags=re.M), r.stdout


# --------------------------------------------------------------------------- shell completion


def _complete(manifest_bin: Path, shell: str, words: str) -> list[str]:
    """Click's completion protocol, as the sourced shell function calls it (``_MANIFEST_COMPLETE``)."""
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(cword), _MANIFEST_COMPLETE=f"{shell}_complete")
    r = subprocess.run([str(manifest_bin)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


@pytest.mark.e2e
@pytest.mark.parametrize(
    "shell, marker",
    [
        ("bash", "complete -o nosort -F _manifest_completion manifest"),
        ("zsh", "compdef _manifest_completion manifest"),
        ("fish", 'complete --no-files --command manifest --arguments "(_manifest_completion)"'),
    ],
)
def test_completion_script_for_each_shell(manifest_bin: Path, shell: str, marker: str):
    r = subprocess.run([str(manifest_bin)], env=dict(os.environ, _MANIFEST_COMPLETE=f"{shell}_source"), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and marker in r.stdout, r.stdout + r.stderr


@pytest.mark.e2e
def test_bash_completion_of_commands_and_of_a_lazily_loaded_commands_options(manifest_bin: Path):
    assert _complete(manifest_bin, "bash", "manifest va") == ["plain,validate"]
    assert "plain,--format" in _complete(manifest_bin, "bash", "manifest export --fo")
    assert _complete(manifest_bin, "bash", "manifest validate --format ") == ["plain,json", "plain,text"]


@pytest.mark.e2e
@pytest.mark.parametrize("words", ["manifest validate exa", "manifest import exa", "manifest verify exa", "manifest digest exa", "manifest env exa", "manifest export -o exa"])
def test_paths_complete_as_file_names(manifest_bin: Path, words: str):
    """The shell is asked to complete file names where a command takes a path."""
    assert _complete(manifest_bin, "bash", words) == ["file,exa"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_documented_bash_line_completes_in_bash(manifest_bin: Path):
    script = 'eval "$(_MANIFEST_COMPLETE=bash_source manifest)"; COMP_WORDS=(manifest export --fo); COMP_CWORD=2; _manifest_completion manifest; printf "%s\\n" "${COMPREPLY[@]}"'
    env = dict(os.environ, PATH=f"{manifest_bin.parent}{os.pathsep}{os.environ['PATH']}")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "--format" in r.stdout.split(), r.stdout
