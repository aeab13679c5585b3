"""Load benchmark: the meeting room under load. Rooms of leaders on one `?scenario=` link each,
every leader moving a slider of their own, every move saved and shown on the other screens.

Run from the repository root:
    .venv/bin/python bench/load.py [--rooms 4] [--sessions 5] [--seconds 60] [--think 0.4]
                                   [--processes 1] [--port 8599]

Starts the app as the product does (`python -m ui.serve`; with --processes 2, two of them on ports
P and P+1) on one fresh SQLite store in a temporary folder, and beside it the empty reference page
(`streamlit run bench/empty_page.py`, one slider and one metric) on the next port. Then opens
Streamlit websocket clients that speak the browser's protocol on /_stcore/stream: BackMsg
`rerun_script` with the address bar's query string, the page hash and the value of every widget
on the page (kept as the browser's widget manager keeps them: a widget's default when it first
appears, the server's value when a delta carries `set_value`, the leader's own moves), reading
ForwardMsgs until the run chain ends (`script_finished` other than FINISHED_EARLY_FOR_RERUN).

Room set-up: in each room, session 0 loads the Plan page, types its name once and makes the first
move, which creates the saved scenario; its link comes back in `page_info_changed` and the other
sessions open it (first render), each typing its name once. Sessions are spread over the app
processes (room r, seat j -> process (r + j) mod P). When every session has its page, the window
opens for --seconds: each session moves its own slider (seat 0..4: the three rates of the first
source, its volume, marketing's share) to a new value, as a browser does: the slider's new value and a
`rerun_script` with the Plan body fragment's id (from the deltas' `fragment_id`), so only the body
reruns. It starts within one pause of the window opening and pauses 0.5-1.5x --think (seeded)
after each finished move. Between moves it does what the browser does for the room's live bar:
asks the head route (`GET /_pact/head?scenario=`, the live bar's watch component, ui/room.py)
every 0.5 s over one keep-alive HTTP connection, and when the answer is newer than the version
the component was last given, sets the component's trigger (`rerun_script` with the live bar's
fragment id and the trigger in the widget states), once per newer version; it also keeps the live
bar's own timer (`st.fragment(run_every=...)`: the server sends `auto_rerun` and the client sends
`rerun_script` with that fragment id and `is_auto_rerun` every interval). When the live bar sees
a newer version it reruns the whole page (FINISHED_EARLY_FOR_RERUN, then a full run). One run at
a time per session: a timer tick or a newer head that falls during a run is acted on when the run
ends (the browser would send it at once and the server would queue it), and a move that falls due
during a live-bar run waits for it ("move waited" below). The reference page's client moves its slider at
the same pace, or every 0.4 s when that is slower (its p95 needs enough moves; it adds no load to
the app's processes); a full rerun per move, as the page has no fragments.

Figures (all clocks in this one process):
- move: slider -> headline, from sending the move to the "Chance we hit the number" delta; whole
  rerun, to the end of the run chain. Reference: slider -> "Reference value" delta.
- follower lag: for every saved move and every other session in its room, from the mover sending
  it to that session receiving a slider delta (`set_value`) showing the field at that value, or
  at a later value of the same mover (a screen that polls after two moves shows the second: it is
  caught up with both; "skipped" counts those). A value is mapped to the mover's latest move with
  that value sent before the delta arrived (values of one slider repeat only after 41 moves).
- errors: an exception element, an error or warning on the page (a refused save shows "Not
  saved"; a same-field conflict notice cannot happen as every leader owns a field), a run that
  ends other than successfully, a run over 10 s, no end of run in 120 s, a closed websocket.
- store check, afterwards, with sim.store.Store on the same file: per room, version 1 is session
  0's first move; every later version changes exactly one field, by the author who owns it, to
  the value sent; each author's versions hold their successful moves in the order sent (a move
  whose run raised or never finished may or may not be saved: the stored sequence tells; a move
  to the value already saved saves nothing); every version's other fields hold their authors'
  latest values (no move undid another); version numbers are 1..n.

--rooms 0 is the earlier mode: --sessions (default 20) leaders each on a scenario of their own,
all moving --widget (no followers).

The servers run as scripts/run starts them; .streamlit/config.toml turns Streamlit's file watcher
off (--watch-files turns it on: in a checkout being edited, a save during the run makes Streamlit
unload the app's modules under every session).

Prints a table; asserts nothing about time. Exits 1 on any error, refused, lost or wrong version,
or a slider the server set back to an older value than the screen had shown (a follower going
back to an earlier move, or a leader's own slider set to anything but its last move).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import websockets
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.Slider_pb2 import Slider

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser import cpu_seconds
from sim.store import Store
from ui.editor import bindings
from ui.room import HEAD_PATH

TIMEOUT_S = 10.0  # a rerun slower than this counts as an error
GIVE_UP_S = 120.0  # ... and after this the session stops waiting for it
HEADLINE = "Chance we hit the number"
REFERENCE_METRIC, REFERENCE_KEY = "Reference value", "reference_slider"
AUTHOR_KEY = "author"
# Five sliders on the Plan page as it opens (the editor shows the first source's funnel).
ROOM_KEYS = (
    "plan_s0_rate0",
    "plan_s0_rate1",
    "plan_s0_rate2",
    "plan_s0_volume",
    "plan_marketing_share",
)
ERROR, WARNING = 1, 2  # streamlit.proto.Alert_pb2.Alert.Format
STATUS = ForwardMsg.ScriptFinishedStatus
EARLY = STATUS.Value("FINISHED_EARLY_FOR_RERUN")
FINISHED_OK = {
    STATUS.Value("FINISHED_SUCCESSFULLY"),
    STATUS.Value("FINISHED_FRAGMENT_RUN_SUCCESSFULLY"),
}
SELECT_SLIDER = Slider.Type.Value("SELECT_SLIDER")
INT_INPUT = NumberInput.DataType.Value("INT")
REFERENCE_THINK_S = 0.4  # the reference page moves at least this often (its p95 from enough moves)
WATCH_COMPONENT = "pact_room_watch"  # the live bar's watch (ui/room.py)
LAST_SECOND_S = 1.0  # moves this close to the window's end may be unseen by a follower


# ---- one browser tab ---------------------------------------------------------------------------
@dataclass
class Widget:
    key: str
    kind: str  # the WidgetState field the browser sets: "double_array_value", "string_value", ...
    value: Any
    fragment_id: str
    low: float = float("nan")
    high: float = float("nan")


@dataclass
class Run:
    """What one run chain produced, as a client sees it."""

    total_s: float = float("nan")
    headline_s: float = float("nan")
    status: int = -1
    full: bool = False  # a full-page run was part of the chain
    exceptions: list[str] = field(default_factory=list)
    alerts: list[tuple[int, str]] = field(default_factory=list)

    @property
    def status_ok(self) -> bool:
        return self.status in FINISHED_OK


def widget_key(widget_id: str) -> str:
    """'$$ID-<hash>-plan_s0_rate0' -> 'plan_s0_rate0' (Streamlit's id for a keyed widget)."""
    return widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") else widget_id


def browser_value(etype: str, proto: Any, known: Widget | None) -> tuple[str, Any] | None:
    """(WidgetState field, value) the browser reports for a widget element, or None for widgets
    without a lasting value (buttons, uploads). It keeps its own value unless told `set_value`."""
    set_value = bool(getattr(proto, "set_value", False))
    if etype == "slider" and proto.type == SELECT_SLIDER:
        kind = "string_array_value"
        fresh: Any = (
            list(proto.raw_value) if set_value else [proto.options[int(i)] for i in proto.default]
        )
    elif etype == "slider":
        kind = "double_array_value"
        fresh = list(proto.value) if set_value else list(proto.default)
    elif etype == "number_input":
        kind = "int_value" if proto.data_type == INT_INPUT else "double_value"
        name = "value" if set_value else "default"
        fresh = getattr(proto, name) if proto.HasField(name) else None
    elif etype == "text_input":
        kind = "string_value"
        name = "value" if set_value else "default"
        fresh = getattr(proto, name) if proto.HasField(name) else None
    elif etype in ("radio", "selectbox"):
        kind = "string_value"
        if set_value:
            fresh = proto.raw_value if proto.HasField("raw_value") else None
        elif proto.HasField("default") and 0 <= proto.default < len(proto.options):
            fresh = proto.options[proto.default]
        else:
            fresh = None
    elif etype == "checkbox":
        kind = "bool_value"
        fresh = proto.value if set_value else proto.default
    else:
        return None
    if known is not None and known.kind == kind and not set_value:
        return kind, known.value
    return kind, fresh


@dataclass
class Watch:
    """The live bar's watch component as the browser holds it: what it was last given."""

    fragment_id: str
    trigger_id: str  # its trigger aggregator widget
    path: str  # "/_pact/head?scenario=<id>"
    shown: int
    every_s: float
    origin: float  # when its setInterval started
    done: int = 0  # ticks acted on
    asked: int = 0  # the newest head it set the trigger for
    writes: int | None = None  # the server's count of writes into the widgets, as last given
    report_due: bool = False  # ... it changed: the component sets its "drawn" trigger at once


class HeadAsker:
    """One keep-alive HTTP/1.1 connection to the app, as the browser's fetch keeps one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def head(self, path: str) -> int | None:
        for attempt in (1, 2):  # the server may have closed an idle connection: open a new one
            try:
                if self.conn is None:
                    self.conn = await asyncio.open_connection("127.0.0.1", self.port)
                reader, writer = self.conn
                writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
                await writer.drain()
                top = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in top.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = json.loads(await reader.readexactly(length))
                if not top.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"{top.splitlines()[0]!r}: {body}")
                return body["head"]
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                self.close()
                if attempt == 2:
                    raise
        return None

    def close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()
            self.conn = None


class Client:
    """A browser tab on one page: its websocket, address bar, widget values, fragment timers and
    the live bar's watch."""

    def __init__(self, ws: Any, query_string: str, headline: str, watch: set[str]) -> None:
        self.ws = ws
        self.room_watch: Watch | None = None
        self.trigger: tuple[str, str] | None = None  # (widget id, JSON) sent with the next run
        self.query_string = query_string
        self.page_hash = ""
        self.headline = headline
        self.widgets: dict[str, Widget] = {}  # widget id -> what the browser holds
        self.ids: dict[str, str] = {}  # user key -> widget id
        self.timers: dict[str, tuple[float, float, int]] = {}  # fragment -> (every, origin, done)
        self.watch = watch  # slider keys whose shown values are recorded
        self.shown: dict[str, list[tuple[float, int]]] = {k: [] for k in watch}

    def set(self, key: str, value: Any) -> None:
        self.widgets[self.ids[key]].value = value

    def widget(self, key: str) -> Widget:
        return self.widgets[self.ids[key]]

    # -- the browser's auto-rerun timers (setInterval per fragment) ---------------------------
    def due_poll(self, now: float) -> str | None:
        """A fragment whose timer ticked since its last rerun was sent."""
        for fid, (every, origin, done) in self.timers.items():
            if int((now - origin) / every) > done:
                return fid
        return None

    def next_tick(self) -> float:
        ticks = [origin + (done + 1) * every for every, origin, done in self.timers.values()]
        if (w := self.room_watch) is not None:
            ticks.append(w.origin + (w.done + 1) * w.every_s)
        return min(ticks, default=math.inf)

    def due_watch(self, now: float) -> Watch | None:
        """The watch, when its interval ticked since it last asked."""
        w = self.room_watch
        if w is None or int((now - w.origin) / w.every_s) <= w.done:
            return None
        w.done = int((now - w.origin) / w.every_s)
        return w

    def _ticked(self, fid: str, now: float) -> None:
        every, origin, _ = self.timers[fid]
        self.timers[fid] = (every, origin, int((now - origin) / every))

    # -- one run chain -------------------------------------------------------------------------
    async def rerun(self, fragment_id: str = "", auto: bool = False) -> Run:
        back = BackMsg()
        cs = back.rerun_script
        cs.query_string = self.query_string
        cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.context_info.timezone = "UTC"
        cs.context_info.locale = "en-US"
        for wid, w in self.widgets.items():
            if w.value is None:
                continue
            state = cs.widget_states.widgets.add()
            state.id = wid
            if w.kind.endswith("_array_value"):
                getattr(state, w.kind).data.extend(w.value)
            else:
                setattr(state, w.kind, int(w.value) if w.kind == "int_value" else w.value)
        if self.trigger is not None:  # a trigger is sent with one run only
            state = cs.widget_states.widgets.add()
            state.id, state.json_trigger_value = self.trigger
            self.trigger = None
        if auto:
            self._ticked(fragment_id, time.perf_counter())
        run = Run()
        drawn: set[str] = set()
        fragments: list[str] = []
        t0 = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        while True:
            left = t0 + GIVE_UP_S - time.perf_counter()
            raw = await asyncio.wait_for(self.ws.recv(), timeout=max(left, 0.001))
            now = time.perf_counter()
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._element(msg.delta, run, drawn, now - t0, now)
            elif kind == "new_session":
                self.page_hash = msg.new_session.page_script_hash
                fragments = list(msg.metadata.run.fragment_ids)
                run.full = run.full or not fragments
                drawn = set()
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                fid, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                if fid and every > 0 and self.timers.get(fid, (None,))[0] != every:
                    self.timers[fid] = (every, now, 0)  # a new setInterval from now
            elif kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    self.timers.pop(fid, None)
            elif kind == "ref_hash" or msg.ref_hash:
                run.exceptions.append("unexpected ref_hash (the client caches nothing)")
            elif kind == "script_finished":
                if msg.script_finished in FINISHED_OK:  # the browser forgets widgets not drawn
                    self.widgets = {
                        wid: w
                        for wid, w in self.widgets.items()
                        if wid in drawn or (fragments and w.fragment_id not in fragments)
                    }
                if msg.script_finished == EARLY:
                    continue
                run.status = msg.script_finished
                run.total_s = now - t0
                return run

    def _element(self, delta: Any, run: Run, drawn: set[str], since: float, now: float) -> None:
        el = delta.new_element
        etype = el.WhichOneof("type")
        proto = getattr(el, etype)
        if etype == "bidi_component" and proto.component_name.endswith(WATCH_COMPONENT):
            self._watch(proto, delta.fragment_id, now)
        if etype == "exception":
            run.exceptions.append(f"{proto.type}: {proto.message}")
        elif etype == "alert" and proto.format in (ERROR, WARNING):
            run.alerts.append((proto.format, proto.body))
        elif etype == "metric" and proto.label == self.headline and math.isnan(run.headline_s):
            run.headline_s = since
        wid = getattr(proto, "id", "") if etype not in ("markdown", "metric") else ""
        if not wid:
            return
        known = self.widgets.get(wid)
        reported = browser_value(etype, proto, known)
        if reported is None:
            return
        key = widget_key(wid)
        w = Widget(key, reported[0], reported[1], delta.fragment_id)
        if etype == "slider":
            w.low, w.high = proto.min, proto.max
            if proto.set_value and key in self.watch and proto.value:
                self.shown[key].append((now, round(proto.value[0])))
        self.widgets[wid] = w
        self.ids[key] = wid
        drawn.add(wid)

    def _watch(self, proto: Any, fragment_id: str, now: float) -> None:
        data = json.loads(proto.json)
        w = self.room_watch
        if w is None or w.fragment_id != fragment_id:  # mounted: its setInterval starts
            every = data["every_ms"] / 1000
            w = Watch(fragment_id, _make_trigger_id(proto.id, "events"), "", 0, every, now)
            self.room_watch = w
        w.path = f"/{HEAD_PATH}?scenario={data['scenario']}"
        w.shown = int(data["shown"])
        if data["writes"] != w.writes:
            w.writes, w.report_due = data["writes"], True

    def set_trigger(self, w: Watch, event: str, value: int) -> None:
        self.trigger = (w.trigger_id, json.dumps([{"event": event, "value": value}]))


# ---- leaders -----------------------------------------------------------------------------------
@dataclass
class Move:
    t: float  # when it was sent (perf_counter of this process)
    value: int
    in_window: bool
    waited_s: float = 0.0  # how long it waited for a poll in flight
    total_s: float = float("nan")
    headline_s: float = float("nan")
    outcome: str = "pending"  # ok, refused, unsure (raised / failed), pending (never finished)


@dataclass
class Poll:
    total_s: float
    full: bool  # the live bar found a new version and the whole page reran


@dataclass
class Session:
    index: int
    room: int
    seat: int
    author: str
    key: str
    server: int  # which app process (-1: the reference page)
    value: int = 0  # the slider's value when the page loaded
    low: int = 0
    high: int = 100
    load_s: float = float("nan")
    moves: list[Move] = field(default_factory=list)
    polls: list[Poll] = field(default_factory=list)
    asks: list[float] = field(default_factory=list)  # the watch's GETs of the head, s
    asker: HeadAsker | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    shown: dict[str, list[tuple[float, int]]] = field(default_factory=dict)

    @property
    def reference(self) -> bool:
        return self.server < 0


@dataclass
class Room:
    index: int
    sessions: list[Session]
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    query_string: str | None = None

    @property
    def scenario_id(self) -> str | None:
        if self.query_string is None:
            return None
        return parse_qs(self.query_string).get("scenario", [None])[0]


@dataclass
class Bench:
    args: argparse.Namespace
    urls: list[str]  # app processes, then the reference page
    start: asyncio.Event = field(default_factory=asyncio.Event)
    ready: int = 0
    t0: float = math.inf
    deadline: float = math.inf


def record_problems(s: Session, run: Run) -> bool:
    """Count what went wrong in a run as errors; True if the run was clean."""
    before = len(s.errors)
    for text in run.exceptions:
        s.errors.append(("exception", text))
    for fmt, body in run.alerts:
        if "Not saved" in body:
            kind = "refused save (Not saved)"
        elif "replacing" in body:
            kind = "same-field conflict notice"
        else:
            kind = "error message" if fmt == ERROR else "warning"
        s.errors.append((kind, body[:160]))
    if not run.status_ok:
        s.errors.append(("run not finished successfully", STATUS.Name(run.status)))
    if run.total_s > TIMEOUT_S:
        s.errors.append(("timeout", f"{run.total_s:.1f} s"))
    return len(s.errors) == before


def next_value(s: Session) -> int:
    """A new slider value near the start, never the one on screen, spread across sessions."""
    span = list(range(max(s.low, s.value - 20), min(s.high, s.value + 20) + 1))
    k = len(s.moves)
    v = span[(k * 7 + s.index * 3) % len(span)]
    prev = s.moves[-1].value if s.moves else s.value
    return v if v != prev else span[(span.index(v) + 1) % len(span)]


async def move(s: Session, c: Client, in_window: bool, waited: float = 0.0) -> bool:
    """The leader drags its slider to a new value: the browser sets it and reruns its fragment."""
    m = Move(0.0, next_value(s), in_window, waited)
    w = c.widget(s.key)
    w.value = [float(m.value)]  # what the frontend slider sends
    s.moves.append(m)
    m.t = time.perf_counter()
    run = await c.rerun(fragment_id=w.fragment_id)
    m.total_s, m.headline_s = run.total_s, run.headline_s
    clean = record_problems(s, run)
    if any("Not saved" in body for _, body in run.alerts):
        m.outcome = "refused"
    else:
        m.outcome = "ok" if run.status_ok and not run.exceptions else "unsure"
    return clean


async def poll(s: Session, c: Client, fid: str, in_window: bool, auto: bool = True) -> bool:
    """A live-bar run: its timer ticked (`auto`), or the watch set its trigger."""
    run = await c.rerun(fragment_id=fid, auto=auto)
    if in_window:
        s.polls.append(Poll(run.total_s, run.full))
    return record_problems(s, run)


async def ask(s: Session, c: Client, w: Watch, in_window: bool) -> bool | None:
    """The watch asks the head route; a newer version than it was given sets its trigger (once
    per version), which reruns the live bar. None: nothing new (no run)."""
    if s.asker is None:
        return None
    t0 = time.perf_counter()
    head = await s.asker.head(w.path)
    if in_window:
        s.asks.append(time.perf_counter() - t0)
    if head is None or head <= w.shown or head <= w.asked:
        return None
    w.asked = head
    c.set_trigger(w, "newer", head)
    return await poll(s, c, w.fragment_id, in_window, auto=False)


async def report(s: Session, c: Client, w: Watch, in_window: bool) -> bool:
    """The server wrote into the widgets: the component's "drawn" trigger reruns the live bar
    with the widgets as the browser now shows them."""
    w.report_due = False
    c.set_trigger(w, "drawn", w.writes or 0)
    return await poll(s, c, w.fragment_id, in_window, auto=False)


async def act(s: Session, c: Client, bench: Bench, moving: bool) -> None:
    """Be a browser tab: poll the live bar on its timer; with `moving`, move the slider after
    each pause, until the window closes (without, until it opens)."""
    think = min(bench.args.think, REFERENCE_THINK_S) if s.reference else bench.args.think
    rng = random.Random(s.index)
    next_move = bench.t0 + rng.uniform(0, think) if moving else math.inf
    end = bench.deadline
    drain = getattr(bench.args, "drain", 0.0)
    while True:
        now = time.perf_counter()
        if moving and now >= end:
            if end > bench.deadline or drain <= 0:
                return
            # The window closed: no more moves, but keep polling for --drain seconds, as a
            # browser would, so the last moves reach every screen before the lags are judged.
            end, next_move = bench.deadline + drain, math.inf
        if not moving and bench.start.is_set():
            return
        if (w := c.room_watch) is not None and w.report_due:
            clean = await report(s, c, w, moving and now < bench.deadline)
        elif now >= next_move:
            clean = await move(s, c, True, now - next_move)
            next_move = time.perf_counter() + think * rng.uniform(0.5, 1.5)
        elif (fid := c.due_poll(now)) is not None:
            clean = await poll(s, c, fid, moving and now < bench.deadline)
        elif (w := c.due_watch(now)) is not None:
            asked = await ask(s, c, w, moving and now < bench.deadline)
            if asked is None:
                continue
            clean = asked
        else:
            wake = min(next_move, c.next_tick(), end)
            if moving:
                await asyncio.sleep(max(wake - now, 0.0))
            else:
                wait = None if math.isinf(wake) else max(wake - now, 0.001)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bench.start.wait(), timeout=wait)
            continue
        if not clean and bench.args.stop_on_error:
            return


