"""The Plan page's quarter in time: the weekly timeline (leads in, customers won, the cumulative
outcome against the target with its P10-P90 band), the last useful week for new leads, what the
opening pipeline already delivers and what spills over; and the editor of the time keys.

The page calls `section(scenario, result)` once, after its charts. Everything heavy is cached
by the scenario's JSON (sim.timeline is exact, no simulation).
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pandas as pd
import streamlit as st

from sim import ScenarioError, parse_scenario, scenario_from_json
from sim.calibrate import plural
from sim.engine import SimulationResult
from sim.models import DEFAULT_WEEKS, Scenario
from sim.time_charts import timeline_chart
from sim.timeline import Timeline, timeline
from ui import plot, shell
from ui.plot import figure_json
from ui.results import fmt_outcome

SYNCED = "plan_time_synced_rev"
SHAPES = {"flat": "The same every week", "ramp": "A ramp", "weekly": "Week by week"}
DISTS = {
    "none": "No time (instant)",
    "gamma": "Typical days, gamma spread",
    "lognormal": "Typical days, long tail (log-normal)",
    "fixed": "Always the same days",
}


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_timeline(scenario_json: str) -> Timeline:
    return timeline(scenario_from_json(scenario_json))


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_timeline_chart(scenario_json: str, useful_week: int | None) -> str:
    """The timeline chart (ui.plot.figure_json), made once per scenario and last useful week for
    every screen."""
    return figure_json(timeline_chart(cached_timeline(scenario_json), useful_week=useful_week))


def section(scenario: Scenario, result: SimulationResult) -> None:
    """The timeline, the last useful week, the opening pipeline, the spill; then the editor."""
    st.subheader("The quarter in time")
    if not scenario.timed:
        st.caption(
            "This plan has no clock: every lead committed for the quarter is assumed to become "
            "a customer inside it, however late it arrives, and the deals already in the pipeline "
            "on day one are not counted. Give it one below (when leads arrive, how long each "
            "step takes, the pipeline in hand)."
        )
    else:
        _timeline(scenario, result)
    if not shell.presentation_mode():
        _editor(scenario)


def _timeline(scenario: Scenario, result: SimulationResult) -> None:
    tl = cached_timeline(scenario.to_json())
    metric = scenario.metric
    cols = st.columns(3)
    half = tl.weeks // 2
    cols[0].metric(
        f"Expected by week {half}",
        fmt_outcome(round(float(tl.won[half]), 1), metric),
        help="Where the plan expects the number to be half-way: customers take time to close, "
        "so it is less than half of the quarter's.",
    )
    cols[1].metric(
        "The opening pipeline delivers",
        fmt_outcome(round(tl.opening, 1), metric),
        help="Expected from the leads already in the pipeline on day one.",
    )
    cols[1].caption(
        f"{tl.opening_share:.0%} of the {fmt_outcome(round(float(tl.won[-1]), 1), metric)} "
        "expected this quarter"
    )
    cols[2].metric(
        "Spills into next quarter",
        fmt_outcome(round(tl.spill, 1), metric),
        help="Expected from this quarter's leads (and the opening pipeline) that close after "
        "the last day.",
    )
    chance = st.slider(
        "A new lead is still useful while it keeps at least this much of its chance to close "
        "this quarter",
        min_value=10,
        max_value=90,
        value=50,
        step=5,
        format="%d%%",
        key="plan_time_useful",
        help="A lead arriving late has most of its time to convert after the quarter ends.",
    )
    useful = tl.last_useful(chance / 100)
    lines = []
    for name, stage, week in useful:
        leads = shell.md_text(plural(stage))
        if week is None:
            lines.append(f"{shell.md_text(name)}: none this quarter (new {leads} close too late)")
        elif week >= tl.weeks:
            lines.append(f"{shell.md_text(name)}: every week, up to week {week}")
        else:
            lines.append(
                f"{shell.md_text(name)}: week {week} ({leads} arriving later mostly close next "
                "quarter)"
            )
    st.markdown("**Last useful week for new leads** · " + " · ".join(lines))
    weeks = [w for _, _, w in useful if w is not None]
    plot.chart(  # a picture, like the page's other charts (ui/plot.py)
        cached_timeline_chart(scenario.to_json(), min(weeks) if weeks else None),
        key="plan_timeline_chart",
    )
    st.caption(
        f"The chance at the top ({result.p_hit:.0%}) counts only what is won by the last day; "
        "the band is the range 8 quarters in 10 fall in by each week. The MQLs (or SQLs) needed "
        "to be sure account for when they arrive."
    )


# ---- Editor of the time keys -----------------------------------------------------------------


def _sync(scenario: Scenario) -> None:
    """Write the scenario's time keys into the editor's widgets when another version came in:
    only the fields whose value changed, so a field the leader is typing in keeps what is typed
    when another leader's move (elsewhere in the plan) reaches this screen."""
    rev = shell.scenario_rev()
    if st.session_state.get(SYNCED) == rev and "plan_time_on" in st.session_state:
        return
    st.session_state[SYNCED] = rev
    shell.write_changed(_time_fields(scenario))


