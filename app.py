"""Plan: the meeting screen. Move the split, volumes and rates; see the chance of the number.

Every screen open on the same `?scenario=` link is one room (ui/room.py, docs/room.md): a move
is saved field by field on top of the latest version and reaches the other screens within a
second; a follower (presentation mode) shows the latest version read-only.

The page body is a fragment: a move reruns the body only (headline first), not the sidebar.
"""

from __future__ import annotations

import re

import streamlit as st

from sim import ScenarioError, scenario_from_json
from sim.engine import DEFAULT_TRIALS
from sim.models import MAX_FILE_BYTES, Scenario
from ui import editor, plot, room, shell, storage, team, timeline
from ui.results import (
    cached_funnel_chart,
    cached_outcome_chart,
    cached_plan,
    fmt_outcome,
    headline_numbers,
    outcome_caption,
)

shell.setup_page("Plan")
live = st.container()  # the room's status line, drawn after the body has saved or caught up


def edited_scenario() -> tuple[Scenario, set[str]]:
    """The scenario to show, and the widgets whose move it holds, to save once the headline is
    out.

    The move is what the leader changed on this screen; it is shown at once and saved after the
    headline (save_move). Without a move, the latest version another screen saved; on a bad
    value, the last valid plan with an error naming the field."""
    editor.begin_run()
    scenario = shell.current_scenario(catch_up=False)  # a move is read before catching up
    if (undo := room.pending_undo()) is not None:  # "Put back Sam's 70%"
        scenario = shell.set_scenario(editor.with_change(scenario, undo))
    editor.sync_widgets(scenario, shell.scenario_rev())
    keys = editor.moved(scenario)
    edited, problem = editor.candidate(scenario, keys)
    if problem:
        editor.keep_unsaved(keys)
        st.error(f"{problem}. Showing the last valid plan until this is fixed.")
    elif edited != scenario:
        return edited, keys  # settled once saved (save_move)
    else:
        editor.settle()
        if shell.catch_up_with_room():  # another screen saved: show the latest version
            scenario = shell.current_scenario(catch_up=False)
    editor.sync_widgets(scenario, shell.scenario_rev())
    return scenario, set()


def save_move(edited: Scenario, keys: set[str]) -> None:
    """Save the move field by field on top of the latest version (after the headline: the store
    is off the path to it). When another leader's change came in meanwhile, the page reruns to
    show the merged plan; the first save reruns it so the sidebar's invite links appear."""
    shared = bool(st.session_state.get("store_id"))
    saved = shell.set_scenario(edited, reload_editors=False)
    editor.settle(keys)  # only now: a run interrupted before the save leaves the move to the next
    if saved != edited or (not shared and st.session_state.get("store_id")):
        st.rerun()


TITLE_SHOWN = "plan_title_shown"


def title_text(scenario: Scenario) -> str:
    return f"{shell.md_text(scenario.name)} · {scenario.quarter}"


def title() -> None:
    """The plan's name and quarter, drawn by full runs only: outside the body fragment, so a
    move's run sends the headline numbers first (bench/core.py: slider -> headline about 15 ms
    sooner than behind a title and a caption). The body reruns the page when they change."""
    scenario = shell.current_scenario(catch_up=False)  # the body reads a move before catching up
    st.session_state[TITLE_SHOWN] = title_text(scenario)
    st.title(title_text(scenario))