async def session_main(s: Session, room: Room | None, bench: Bench) -> None:
    url = bench.urls[s.server]
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    counted = False
    try:
        if room is not None and s.seat > 0:
            await room.ready.wait()
            if room.query_string is None:
                s.errors.append(("no link to open", "session 0 of the room made none"))
                return
        async with websockets.connect(
            url,
            subprotocols=["streamlit"],
            origin=f"http://localhost:{port}",
            max_size=None,
            open_timeout=30,
        ) as ws:
            query = room.query_string if room is not None and s.seat > 0 else ""
            headline = REFERENCE_METRIC if s.reference else HEADLINE
            watch = {x.key for x in room.sessions} if room is not None else set()
            c = Client(ws, query or "", headline, watch)
            s.shown = c.shown
            s.asker = None if s.reference else HeadAsker(port)
            run = await c.rerun()  # the page loads (first render)
            s.load_s = run.total_s
            record_problems(s, run)
            if s.key not in c.ids or (not s.reference and AUTHOR_KEY not in c.ids):
                s.errors.append(("widget missing", s.key))
                return
            w = c.widget(s.key)
            s.value, s.low, s.high = round(w.value[0]), round(w.low), round(w.high)
            if not s.reference:
                c.set(AUTHOR_KEY, s.author)  # the leader types their name once
                record_problems(s, await c.rerun())
            if room is not None and s.seat == 0:
                await move(s, c, in_window=False)  # the first move saves the plan: its link
                if "scenario=" in c.query_string:
                    room.query_string = c.query_string
                room.ready.set()
            bench.ready += 1
            counted = True
            await act(s, c, bench, moving=False)
            await act(s, c, bench, moving=True)
    except TimeoutError:
        s.errors.append(("timeout", f"no end of run in {GIVE_UP_S:.0f} s"))
    except RuntimeError as exc:
        s.errors.append(("head route", str(exc)[:160]))
    except websockets.ConnectionClosed as exc:
        s.errors.append(("websocket closed", str(exc)[:160]))
    except OSError as exc:
        s.errors.append(("connection failed", str(exc)[:160]))
    except Exception as exc:  # noqa: BLE001 (a page this client did not expect: report it)
        s.errors.append(("load client failed", repr(exc)[:160]))
    finally:
        if s.asker is not None:
            s.asker.close()
        if room is not None and s.seat == 0:
            room.ready.set()
        if not counted:
            bench.ready += 1


