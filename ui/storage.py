"""Streamlit glue for the scenario store: open it once, autosave, resume from `?scenario=`.

Where the store lives: PACT_DATABASE_URL (any SQLAlchemy URL), else `database_url` in
.streamlit/secrets.toml, else a SQLite file in PACT_DATA_DIR (default: data/ in the project).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from sim.models import Scenario
from sim.store import (
    DATABASE_URL_VARIABLE,
    LockedError,
    ScenarioInfo,
    Store,
    StoreError,
    local_url,
)
from ui import auth
from ui.text import md_text

ROOT = Path(__file__).resolve().parents[1]


def default_url() -> str:
    """PACT_DATABASE_URL, else `database_url` in Streamlit's secrets, else the local SQLite file."""
    if url := os.environ.get(DATABASE_URL_VARIABLE):
        return url
    try:
        if url := st.secrets.get("database_url"):
            return str(url)
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        pass
    return local_url(ROOT)


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Store:
    return Store(url)


def store() -> Store | None:
    """The store, or None (with a message and a way out) when it cannot be opened."""
    url = st.session_state.get("store_url") or default_url()
    try:
        return _open(url)
    except StoreError as exc:
        st.error(f"Saving is off: {exc}.")
        if url.startswith("sqlite:///") and st.button(
            "Start a fresh store (the old file is kept)", key="store_fresh"
        ):
            old = Path(url.removeprefix("sqlite:///"))
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            st.session_state["store_url"] = f"sqlite:///{old.with_name(f'pact-{stamp}.db')}"
            st.rerun()
        return None


def when(iso: str) -> str:
    """A stored UTC time as leaders read it: '2026-11-25 14:03 UTC'."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def author() -> str:
    """Who saves: the signed-in user when sign-in is on (ui/auth.py), else the typed name."""
    if (who := auth.identity()) is not None:
        return who.author
    return str(st.session_state.get("author") or "unnamed")


def resume() -> Scenario | None:
    """The scenario named in the URL (`?scenario=<id>`), exactly as last saved."""
    sid = st.query_params.get("scenario")
    s = store() if sid else None
    if not sid or s is None:
        return None
    try:
        scenario, info = s.load(sid)
    except StoreError as exc:
        st.warning(f"Could not open the scenario in the link: {exc}. Showing the seed plan.")
        return None
    st.session_state["store_id"] = sid
    st.session_state["store_version"] = info.number
    return scenario


def autosave(scenario: Scenario) -> None:
    """Append the working scenario as a new version; the first save creates it and its link."""
    s = store()
    if s is None:
        return
    sid = st.session_state.get("store_id")
    try:
        if sid is None:
            info = s.create(scenario, author())
            st.session_state["store_id"] = info.scenario_id
            st.query_params["scenario"] = info.scenario_id
        else:
            info = s.save(sid, scenario, author(), based_on=st.session_state["store_version"])
        st.session_state["store_version"] = info.number
        st.session_state.pop("store_conflict", None)
    except LockedError:
        # The agreed version stays as agreed; the edit starts a new draft scenario.
        taken = {info.name for info in s.scenarios() + s.scenarios(deleted=True)}
        draft = scenario.model_copy(update={"name": draft_name(scenario.name, taken)})
        info = s.create(draft, author())
        open_saved(info.scenario_id, info.number, draft)
        st.session_state["store_notice"] = (
            f"The agreed plan is locked, so your change started a new draft: {md_text(draft.name)}."
        )
        st.rerun()
    except StoreError as exc:
        st.session_state["store_conflict"] = str(exc)


def draft_name(name: str, taken: set[str]) -> str:
    """'Plan (draft)', or 'Plan (draft 2)' ... when that name is taken: names stay tellable."""
    base = re.sub(r" \(draft(?: \d+)?\)$", "", name)[:68]
    candidates = (f"{base} (draft)" if n == 1 else f"{base} (draft {n})" for n in range(1, 10_000))
    return next(c for c in candidates if c not in taken)


def scenario_labels(infos: Sequence[ScenarioInfo]) -> dict[str, str]:
    """Stable, unique labels for pickers: 'Name · quarter', plus a short id when two share it.

    Streamlit keeps a picker's choice by its label, so a label must not change when someone
    saves (no version counts) and must not be shared (the other one could never be picked).
    """
    plain = {info.id: f"{info.name} · {info.quarter}" for info in infos}
    shared = {label for label in plain.values() if list(plain.values()).count(label) > 1}
    return {
        sid: f"{label} · #{sid[:6]}" if label in shared else label for sid, label in plain.items()
    }


def open_saved(sid: str, version: int, scenario: Scenario) -> None:
    """Make a saved scenario this session's working one (the link follows it)."""
    st.session_state["store_id"] = sid
    st.session_state["store_version"] = version
    st.session_state["scenario"] = scenario
    st.session_state["scenario_rev"] = st.session_state.get("scenario_rev", 0) + 1
    st.session_state.pop("store_conflict", None)
    st.query_params["scenario"] = sid


def conflict_choices(reload: Callable[[], None]) -> None:
    """When someone else saved first: keep mine as a new scenario, or load theirs."""
    message = st.session_state.get("store_conflict")
    sid, mine = st.session_state.get("store_id"), st.session_state.get("store_version")
    s = store() if sid else None
    if not message and s is not None and sid is not None:
        head = s.head(sid)
        if head is not None and head != mine:
            message = (
                f"someone saved version {head} of this scenario since your version {mine}; "
                "save yours as a new scenario, or reload theirs"
            )
    if notice := st.session_state.pop("store_notice", None):
        st.info(notice)
    if not message:
        return
    st.warning(f"Not saved: {message}.")
    mine, theirs = st.columns(2)
    if mine.button("Save mine as a new scenario", key="store_save_new"):
        st.session_state.pop("store_id", None)
        st.session_state.pop("store_conflict", None)
        autosave(st.session_state["scenario"])
        st.rerun()
    if theirs.button("Load theirs", key="store_reload"):
        st.session_state.pop("store_conflict", None)
        reload()
        st.rerun()
