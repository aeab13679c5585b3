"""Plan: the meeting screen. Move the split, volumes and rates; see the chance of the number."""

from __future__ import annotations

import re

import streamlit as st

from sim import ScenarioError, scenario_from_json
from sim.charts import funnel_chart, outcome_chart
from sim.engine import DEFAULT_TRIALS
from sim.models import MAX_FILE_BYTES
from ui import editor, shell, storage, team
from ui.results import cached_plan, cached_simulate, fmt_outcome

shell.setup_page("Plan")
scenario = shell.current_scenario()

# ---- Sidebar: load, save, simulation settings ------------------------------------------------
with st.sidebar:
    st.markdown("#### Scenario file")
    st.file_uploader(
        "Load a scenario (JSON)",
        type=["json"],
        key="plan_upload",
        max_upload_size=1,
        help="A scenario exported from Pipeline Pact (schema v1). Checked before anything changes.",
    )
    if (upload := shell.fresh_upload("plan_upload")) is not None:
        try:
            loaded = scenario_from_json(upload.getvalue()[: MAX_FILE_BYTES + 1])
        except ScenarioError as exc:
            st.session_state["plan_upload_error"] = f"Could not load {upload.name}: {exc}"
        else:
            st.session_state.pop("plan_upload_error", None)
            shell.set_scenario(loaded)
            scenario = loaded
    if err := st.session_state.get("plan_upload_error"):
        st.error(f"{err}. The current scenario is unchanged.")
    trials = st.select_slider(
        "Simulated quarters",
        options=[20_000, 50_000, 100_000, 200_000, 1_000_000],
        value=DEFAULT_TRIALS,
        key="plan_trials",
        format_func=lambda n: f"{n:,}",
        help="How many quarters the simulator draws. More is smoother but slower.",
    )
    seed = st.number_input(
        "Random seed",
        min_value=0,
        value=0,
        step=1,
        key="plan_seed",
        help="Same scenario and seed always give the same numbers.",
    )

# ---- Widgets -> scenario (last good scenario kept on error) ----------------------------------
editor.sync_widgets(scenario, shell.scenario_rev())
edited, problem = editor.candidate(scenario)
if problem:
    st.error(f"{problem}. Showing the last valid plan until this is fixed.")
elif edited != scenario:
    shell.set_scenario(edited, reload_editors=False)
    scenario = edited

result = cached_simulate(scenario.to_json(), int(trials), int(seed))
presenting = shell.presentation_mode()

# ---- Headline ----------------------------------------------------------------------------------
st.title(f"{shell.md_text(scenario.name)} · {scenario.quarter}")
unit = "customers" if scenario.metric == "customers" else "in bookings"
st.caption(
    f"Target: {fmt_outcome(scenario.target, scenario.metric)} {unit} · "
    f"marketing {scenario.marketing_share:.0%} / sales {1 - scenario.marketing_share:.0%} · "
    f"{result.trials:,} simulated quarters"
)
if (saved := storage.store()) is not None and (agreed := saved.agreement_of(scenario)) is not None:
    st.caption(
        f"🔒 The agreed plan for {scenario.quarter}: agreed by {shell.md_text(agreed.agreed_by)} "
        f"on {storage.when(agreed.agreed_at)}. A change starts a new draft; the agreement stays."
    )
cols = st.columns(4)
cols[0].metric(
    "Chance we hit the number",
    f"{result.p_hit:.0%}",
    help="Share of simulated quarters that reach the target.",
)
for col, owner in zip(cols[1:3], ("marketing", "sales"), strict=True):
    o = result.owners[owner]
    col.metric(
        f"Chance {owner} hits its share",
        f"{o.p_hit:.0%}",
        help=f"{owner.capitalize()}'s share is {fmt_outcome(o.target, scenario.metric)}; "
        f"it delivers {fmt_outcome(o.mean, scenario.metric)} on average.",
    )
cols[3].metric(
    f"Expected {'customers' if scenario.metric == 'customers' else 'bookings'}",
    fmt_outcome(result.total.mean, scenario.metric),
    help="Average over the simulated quarters; P10–P90 is the range 8 quarters in 10 fall in.",
)
cols[3].caption(
    f"P10–P90: {fmt_outcome(result.total.p10, scenario.metric)} – "
    f"{fmt_outcome(result.total.p90, scenario.metric)}"
)

