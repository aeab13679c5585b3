"""The Plan page's floor: the same elements, none of the work (bench/core.py --floor).

Every element the Plan page shows on the seed scenario is here, in the same order, kinds and
layout: the live line, the title, the headline row, the volume each owner needs, the two
charts (drawn in place by ui.plot, as the Plan page draws them), the clock and team sections,
the assumptions editor, the sidebar; the body is a fragment with the same pause after the
headline (tests/app/test_floor_page.py checks the elements against the Plan page's). What it does
not do is the Plan page's work: the headline and the charts for every MQL -> SQL rate the
benchmark visits are made once, before the first move, and a move only looks them up. No
store, no room, no save.

So a move here costs what Streamlit itself costs to send and draw this page. The gap between
it and the empty page (bench/empty_page.py) is the part of the Plan page's latency the app
cannot remove without showing fewer elements.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.core import seed_at
from ui import plot, shell
from ui.results import cached_funnel_chart, cached_outcome_chart, fmt_outcome, headline_numbers

RATES = range(55, 100)  # bench/core.py moves the rate within 75 +- 15


@st.cache_resource
def frames() -> dict[int, tuple[list[str], str, str]]:
    """For each MQL -> SQL rate: the headline's texts and the two charts' figures."""
    out = {}
    for rate in RATES:
        scenario = seed_at(rate)
        text = scenario.to_json()
        r = headline_numbers(scenario)
        p10, p90 = (fmt_outcome(x, scenario.metric) for x in (r.total.p10, r.total.p90))
        texts = [
            f"{r.p_hit:.0%}",
            f"{r.owners['marketing'].p_hit:.0%}",
            f"{r.owners['sales'].p_hit:.0%}",
            fmt_outcome(r.total.mean, scenario.metric),
            f"P10–P90: {p10} – {p90}",
        ]
        out[rate] = (texts, cached_outcome_chart(text, 50_000, 0), cached_funnel_chart(text))
    return out


st.set_page_config(page_title="Plan floor", layout="wide")
frames()
# How much of the page to draw, to see how a move's latency grows with the page's elements:
# - full (the default): everything the Plan page shows;
# - core: what the issues ask of the Plan page itself: the live line, the title, the headline,
#   the charts and the assumptions editor (no volume-at-confidence, clock, team, download or
#   sidebar);
# - minimal: only what a move changes: the headline, the charts, the moved slider and its caption.
PARTS = st.query_params.get("parts", "full")
MINIMAL = PARTS == "minimal"
FULL = PARTS == "full"
if not MINIMAL:
    with st.container(), st.container():
        st.caption("Not shared yet: your first change saves this plan and puts its link here.")
    st.title("Seed plan · 2027-Q1")


@st.fragment
def body() -> None:
    rate = int(st.session_state.get("floor_rate", 75))
    texts, outcome, funnel = frames()[rate]
    with st.container(horizontal=True):
        st.metric("Chance we hit the number", texts[0], help="Share of quarters that hit.")
        st.metric("Chance marketing hits its share", texts[1], help="Marketing's share.")
        st.metric("Chance sales hits its share", texts[2], help="Sales' share.")
        with st.container(gap=None):
            st.metric("Expected customers", texts[3], help="Average over the quarters.")
            st.caption(texts[4])
    st.caption("Target: 55 customers · marketing 50% / sales 50% · exact odds")
    shell.let_browser_paint()  # the Plan page's pause after the headline
    if FULL:
        confidence = st.slider("How sure do you want to be?", 50, 99, 80, format="%d%%")
        for col, owner, stage in zip(
            st.columns(2), ("Marketing", "Sales"), ("MQL", "SQL"), strict=True
        ):
            with col:
                st.metric(f"{owner} needs {stage}s to be {confidence}% sure", f"{rate * 2}")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**How the quarter could land**")
        plot.chart(outcome, key="floor_outcome_chart")
    with right:
        st.markdown("**Expected funnel per source**")
        plot.chart(funnel, key="floor_funnel_chart")
    if FULL:
        st.subheader("The quarter in time")
        st.caption("This plan has no clock: every lead committed for the quarter counts.")
        st.toggle("Edit the plan's clock: weeks, when leads arrive, how long each stage takes")
        st.subheader("Team")
        st.caption("Who books sales' volume and works marketing's MQLs: SDRs and AEs.")
        st.button("Plan with a team")
    if not MINIMAL:
        st.subheader("Assumptions")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.text_input("Scenario name", "Seed plan", max_chars=80, width=280)
            st.text_input("Quarter", "2027-Q1", max_chars=7, width=110)
            st.radio("What the number counts", ["customers", "bookings"], horizontal=True)
            st.number_input("Target for the quarter", value=55.0)
        st.slider("Marketing's share of the number", 0, 100, 50, format="%d%%")
        st.segmented_control(
            "Source", ["Marketing MQLs", "Sales outbound"], default="Marketing MQLs"
        )
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.slider("MQLs per quarter", 0, 1000, 164)
            st.selectbox("How the volume varies", ["poisson", "fixed", "overdispersed"])
    rows = (("MQL → SQL", "floor_rate", 75, 0), ("SQL → Opportunity", None, 50, 0))
    for label, key, value, evidence in (*rows, ("Opportunity → Won", None, 45, 80)):
        if MINIMAL and key is None:
            continue
        with st.container(horizontal=True, vertical_alignment="bottom"):
            shown = st.slider(f"{label} rate", 0, 100, value, format="%d%%", key=key)
            st.number_input("Evidence (leads seen)", value=evidence, key=f"floor_ev_{label}")
        st.caption(f"{shown:.1f}% · known exactly" if not evidence else "45.0% · 80% range 38%–52%")
    if MINIMAL:
        st.caption("45.0% · 80% range 38%–52%")  # what bench/core.py waits for before moving
    if FULL:
        st.download_button("Download this scenario (JSON)", data="{}", file_name="plan.json")


body()


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### Pipeline Pact")
        for name in ("Plan", "Assumptions", "SLA", "Review", "Compare", "Scenarios"):
            st.page_link("https://example.invalid/" + name.lower(), label=name)
        st.text_input("Your name")
        st.caption("Until you type it, your changes are saved as 'unnamed'.")
        st.toggle("Presentation mode")
        st.markdown("#### Scenario file")
        st.file_uploader("Load a scenario (JSON)", type=["json"])
        st.markdown("#### Bookings simulation")
        st.select_slider("Simulated quarters", [20_000, 50_000, 100_000], value=50_000)
        st.number_input("Random seed", value=0)


if FULL:
    sidebar()
