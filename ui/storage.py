"""Streamlit glue for the scenario store: open it once, autosave, resume from `?scenario=`.

Where the store lives: PACT_DATABASE_URL (any SQLAlchemy URL), else `database_url` in
.streamlit/secrets.toml, else a SQLite file in PACT_DATA_DIR (default: data/ in the project).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st

from sim.merge import changes_between
from sim.models import Scenario, ScenarioError
from sim.room import ChangeFeed
from sim.store import (
    DATABASE_URL_VARIABLE,
    LockedError,
    Replaced,
    ScenarioInfo,
    Store,
    StoreError,
    local_url,
)
from ui import auth
from ui.editor import MOVE_SEEN, SHOWN_BEFORE
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


@st.cache_resource(show_spinner=False)
def _feed(url: str, _store: Store) -> ChangeFeed:
    return ChangeFeed(_store)


def feed(s: Store) -> ChangeFeed:
    """This process's change feed for the store (one LISTEN connection, or one shared poll)."""
    return _feed(s.url, s)


def default_head(sid: str) -> int | None:
    """The head version of a scenario in the default store, from this process's change feed
    (outside any session: the browser's question, ui/room.py head_route); None when the store
    cannot be opened or has no such scenario."""
    try:
        s = _open(default_url())
    except StoreError:
        return None
    return feed(s).head(sid)


def default_news(sid: str, also: tuple[str, ...] = (), quarter: str | None = None) -> dict:
    """What a screen on `sid` asks the default store beside the head (the head route): the head
    of each scenario in `also` (Compare's proposals beside it) and the id of `quarter`'s agreed
    plan ("" when none), all from this process's change feed."""
    try:
        s = _open(default_url())
    except StoreError:
        return {"head": None}
    news: dict = {"head": feed(s).head(sid)}
    if news["head"] is None:  # only a screen on a saved scenario's link learns more
        return news
    if also:
        news["also"] = {other: feed(s).head(other) for other in also}
    if quarter is not None:
        news["agreement"] = feed(s).agreement(quarter)
    return news


def autosave(
    scenario: Scenario, shown: Scenario | None = None, *, drawn: int | None = None
) -> tuple[Scenario, tuple[Replaced, ...]]:
    """Save what changed from `shown` (the scenario this screen showed) to `scenario`, field by
    field, on top of the latest saved version; the first save creates the saved scenario and
    its link. Returns the scenario as it now stands in the store (this change merged with every
    other leader's: the screen shows that) and the values someone else set since this screen
    last updated that this change overwrote (ui/room.py offers to put them back). `drawn`: the
    version the page was drawn from when the leader acted, when that run caught up to a later
    one before acting (a value set since then is named, not silently replaced)."""
    s = store()
    if s is None:
        return scenario, ()
    sid = st.session_state.get("store_id")
    try:
        if sid is None:
            info = s.create(scenario, author())
            st.session_state["store_id"] = info.scenario_id
            st.session_state["store_version"] = info.number
            st.query_params["scenario"] = info.scenario_id
            feed(s).saved(info.scenario_id, info.number)
            return scenario, ()
        before = shown if shown is not None else st.session_state.get("scenario", scenario)
        changes = changes_between(before.to_dict(), scenario.to_dict())
        # A move made on a value the screen had not shown yet counts as seen from the version
        # before it (ui.editor.moved): a same-field clash with that value is named.
        seen = int(st.session_state.get("store_version") or 0)
        if (moved_on := st.session_state.pop(MOVE_SEEN, None)) is not None:
            seen = min(seen, int(moved_on))
        if drawn:
            seen = min(seen, drawn)
        if not changes:
            return scenario, ()
        applied = s.apply(sid, changes, author(), seen=seen)
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
    except ScenarioError as exc:  # merged with a change made meanwhile, the plan is invalid
        st.session_state["store_error"] = (
            f"Not saved: {exc}. Someone changed the plan at the same moment; the screen shows "
            "the latest saved version"
        )
        return latest(s, sid) or scenario, ()
    shows(applied.info.number)
    feed(s).saved(sid, applied.info.number)  # the other screens this process serves: at once
    return applied.scenario, applied.replaced


def shows(number: int) -> None:
    """The screen now shows version `number`; the one it showed before is kept (the editors
    name it for the widgets the new version changed, ui.editor.sync_widgets)."""
    st.session_state[SHOWN_BEFORE] = st.session_state.get("store_version") or 0
    st.session_state["store_version"] = number


def latest(s: Store, sid: str) -> Scenario | None:
    """The latest saved version of a scenario (the session now shows it)."""
    try:
        scenario, info = s.load(sid)
    except StoreError:
        return None
    shows(info.number)
    return scenario


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
    st.session_state.pop("room_replaced", None)
    st.query_params["scenario"] = sid


def notices() -> None:
    """One-off messages about saving: a draft started from the agreed plan, a refused move."""
    if notice := st.session_state.pop("store_notice", None):
        st.info(notice)
    if error := st.session_state.pop("store_error", None):
        st.error(f"{error}.")