def _time_fields(scenario: Scenario) -> dict[str, Any]:
    """The clock editor's widget values for the scenario's time keys."""
    out: dict[str, Any] = {
        "plan_time_on": scenario.timed,
        "plan_time_weeks": scenario.quarter_weeks,
    }
    for i, source in enumerate(scenario.sources):
        arrivals = source.arrivals
        out[f"plan_time_s{i}_shape"] = arrivals.shape if arrivals else "flat"
        out[f"plan_time_s{i}_ratio"] = float(arrivals.ratio or 2.0) if arrivals else 2.0
        out[f"plan_time_s{i}_weekly"] = (
            ", ".join(f"{w:g}" for w in arrivals.weekly) if arrivals and arrivals.weekly else ""
        )
        for j in range(len(source.rates)):
            lag = source.lags[j] if source.lags else None
            dist = "none" if lag is None or lag.dist == "empirical" else lag.dist
            if lag is not None and lag.dist == "fixed" and not lag.days:
                dist = "none"
            out[f"plan_time_s{i}_lag{j}_dist"] = dist
            out[f"plan_time_s{i}_lag{j}_days"] = float(lag.typical_days) if lag else 7.0
            out[f"plan_time_s{i}_lag{j}_cv"] = float(lag.cv or 0.8) if lag else 0.8
    return out


def _opening_rows(scenario: Scenario, i: int) -> pd.DataFrame:
    rows = [r.model_dump() for r in scenario.sources[i].opening or []]
    return pd.DataFrame(rows or [], columns=["stage", "count", "age"]).astype(
        {"count": "Int64", "age": "float"}
    )


