"""Two-way binding between the Plan page's widgets and the working scenario.

Widgets hold display values (rates in whole percent, volumes as whole numbers). A scenario
field is rewritten only when its widget was moved, so precise values from a file (57.34%)
survive untouched until someone changes them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sim.merge import FieldChange, apply_changes
from sim.models import Scenario, ScenarioError, Source, parse_scenario

DEFAULT_DEAL = {"mean": 30000, "cv": 0.6}
DEFAULT_NEGBIN_CV = 0.25
SYNCED = "plan_synced_rev"
REPORTED = "plan_reported"  # each widget's value as the browser reported it on the last run
SENT = "plan_sent"  # each widget's latest values as the server wrote them (sync_widgets)
_SEEN = "plan_seen"  # this run's report, until the run settles
_WRITES = "plan_writes"  # how many times the server wrote into the widgets (sync or set back)
_OBSERVED = "plan_observed"  # ... as counted at the last poll
# Widgets the server wrote a new value into that the browser has not reported back yet, each with
# the version the screen showed before that write: a move of one of them was made on the value
# before, so it is saved as seen from that version (a same-field clash is named, ui/room.py).
UNSEEN = "plan_unseen_since"
# The widgets the server wrote into during this run: their state is the server's, not a report.
WRITTEN_NOW = "plan_written_now"
# The value the server last wrote into each widget (None once the leader's own move replaced it),
# and the values it wrote before, each with when a newer write replaced it (recently_replaced).
PUSHED = "plan_pushed"
REPLACED = "plan_replaced_writes"
# A browser can report a value the server wrote into a widget a moment ago and has since replaced,
# even after it reported the newer one (seen in the two-process browser test: 78% reported, then
# 77% a second later; once 3.75 s later). For this long after its replacement, such a value is a
# stale report, never a move.
STALE_FOR_S = 10.0
clock = time.monotonic  # the seconds STALE_FOR_S counts in (a test moves it on)
MOVE_SEEN = "plan_move_seen"  # the oldest such version among this run's moves (ui/storage.py)
SHOWN_BEFORE = "store_version_before"  # the version the screen showed before its latest


@dataclass(frozen=True)
class Binding:
    key: str
    path: tuple[str | int, ...]
    to_widget: Callable[[Any], Any]
    from_widget: Callable[[Any], Any]
    default: Any = None


def _pct(v: Any) -> int:
    return round(float(v) * 100)


def _from_pct(w: Any) -> float:
    return int(w) / 100


def _whole(v: Any) -> int:
    return round(float(v or 0))


def _same(v: Any) -> Any:
    return v


def rate_key(i: int, j: int) -> str:
    return f"plan_s{i}_rate{j}"


def evidence_key(i: int, j: int) -> str:
    return f"plan_s{i}_evidence{j}"


def bindings(scenario: Scenario) -> list[Binding]:
    out = [
        Binding("plan_name", ("name",), _same, str.strip),
        Binding("plan_quarter", ("quarter",), _same, str.strip),
        Binding("plan_metric", ("metric",), _same, _same),
        Binding("plan_target", ("target",), float, float),
        Binding("plan_marketing_share", ("marketing_share",), _pct, _from_pct),
        Binding("plan_deal_mean", ("deal_size", "mean"), float, float, DEFAULT_DEAL["mean"]),
        Binding("plan_deal_cv", ("deal_size", "cv"), float, float, DEFAULT_DEAL["cv"]),
    ]
    for i, source in enumerate(scenario.sources):
        out += [
            Binding(f"plan_s{i}_volume", ("sources", i, "volume", "mean"), _whole, float),
            Binding(f"plan_s{i}_dist", ("sources", i, "volume", "dist"), _same, _same),
            Binding(
                f"plan_s{i}_cv", ("sources", i, "volume", "cv"), float, float, DEFAULT_NEGBIN_CV
            ),
        ]
        for j in range(len(source.rates)):
            out += [
                Binding(rate_key(i, j), ("sources", i, "rates", j, "mean"), _pct, _from_pct),
                Binding(evidence_key(i, j), ("sources", i, "rates", j, "n"), _whole, float, 0),
            ]
    return out


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else data[part]
        if data is None:
            return None
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        if isinstance(data, dict) and part not in data:
            data[part] = {}
        data = data[part]
    data[path[-1]] = value


def sync_widgets(scenario: Scenario, rev: int) -> None:
    """Write the scenario into widget state after a load, or when the widgets were forgotten;
    and write again each widget whose value the browser did not send with this run."""
    reload = st.session_state.get(SYNCED) != rev
    data = scenario.to_dict()
    sent = st.session_state.setdefault(SENT, {})
    unseen = st.session_state.setdefault(UNSEEN, {})
    before = st.session_state.get(SHOWN_BEFORE, st.session_state.get("store_version") or 0)
    keys = bindings(scenario)
    unsent = unreported([b.key for b in keys])
    written_now = st.session_state.setdefault(WRITTEN_NOW, set())
    for b in keys:
        if reload or b.key not in st.session_state:
            value = _get(data, b.path)
            value = b.to_widget(b.default if value is None else value)
            written = sent.setdefault(b.key, [])
            if (
                b.key in st.session_state
                and st.session_state[b.key] == value
                and written
                and written[-1] == value
                and b.key not in unsent
            ):
                # Unchanged, and the browser has it: not written again, so a move the leader
                # made meanwhile (still on its way to the server) is not set back on the screen.
                continue
            st.session_state[b.key] = value
            written_now.add(b.key)
            pushed(b.key, value)
            if not written or written[-1] != value:
                if written:  # a new value: the browser shows the old one until it reports this
                    unseen.setdefault(b.key, before)
                written.append(value)
                del written[:-_WRITES_KEPT]
            _count_write()
        elif not reload and b.key in unsent:
            # The browser has no value for this widget: it may not have drawn the value the
            # server wrote before the next run drew the widget again without it. Streamlit then
            # shows the widget's default (a target of 0), which the browser reports as a move.
            # Written again, the value goes with the widget (seen under load in the room journey).
            st.session_state[b.key] = st.session_state[b.key]
    st.session_state[SYNCED] = rev


def pushed(key: str, value: Any) -> None:
    """The server wrote `value` into the widget `key`: the value it wrote before, if another, is
    now a replaced write (recently_replaced)."""
    last: dict[str, Any] = st.session_state.setdefault(PUSHED, {})
    before = last.get(key)
    if before is not None and before != value:
        _replaced(key, before)
    last[key] = value
    st.session_state.setdefault(REPLACED, {}).get(key, {}).pop(value, None)


def _replaced(key: str, value: Any) -> None:
    now = clock()
    replaced: dict[str, dict[Any, float]] = st.session_state.setdefault(REPLACED, {})
    mine = replaced.setdefault(key, {})
    mine[value] = now
    for old in [v for v, at in mine.items() if now - at > STALE_FOR_S]:
        del mine[old]


def recently_replaced(key: str, value: Any) -> bool:
    """True when the server wrote `value` into the widget `key` and replaced it with a newer
    write less than STALE_FOR_S ago: the browser's report of it is stale, whatever it reported
    in between."""
    at = st.session_state.get(REPLACED, {}).get(key, {}).get(value)
    return at is not None and clock() - at <= STALE_FOR_S


def _new_value(key: str, value: Any, reported: Any, written: list[Any]) -> bool:
    """A value the leader set: not the one the browser reported last time, nor one the server
    wrote into the widget since it showed the latest, nor one replaced a moment ago."""
    return value != reported and value not in written and not recently_replaced(key, value)


def begin_run() -> None:
    """Called first in a run that reads the widgets: nothing written into them yet."""
    st.session_state[WRITTEN_NOW] = set()


def unreported(keys: Iterable[str]) -> set[str]:
    """The widgets among `keys` that were drawn before but whose value the browser did not send
    with this run (Streamlit keeps no public record of that; with other internals than those of
    the version this was written for, none)."""
    try:
        ctx = get_script_run_ctx()
        state = ctx.session_state._state  # type: ignore[union-attr]
        reported = set(state._new_widget_state)
        ids = {key: state.get_widget_id_from_key(key) for key in keys}
    except AttributeError:
        return set()
    return {key for key, wid in ids.items() if wid is not None and wid not in reported}


_WRITES_KEPT = 8  # the server's latest writes into a widget that the browser may still report


def moved(scenario: Scenario) -> set[str]:
    """The widgets the leader moved since the last settled run.

    A browser reports every widget's value on each run, and may report a value from before the
    screen showed another leader's move (its request crossed the update on the way), even one
    from two or three updates back when moves arrive quickly. So a move is a value that differs
    from the one this browser reported last time and from every value the server wrote into
    the widget since the browser last showed the latest; comparing with the scenario instead
    would take a stale value for a move and undo the other leader's change. A stale value is
    not a move: the widget is set back to the server's latest value.

    This run's report counts as "last time" only once the run settles (settle()): a run that a
    newer move interrupts before saving leaves its move to be read again by the next run.

    A move of a widget the server wrote another value into since the browser last reported it
    (another leader's change, brought in by a catch-up that crossed the move on the way) was
    made on the value before: it is written back into the widget (else the browser would keep
    showing the server's write while the move is saved), and MOVE_SEEN says from which version
    the leader saw that field, so the store names the value the move replaced.
    """
    before = st.session_state.get(REPORTED, {})
    sent: dict[str, list[Any]] = st.session_state.setdefault(SENT, {})
    unseen: dict[str, int] = st.session_state.setdefault(UNSEEN, {})
    now = {b.key: st.session_state[b.key] for b in bindings(scenario) if b.key in st.session_state}
    written_now = st.session_state.get(WRITTEN_NOW, set())
    for key in written_now & now.keys():
        # Written by this run (a load, or a catch-up after a merge): no report; keep the last.
        now[key] = before.get(key, now[key])
    # No value from the browser with this run (it was redrawing the widget): the state is what
    # it reported before, or the server's own write since, which says nothing of what the screen
    # shows. Taken for the screen showing it, the server forgot its older writes, and the
    # browser's next report of one (a stale 76% after a catch-up to 78%) became a move undoing
    # the other leader's (the room journey, in CI).
    silent = unreported(now.keys())
    st.session_state[_SEEN] = now
    moves = set()
    for key, value in now.items():
        if key in written_now:
            continue
        written = sent.get(key, [])
        if written and value == written[-1]:
            if key not in silent:  # the browser shows the latest: older writes are done with
                del written[:-1]
                unseen.pop(key, None)
        elif key in before and _new_value(key, value, before[key], written):
            moves.add(key)
            if key in unseen:
                st.session_state[key] = value  # over the server's newer write: show the move
                _count_write()
        elif written:  # a stale report: show the server's value again
            st.session_state[key] = written[-1]
            _count_write()
    seen = [unseen[key] for key in moves if key in unseen]
    st.session_state[MOVE_SEEN] = min(seen) if seen else None
    return moves


def unread_move(scenario: Scenario) -> tuple[tuple[str, Any], ...]:
    """The widgets (key, value) holding a move that no run of the editors has read yet.

    The browser sends every widget's value with every rerun request, whichever part of the
    page the request reruns: a press still on its way when the live bar's watch asks for a
    rerun of the bar rides along with that request, and the browser sends no other for it. The
    bar then reruns the page (ui/room.py), so the move is read and saved as any other."""
    before = st.session_state.get(REPORTED, {})
    sent: dict[str, list[Any]] = st.session_state.get(SENT, {})
    unread = []
    for b in bindings(scenario):
        if b.key not in st.session_state or b.key not in before:
            continue
        value, written = st.session_state[b.key], sent.get(b.key, [])
        if before[b.key] is not _UNSAVED and _new_value(b.key, value, before[b.key], written):
            unread.append((b.key, value))
    return tuple(unread)


def _count_write() -> None:
    st.session_state[_WRITES] = st.session_state.get(_WRITES, 0) + 1


def writes() -> int:
    """How many times the server has written into this session's widgets (ui/room.py asks the
    browser to report back after each)."""
    return int(st.session_state.get(_WRITES, 0))


def observe() -> None:
    """Read a poll's report (the live bar's timer): where the browser already shows the server's
    latest write into a widget, the older writes are done with, so a later report of one of them
    is the leader moving back to it, not a stale report. Only when the server wrote nothing since
    the last poll: then the widget state is the browser's report, not the server's own write."""
    writes = st.session_state.get(_WRITES, 0)
    if st.session_state.get(_OBSERVED) != writes:
        st.session_state[_OBSERVED] = writes
        return
    sent: dict[str, list[Any]] = st.session_state.get(SENT, {})
    unseen: dict[str, int] = st.session_state.get(UNSEEN, {})
    reported = st.session_state.get(REPORTED)
    silent = unreported(sent.keys())  # the server's own value there, not the browser's
    for key, written in sent.items():
        if key in silent:
            continue
        if written and key in st.session_state and st.session_state[key] == written[-1]:
            del written[:-1]
            unseen.pop(key, None)
            if reported is not None:
                reported[key] = written[-1]


def settle(taken: Iterable[str] = ()) -> None:
    """This run's report becomes the one the next run compares with; the moves in `taken` were
    saved, so their widgets hold what the server knows them to hold."""
    now = st.session_state.get(_SEEN, {})
    sent = st.session_state.setdefault(SENT, {})
    unseen = st.session_state.setdefault(UNSEEN, {})
    last: dict[str, Any] = st.session_state.setdefault(PUSHED, {})
    for key in taken:
        value = now[key]
        # The widget holds the leader's value: no stale report of a server write, and what the
        # server wrote before is no stale report either (the leader moved from it, and may move
        # straight back to it: the Scenarios journey).
        last[key] = None
        st.session_state.setdefault(REPLACED, {}).get(key, {}).pop(value, None)
        if unseen.pop(key, None) is None:
            sent[key] = [value]
        else:  # the move crossed a write the browser may still report: that is no move
            sent[key] = [*(w for w in sent.get(key, []) if w != value), value][-_WRITES_KEPT:]
    st.session_state[REPORTED] = dict(now)


_UNSAVED = object()


def keep_unsaved(keys: set[str]) -> None:
    """A move that could not be saved (an invalid value) stays a move on the next run, so its
    error stays on screen until it is fixed."""
    settle()
    reported = st.session_state[REPORTED]
    for key in keys:
        reported[key] = _UNSAVED


def candidate(scenario: Scenario, keys: set[str] | None = None) -> tuple[Scenario, str | None]:
    """The scenario with the moved widgets' values (`keys`; all widgets when None), or the
    current one and an error naming the field."""
    data = copy.deepcopy(scenario.to_dict())
    had_deal = "deal_size" in data
    for b in bindings(scenario):
        if b.key not in st.session_state or (keys is not None and b.key not in keys):
            continue
        shown = st.session_state[b.key]
        value = _get(data, b.path)
        if shown != b.to_widget(b.default if value is None else value):
            _set(data, b.path, b.from_widget(shown))
    if not had_deal and data.get("metric") != "bookings":
        data.pop("deal_size", None)
    elif not had_deal:
        data["deal_size"] = {**DEFAULT_DEAL, **data.get("deal_size", {})}
    for source in data["sources"]:
        volume = source["volume"]
        if volume["dist"] == "negbin":
            volume.setdefault("cv", DEFAULT_NEGBIN_CV)
        else:
            volume.pop("cv", None)
        if volume["dist"] == "fixed":
            volume["mean"] = round(volume["mean"])
        for rate in source["rates"]:
            if rate.get("n") in (0, 0.0):
                rate.pop("n")
    try:
        return parse_scenario(data), None
    except ScenarioError as exc:
        return scenario, str(exc)


def with_change(scenario: Scenario, change: FieldChange) -> Scenario:
    """The scenario with one field changed (a put-back from the room); unchanged if invalid."""
    try:
        return parse_scenario(apply_changes(scenario.to_dict(), [change]))
    except ScenarioError:
        return scenario


SOURCE_PICK = "plan_source"  # which source's funnel the editor shows (one at a time)
_VOLUME_LAWS = {
    "fixed": "Exactly this many",
    "poisson": "Random around it",
    "negbin": "Random, with good and bad quarters",
}


def draw(scenario: Scenario) -> None:
    """The Plan page's assumptions: one widget per field, each bound to the scenario above.

    Every widget is sent to the browser on every move, so the editor keeps to few elements:
    rows are horizontal containers (one element, where columns are three or more), deal size
    shows only for bookings, and one source's funnel at a time.
    """
    st.subheader("Assumptions")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Scenario name", key="plan_name", max_chars=80, width=280)
        st.text_input("Quarter", key="plan_quarter", max_chars=7, help="Like 2027-Q1.", width=110)
        st.radio(
            "What the number counts",
            ["customers", "bookings"],
            key="plan_metric",
            horizontal=True,
            format_func=str.capitalize,
            width="content",
        )
        st.number_input(
            "Target for the quarter",
            min_value=0.0,
            step=1.0,
            format="%.0f",
            key="plan_target",
            help="New customers, or bookings in currency, depending on the metric.",
            width=220,
        )
    st.slider(
        "Marketing's share of the number",
        0,
        100,
        step=1,
        format="%d%%",
        key="plan_marketing_share",
        help="The rest is sales-sourced: SDR cold calling and sellers' own prospecting.",
    )
    if scenario.metric == "bookings":
        with st.container(horizontal=True):
            st.number_input(
                "Average deal size", min_value=0.0, step=1000.0, key="plan_deal_mean", width=220
            )
            st.number_input(
                "Deal size variation (CV)",
                min_value=0.0,
                max_value=5.0,
                step=0.1,
                key="plan_deal_cv",
                help="Standard deviation divided by the average; 0.6 is typical.",
                width=220,
            )
    sources = scenario.sources
    if not 0 <= st.session_state.get(SOURCE_PICK, 0) < len(sources):
        st.session_state[SOURCE_PICK] = 0
    i = st.segmented_control(
        "Source",
        list(range(len(sources))),
        format_func=lambda k: f"{sources[k].name} · {sources[k].owner}",
        key=SOURCE_PICK,
        default=0,
        required=True,
        help="Each source's volume and stage rates; the others keep theirs.",
    )
    source_editor(int(i or 0), sources[int(i or 0)])


def source_editor(i: int, source: Source) -> None:
    """A source's first-stage volume and one slider (and its evidence) per stage rate."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.slider(
            f"{source.stages[0]}s per quarter",
            0,
            max(1000, int(source.volume.mean * 3) // 100 * 100),
            step=1,
            key=f"plan_s{i}_volume",
            help=f"How many {source.stages[0]}s {source.name} commits to this quarter.",
        )
        st.selectbox(
            "How the volume varies",
            list(_VOLUME_LAWS),
            format_func=_VOLUME_LAWS.__getitem__,
            key=f"plan_s{i}_dist",
            width=280,
        )
        if st.session_state.get(f"plan_s{i}_dist") == "negbin":
            st.number_input(
                "Quarter-to-quarter CV", 0.01, 5.0, step=0.05, key=f"plan_s{i}_cv", width=160
            )
    for j, (label, rate) in enumerate(zip(source.step_labels(), source.rates, strict=True)):
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.slider(f"{label} rate", 0, 100, step=1, format="%d%%", key=rate_key(i, j))
            st.number_input(
                "Evidence (leads seen)",
                min_value=0,
                max_value=1_000_000,
                step=10,
                key=evidence_key(i, j),
                help="How many leads this rate was measured on. 0 means known exactly; "
                "fewer leads means a wider range of possible rates.",
                width=180,
            )
        lo, hi = rate.interval(0.8)
        st.caption(
            f"{rate.mean:.1%} · known exactly"
            if not rate.uncertain
            else f"{rate.mean:.1%} · 80% range {lo:.0%}–{hi:.0%}"
        )
