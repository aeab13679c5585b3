"""Assumptions: calibrate the plan from history, tell real changes from noise, see what matters."""

from __future__ import annotations

from typing import Any

import streamlit as st

from sim import Scenario, ScenarioError, scenario_from_json
from sim.assumption_charts import (
    deal_size_chart,
    heatmap_chart,
    tornado_chart,
    trend_chart,
    volume_chart,
)
from sim.calibrate import (
    DATE_FORMATS,
    MAX_HISTORY_BYTES,
    PARTS,
    CalibrationError,
    CountsColumns,
    History,
    LeadColumns,
    apply_calibration,
    calibrate,
    comparison_table,
    detect_counts_columns,
    detect_format,
    detect_lead_columns,
    problems_table,
    read_header,
    read_history,
    stage_name,
)
from sim.sensitivity import (
    ConfidencePlan,
    Heatmap,
    Tornado,
    assumptions,
    confidence_plan,
    default_heatmap_keys,
    heatmap,
    levers,
    tornado,
)
from sim.signal import signals
from ui import editor, lag_history, room, shell

EXAMPLE = shell.ROOT / "examples" / "history-leads.csv"
NONE = "(none)"
PART_LABELS = {
    "rates": "Stage rates",
    "volume": "First-stage volume (the historical average)",
    "spread": "How volume varies from quarter to quarter",
    "deal_size": "Deal size",
}


@st.cache_resource(max_entries=4, show_spinner="Reading the history…")
def read_cached(
    data: bytes, fmt: str, columns: CountsColumns | LeadColumns | None, date_fmt: str, skip: bool
) -> History:
    return read_history(
        data, fmt, columns=columns, date_format=DATE_FORMATS[date_fmt], skip_bad_rows=skip
    )  # type: ignore[arg-type]


@st.cache_resource(max_entries=16, show_spinner="Moving each assumption…")
def tornado_cached(scenario_json: str, trials: int) -> Tornado:
    return tornado(scenario_from_json(scenario_json), trials=trials, seed=0)


@st.cache_resource(max_entries=16, show_spinner="Filling the heatmap…")
def heatmap_cached(scenario_json: str, x: str, y: str, confidence: float, trials: int) -> Heatmap:
    s = scenario_from_json(scenario_json)
    return heatmap(s, x, y, confidence=confidence, trials=trials, seed=0)


@st.cache_resource(max_entries=32, show_spinner=False)
def plan_cached(scenario_json: str, lever: str, confidence: float, goal: str) -> ConfidencePlan:
    return confidence_plan(scenario_from_json(scenario_json), lever, confidence, goal)  # type: ignore[arg-type]


def option_index(options: list[str], value: str | None) -> int:
    return options.index(value) if value in options else 0


shell.setup_page("Assumptions")
drawn = shell.drawn_version()  # what the leader saw, before this run catches up
scenario: Scenario = shell.current_scenario()
if (undo := room.pending_undo()) is not None:  # "Put back Sam's 70%" (an apply that clashed)
    scenario = shell.set_scenario(editor.with_change(scenario, undo))
st.title("Know your assumptions")
room.live_bar()  # the plan these rates are compared with, live
st.caption(
    "Where the plan's rates come from, whether last quarter's change is real, and which "
    "assumption moves the chance of hitting the number most."
)

# ---- 1. History -------------------------------------------------------------------------------
st.subheader("Calibrate from your history")
left, right = st.columns([3, 2])
upload = left.file_uploader(
    "Upload your history (CSV)",
    type=["csv", "txt"],
    key="assumptions_upload",
    max_upload_size=MAX_HISTORY_BYTES // 1_000_000,
    help="Quarterly counts (quarter, source, stage, count, optional bookings) or a CRM export "
    "with one row per lead: source, created date, the date it reached each stage, won amount.",
)
if right.button("Use the example history", key="assumptions_example"):
    st.session_state["assumptions_use_example"] = True
