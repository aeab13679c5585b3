"""Review: what actually happened against the plan, the gap traced to its stage and owner."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim import ScenarioError
from sim.charts import pacing_chart, waterfall_chart
from sim.compliance import MAX_BYTES as MAX_ACTIVITY_BYTES
from sim.compliance import check_compliance
from sim.review import (
    MAX_CSV_BYTES,
    Actuals,
    actuals_from_csv,
    actuals_from_rows,
    blank_actuals,
    pacing,
    review,
)
from sim.sla import SLA
from sim.store import StoreError
from sim.trend import stored_trend, trend_chart
from ui import room, shell, storage

shell.setup_page("Review")
working = shell.current_scenario()
store = storage.store()

# ---- Which plan: the agreed plan for the quarter, or the working scenario ------------------------
AGREED, WORKING = "agreed", "working"
agreed = store.current_agreement(working.quarter) if store else None
choices = {WORKING: f"The working scenario ({working.name})"}
if agreed is not None:
    choices = {
        AGREED: f"The agreed plan for {agreed.quarter} (version {agreed.version}, agreed by "
        f"{agreed.agreed_by})",
        **choices,
    }
if st.session_state.get("review_against") not in choices:
    st.session_state["review_against"] = next(iter(choices))
against = st.radio(
    "Review against",
    list(choices),
    format_func=lambda k: shell.md_text(choices[k]),  # radio labels are markdown
    key="review_against",
    horizontal=True,
)
plan_ref: tuple[str, int] | None  # the saved version the actuals are reviewed against
if against == AGREED and agreed is not None and store is not None:
    scenario = store.load(agreed.scenario_id, agreed.version)[0]
    plan_ref = (agreed.scenario_id, agreed.version)
else:
    scenario = working
    sid, version = st.session_state.get("store_id"), st.session_state.get("store_version")
    plan_ref = (sid, int(version)) if sid and version else None
if agreed is None:
    st.caption(
        f"No plan is agreed for {working.quarter} yet, so this reviews the working scenario "
        "(agree on one on the Scenarios or Compare page)."
    )
st.title(f"Quarter review · {shell.md_text(scenario.name)} · {scenario.quarter}")
room.live_bar()  # the working scenario (and its agreement), live
st.caption(
    "Enter what actually happened: how many leads reached each stage, for the whole quarter or "
    "to date. The gap to the plan is split between the stages that caused it, each with its owner."
)

# ---- Actuals: upload or type ---------------------------------------------------------------------
plan_rows = blank_actuals(scenario)
layout = [(r["source"], r["stage"]) for r in plan_rows]
if st.session_state.get("review_layout") != layout:  # a different plan: start from its funnel
    st.session_state["review_layout"] = layout
    st.session_state["review_rows"] = plan_rows
    st.session_state["review_rev"] = st.session_state.get("review_rev", 0) + 1
    st.session_state.pop("review_last", None)

left, right = st.columns([2, 1])
with right:
    if "review_pending_week" in st.session_state:  # a loaded file said which week it is
        st.session_state["review_week"] = st.session_state.pop("review_pending_week")
    weeks = scenario.quarter_weeks
    st.session_state.setdefault("review_week", weeks)
    st.session_state["review_week"] = min(st.session_state["review_week"], weeks)
    week = st.slider(
        "Week of the quarter",
        0,
        weeks,
        key="review_week",
        help=f"{weeks} means the quarter is closed; earlier weeks re-forecast the rest.",
    )
    st.file_uploader(
        "Load actuals (CSV)",
        type=["csv"],
        key="review_upload",
        max_upload_size=5,
        help="Columns: source, stage, count; optional bookings (on the won row) and week.",
    )
    loaded: Actuals | None = st.session_state.pop("review_load_kept", None)
    if (upload := shell.fresh_upload("review_upload")) is not None:
        try:
            loaded = actuals_from_csv(upload.getvalue()[: MAX_CSV_BYTES + 1], scenario)
        except ScenarioError as exc:
            st.session_state["review_upload_error"] = f"Could not load {upload.name}: {exc}"
    if loaded is not None:  # a file, or actuals kept earlier, replace the table
        st.session_state.pop("review_upload_error", None)
        st.session_state["review_rows"] = [
            {
                "source": r["source"],
                "stage": r["stage"],
                "count": loaded.for_source(r["source"]).counts[r["stage"]],
            }  # type: ignore[union-attr]
            for r in plan_rows
        ]
        st.session_state["review_bookings"] = {
            s.name: s.bookings for s in loaded.sources if s.bookings is not None
        }
        st.session_state["review_rev"] += 1
        if loaded.week != week:
            st.session_state["review_pending_week"] = loaded.week
            st.rerun()
    if err := st.session_state.get("review_upload_error"):
        st.error(f"{err}. Nothing was changed.")

with left:
    edited = st.data_editor(
        pd.DataFrame(st.session_state["review_rows"]),
        key=f"review_table_{st.session_state['review_rev']}",
        disabled=["source", "stage"],
        hide_index=True,
        width="stretch",
        column_config={
            "source": "Source",
            "stage": "Stage",
            "count": st.column_config.NumberColumn(
                "Reached this stage",
                min_value=0,
                step=1,
                help="Leads that reached this stage (cumulative, to date).",
            ),
        },
    )

current: Actuals | None = None  # the table's actuals, when they are valid
try:
    actuals = actuals_from_rows(edited.to_dict("records"), scenario, week=week, weeks=weeks)
    bookings = st.session_state.get("review_bookings", {})
    if bookings:
        actuals = actuals.model_copy(
            update={
                "sources": [
                    s.model_copy(update={"bookings": bookings.get(s.name)}) for s in actuals.sources
                ]
            }
        )
    result = review(scenario, actuals)
    st.session_state["review_last"] = result
    current = actuals
    if [r["count"] for r in edited.to_dict("records")] == [r["count"] for r in plan_rows]:
        current = None  # still the plan's own numbers: nothing to keep
        st.info(
            "The table starts from the plan's own expected counts, so the review below is the "
            "plan against itself. Load the actuals CSV or type the real counts."
        )
except ScenarioError as exc:
    st.error(f"{exc}. Showing the last valid review.")
    result = st.session_state.get("review_last")
if result is None:
    st.stop()  # nothing valid to show yet (only possible before the first valid table)

# ---- Verdict -----------------------------------------------------------------------------------------
st.subheader(shell.md_text(result.verdict))
cols = st.columns(3)
unit = "Customers" if result.metric == "customers" else "Bookings"
cols[0].metric(
    f"{unit} so far" if result.week < result.weeks else unit,
    f"{result.actual:,.0f}",
    delta=f"{result.gap:+,.1f} vs plan",
)
cols[1].metric("Plan expected by now", f"{result.plan_expected:,.1f}")
cols[2].metric(
    "Chance we still hit the number" if result.week < result.weeks else "Hit the number?",
    f"{result.reforecast.p_hit:.0%}"
    if result.week < result.weeks
    else ("Yes" if result.reforecast.p_hit == 1 else "No"),
    help="Re-forecast: leads in each stage continue down the funnel with the time left; the "
    "rest of the committed volume arrives over the weeks left.",
)

st.markdown("**Where the gap came from**")
st.plotly_chart(waterfall_chart(result), key="review_waterfall", theme=None)

st.markdown("**Signal or noise, stage by stage**")
st.caption(
    "A stage is flagged only when its actual rate lies outside the central 95% of what "
    "the plan's own uncertainty allowed for that many leads."
)
st.dataframe(
    pd.DataFrame(
        [
            {
                "Source": s.source,
                "Step": s.step,
                "Owner": s.owner,
                "Leads in": s.entered,
                "Actual rate": s.actual_rate,
                "Plan rate": s.plan_rate,
                "Plan allowed": "" if s.low is None else f"{s.low:.0%}–{s.high:.0%}",
                "Call": s.verdict,
            }
            for s in result.signals
        ]
    ),
    hide_index=True,
    width="stretch",
    column_config={
        "Actual rate": st.column_config.NumberColumn(format="percent"),
        "Plan rate": st.column_config.NumberColumn(format="percent"),
        "Call": st.column_config.TextColumn(width="large"),
    },
)

if result.week < result.weeks:
    st.markdown("**Pacing against the plan**")
    p1, p2 = st.columns(2)
    source_name = p1.selectbox(
        "Source", [s.name for s in scenario.sources], key="review_pace_source"
    )
    index = next(i for i, s in enumerate(scenario.sources) if s.name == source_name)
    stage = (  # with the plan's clock every stage has its own pace; without it, the first
        p2.selectbox("Stage", scenario.sources[index].stages, key=f"review_pace_stage{index}")
        if scenario.timed
        else None
    )
    st.plotly_chart(
        pacing_chart(pacing(scenario, actuals, source_name, stage)),
        key="review_pacing",
        theme=None,
    )

# ---- Kept with the plan, and quarter over quarter --------------------------------------------
st.subheader("Kept with the plan")
if notice := st.session_state.pop("review_notice", None):
    st.success(notice)
if store is None:
    st.info("The scenario store is not open, so actuals cannot be kept (see the message above).")
else:
    kept = [k for k in store.kept_actuals() if plan_ref and (k.scenario_id, k.version) == plan_ref]
    if plan_ref is None:
        st.caption(
            "The working scenario is not saved yet; keeping the actuals saves it first, so "
            "the actuals stay with exactly the plan they were reviewed against."
        )
    if st.button(
        "Keep these actuals with the plan",
        key="review_keep",
        disabled=current is None,
        help="Stored with the plan version, the week and your name; kept actuals feed the "
        "quarter-over-quarter trend below.",
    ):
        try:
            if plan_ref is None:  # save the working scenario so the actuals have a plan to sit on
                storage.autosave(working)
                plan_ref = (st.session_state["store_id"], int(st.session_state["store_version"]))
            assert current is not None  # the button is disabled otherwise
            k = store.keep_actuals(*plan_ref, current, storage.author())
        except (StoreError, KeyError) as exc:
            st.error(f"Not kept: {exc}.")
        else:
            st.session_state["review_notice"] = (
                f"Kept: {k.quarter} actuals "
                + ("for the closed quarter" if k.final else f"to week {k.week}")
                + f", with version {k.version} of the plan."
            )
            st.rerun()
    if kept:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Kept at": storage.when(k.created_at),
                        "Kept by": k.author,
                        "Week": f"{k.week} of {k.weeks}",
                        "Plan version": k.version,
                    }
                    for k in reversed(kept)
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        l1, l2 = st.columns([3, 1], vertical_alignment="bottom")
        pick = l1.selectbox(
            "Kept actuals",
            range(len(kept)),
            format_func=lambda i: (
                f"{storage.when(kept[i].created_at)} · week {kept[i].week} · {kept[i].author}"
            ),
            index=len(kept) - 1,
            key="review_kept_pick",
        )
        if l2.button("Load into the table", key="review_kept_load"):
            st.session_state["review_load_kept"] = kept[pick].actuals
            st.rerun()

    st.subheader("Quarter over quarter")
    trend = stored_trend(store)
    if trend.empty:
        st.caption(
            "Keep the actuals of each reviewed quarter to see here how each owner delivered "
            "against what it committed, quarter by quarter."
        )
    else:
        quarters = trend["quarter"].nunique()
        st.caption(
            "Each owner's net effect on the number (its stages' parts of the gap, which add up "
            "to the gap) and the first-stage volume it delivered against what it committed. "
            "Each quarter uses its latest kept actuals, against the plan they were kept with."
            + ("" if quarters > 1 else " Keep another quarter's actuals to see a trend.")
        )
        st.plotly_chart(trend_chart(trend), key="review_trend", theme=None)
        st.dataframe(
            trend.assign(
                owner=trend["owner"].str.capitalize(),
                week=[f"{w} of {ws}" for w, ws in zip(trend["week"], trend["weeks"], strict=True)],
            )
            .drop(columns=["weeks", "metric"])
            .rename(
                columns={
                    "quarter": "Quarter",
                    "owner": "Owner",
                    "week": "Week",
                    "committed_volume": "Committed volume",
                    "delivered_volume": "Delivered volume",
                    "volume_delivered_share": "Delivered share",
                    "effect": "Effect on the number",
                    "gap": "Quarter's gap",
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "Committed volume": st.column_config.NumberColumn(format="%.0f"),
                "Delivered share": st.column_config.NumberColumn(format="percent"),
                "Effect on the number": st.column_config.NumberColumn(format="%+.1f"),
                "Quarter's gap": st.column_config.NumberColumn(format="%+.1f"),
            },
        )

# ---- Sales follow-up: the SLA's other half -------------------------------------------------------
st.subheader("Sales follow-up against the SLA")
terms = (scenario.sla or SLA()).follow_up
st.caption(
    f"The agreed terms: first touch within {terms.first_touch_hours} business hours, at least "
    f"{terms.min_attempts} attempts over {terms.over_days} days (set them on the SLA page)."
)
activity = st.file_uploader(
    "Load a follow-up activity export (CSV: lead, rep, mql_time, touch_time, optional sql_time)",
    type=["csv"],
    key="review_activity",
    max_upload_size=50,
)
if activity is not None:
    try:
        comp = check_compliance(activity.getvalue()[: MAX_ACTIVITY_BYTES + 1], scenario)
    except ScenarioError as exc:
        st.error(f"Could not check {activity.name}: {exc}.")
    else:
        c = st.columns(3)
        share = comp.share_compliant
        c[0].metric(
            "MQLs worked within the SLA",
            "n/a" if share is None else f"{share:.0%}",
            help=f"Of {len(comp.decided):,} MQLs whose follow-up window has closed or "
            "already failed, as of the export's last timestamp.",
        )
        for col, key in zip(c[1:], ("compliant", "not compliant"), strict=True):
            rate = comp.sql_rate[key]
            col.metric(
                f"MQL→SQL when {'worked' if key == 'compliant' else 'not worked'} within the SLA",
                "n/a" if rate is None else f"{rate:.0%}",
            )
        st.dataframe(
            comp.by_rep.rename(
                columns={
                    "rep": "Rep",
                    "mqls": "MQLs",
                    "compliant": "Within SLA",
                    "first_touch_on_time": "First touch on time",
                    "share_compliant": "Share",
                }
            ),
            hide_index=True,
            column_config={"Share": st.column_config.NumberColumn(format="percent")},
        )
        st.markdown(f"**Out of compliance as of {comp.as_of:%Y-%m-%d %H:%M}**")
        st.dataframe(comp.out_of_compliance(), hide_index=True, height=240)
