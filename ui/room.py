"""The live room: every screen open on a scenario shows its latest version, who else is there,
and what changed last; a follower (the projector) is read-only and can take the wheel.

Session state names (docs/room.md):
- "room_session": this browser session's id in the room (presence);
- "room_reacted": the head version this session last reran for (one rerun per new version);
- "room_replaced": moves of someone else's that this session's last move overwrote, with how to
  put each back (shown once, until dismissed or put back);
- "room_beat": when (and as what) this session last said it is in the room;
- "room_agreement": the quarter's agreed plan as this screen last saw it (agreement_changed);
- "room_also", "room_also_reacted": other saved scenarios the page shows (watch_also).
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from functools import lru_cache
from typing import Any

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sim.merge import describe_all, field_label, value_text
from sim.room import ago, others
from sim.store import Presence, Replaced, Store, VersionInfo
from ui import editor, storage
from ui.storage import feed
from ui.text import md_text

LIVE_EVERY_S = 0.5  # how often a screen asks whether the scenario has a new version
ASK_AGAIN_S = 2.0  # the watch asks again for news still there after a bar run this long ago
REFRESH_EVERY_S = 5.0  # ... the live line's own refresh when the browser asks (head_route)
HEAD_PATH = "_pact/head"  # the head version of a scenario, asked by the browser (head_route)
SCENARIO_ID = re.compile(r"[0-9a-f]{12}")  # sim.store: uuid4().hex[:12]
QUARTER = re.compile(r"[0-9]{4}-Q[1-4]")  # sim.models (ASCII digits only)
ALSO_MAX = 8  # scenarios a screen may ask about beside its own (Compare shows up to four)
BEAT_EVERY_S = 10.0  # how often a screen says it is still in the room
ALSO = "room_also"  # other saved scenarios the page shows: id -> version drawn (watch_also)
ALSO_REACTED = "room_also_reacted"  # ... and the head each last reran the page for
AGREEMENT_SEEN = "room_agreement"  # "<quarter>:<id of its agreed plan>" as this screen last saw
PRESENCE_TTL_S = 1.0  # one read of who is here serves every session of the process this long


def session_id() -> str:
    if "room_session" not in st.session_state:
        st.session_state["room_session"] = uuid.uuid4().hex
    return str(st.session_state["room_session"])


def following() -> bool:
    """A follower (the projector) shows the latest version read-only, with large numbers."""
    return bool(st.session_state.get("presentation", False))


def take_the_wheel() -> None:
    st.session_state["presentation"] = st.session_state["kept_presentation"] = False


# ---- what changed, who is here ---------------------------------------------------------------
@lru_cache(maxsize=256)
def _head(s: Store, sid: str, number: int) -> tuple[VersionInfo, dict[str, Any]] | None:
    info = s.head_info(sid)
    if info is None or info.number != number:
        return None
    scenario, _ = s.load(sid, number)
    return info, scenario.to_dict()


def last_change(s: Store, sid: str, number: int) -> str | None:
    """'Sam: Inbound MQL → SQL rate 75% → 70%, 4 s ago' for a scenario's latest version."""
    known = _head(s, sid, number)
    if known is None:
        return None
    info, data = known
    if not info.changes:
        what = "saved this plan" if info.number == 1 else "saved a new version"
        return f"{info.author}: {what}, {ago(info.created_at)}"
    return f"{info.author}: {describe_all(info.changes, data)}, {ago(info.created_at)}"


_presence: dict[tuple[str, str], tuple[float, list[Presence]]] = {}
_presence_lock = threading.Lock()


def present(s: Store, sid: str) -> list[Presence]:
    """Who is in the room (read at most once a second per process)."""
    key, now = (s.url, sid), time.monotonic()
    with _presence_lock:
        cached = _presence.get(key)
        if cached is not None and now - cached[0] < PRESENCE_TTL_S:
            return cached[1]
    people = s.presence(sid)
    with _presence_lock:
        _presence[key] = (now, people)
    return people


def heartbeat(s: Store, sid: str) -> None:
    """Say this session is in the room: every BEAT_EVERY_S, and at once when its name or role
    changes."""
    mode = "follow" if following() else "drive"
    me = (sid, storage.author(), mode)
    last = st.session_state.get("room_beat")
    now = time.monotonic()
    if last is not None and last[0] == me and now - last[1] < BEAT_EVERY_S:
        return
    s.touch_presence(sid, session_id(), storage.author(), mode)
    st.session_state["room_beat"] = (me, now)
    with _presence_lock:
        _presence.pop((s.url, sid), None)