fmt_label = right.radio(
    "What the file holds",
    ["Detect from the header", "Quarterly counts", "One row per lead"],
    key="assumptions_format",
    help="Detection looks for stage and count columns; otherwise the file is read as leads.",
)
data: bytes | None = None
name = ""
if upload is not None:
    data, name = upload.getvalue(), upload.name  # read_history refuses it if too large
elif st.session_state.get("assumptions_use_example"):
    data, name = EXAMPLE.read_bytes(), f"{EXAMPLE.name} (example)"

history: History | None = None
if data is not None:
    if st.session_state.get("assumptions_file") != (name, len(data)):
        st.session_state["assumptions_file"] = (name, len(data))
        st.session_state.pop("assumptions_applied", None)
        for key in [k for k in st.session_state if str(k).startswith("assumptions_col_")]:
            del st.session_state[key]
    try:
        headers = list(read_header(data))
        fmt = {"Quarterly counts": "counts", "One row per lead": "leads"}.get(
            fmt_label, detect_format(headers)
        )
    except CalibrationError as exc:
        st.error(f"Could not read {shell.md_text(name)}: {shell.md_text(str(exc))}")
        headers, fmt = [], ""
    columns: CountsColumns | LeadColumns | None = None
    date_fmt = "YYYY-MM-DD"
    if headers:
        try:
            guess: Any = (
                detect_counts_columns(headers) if fmt == "counts" else detect_lead_columns(headers)
            )
            mapping_ok = True
        except CalibrationError as exc:
            guess, mapping_ok = None, False
            st.warning(f"{shell.md_text(str(exc))}. Match the columns below.")
        with st.expander("Match your columns", expanded=not mapping_ok):
            pick = headers + [NONE]
            if fmt == "counts":
                roles = ["quarter", "source", "stage", "count", "bookings"]
                chosen = {
                    role: st.selectbox(
                        f"{role.capitalize()} column",
                        pick,
                        index=option_index(pick, getattr(guess, role, None) or NONE),
                        key=f"assumptions_col_{role}",
                    )
                    for role in roles
                }
                if all(chosen[r] != NONE for r in roles[:4]):
                    columns = CountsColumns(
                        **{r: chosen[r] for r in roles[:4]},
                        bookings=None if chosen["bookings"] == NONE else chosen["bookings"],
                    )
            else:
                c1, c2, c3 = st.columns(3)
                src = c1.selectbox(
                    "Source column",
                    pick,
                    index=option_index(pick, getattr(guess, "source", None)),
                    key="assumptions_col_source",
                    help="Which channel the lead came from (Inbound, Outbound, Events...).",
                )
                created = c2.selectbox(
                    "Created date column",
                    pick,
                    index=option_index(pick, getattr(guess, "created", None) or NONE),
                    key="assumptions_col_created",
                )
                amount = c3.selectbox(
                    "Won amount column",
                    pick,
                    index=option_index(pick, getattr(guess, "amount", None) or NONE),
                    key="assumptions_col_amount",
                )
                stages = st.multiselect(
                    "Stage date columns, top of the funnel first",
                    headers,
                    default=[c for _, c in guess.stages] if guess else [],
                    key="assumptions_col_stages",
                    help="One column per stage holding the date the lead reached it "
                    "(empty if it never did). The stage is named after the column.",
                )
                date_fmt = st.selectbox(
                    "Dates are written as",
                    list(DATE_FORMATS),
                    key="assumptions_date_format",
                )
                if src != NONE and len(stages) >= 2:
                    columns = LeadColumns(
                        source=src,
                        stages=tuple((stage_name(c), c) for c in stages),
                        created=None if created == NONE else created,
                        amount=None if amount == NONE else amount,
                    )
    o1, o2, o3 = st.columns([2, 2, 1])
    skip = o1.checkbox(
        "Skip rows with problems",
        key="assumptions_skip",
        help="Leave out the rows listed in the message instead of stopping; they are reported.",
    )
    recent = o2.toggle(
        "Weight recent quarters more",
        key="assumptions_recent",
        help="Older quarters count less, so the rates follow recent change (with less evidence).",
    )
    half_life = o3.number_input(
        "Half-life (quarters)",
        min_value=1,
        max_value=12,
        value=4,
        key="assumptions_half_life",
        disabled=not recent,
        help="A quarter this many quarters back counts half as much as the latest.",
    )
    if headers and columns is None:
        st.info("Match the columns above to read the file.")
    if headers and columns is not None:
        try:
            history = read_cached(data, fmt, columns, date_fmt, skip)
        except CalibrationError as exc:
            st.error(f"Nothing was imported from {shell.md_text(name)}: {shell.md_text(str(exc))}")
            if exc.problems:
                st.dataframe(
                    problems_table(exc.problems), hide_index=True, key="assumptions_problems"
                )