async def drive(
    rooms: list[Room], ref: Session, bench: Bench, pids: list[int]
) -> tuple[float, list[float]]:
    """Run every session; the window's length and CPU seconds used in it (each server, this
    client, the whole machine)."""
    sessions = [(s, room) for room in rooms for s in room.sessions] + [(ref, None)]
    tasks = [asyncio.create_task(session_main(s, room, bench)) for s, room in sessions]
    # The window opens when every session has its page (or has failed to get it).
    while bench.ready < len(tasks):
        await asyncio.sleep(0.05)
    cpu0 = [*(cpu_seconds(p) for p in pids), time.process_time(), machine_busy_seconds()]
    bench.t0 = time.perf_counter()
    bench.deadline = bench.t0 + bench.args.seconds
    bench.start.set()

    async def at_close() -> tuple[float, list[float]]:
        """CPU used in the window, read when it closes (before the drain)."""
        await asyncio.sleep(max(bench.deadline - time.perf_counter(), 0.0))
        now = time.perf_counter()
        return now - bench.t0, [
            *(cpu_seconds(p) for p in pids),
            time.process_time(),
            machine_busy_seconds(),
        ]

    closing = asyncio.create_task(at_close())
    await asyncio.gather(*tasks)
    window, cpu1 = await closing
    return window, [b - a for a, b in zip(cpu0, cpu1, strict=True)]