def _editor(scenario: Scenario) -> None:
    # The form is drawn only while it is open: a closed clock editor costs a move nothing.
    if not st.toggle(
        "Edit the plan's clock: weeks, when leads arrive, how long each step takes, the "
        "pipeline in hand",
        key="plan_time_edit",
        help="Changes apply when you press Apply the clock, as one saved change.",
    ):
        return
    _sync(scenario)
    rev = shell.scenario_rev()
    with st.container(border=True):
        with st.form("plan_time_form", border=False):
            c1, c2 = st.columns([2, 1])
            c1.toggle(
                "Plan with a clock",
                key="plan_time_on",
                help="Off: every lead of the quarter converts inside it (no time at all).",
            )
            c2.number_input(
                "Weeks in the quarter", min_value=1, max_value=53, step=1, key="plan_time_weeks"
            )
            for i, source in enumerate(scenario.sources):
                st.markdown(f"**{shell.md_text(source.name)}** ({source.owner})")
                a1, a2, a3 = st.columns([2, 1, 3])
                a1.selectbox(
                    f"When {source.stages[0]}s arrive",
                    list(SHAPES),
                    format_func=SHAPES.get,
                    key=f"plan_time_s{i}_shape",
                )
                a2.number_input(
                    "Ramp: last week ÷ first",
                    min_value=0.1,
                    max_value=100.0,
                    step=0.25,
                    key=f"plan_time_s{i}_ratio",
                    help="For a ramp: 2 means the last week brings twice the first week's volume.",
                )
                a3.text_input(
                    "Week by week (relative, comma-separated)",
                    key=f"plan_time_s{i}_weekly",
                    help="One number per week, any scale: 10, 10, 20 … (the quarter's volume is "
                    "spread in these proportions).",
                )
                for j, label in enumerate(source.step_labels()):
                    l1, l2, l3 = st.columns([2, 1, 1])
                    l1.selectbox(
                        f"{label}: time to convert",
                        list(DISTS),
                        format_func=DISTS.get,
                        key=f"plan_time_s{i}_lag{j}_dist",
                    )
                    l2.number_input(
                        "Typical days (median)",
                        min_value=0.0,
                        max_value=3650.0,
                        step=1.0,
                        key=f"plan_time_s{i}_lag{j}_days",
                        help="Half of the leads that convert do so within this many days.",
                    )
                    l3.number_input(
                        "Spread (CV)",
                        min_value=0.05,
                        max_value=5.0,
                        step=0.05,
                        key=f"plan_time_s{i}_lag{j}_cv",
                        help="Standard deviation divided by the mean: 0.5 tight, 1 wide.",
                    )
                st.data_editor(
                    _opening_rows(scenario, i),
                    key=f"plan_time_s{i}_opening_{rev}",
                    num_rows="dynamic",
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "stage": st.column_config.SelectboxColumn(
                            "Pipeline in hand: stage", options=source.stages[:-1], required=True
                        ),
                        "count": st.column_config.NumberColumn(
                            "Leads", min_value=0, step=1, required=True
                        ),
                        "age": st.column_config.NumberColumn(
                            "Days in the stage",
                            min_value=0.0,
                            step=1.0,
                            required=True,
                            help="How long these leads have sat in the stage on the first day.",
                        ),
                    },
                )
            applied = st.form_submit_button("Apply the clock", type="primary")
        if applied:
            try:
                new = candidate(scenario, rev)
            except ScenarioError as exc:
                st.error(f"{shell.md_text(str(exc))}. The plan is unchanged.")
            else:
                if new != scenario:
                    shell.set_scenario(new)
                    st.rerun()


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def candidate(scenario: Scenario, rev: int) -> Scenario:
    """The scenario the clock editor describes (raises ScenarioError naming the field)."""
    ss = st.session_state
    data = copy.deepcopy(scenario.to_dict())
    data.pop("weeks", None)
    for source in data["sources"]:
        for key in ("arrivals", "lags", "opening"):
            source.pop(key, None)
    if not ss.get("plan_time_on"):
        return parse_scenario(data)
    weeks = int(ss.get("plan_time_weeks") or DEFAULT_WEEKS)
    data["weeks"] = weeks
    for i, source in enumerate(data["sources"]):
        shape = ss.get(f"plan_time_s{i}_shape", "flat")
        if shape == "ramp":
            source["arrivals"] = {"shape": "ramp", "ratio": float(ss[f"plan_time_s{i}_ratio"])}
        elif shape == "weekly":
            text = str(ss.get(f"plan_time_s{i}_weekly") or "")
            try:
                weekly = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
            except ValueError:
                raise ScenarioError(
                    f"sources[{i}].arrivals.weekly: {text!r} is not a list of numbers"
                ) from None
            source["arrivals"] = {"shape": "weekly", "weekly": weekly}
        lags = []
        for j in range(len(source["rates"])):
            dist = ss.get(f"plan_time_s{i}_lag{j}_dist", "none")
            days = float(ss.get(f"plan_time_s{i}_lag{j}_days") or 0.0)
            if dist == "none":
                lags.append({"dist": "fixed", "days": 0})
            elif dist == "fixed":
                lags.append({"dist": "fixed", "days": days})
            else:
                cv = float(ss.get(f"plan_time_s{i}_lag{j}_cv") or 0.8)
                lags.append({"dist": dist, "median": days, "cv": cv})
        source["lags"] = lags
        rows = _edited_rows(scenario, i, rev)
        if rows:
            source["opening"] = rows
    return parse_scenario(data)


def _edited_rows(scenario: Scenario, i: int, rev: int) -> list[dict[str, Any]]:
    """The opening-pipeline table as edited (the data editor keeps edits, not the table)."""
    base = _opening_rows(scenario, i).to_dict("records")
    state = st.session_state.get(f"plan_time_s{i}_opening_{rev}") or {}
    rows = [dict(r) for r in base]
    for index, change in (state.get("edited_rows") or {}).items():
        rows[int(index)].update(change)
    rows += [dict(r) for r in state.get("added_rows") or []]
    gone = {int(k) for k in state.get("deleted_rows") or []}
    out = []
    for k, row in enumerate(rows):
        if k in gone:
            continue
        count, age = _number(row.get("count")), _number(row.get("age"))
        if not row.get("stage") and count is None and age is None:
            continue  # an empty row the leader added and left
        out.append(
            {
                "stage": row.get("stage") or "",
                "count": int(count) if count is not None and count == int(count) else count,
                "age": age if age is not None else 0.0,
            }
        )
    return out