@st.fragment
def plan() -> None:
    """Everything a move changes, headline first."""
    presenting = shell.presentation_mode()
    scenario, moved = edited_scenario()
    trials = int(st.session_state.get("plan_trials", DEFAULT_TRIALS))
    seed = int(st.session_state.get("plan_seed", 0))
    result = headline_numbers(scenario, trials, seed)

    # ---- Headline: the first thing the run sends (the title is drawn outside, see title()) -
    with st.container(horizontal=True):  # one block for the row (st.columns sends five)
        st.metric(
            "Chance we hit the number",
            f"{result.p_hit:.0%}",
            help="Share of possible quarters that reach the target.",
        )
        for owner in ("marketing", "sales"):
            o = result.owners[owner]
            st.metric(
                f"Chance {owner} hits its share",
                f"{o.p_hit:.0%}",
                help=f"{owner.capitalize()}'s share is {fmt_outcome(o.target, scenario.metric)}; "
                f"it delivers {fmt_outcome(o.mean, scenario.metric)} on average.",
            )
        with st.container(gap=None):
            st.metric(
                f"Expected {'customers' if scenario.metric == 'customers' else 'bookings'}",
                fmt_outcome(result.total.mean, scenario.metric),
                help="Average over the possible quarters; P10–P90 is the range 8 quarters in 10 "
                "fall in.",
            )
            st.caption(
                f"P10–P90: {fmt_outcome(result.total.p10, scenario.metric)} – "
                f"{fmt_outcome(result.total.p90, scenario.metric)}"
            )
    unit = "customers" if scenario.metric == "customers" else "in bookings"
    st.caption(
        f"Target: {fmt_outcome(scenario.target, scenario.metric)} {unit} · "
        f"marketing {scenario.marketing_share:.0%} / sales {1 - scenario.marketing_share:.0%} · "
        f"{outcome_caption(result)}"
    )
    if moved:
        save_move(scenario, moved)
    if title_text(scenario) != st.session_state.get(TITLE_SHOWN):
        st.rerun()  # renamed here or on another screen: the title is redrawn by a full run
    shell.let_browser_paint()

    storage.notices()
    room.replaced_notices()
    if presenting:
        room.follower_bar()
    if (s := storage.store()) is not None and (agreed := s.agreement_of(scenario)) is not None:
        st.caption(
            f"🔒 The agreed plan for {scenario.quarter}: agreed by "
            f"{shell.md_text(agreed.agreed_by)} on {storage.when(agreed.agreed_at)}. "
            "A change starts a new draft; the agreement stays."
        )

    # ---- How much volume each owner must commit -----------------------------------------
    confidence = st.slider(
        "How sure do you want to be?",
        min_value=50,
        max_value=99,
        value=80,
        step=1,
        format="%d%%",
        key="plan_confidence",
        help="The volume each owner needs so that it delivers its share this often.",
    )
    needed = cached_plan(scenario.to_json(), confidence / 100)
    for col, owner in zip(st.columns(2), ("marketing", "sales"), strict=True):
        op = needed.owners[owner]
        stage = op.first_stage or "first-stage leads"
        with col:
            if op.needed_volume_at_confidence is None:
                st.warning(op.note)
                continue
            gap = op.needed_volume_at_confidence - op.committed_volume
            st.metric(
                f"{owner.capitalize()} needs {stage}s to be {confidence}% sure",
                f"{op.needed_volume_at_confidence:,}",
                delta=(  # a leading minus turns Streamlit's arrow down (and green, inverted)
                    f"+{gap:,.0f} above the {op.committed_volume:,.0f} committed"
                    if gap > 0
                    else f"-{-gap:,.0f} below the {op.committed_volume:,.0f} committed"
                    if gap < 0
                    else None
                ),
                delta_color="inverse",
                help=f"On average {op.needed_volume_expected:,} {stage}s reach the share; being "
                f"{confidence}% sure takes more because quarters vary.",
            )

    # ---- Charts ----------------------------------------------------------------------------
    chart_cols = st.columns([3, 2])
    with chart_cols[0]:
        st.markdown("**How the quarter could land**")
        plot.chart(cached_outcome_chart(scenario.to_json(), trials, seed), key="plan_outcome_chart")
    with chart_cols[1]:
        st.markdown("**Expected funnel per source**")
        plot.chart(cached_funnel_chart(scenario.to_json()), key="plan_funnel_chart")
    timeline.section(scenario, result)
    team.section(scenario, confidence)

    # ---- Assumptions (hidden while following) ---------------------------------------------
    if not presenting:
        editor.sync_widgets(scenario, shell.scenario_rev())
        editor.draw(scenario)
        st.download_button(
            "Download this scenario (JSON)",
            data=scenario.to_json(),
            file_name=re.sub(r"[^A-Za-z0-9_-]+", "-", f"{scenario.name}-{scenario.quarter}")
            + ".json",
            mime="application/json",
            key="plan_download",
            help="Loads back exactly as it is now.",
        )


title()
plan()
with live:
    room.live_bar()

# ---- Sidebar: load a file, simulation settings (they rerun the whole page) --------------------
with st.sidebar:
    if not shell.presentation_mode():
        st.markdown("#### Scenario file")
        st.file_uploader(
            "Load a scenario (JSON)",
            type=["json"],
            key="plan_upload",
            max_upload_size=1,
            help="A scenario exported from Pipeline Pact (schema v1). Checked before anything "
            "changes; loading it is a change like any other, saved for everyone in the room.",
        )
        if (upload := shell.fresh_upload("plan_upload")) is not None:
            try:
                loaded = scenario_from_json(upload.getvalue()[: MAX_FILE_BYTES + 1])
            except ScenarioError as exc:
                st.session_state["plan_upload_error"] = f"Could not load {upload.name}: {exc}"
            else:
                st.session_state.pop("plan_upload_error", None)
                shell.set_scenario(loaded)
                st.rerun()
        if err := st.session_state.get("plan_upload_error"):
            st.error(f"{err}. The current scenario is unchanged.")
    st.markdown("#### Bookings simulation")
    st.select_slider(
        "Simulated quarters",
        options=[20_000, 50_000, 100_000, 200_000, 1_000_000],
        value=DEFAULT_TRIALS,
        key="plan_trials",
        format_func=lambda n: f"{n:,}",
        help="Bookings add a random deal size to every win, so they are simulated this many "
        "times. Customers need no simulation: their odds are exact.",
    )
    st.number_input(
        "Random seed",
        min_value=0,
        value=0,
        step=1,
        key="plan_seed",
        help="Same scenario and seed always give the same bookings numbers.",
    )
