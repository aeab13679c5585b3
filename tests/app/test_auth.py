"""Sign-in (ui/auth.py): who may agree, the [auth] section from the environment, and the app
showing nothing but *Sign in* to a signed-out visitor when sign-in is configured."""

from __future__ import annotations

import tomllib

import pytest
from app_helpers import ROOT
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from ui.auth import ENVIRONMENT, Identity, may_agree, secrets_from_environment

AUTH_ENV = {
    "PACT_AUTH_REDIRECT_URI": "https://pact.example.com/oauth2callback",
    "PACT_AUTH_COOKIE_SECRET": 'a "quoted" secret \\ with a backslash',
    "PACT_AUTH_CLIENT_ID": "pipeline-pact",
    "PACT_AUTH_CLIENT_SECRET": "s3cret",
    "PACT_AUTH_SERVER_METADATA_URL": "https://login.example.com/.well-known/openid-configuration",
}


@pytest.mark.parametrize(
    ("email", "rules", "allowed"),
    [
        ("maya@example.com", ["maya@example.com"], True),
        ("Maya@Example.com ", [" maya@example.com"], True),
        ("sam@example.com", ["maya@example.com"], False),
        ("sam@example.com", ["@example.com"], True),
        ("sam@evil-example.com", ["@example.com"], False),  # a domain is a whole domain
        ("sam@example.com.evil.test", ["@example.com"], False),
        ("", ["@example.com"], False),
        ("anyone@anywhere.test", [], True),  # no list: every signed-in user
        ("anyone@anywhere.test", [" ", ""], True),
    ],
)
def test_who_may_agree(email: str, rules: list[str], allowed: bool) -> None:
    assert may_agree(email, rules) is allowed


@given(st.emails(), st.emails())
def test_an_address_list_admits_exactly_its_addresses(email: str, other: str) -> None:
    assert may_agree(email, [email])
    assert may_agree(other, [email]) is (other.lower() == email.lower())


def test_auth_section_from_the_environment_reads_back_exactly() -> None:
    toml = secrets_from_environment(AUTH_ENV)
    assert toml is not None
    auth = tomllib.loads(toml)["auth"]
    assert auth == {key: AUTH_ENV[name] for name, key in ENVIRONMENT.items()}
    assert secrets_from_environment({}) is None  # no client id: no sign-in
    with pytest.raises(ValueError, match="PACT_AUTH_CLIENT_SECRET"):
        secrets_from_environment({**AUTH_ENV, "PACT_AUTH_CLIENT_SECRET": " "})


@given(st.text(min_size=1).filter(lambda t: t.strip() == t and t))
def test_any_secret_survives_the_toml(secret: str) -> None:
    toml = secrets_from_environment({**AUTH_ENV, "PACT_AUTH_CLIENT_SECRET": secret})
    assert toml is not None
    assert tomllib.loads(toml)["auth"]["client_secret"] == secret


def test_the_author_is_name_and_email() -> None:
    assert Identity("Maya Lee", "maya@example.com").author == "Maya Lee <maya@example.com>"
    assert Identity("maya@example.com", "maya@example.com").author == "maya@example.com"


def test_signed_out_visitors_see_only_sign_in() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = {key: AUTH_ENV[name] for name, key in ENVIRONMENT.items()}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric  # no plan numbers before signing in
    assert not [t for t in at.text_input if t.label == "Your name"]


def test_without_auth_the_app_asks_for_a_name() -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [t.label for t in at.text_input if t.label == "Your name"] == ["Your name"]
    assert "Sign in" not in [b.label for b in at.button]