# ---- the machine and the servers ---------------------------------------------------------------
def machine_busy_seconds() -> float:
    """CPU seconds all processes spent busy since boot (Linux /proc/stat), or nan elsewhere."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(ticks[:3]) + sum(ticks[5:8])) / os.sysconf("SC_CLK_TCK")  # not idle, iowait
    except (OSError, ValueError):
        return float("nan")


def machine_busy_now(seconds: float = 3.0) -> float:
    """Cores busy on the machine over a short sample (other engineers' work, before the run)."""
    a = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - a) / seconds


def start_server(command: list[str], port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    try:
        urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=1)
    except OSError:
        pass
    else:
        sys.exit(f"error: something already answers on port {port}; pick another with --port")
    command = [*command, "--server.port", str(port), "--server.headless", "true"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_healthy(procs: list[tuple[subprocess.Popen, int, Path]]) -> None:
    t = time.perf_counter()
    for proc, port, log in procs:
        while True:
            if proc.poll() is not None:
                sys.exit(
                    f"error: the server on port {port} exited with {proc.returncode}; see {log}"
                )
            try:
                with urllib.request.urlopen(
                    f"http://localhost:{port}/_stcore/health", timeout=1
                ) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
            if time.perf_counter() - t > 120:
                sys.exit(f"error: the server on port {port} did not answer within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- afterwards: the store ---------------------------------------------------------------------
@dataclass
class Check:
    expected: int = 0  # versions the store must hold
    found: int = 0
    lost: int = 0
    extra: int = 0
    refused: int = 0
    noop: int = 0  # moves to the value already saved (they save nothing)
    unsure: int = 0  # moves whose run raised or never finished (saved or not: both are right)
    unsure_saved: int = 0
    wrong: list[str] = field(default_factory=list)


def check_store(db_url: str, rooms: list[Room]) -> tuple[Check, int]:
    """Every room's scenario holds exactly its leaders' saved moves (see the module docstring)."""
    store = Store(db_url)
    check = Check()
    for room in rooms:
        check_room(store, room, check)
    listed = len(store.scenarios())
    store.engine.dispose()
    return check, listed


def check_room(store: Store, room: Room, check: Check) -> None:
    name = f"room {room.index}"
    sid = room.scenario_id
    moves = sum(len(s.moves) for s in room.sessions)
    if sid is None:
        check.lost += sum(m.outcome == "ok" for s in room.sessions for m in s.moves)
        if moves:
            check.wrong.append(f"{name}: no ?scenario= link after {moves} moves")
        return
    versions = store.versions(sid)
    check.found += len(versions)
    numbers = [v.number for v in versions]
    if numbers != list(range(1, len(numbers) + 1)):
        check.wrong.append(f"{name}: version numbers not 1..n: {numbers[:12]}...")
    first, _ = store.load(sid, 1)
    binding = {b.key: b for b in bindings(first)}
    owner = {binding[s.key].path: s for s in room.sessions}
    stored: dict[int, list[int]] = {s.index: [] for s in room.sessions}
    state: dict[int, int] = {}  # session -> its field's value in the latest version
    for s in room.sessions:
        data: Any = first.to_dict()
        for part in binding[s.key].path:
            data = data[part]
        state[s.index] = binding[s.key].to_widget(data)
    lead = room.sessions[0]
    if versions and versions[0].author != lead.author:
        check.wrong.append(f"{name}: version 1 by {versions[0].author!r}, not {lead.author!r}")
    stored[lead.index].append(state[lead.index])
    for s in room.sessions[1:]:
        if state[s.index] != s.value:
            check.wrong.append(
                f"{name}: {s.key} opened at {s.value}, version 1 has it at {state[s.index]}"
            )
    for v in versions[1:]:
        changes = v.changes or ()
        if len(changes) != 1 or changes[0].path not in owner:
            paths = [".".join(map(str, ch.path)) for ch in changes]
            check.wrong.append(
                f"{name}: version {v.number} changes {paths}, not one leader's field"
            )
            continue
        s = owner[changes[0].path]
        value = binding[s.key].to_widget(changes[0].after)
        if v.author != s.author:
            check.wrong.append(
                f"{name}: version {v.number} ({s.key}) by {v.author!r}, not {s.author!r}"
            )
        stored[s.index].append(value)
        state[s.index] = value
        # The whole version: every leader's field at its latest value (no move undid another).
        scenario, _ = store.load(sid, v.number)
        data = scenario.to_dict()
        for other in room.sessions:
            got: Any = data
            for part in binding[other.key].path:
                got = got[part]
            if binding[other.key].to_widget(got) != state[other.index]:
                check.wrong.append(
                    f"{name}: version {v.number} has {other.key} at "
                    f"{binding[other.key].to_widget(got)}, its author's latest is {state[other.index]}"
                )
    for s in room.sessions:
        compare_moves(name, s, stored[s.index], check)


def compare_moves(name: str, s: Session, stored: list[int], check: Check) -> None:
    """One author's saved values against the moves it made, in order."""
    kept: list[int] = []
    prev = s.value
    for m in s.moves:
        if m.outcome == "refused":
            check.refused += 1
            continue
        if m.value == prev:
            check.noop += m.outcome == "ok"
            continue
        if m.outcome == "ok":
            kept.append(m.value)
            prev = m.value
            continue
        # A run that raised or never finished may or may not have saved; consecutive values
        # always differ, so the stored sequence tells which.
        check.unsure += 1
        if len(kept) < len(stored) and stored[len(kept)] == m.value:
            check.unsure_saved += 1
            kept.append(m.value)
            prev = m.value
    check.expected += len(kept)
    common = min(len(stored), len(kept))
    bad = [n for n in range(common) if stored[n] != kept[n]]
    if bad:
        check.wrong.append(
            f"{name}, {s.author}: moves {bad[:8]} saved as {[stored[n] for n in bad[:8]]}, "
            f"sent {[kept[n] for n in bad[:8]]}"
        )
    check.lost += max(0, len(kept) - len(stored))
    check.extra += max(0, len(stored) - len(kept))


# ---- afterwards: how fast the room followed ----------------------------------------------------
@dataclass
class Lag:
    same: list[float] = field(default_factory=list)  # follower on the mover's process
    across: list[float] = field(default_factory=list)  # ... on another process
    exact: int = 0  # the follower showed the move's own value
    skipped: int = 0  # the follower went straight to a later value of the same slider
    unseen_late: int = 0  # never shown, sent in the window's last second
    unseen: list[str] = field(default_factory=list)  # never shown, sent earlier
    back: list[str] = field(default_factory=list)  # a slider set to an older value than shown


def follower_lags(rooms: list[Room], window_end: float) -> Lag:
    lag = Lag()
    for room in rooms:
        for mover in room.sessions:
            sent = [(m.t, m.value) for m in mover.moves]
            own_slider(mover, sent, lag)
            for f in room.sessions:
                if f is mover:
                    continue
                follow_one(mover, f, sent, window_end, lag)
    return lag


def follow_one(
    mover: Session, f: Session, sent: list[tuple[float, int]], window_end: float, lag: Lag
) -> None:
    # Each delta the follower got for the mover's slider, as the index of the move it shows.
    shows: list[tuple[float, int]] = []
    for t, value in f.shown.get(mover.key, []):
        j = max((i for i, (ti, v) in enumerate(sent) if ti <= t and v == value), default=-1)
        shows.append((t, j))
    newest = -1
    for _, j in shows:
        if j < newest:
            lag.back.append(
                f"{f.author}'s {mover.key} set to {'move ' + str(j) if j >= 0 else 'a value never sent'} "
                f"after showing {mover.author}'s move {newest}"
            )
        newest = max(newest, j)
    p = 0
    for i, m in enumerate(mover.moves):
        if not m.in_window or m.outcome != "ok":
            continue
        while p < len(shows) and shows[p][1] < i:
            p += 1
        if p == len(shows):
            if m.t >= window_end - LAST_SECOND_S:
                lag.unseen_late += 1
            else:
                lag.unseen.append(
                    f"{mover.author} {mover.key}={m.value}, sent {window_end - m.t:.1f} s "
                    f"before the window closed, never reached {f.author}"
                )
            continue
        (lag.same if f.server == mover.server else lag.across).append(shows[p][0] - m.t)
        if shows[p][1] == i:
            lag.exact += 1
        else:
            lag.skipped += 1


def own_slider(s: Session, sent: list[tuple[float, int]], lag: Lag) -> None:
    """The server never sets a leader's own slider to anything but the value it last moved to."""
    for t, value in s.shown.get(s.key, []):
        moved = [v for ti, v in sent if ti <= t]
        if value != (moved[-1] if moved else s.value):
            lag.back.append(f"{s.author}'s own {s.key} set to {value}, moved to {moved[-1:]}")


# ---- the table ---------------------------------------------------------------------------------
def ms(values: list[float], q: float | None = None) -> str:
    if not values:
        return "-"
    a = np.array(values) * 1000
    return f"{(np.median(a) if q is None else np.percentile(a, q)):.0f}"


def triple(values: list[float]) -> str:
    return f"{ms(values)} / {ms(values, 95)} / {ms(values, 100)} ms" if values else "-"


def add_drain_argument(parser: argparse.ArgumentParser) -> None:
    """--drain, shared with bench/topology.py."""
    parser.add_argument(
        "--drain",
        type=float,
        default=10.0,
        help="after the window, seconds of polling (no moves) for the last moves to arrive",
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=4, help="0: one scenario per session")
    parser.add_argument(
        "--sessions", type=int, default=None, help="per room (default 5; with --rooms 0: 20)"
    )
    parser.add_argument("--seconds", type=float, default=60)
    add_drain_argument(parser)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2, 3, 4))
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument(
        "--think",
        type=float,
        default=0.4,
        help="mean pause between a finished move and the next, s (bench/core.py: 0.4)",
    )
    parser.add_argument("--widget", default="plan_s0_rate0", help="slider moved with --rooms 0")
    parser.add_argument("--stop-on-error", action="store_true")
    parser.add_argument(
        "--watch-files",
        action="store_true",
        help="turn Streamlit's file watcher on (scripts/run has it off; see the docstring)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the store and server logs")
    args = parser.parse_args()
    if args.sessions is None:
        args.sessions = 5 if args.rooms else 20
    if args.rooms and not 1 <= args.sessions <= len(ROOM_KEYS):
        parser.error(f"--sessions: 1 to {len(ROOM_KEYS)} per room (one slider each)")

    if args.rooms:
        layout = [
            [(r * args.sessions + j, j, ROOM_KEYS[j]) for j in range(args.sessions)]
            for r in range(args.rooms)
        ]
    else:
        layout = [[(i, 0, args.widget)] for i in range(args.sessions)]
    rooms = [
        Room(
            r,
            [
                Session(i, r, j, f"load-r{r}-{j}", key, (r + j) % args.processes)
                for i, j, key in seats
            ],
        )
        for r, seats in enumerate(layout)
    ]
    sessions = [s for room in rooms for s in room.sessions]
    ref = Session(len(sessions), -1, 0, "reference", REFERENCE_KEY, -1)

    busy_before = machine_busy_now()
    tmp = Path(tempfile.mkdtemp(prefix="pact-load-"))
    db_url = f"sqlite:///{tmp / 'pact.db'}"
    env = {"PACT_DATABASE_URL": db_url, "PACT_DATA_DIR": str(tmp)}
    app = [sys.executable, "-m", "ui.serve"]
    if args.watch_files:
        app += ["--server.fileWatcherType", "auto"]
    reference = [sys.executable, "-m", "streamlit", "run", str(ROOT / "bench" / "empty_page.py")]
    reference += ["--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    ports = [args.port + i for i in range(args.processes + 1)]
    logs = [tmp / f"server-{p}.log" for p in ports]
    t = time.perf_counter()
    procs = []
    try:
        for i, (port, log) in enumerate(zip(ports, logs, strict=True)):
            procs.append(start_server(reference if i == args.processes else app, port, env, log))
        wait_healthy(list(zip(procs, ports, logs, strict=True)))
        up = time.perf_counter() - t
        bench = Bench(args, [f"ws://localhost:{p}/_stcore/stream" for p in ports])
        window, cpu = asyncio.run(drive(rooms, ref, bench, [p.pid for p in procs]))
    finally:
        for proc in procs:
            stop_server(proc)
    *server_cpu, ref_cpu, client_cpu, all_cpu = cpu
    window_end = bench.deadline
    check, listed = check_store(db_url, rooms)
    lag = follower_lags(rooms, window_end)
    log_errors = sum(
        line.startswith("Traceback") or " ERROR " in line or "Exception" in line
        for log in logs
        for line in log.read_text(errors="replace").splitlines()
    )

    moves = [m for s in sessions for m in s.moves if m.in_window]
    polls = [p for s in sessions for p in s.polls]
    head = [m.headline_s for m in moves if not math.isnan(m.headline_s)]
    whole = [m.total_s for m in moves if not math.isnan(m.total_s)]
    waited = [m.waited_s for m in moves]
    ref_head = [m.headline_s for m in ref.moves if not math.isnan(m.headline_s)]
    loads = [s.load_s for s in sessions if not math.isnan(s.load_s)]
    errors = [e for s in [*sessions, ref] for e in s.errors]
    kinds: dict[str, int] = {}
    for kind, _ in errors:
        kinds[kind] = kinds.get(kind, 0) + 1
    per_session = [sum(m.in_window for m in s.moves) for s in sessions]
    felt_s = [m.waited_s + m.headline_s for m in moves if not math.isnan(m.headline_s)]
    felt = f"{ms(felt_s)} / {ms(felt_s, 95)} ms" if felt_s else "-"
    full = [p.total_s for p in polls if p.full]
    quiet = [p.total_s for p in polls if not p.full]
    asks = [a for s in sessions for a in s.asks]
    script_runs = len(moves) + len(polls) + len(full)  # a poll that reruns the page is two runs
    lags = lag.same + lag.across
    pairs = len(lags) + lag.unseen_late + len(lag.unseen)

    import streamlit

    where = (
        f"{args.rooms} rooms x {args.sessions} sessions"
        if args.rooms
        else f"{args.sessions} sessions, one scenario each, slider {args.widget!r}"
    )
    print(
        f"Load: {where} x {args.seconds:g} s, think {args.think:g} s, {args.processes} app "
        f"process{'es' if args.processes > 1 else ''} on one SQLite store; machine: "
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, "
        f"Streamlit {streamlit.__version__}"
    )

    def rate(n: float) -> str:
        return f"{n / window:.1f}" if window else "-"

    def cores(x: float) -> str:
        return f"{x / window:.2f}" if window else "-"

    rows = [
        ("machine busy before the run (other work), cores", f"{busy_before:.2f}"),
        ("servers up (start to /_stcore/health)", f"{up:.1f} s"),
        ("sessions", f"{len(sessions)}" + (f" in {len(rooms)} rooms" if args.rooms else "")),
        ("seconds (window, all sessions moving)", f"{window:.1f}"),
        ("page load (first render), median / p95 / max", triple(loads)),
        (
            "moves / live-bar runs / live-bar runs that reran the page",
            f"{len(moves)} / {len(polls)} / {len(full)}",
        ),
        (
            "reruns/s (moves + live-bar runs) / script runs/s",
            f"{rate(len(moves) + len(polls))} / {rate(script_runs)}",
        ),
        (
            "moves per session, min / max",
            f"{min(per_session, default=0)} / {max(per_session, default=0)}",
        ),
        ("move: slider -> headline delta, median / p95 / max", triple(head)),
        ("move: whole rerun, median / p95 / max", triple(whole)),
        ("move waited for a poll in flight, median / p95 / max", triple(waited)),
        ("move: due -> headline (wait + headline), median / p95", felt),
        (
            "head asked (HTTP, no script run): count, median / p95 / max",
            f"{len(asks)}, {triple(asks)}",
        ),
        ("live-bar run, nothing new: median / p95 / max", triple(quiet)),
        ("live-bar run that reran the page: median / p95 / max", triple(full)),
    ]
    if args.rooms and args.sessions > 1:
        rows += [
            ("follower lag (move sent -> shown), median / p95 / max", triple(lags)),
        ]
        if args.processes > 1:
            rows += [
                ("  follower on the same process", triple(lag.same)),
                ("  follower on the other process", triple(lag.across)),
            ]
        rows += [
            (
                "  (move, follower) pairs: shown exactly / caught up later",
                f"{lag.exact} / {lag.skipped} of {pairs}",
            ),
            (
                f"  never shown: in the last {LAST_SECOND_S:g} s / earlier (must be 0)",
                f"{lag.unseen_late} / {len(lag.unseen)}",
            ),
            ("sliders set back to an older value (must be 0)", f"{len(lag.back)}"),
        ]
    ratio = (
        f"{np.percentile(head, 95) / np.percentile(ref_head, 95):.2f}x"
        if head and ref_head
        else "-"
    )
    median_ratio = f"{np.median(head) / np.median(ref_head):.2f}x" if head and ref_head else "-"
    rows += [
        (
            "reference page (empty): slider -> metric, median / p95 / max",
            triple(ref_head) + f" ({len(ref_head)} moves)",
        ),
        ("Plan headline / reference: median, p95", f"{median_ratio}, {ratio}"),
        ("app server CPU (cores busy over the window)", " + ".join(cores(x) for x in server_cpu)),
        (
            "app server CPU per script run",
            f"{1000 * sum(server_cpu) / script_runs:.0f} ms" if script_runs else "-",
        ),
        ("reference server CPU (cores busy)", cores(ref_cpu)),
        ("load client CPU (cores busy)", cores(client_cpu)),
        (
            "everything else on the machine (cores busy)",
            cores(all_cpu - sum(server_cpu) - ref_cpu - client_cpu),
        ),
        (
            "errors",
            f"{len(errors)}"
            + (f" ({', '.join(f'{k}: {n}' for k, n in kinds.items())})" if kinds else ""),
        ),
        ("server logs: tracebacks / ERROR lines", f"{log_errors}"),
        ("versions expected / found", f"{check.expected} / {check.found}"),
        (
            "lost / refused / extra or wrong versions",
            f"{check.lost} / {check.refused} / {check.extra + len(check.wrong)}",
        ),
        ("moves to the value already saved (save nothing)", f"{check.noop}"),
        (
            "moves whose run raised or never ended: saved / of",
            f"{check.unsure_saved} / {check.unsure}",
        ),
        (
            "scenarios in the store",
            f"{listed} (one per {'room' if args.rooms else 'session'} expected)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    for s in [*sessions, ref]:
        for kind, detail in s.errors[:3]:
            print(f"  {s.author}: {kind}: {detail}")
    for line in check.wrong[:20]:
        print(f"  store: {line}")
    for line in lag.unseen[:10] + lag.back[:10]:
        print(f"  follower: {line}")
    if args.keep or errors or log_errors:
        print(f"  store and server logs kept in {tmp}")
    else:
        shutil.rmtree(tmp)
    ok = not errors and not check.lost and not check.wrong and not check.extra
    ok = (
        ok
        and not check.refused
        and not lag.back
        and listed == sum(r.scenario_id is not None for r in rooms)
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