# ---- the head, asked by the browser ---------------------------------------------------------
# Asking whether a scenario has a new version used to be a script run of the live bar twice a
# second on every screen (20 screens: 40 runs a second, most of them finding nothing). With the
# app started by ui.serve (asgi.py), the browser asks this route instead: a dictionary lookup in
# the process's change feed, no script run; only a newer version reruns the live bar, which
# brings the page up to date as before. The answer is a version number of an unguessable id.
_routed = False
_NO_STORE = {"Cache-Control": "no-store"}


def head_route() -> Route:
    """The route answering `GET /_pact/head?scenario=<id>` with `{"head": <version or null>}`;
    with `&also=<id>,<id>` also `"also": {<id>: <version or null>}` (the proposals Compare shows
    beside it), with `&quarter=2027-Q1` also `"agreement": "<id of its agreed plan, or ''>"`
    (both only for a scenario that exists)."""
    return Route(f"/{HEAD_PATH}", _head_endpoint, methods=["GET"])


def serve_head() -> Route:
    """head_route, for the server that mounts it (asgi.py): from now on this process's live
    bars let the browser ask."""
    global _routed
    _routed = True
    return head_route()


async def _head_endpoint(request: Request) -> JSONResponse:
    params = request.query_params
    sid = params.get("scenario", "")
    also = tuple(filter(None, params.get("also", "").split(",")))
    quarter = params.get("quarter")
    error = None
    if not SCENARIO_ID.fullmatch(sid):
        error = "scenario: expected the 12-character id from a ?scenario= link"
    elif len(also) > ALSO_MAX or not all(SCENARIO_ID.fullmatch(other) for other in also):
        error = f"also: expected up to {ALSO_MAX} scenario ids of 12 characters, comma separated"
    elif quarter is not None and not QUARTER.fullmatch(quarter):
        error = "quarter: expected a quarter like 2027-Q1"
    if error is not None:
        return JSONResponse({"error": error}, status_code=400, headers=_NO_STORE)
    news = await run_in_threadpool(storage.default_news, sid, also, quarter)
    return JSONResponse(news, headers=_NO_STORE)


