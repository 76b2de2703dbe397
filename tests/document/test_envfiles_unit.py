"""Fast unit tests of manifest.document.envfiles: the exact text of each environment file."""

from __future__ import annotations

from typing import Any

import pytest

from manifest.core.problems import ManifestError
from manifest.document.envfiles import render, render_conda, render_python_env, render_requirements


def small() -> dict[str, Any]:
    return {
        "id": "urn:uuid:1",
        "name": "my run",
        "environment": {
            "python": {"version": "3.11.4"},
            "packages": {"scikit-learn": "1.5.2", "numpy": "2.1.3", "pip": "24.0", "Flask_Login": "0.6.3"},
        },
    }


HEADER = "# Environment of run my run (urn:uuid:1), from its experiment manifest\n"


def test_requirements_sorted_by_normalised_name():
    assert render_requirements(small()) == HEADER + "Flask_Login==0.6.3\nnumpy==2.1.3\npip==24.0\nscikit-learn==1.5.2\n"


def test_python_env():
    assert render_python_env(small()) == HEADER + (
        "python: \"3.11.4\"\n"  # quoted: a plain scalar may not start with a digit here
        "build_dependencies:\n"
        "  - pip==24.0\n"
        "  - setuptools\n"
        "  - wheel\n"
        "dependencies:\n"
        "  - Flask_Login==0.6.3\n"
        "  - numpy==2.1.3\n"
        "  - scikit-learn==1.5.2\n"
    )


def test_conda():
    assert render_conda(small()) == HEADER + (
        "name: my-run\n"
        "channels:\n"
        "  - conda-forge\n"
        "dependencies:\n"
        "  - python=3.11.4\n"
        "  - pip\n"
        "  - pip:\n"
        "      - Flask_Login==0.6.3\n"
        "      - numpy==2.1.3\n"
        "      - pip==24.0\n"
        "      - scikit-learn==1.5.2\n"
    )


def test_conda_without_python_version_is_unpinned():
    data = small()
    del data["environment"]["python"]
    assert render(data, "conda").splitlines()[5] == "  - python"


def test_header_replaces_control_characters():
    data = small()
    data["name"] = "a\nb"
    assert render_requirements(data).splitlines()[0] == "# Environment of run a b (urn:uuid:1), from its experiment manifest"


@pytest.mark.parametrize("fmt", ["requirements", "python_env", "conda"])
def test_option_as_package_name_is_refused(fmt):
    data = small()
    data["environment"]["packages"]["--index-url=x"] = "1.0"
    with pytest.raises(ManifestError) as e:
        render(data, fmt, "m.yaml")
    assert [(p.code, p.pointer, p.file) for p in e.value.problems] == [("bad-package", "/environment/packages/--index-url=x", "m.yaml")]


@pytest.mark.parametrize("version", ["1.0; python_version<'3'", "1.0 --hash=x", ">=1.0", 1.0])
def test_version_that_is_not_a_pin_is_refused(version):
    data = small()
    data["environment"]["packages"]["numpy"] = version
    with pytest.raises(ManifestError) as e:
        render_requirements(data)
    assert [p.code for p in e.value.problems] == ["bad-package"]


@pytest.mark.parametrize("fmt", ["requirements", "python_env", "conda"])
def test_no_packages(fmt):
    data = small()
    data["environment"]["packages"] = {}
    with pytest.raises(ManifestError) as e:
        render(data, fmt)
    assert [(p.code, p.pointer) for p in e.value.problems] == [("no-packages", "/environment/packages")]


def test_python_env_needs_a_python_version():
    data = small()
    data["environment"]["python"] = {}
    with pytest.raises(ManifestError) as e:
        render_python_env(data)
    assert [(p.code, p.pointer) for p in e.value.problems] == [("no-python-version", "/environment")]


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown environment format 'pipenv'"):
        render(small(), "pipenv")
