"""Fast unit tests of manifest.core: templates, params, reals, URIs (in-process, no MLflow)."""

from __future__ import annotations

import math

import pytest

from manifest.core.params import param_text, type_param
from manifest.core.problems import CannotRun
from manifest.core.reals import same_real
from manifest.core.templates import derive_template, fill_template, template_fields
from manifest.core.uris import mask_uri, strip_credentials, uri_secret

# --------------------------------------------------------------------------- templates


def test_template_fields_names_and_malformed_arguments():
    assert template_fields(["python", "train.py", "--lr={lr}", "{epochs}", "{{literal}}"]) == (["lr", "epochs"], [])
    assert template_fields(["--a={a}{b}", "{", "x}", "{}", "ok"]) == (["a", "b"], [1, 2, 3])


def test_fill_template_replaces_params_and_unescapes_braces():
    got = fill_template(["python", "--lr={lr}", "{epochs}", "{{x}}", "--flag={flag}", "{none}"], {"lr": 0.1, "epochs": 10, "flag": True, "none": None})
    assert got == ["python", "--lr=0.1", "10", "{x}", "--flag=True", "None"]


def test_fill_template_unknown_param_cannot_run():
    with pytest.raises(CannotRun) as e:
        fill_template(["python", "{missing}"], {"lr": 1})
    assert [p.code for p in e.value.problems] == ["template-unknown-param"]
    assert e.value.problems[0].pointer == "/code/command_template"
    assert e.value.problems[0].message == "the command template names {missing}, which is not a recorded param"


def test_fill_template_lone_brace_is_a_syntax_problem():
    with pytest.raises(CannotRun) as e:
        fill_template(["{"], {})
    assert [p.code for p in e.value.problems] == ["template-syntax"]


def test_derive_template_after_flag_and_equals():
    params = {"learning_rate": 0.01, "epochs": 5, "name": "a{b}"}
    assert derive_template(["python", "t.py", "--learning-rate", "0.01", "--epochs=5", "--name=a{b}"], params) == ["python", "t.py", "--learning-rate", "{learning_rate}", "--epochs={epochs}", "--name={name}"]
    # a value that differs from the param's text is kept, braces escaped
    assert derive_template(["run", "--epochs=6", "{x}"], {"epochs": 5}) is None
    assert derive_template(["run", "--epochs=5", "{x}"], {"epochs": 5}) == ["run", "--epochs={epochs}", "{{x}}"]


# --------------------------------------------------------------------------- params


@pytest.mark.parametrize(("text", "typed"), [
    ("100", 100),
    ("-7", -7),
    ("0.1", 0.1),
    ("True", True),
    ("False", False),
    ("None", None),
])
def test_type_param_types_what_round_trips(text, typed):
    got = type_param(text)
    assert got == typed and type(got) is type(typed)
    assert param_text(got) == text


@pytest.mark.parametrize("text", ["0.10", "1e5", "true", " 1", "01", "-0", "1.0e-3", "NaN", "inf", "9007199254740993", "abc", ""])
def test_type_param_keeps_strings_that_would_lose_bytes(text):
    assert type_param(text) == text and isinstance(type_param(text), str)


def test_param_text():
    assert [param_text(v) for v in (None, True, False, 3, 0.5, "0.10")] == ["None", "True", "False", "3", "0.5", "0.10"]


# --------------------------------------------------------------------------- reals


def test_same_real_with_non_finite_strings():
    assert same_real("NaN", "NaN")
    assert same_real("NaN", math.nan)
    assert same_real("Infinity", math.inf)
    assert same_real("-Infinity", -math.inf)
    assert not same_real("Infinity", "-Infinity")
    assert not same_real("NaN", 0)
    assert same_real(1, 1.0)
    assert not same_real(0.1, 0.2)


def test_same_real_refuses_other_strings():
    with pytest.raises(KeyError):
        same_real("nan", "nan")


# --------------------------------------------------------------------------- URIs


def test_mask_uri():
    assert mask_uri("https://user:pw@host.example/path?token=abc&x=1") == "https://***@host.example/path?token=***&x=1"
    assert mask_uri("https://host.example/a?api_key=k") == "https://host.example/a?api_key=***"
    assert mask_uri("sqlite:////abs/path/mlflow.db") == "sqlite:////abs/path/mlflow.db"
    assert mask_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_strip_credentials():
    assert strip_credentials("https://user:pw@host.example/p?sig=s&x=1#f") == "https://host.example/p?x=1#f"
    assert strip_credentials("ssh://git:secret@github.com/o/r.git") == "ssh://git@github.com/o/r.git"
    assert strip_credentials("s3://bucket/key") == "s3://bucket/key"
    assert strip_credentials("data/train.csv") == "data/train.csv"


def test_uri_secret():
    assert uri_secret("https://user:pw@host/x") == "holds a user name and password"
    assert uri_secret("https://ghp_token@github.com/o/r") == "holds a user name or token"
    assert uri_secret("ssh://git@github.com/o/r") is None
    assert uri_secret("s3://b/k?X-Amz-Signature=abc") == "has a 'X-Amz-Signature' query parameter"
    assert uri_secret("https://host/x?page=2") is None
    assert uri_secret("data/train.csv") is None