# The browser's side: every LIVE_EVERY_S, one small GET (the page's scenario, the proposals shown
# beside it, the quarter); news (a newer version than the page shows, of its scenario or of one
# beside it, or another agreed plan) sets a trigger, which reruns the live bar (its fragment).
# One request at a time; the same news is asked for again only after ASK_AGAIN_S (the bar's run
# may have found nothing yet on a process whose feed had not heard). And when the
# server has written into this screen's widgets since the bar was last drawn (`writes`: a
# catch-up, a value set back), one more trigger reruns the bar at once: that run carries the
# widgets as the browser now shows them, which tells the editors the screen is up to date
# (ui/editor.py observe; the 0.5 s timer used to bring that report).
_WATCH_JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let w = parentElement.__pactWatch;
  if (!w) w = parentElement.__pactWatch = { timer: null, busy: false, asked: '', askedAt: 0, writes: null };
  w.data = data;
  w.page = window.location.pathname;
  w.dead = false;
  // A trigger sent after the leader left the page would rerun this page's bar in place of the
  // page they opened: none once the address has changed or the watch is gone.
  const trigger = (name, value) => {
    if (w.dead || window.location.pathname !== w.page) return false;
    setTriggerValue(name, value);
    return true;
  };
  parentElement.dataset.pactWatch = '1';
  parentElement.dataset.writes = String(data.writes);
  if (w.writes !== data.writes) {
    w.writes = data.writes;
    setTimeout(() => {
      if (trigger('drawn', data.writes)) {
        parentElement.dataset.reported = String(data.writes);  // what the browser tests wait on
      }
    }, 0);
  }
  if (!w.timer) {
    w.timer = setInterval(async () => {
      if (w.busy || document.hidden) return;
      w.busy = true;
      try {
        const d = w.data;
        const also = Object.keys(d.also || {});
        let url = d.url + '?scenario=' + encodeURIComponent(d.scenario);
        if (also.length) url += '&also=' + also.map(encodeURIComponent).join(',');
        if (d.quarter) url += '&quarter=' + encodeURIComponent(d.quarter);
        const r = await fetch(url, { cache: 'no-store' });
        if (r.ok) {
          const a = await r.json();
          // News: a newer version of this scenario or of one shown beside it, or another
          // agreed plan for the quarter. Each piece of news is asked about once.
          const news = [];
          if (typeof a.head === 'number' && a.head > d.shown) news.push('v' + a.head);
          for (const id of also) {
            const h = (a.also || {})[id];
            if (typeof h === 'number' && h > d.also[id]) news.push(id + ':' + h);
          }
          if (d.quarter && typeof a.agreement === 'string' && a.agreement !== d.agreement) {
            news.push('a' + a.agreement);
          }
          // Asked again when still news after ASK_AGAIN_MS: the bar's run may have been served
          // by a process whose feed had not heard yet (it reads again within 0.2 s).
          const key = news.join(' ');
          const again = key === w.asked && Date.now() - w.askedAt > d.again_ms;
          if (news.length && (key !== w.asked || again) && trigger('newer', key)) {
            w.asked = key;
            w.askedAt = Date.now();
          }
        }
      } catch (e) {
        // offline for a moment: the next tick asks again
      } finally {
        w.busy = false;
      }
    }, data.every_ms);
  }
  return () => {
    clearInterval(w.timer);
    w.timer = null;
    w.dead = true;
  };
}
"""
_watch = st.components.v2.component("pact_room_watch", js=_WATCH_JS, isolate_styles=False)


def browser_asks() -> bool:
    """True when the browser asks the head route (the app runs under asgi.py) for this session's
    store; otherwise the live bar asks by rerunning itself every LIVE_EVERY_S."""
    s = storage.store()
    return _routed and s is not None and s.url == storage.default_url()


# ---- the live bar ----------------------------------------------------------------------------
def remember_replaced(replaced: tuple[Replaced, ...], scenario: dict[str, Any]) -> None:
    """Keep what a move overwrote, in words, with the move that puts it back."""
    if not replaced:
        return
    st.session_state["room_replaced"] = [
        {
            "text": (
                f"You changed {field_label(r.change.path, scenario)} to "
                f"{value_text(r.change.path, r.change.after)}, replacing "
                f"{r.author}'s {value_text(r.change.path, r.value)} (set {ago(r.at)}, after "
                "your screen last updated)."
            ),
            "button": f"Put back {r.author}'s {value_text(r.change.path, r.value)}",
            "undo": r.undo(),
            "id": uuid.uuid4().hex[:12],  # a new notice gets new buttons (replaced_notices)
        }
        for r in replaced
    ]


def _put_back(undo: Any) -> None:
    st.session_state["room_undo"] = undo
    st.session_state.pop("room_replaced", None)


def _dismiss() -> None:
    st.session_state.pop("room_replaced", None)


def replaced_notices() -> None:
    """The same-field conflict notices, each with one click to put the other value back.

    A button never puts back another value than the one it names: each notice's buttons are new
    widgets carrying its own put-back, so a click on "Put back Sam's 80%" that reaches the server
    after a newer clash replaced the notice puts back 80% or, once the page has been redrawn with
    the newer notice, does nothing (docs/room.md)."""
    for notice in st.session_state.get("room_replaced") or []:
        with st.container(border=True):
            st.warning(md_text(notice["text"]), icon="↔️")
            a, b, _ = st.columns([2, 1, 3])
            a.button(
                notice["button"],
                key=f"room_put_back_{notice['id']}",
                on_click=_put_back,
                args=(notice["undo"],),
            )
            b.button("Keep mine", key=f"room_keep_{notice['id']}", on_click=_dismiss)


def pending_undo() -> Any:
    """The put-back move a button asked for (taken once), or None."""
    return st.session_state.pop("room_undo", None)


def live_bar() -> None:
    """Live status under the headline; reruns the page when another screen saved a version.

    Who asks whether there is one: the browser (browser_asks), else the bar itself."""
    if browser_asks():
        _watched_live_bar()
    else:
        _polling_live_bar()


@st.fragment(run_every=REFRESH_EVERY_S)
def _watched_live_bar() -> None:
    _live_line(watch=True)


@st.fragment(run_every=LIVE_EVERY_S)
def _polling_live_bar() -> None:
    _live_line(watch=False)


def _live_line(*, watch: bool) -> None:
    editor.observe()
    scenario = st.session_state.get("scenario")
    # Only when the watch asks (its trigger requests carry presses): on the bar's own 0.5 s timer
    # the check made a screen save a stale report as a move (the two-process browser test).
    unread = editor.unread_move(scenario) if scenario is not None and watch else ()
    if unread and st.session_state.get("room_read_move") != unread:  # once for the same values
        # A press rode along with this rerun of the bar (editor.unread_move): read and save it.
        st.session_state["room_read_move"] = unread
        st.rerun(scope="app")
    s = storage.store()
    sid = st.session_state.get("store_id")
    if s is None or sid is None:
        st.caption(
            "Not shared yet: your first change saves this plan and puts its link in the "
            "address bar; anyone who opens that link joins the room."
        )
        return
    head = feed(s).head(sid)
    shown = st.session_state.get("store_version") or 0
    if head is not None and head > shown and head != st.session_state.get("room_reacted"):
        st.session_state["room_reacted"] = head
        st.rerun(scope="app")
    if scenario is not None and agreement_changed(s, scenario.quarter):
        st.rerun(scope="app")  # the page shows the agreement (a banner, a record, a lock)
    if other_moved(s):
        st.rerun(scope="app")  # Compare: a proposal beside this one has a new version
    heartbeat(s, sid)
    names = others(present(s, sid), session_id())
    who = f"with {md_text(', '.join(names))}" if names else "nobody else here yet"
    change = last_change(s, sid, shown) if shown else None
    line = f":green[●] **Live** · {who}"
    if change:
        line += f" · last change: {md_text(change)}"
    st.caption(line)
    if watch:
        data = {"url": f"./{HEAD_PATH}", "scenario": sid, "shown": shown}
        data |= {"writes": editor.writes(), "every_ms": int(LIVE_EVERY_S * 1000)}
        data |= {"again_ms": int(ASK_AGAIN_S * 1000)}
        data |= {"also": dict(st.session_state.get(ALSO) or {})}
        if scenario is not None:  # the agreed plan this screen shows (agreement_changed)
            quarter, _, agreed = (st.session_state.get(AGREEMENT_SEEN) or ":").partition(":")
            if quarter == scenario.quarter and QUARTER.fullmatch(quarter):
                data |= {"quarter": quarter, "agreement": agreed}
        _watch(data=data, key="room_watch", on_newer_change=_noop, on_drawn_change=_noop)


def agreement_changed(s: Store, quarter: str) -> bool:
    """True, once, when the quarter's agreed plan is not the one this screen last saw: agreed
    or superseded on another screen. An agreement adds no version, so the head does not tell:
    the browser's watch asks the head route about the quarter too (the bar reruns when its
    agreed plan is another), and the bar looks on each of its runs."""
    now = f"{quarter}:{feed(s).agreement(quarter)}"
    before = st.session_state.get(AGREEMENT_SEEN)
    st.session_state[AGREEMENT_SEEN] = now
    return before is not None and before.split(":")[0] == quarter and before != now


def watch_also(drawn: dict[str, int]) -> None:
    """The page also shows these saved scenarios (id -> the version drawn): the live bar reruns
    it when one of them has a newer version. Set by each full run of the page that shows them
    (Compare), dropped by the next full run of any page (shell.setup_page)."""
    st.session_state[ALSO] = dict(drawn)


def other_moved(s: Store) -> bool:
    """True, once per new version, when a scenario the page also shows (watch_also) has one
    newer than the page drew; looked at on each run of the live bar (every REFRESH_EVERY_S at
    least) and when the browser's watch finds one in the head route's answer."""
    reacted: dict[str, int] = st.session_state.setdefault(ALSO_REACTED, {})
    moved = False
    for sid, drawn in (st.session_state.get(ALSO) or {}).items():
        head = feed(s).head(sid)
        if head is not None and head > drawn and reacted.get(sid) != head:
            reacted[sid] = head
            moved = True
    return moved


def _noop() -> None:
    """The watch's triggers only ask for a rerun of the live bar, which reads the head and the
    browser's report itself."""


def follower_bar() -> None:
    """What a follower sees instead of the editors: read-only, one click to drive."""
    c1, c2 = st.columns([4, 1])
    c1.caption(":material/co_present: Following the room: read-only, always the latest version.")
    c2.button("Take the wheel", key="room_take_wheel", on_click=take_the_wheel, type="primary")