if history is not None:
    cal = calibrate(
        history, half_life=float(half_life) if recent else None, lags=lag_history.fitted(history)
    )
    st.success(f"{shell.md_text(name)}: {shell.md_text(history.summary())}.")
    if history.dropped:
        with st.expander(f"Rows left out ({sum(len(p.rows) for p in history.dropped):,})"):
            st.dataframe(
                problems_table(history.dropped), hide_index=True, key="assumptions_dropped"
            )
    for note in history.notes:
        st.caption(shell.md_text(note))
    st.dataframe(comparison_table(cal, scenario), hide_index=True, key="assumptions_table")

    # ---- Apply --------------------------------------------------------------------------------
    parts = st.multiselect(
        "What to take from the history",
        list(PARTS),
        default=list(PARTS),
        format_func=PART_LABELS.get,
        key="assumptions_parts",
        help="Untick the volume to keep the commitment you agreed instead of the history's average.",
    )
    planned = {s.name.strip().casefold() for s in scenario.sources}
    owners: dict[str, Any] = {}
    for i, fit in enumerate(s for s in cal.sources if s.name.strip().casefold() not in planned):
        choice = st.selectbox(
            f"{fit.name} is not in the plan. Who owns it?",
            ["leave it out", "marketing", "sales"],
            key=f"assumptions_owner_{i}",
        )
        if choice != "leave it out":
            owners[fit.name] = choice
    if st.button("Apply to the plan", key="assumptions_apply", type="primary"):
        try:
            applied = apply_calibration(scenario, cal, parts=parts, owners=owners)
        except ScenarioError as exc:
            st.error(f"Nothing was applied: {shell.md_text(str(exc))}")
        else:
            shell.set_scenario(applied.scenario, drawn=drawn)  # a newer value is named
            st.session_state["assumptions_applied"] = (applied.changes, applied.skipped)
            st.rerun()  # redraw the comparison and the sensitivity with the new plan
    if done := st.session_state.get("assumptions_applied"):
        changes, skipped = done
        st.success(
            "Applied to the plan (open Plan to see the chance now; every value can still be "
            "changed there):\n"
            + "\n".join(f"- {shell.md_text(c)}" for c in changes or ["nothing changed"])
        )
        for line in skipped:
            st.caption(f"Kept: {shell.md_text(line)}")
    room.replaced_notices()  # a value the apply replaced that someone set meanwhile

    # ---- Signal or noise ----------------------------------------------------------------------
    st.subheader("Signal or noise")
    sig = signals(cal)
    st.caption(sig.explainer())
    for line in sig.alarm_sentences():
        st.warning(shell.md_text(line))
    if not sig.flags:
        st.info("No rate's latest quarter differs from its earlier quarters by more than noise.")
    st.markdown("**Quarter by quarter (for exploring)**")
    st.caption(sig.scan_explainer())
    looks = sig.scan_sentences()
    st.markdown(
        "\n".join(f"- Worth a look: {shell.md_text(line)}" for line in looks)
        if looks
        else "None of the quarter-to-quarter moves stands out from noise."
    )
    trends = sig.trends
    labels = [f"{t.source} · {t.step}" for t in trends]
    shown = st.selectbox(
        "Rate to look at",
        range(len(trends)),
        format_func=lambda i: labels[i],
        index=next((i for i, t in enumerate(trends) if t.flagged), 0),
        key="assumptions_trend",
    )
    trend = trends[shown]
    st.plotly_chart(trend_chart(trend), key="assumptions_trend_chart", theme=None)
    st.markdown(shell.md_text(trend.summary()))
    v1, v2 = st.columns(2)
    fit = next(s for s in cal.sources if s.name == trend.source)
    v1.plotly_chart(volume_chart(fit.volume), key="assumptions_volume_chart", theme=None)
    if cal.deal_size is not None:
        v2.plotly_chart(deal_size_chart(cal.deal_size), key="assumptions_deal_chart", theme=None)