shell.let_browser_paint()

# ---- How much volume each owner must commit ---------------------------------------------------
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
need_cols = st.columns(2)
for col, owner in zip(need_cols, ("marketing", "sales"), strict=True):
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

# ---- Charts -------------------------------------------------------------------------------------
chart_cols = st.columns([3, 2])
with chart_cols[0]:
    st.markdown("**How the quarter could land**")
    st.plotly_chart(outcome_chart(result), key="plan_outcome_chart", theme=None)
with chart_cols[1]:
    st.markdown("**Expected funnel per source**")
    st.plotly_chart(funnel_chart(scenario), key="plan_funnel_chart", theme=None)
team.section(scenario, confidence)

# ---- Assumptions (hidden while presenting) -------------------------------------------------------
if not presenting:
    st.subheader("Assumptions")
    top = st.columns([2, 1, 2, 2])
    top[0].text_input("Scenario name", key="plan_name", max_chars=80)
    top[1].text_input("Quarter", key="plan_quarter", max_chars=7, help="Like 2027-Q1.")
    top[2].radio(
        "What the number counts",
        ["customers", "bookings"],
        key="plan_metric",
        horizontal=True,
        format_func=str.capitalize,
    )
    top[3].number_input(
        "Target for the quarter",
        min_value=0.0,
        step=1.0,
        format="%.0f",
        key="plan_target",
        help="New customers, or bookings in currency, depending on the metric.",
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
    with st.expander("Deal size (used for bookings)", expanded=scenario.metric == "bookings"):
        d1, d2 = st.columns(2)
        d1.number_input("Average deal size", min_value=0.0, step=1000.0, key="plan_deal_mean")
        d2.number_input(
            "Deal size variation (CV)",
            min_value=0.0,
            max_value=5.0,
            step=0.1,
            key="plan_deal_cv",
            help="Standard deviation divided by the average; 0.6 is typical.",
        )

    tabs = st.tabs([f"{s.name} · {s.owner}" for s in scenario.sources])
    for i, (tab, source) in enumerate(zip(tabs, scenario.sources, strict=True)):
        with tab:
            v1, v2, v3 = st.columns([3, 2, 1])
            v1.slider(
                f"{source.stages[0]}s per quarter",
                0,
                max(1000, int(source.volume.mean * 3) // 100 * 100),
                step=1,
                key=f"plan_s{i}_volume",
                help=f"How many {source.stages[0]}s {source.name} commits to this quarter.",
            )
            v2.selectbox(
                "How the volume varies",
                ["fixed", "poisson", "negbin"],
                format_func={
                    "fixed": "Exactly this many",
                    "poisson": "Random around it",
                    "negbin": "Random, with good and bad quarters",
                }.get,
                key=f"plan_s{i}_dist",
            )
            if st.session_state.get(f"plan_s{i}_dist") == "negbin":
                v3.number_input("Quarter-to-quarter CV", 0.01, 5.0, step=0.05, key=f"plan_s{i}_cv")
            for j, (label, rate) in enumerate(zip(source.step_labels(), source.rates, strict=True)):
                r1, r2 = st.columns([3, 1])
                r1.slider(f"{label} rate", 0, 100, step=1, format="%d%%", key=editor.rate_key(i, j))
                r2.number_input(
                    "Evidence (leads seen)",
                    min_value=0,
                    max_value=1_000_000,
                    step=10,
                    key=editor.evidence_key(i, j),
                    help="How many leads this rate was measured on. 0 means known exactly; "
                    "fewer leads means a wider range of possible rates.",
                )
                lo, hi = rate.interval(0.8)
                r1.caption(
                    f"{rate.mean:.1%} · known exactly"
                    if not rate.uncertain
                    else f"{rate.mean:.1%} · 80% range {lo:.0%}–{hi:.0%}"
                )

with st.sidebar:
    st.download_button(
        "Download this scenario (JSON)",
        data=scenario.to_json(),
        file_name=re.sub(r"[^A-Za-z0-9_-]+", "-", f"{scenario.name}-{scenario.quarter}") + ".json",
        mime="application/json",
        key="plan_download",
        help="Loads back exactly as it is now.",
    )
