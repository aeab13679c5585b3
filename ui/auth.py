"""Sign-in with OpenID Connect (Streamlit's `st.login`) when an `[auth]` section is configured.

Configured by `[auth]` in .streamlit/secrets.toml (redirect_uri, cookie_secret, client_id,
client_secret, server_metadata_url), or by the PACT_AUTH_* environment variables below, which
`python -m ui.serve` turns into a private secrets file for Streamlit (containers, services).
Without it the app runs as before: no sign-in, versions carry the name typed in "Your name".

Signed in, versions, agreements and kept actuals carry the identity provider's name and e-mail,
and only the people allowed to agree may agree a plan: `[pact] agree = ["maya@example.com",
"@example.com"]` in secrets.toml, or PACT_AGREE="maya@example.com, @example.com" (e-mail
addresses and whole @domains; unset or empty: every signed-in user). The others can propose.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import streamlit as st

from ui.text import md_text

ENVIRONMENT = {  # environment variable -> key of the [auth] section
    "PACT_AUTH_REDIRECT_URI": "redirect_uri",
    "PACT_AUTH_COOKIE_SECRET": "cookie_secret",
    "PACT_AUTH_CLIENT_ID": "client_id",
    "PACT_AUTH_CLIENT_SECRET": "client_secret",
    "PACT_AUTH_SERVER_METADATA_URL": "server_metadata_url",
}
AGREE_VARIABLE = "PACT_AGREE"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is signed in, as the identity provider says."""

    name: str
    email: str

    @property
    def author(self) -> str:
        """What goes on versions, agreements and kept actuals: 'Maya Lee <maya@example.com>'."""
        if self.name and self.email and self.name != self.email:
            return f"{self.name} <{self.email}>"
        return self.email or self.name


def secrets_from_environment(env: Mapping[str, str]) -> str | None:
    """The `[auth]` section as TOML from PACT_AUTH_* variables; None when PACT_AUTH_CLIENT_ID is
    unset or empty (no sign-in)."""
    if not env.get("PACT_AUTH_CLIENT_ID", "").strip():
        return None
    missing = [name for name in ENVIRONMENT if not env.get(name, "").strip()]
    if missing:
        raise ValueError(
            f"{missing[0]}: sign-in is configured (PACT_AUTH_CLIENT_ID) but this is empty"
        )
    lines = [f"{key} = {_toml_string(env[name].strip())}" for name, key in ENVIRONMENT.items()]
    return "[auth]\n" + "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but TOML also wants DEL escaped and
    takes characters beyond the BMP as they are (JSON would write surrogate pairs)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def may_agree(email: str, allowed: Sequence[str]) -> bool:
    """Whether `email` is on the list of who may agree (addresses, or '@domain' for a whole
    domain); an empty list lets everyone agree."""
    rules = [rule.strip().lower() for rule in allowed if rule.strip()]
    if not rules:
        return True
    address = email.strip().lower()
    if "@" not in address:
        return False
    return any(
        address.endswith(rule) if rule.startswith("@") else address == rule for rule in rules
    )


def _secrets() -> Mapping[str, object]:
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return {}


def enabled() -> bool:
    """Sign-in is configured (an [auth] section in Streamlit's secrets)."""
    return "auth" in _secrets()


def agree_rules() -> list[str]:
    """Who may agree: PACT_AGREE (comma separated), else `agree` in the [pact] secrets section."""
    if (value := os.environ.get(AGREE_VARIABLE)) is not None:
        return [rule.strip() for rule in value.split(",") if rule.strip()]
    section = _secrets().get("pact", {})
    rules = section.get("agree", []) if isinstance(section, Mapping) else []
    return [
        str(r).strip() for r in ([rules] if isinstance(rules, str) else rules) if str(r).strip()
    ]


def identity() -> Identity | None:
    """The signed-in user, or None (sign-in off, or not signed in)."""
    if not enabled() or not st.user.get("is_logged_in"):
        return None
    email = str(st.user.get("email") or "").strip()
    name = str(st.user.get("name") or "").strip()
    return Identity(name or email or str(st.user.get("sub") or "signed in"), email)


def gate() -> None:
    """Call first on every page: with sign-in on, a signed-out visitor sees only the sign-in
    button and nothing of the plans."""
    if enabled() and identity() is None:
        st.title("Pipeline Pact")
        st.write("Sign in to open your team's plans.")
        if st.query_params.get("scenario"):
            # Streamlit's sign-in always returns to the home page, without the link's query.
            st.caption("Signing in opens the home page: open your link again after signing in.")
        if st.button("Sign in", key="auth_sign_in", type="primary"):
            st.login()
        st.stop()


def signed_in_sidebar() -> None:
    """In the sidebar, in place of "Your name": who is signed in, and *Sign out*."""
    who = identity()
    if who is None:
        return
    st.caption(f"Signed in as {md_text(who.author)}")
    if st.button("Sign out", key="auth_sign_out"):
        st.logout()


def agreement_refusal() -> str | None:
    """Why the signed-in user may not agree a plan (None when they may, or sign-in is off)."""
    who = identity()
    if who is None or may_agree(who.email, rules := agree_rules()):
        return None
    return (
        f"only {', '.join(rules)} may agree a plan; you "
        f"({who.email or who.name}) can propose: every change you make is saved as a version"
    )