lag_history.section(history, scenario)

# ---- 2. What moves the number ---------------------------------------------------------------
st.subheader("What moves the number")
trials = st.select_slider(
    "Simulated quarters per bar and cell",
    options=[5_000, 20_000, 50_000],
    value=20_000,
    key="assumptions_trials",
    format_func=lambda n: f"{n:,}",
    help="Every bar and cell re-simulates the plan with the same random quarters, so "
    "differences come from the assumption, not from noise.",
)
scenario_json = scenario.to_json()
tor = tornado_cached(scenario_json, trials)
st.markdown(f"**{shell.md_text(tor.summary())}**")
st.plotly_chart(tornado_chart(tor), key="assumptions_tornado", theme=None)
st.caption(
    f"Each bar moves one assumption to the ends of its 80% range (±10% when it is known "
    f"exactly) and keeps the rest; the line is the plan now ({tor.p_hit:.0%}). Colour shows who "
    "answers for it: marketing for MQL volume, sales from the MQL on."
)

confidence = st.slider(
    "How sure do you want to be?",
    min_value=50,
    max_value=99,
    value=80,
    step=1,
    format="%d%%",
    key="assumptions_confidence",
    help="Drawn as a line on the heatmap, and used for the confidence plan below.",
)
choices = {a.key: a.label for a in assumptions(scenario)}
keys = list(choices)
dx, dy = default_heatmap_keys(scenario)
h1, h2 = st.columns(2)
x_key = h1.selectbox(
    "Across",
    keys,
    index=option_index(keys, dx),
    format_func=choices.get,
    key="assumptions_heat_x",
)
y_key = h2.selectbox(
    "Up",
    keys,
    index=option_index(keys, dy),
    format_func=choices.get,
    key="assumptions_heat_y",
)
if x_key == y_key:
    st.info("Pick two different assumptions for the heatmap.")
else:
    heat = heatmap_cached(scenario_json, x_key, y_key, confidence / 100, trials)
    st.plotly_chart(heatmap_chart(heat), key="assumptions_heatmap", theme=None)
    st.caption(
        f"Chance of hitting the number over both assumptions; the black line is where it is "
        f"{confidence}%, the cross is the plan now."
    )

# ---- 3. Confidence planning ---------------------------------------------------------------------
st.subheader(f"What it takes to be {confidence}% sure")
options = dict(levers(scenario))
c1, c2 = st.columns([3, 2])
lever = c1.selectbox(
    "Solve for",
    list(options),
    format_func=options.get,
    key="assumptions_lever",
    help="Everything else stays as it is in the plan.",
)
goal = c2.radio(
    "Be sure of",
    ["share", "total"],
    format_func={"share": "that side's share", "total": "the whole number"}.get,
    key="assumptions_goal",
    horizontal=True,
)
cp = plan_cached(scenario_json, lever, confidence / 100, goal)
m1, m2, m3 = st.columns(3)
m1.metric("In the plan now", cp.fmt(cp.current), help=f"{cp.p_hit_current:.0%} sure today.")
m1.caption(f"{cp.p_hit_current:.0%} sure")
m2.metric(
    "Point-estimate plan",
    cp.fmt(cp.point_estimate),
    help="What a spreadsheet of averages asks for: the expected outcome just reaches the goal.",
)
if cp.p_hit_point_estimate is not None:
    m2.caption(f"a coin flip: {cp.p_hit_point_estimate:.0%} sure")
m3.metric(
    f"To be {confidence}% sure",
    cp.fmt(cp.needed),
    help="The smallest value that reaches the goal this often, with the rest of the plan fixed.",
)
st.markdown(shell.md_text(cp.sentence()))
