"""Compare: two to four proposals side by side, simulated on the same random draws."""

from __future__ import annotations

from typing import NoReturn

import pandas as pd
import streamlit as st

from sim.charts import compare_chart
from sim.diff import side_by_side, unique_labels
from sim.engine import DEFAULT_TRIALS
from sim.models import Scenario
from sim.store import StoreError
from ui import room, shell, storage
from ui.agreement import Candidate, agree_controls
from ui.results import cached_plan, fmt_outcome, headline_numbers
from ui.team import team_rows

WORKING = "working"
HIGHLIGHT = "background-color: #fff8c5"

shell.setup_page("Compare")
working = shell.current_scenario()
presenting = shell.presentation_mode()
s = storage.store()
st.title("Compare proposals")
# The live bar (another screen's save shows here without a reload) goes under the title, drawn
# once the page knows which proposals it shows beside this session's (room.watch_also).
bar = st.container()


def stop() -> NoReturn:
    with bar:
        room.live_bar()
    st.stop()


# ---- What to compare: this session's scenario and the saved ones ------------------------------
working_sid = st.session_state.get("store_id")
saved = [info for info in (s.scenarios() if s else []) if info.id != working_sid]
labels = {WORKING: f"This session: {working.name} · {working.quarter}"}
labels |= storage.scenario_labels(saved)
if "compare_pick" not in st.session_state:
    st.session_state["compare_pick"] = [WORKING, *[info.id for info in saved[:2]]]
else:  # drop picks that no longer exist (deleted elsewhere)
    st.session_state["compare_pick"] = [k for k in st.session_state["compare_pick"] if k in labels]
with st.sidebar:
    trials = st.select_slider(
        "Simulated quarters",
        options=[20_000, 50_000, 100_000, 200_000],
        value=DEFAULT_TRIALS,
        key="compare_trials",
        format_func=lambda n: f"{n:,}",
    )
    seed = st.number_input(
        "Random seed (the same for all)", min_value=0, value=0, key="compare_seed"
    )
picked = st.multiselect(
    "Scenarios to compare (two to four)",
    list(labels),
    format_func=labels.__getitem__,
    max_selections=4,
    key="compare_pick",
    label_visibility="collapsed" if presenting else "visible",
    disabled=presenting,
)
confidence = st.slider(
    "How sure do you want to be?",
    50,
    99,
    80,
    format="%d%%",
    key="compare_confidence",
    help="The volume each owner needs so that it delivers its share this often.",
)
if len(picked) < 2:
    st.info(
        "Pick at least two scenarios. To make a second proposal, open Scenarios and use "
        "'Save as a new scenario', then change it on the Plan page."
    )
    stop()


def load(key: str) -> tuple[Scenario, int | None]:
    if key == WORKING:
        return working, st.session_state.get("store_version")
    assert s is not None  # saved keys only exist when the store is open
    scenario, info = s.load(key)
    return scenario, info.number


try:
    loaded = [load(k) for k in picked]
except StoreError as exc:
    st.error(f"Could not open a saved scenario: {exc}.")
    stop()
scenarios = [sc for sc, _ in loaded]
# Each proposal beside this session's is live too: its next version redraws the page.
room.watch_also({k: n for k, (_, n) in zip(picked, loaded, strict=True) if k != WORKING and n})
with bar:
    room.live_bar()
names = unique_labels([sc.name for sc in scenarios])
results = [headline_numbers(sc, int(trials), int(seed)) for sc in scenarios]
plans = [cached_plan(sc.to_json(), confidence / 100) for sc in scenarios]
if all(r.exact for r in results):
    st.caption(
        "Exact odds over every possible quarter for each scenario (no simulation noise), so the "
        "differences you see come from the assumptions, not from chance."
    )
else:
    st.caption(
        f"Bookings are simulated over the same {int(trials):,} quarters drawn with seed "
        f"{int(seed)} for every scenario (customers: exact odds), so the differences you see "
        "come from the assumptions, not from chance."
    )

# ---- Headline per scenario ---------------------------------------------------------------------
for col, name, sc, r in zip(st.columns(len(scenarios)), names, scenarios, results, strict=True):
    col.markdown(f"**{shell.md_text(name)}**")
    if s is not None and (agreed := s.agreement_of(sc)) is not None:
        col.caption(f"🔒 the agreed plan for {sc.quarter} ({shell.md_text(agreed.agreed_by)})")
    col.metric(
        "Chance we hit the number", f"{r.p_hit:.0%}", help=f"Target {sc.target:,.0f} {sc.metric}."
    )
    col.caption(
        f"Marketing hits its share {r.owners['marketing'].p_hit:.0%} · "
        f"sales {r.owners['sales'].p_hit:.0%}"
    )

metrics = {sc.metric for sc in scenarios}
if len(metrics) == 1:
    st.plotly_chart(compare_chart(results, names), key="compare_chart", theme=None)
else:
    st.warning(
        "These scenarios count different things (customers and bookings), so their outcomes "
        "cannot share one axis; the numbers above and below still compare."
    )

# ---- Numbers and assumptions, side by side ------------------------------------------------------
rows: dict[str, list[str]] = {
    "Chance we hit the number": [f"{r.p_hit:.1%}" for r in results],
    "Chance marketing hits its share": [f"{r.owners['marketing'].p_hit:.1%}" for r in results],
    "Chance sales hits its share": [f"{r.owners['sales'].p_hit:.1%}" for r in results],
    "Expected outcome": [fmt_outcome(r.total.mean, r.metric) for r in results],
    "P10–P90": [
        f"{fmt_outcome(r.total.p10, r.metric)} – {fmt_outcome(r.total.p90, r.metric)}"
        for r in results
    ],
}
for owner in ("marketing", "sales"):
    cells = []
    for p in plans:
        op = p.owners[owner]
        if op.needed_volume_at_confidence is None:
            cells.append("out of reach")
        else:
            cells.append(
                f"{op.needed_volume_at_confidence:,} (committed {op.committed_volume:,.0f})"
            )
    rows[f"{owner.capitalize()} needs, to be {confidence}% sure"] = cells
if any(sc.team is not None for sc in scenarios):  # the team: what it books, sales in people
    rows.update(team_rows(scenarios, plans, confidence))
st.markdown("**The numbers**")
st.dataframe(pd.DataFrame(rows, index=names).T, width="stretch")

if not presenting:
    st.markdown("**The assumptions** (rows that differ are highlighted)")
    table = side_by_side(scenarios, names)
    only = st.toggle("Show only what differs", key="compare_only_diff")
    differs = table.pop("differs")
    if only:
        table = table[differs]
    st.dataframe(
        table.style.apply(lambda row: [HIGHLIGHT if differs[row.name] else ""] * len(row), axis=1),
        width="stretch",
        height=min(38 + 35 * (len(table) + 1), 760),
    )
    st.caption(f"{int(differs.sum())} of {len(differs)} assumptions differ.")

    if s is not None:
        with st.expander("Agree on one of these as the plan"):
            candidates = [
                Candidate(f"{name} · {sc.quarter} · version {version}", key, version, sc.quarter)
                for name, key, (sc, version) in zip(names, picked, loaded, strict=True)
                if key != WORKING and version is not None
            ]
            if WORKING in picked and working_sid and st.session_state.get("store_version"):
                version = int(st.session_state["store_version"])
                candidates.insert(
                    0,
                    Candidate(
                        f"{names[picked.index(WORKING)]} · {working.quarter} · version {version}",
                        working_sid,
                        version,
                        working.quarter,
                    ),
                )
            agree_controls(s, candidates, key="compare_agree")
