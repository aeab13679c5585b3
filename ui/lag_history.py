"""The Assumptions page's "How long each step takes": each step's lag fitted from a lead export's
stage dates, drawn against the history, beside the plan's, and applied to the plan on request.

The page calls `fitted(history)` to correct the rates for young cohorts and `section(history,
scenario)` once, in its own place on the page.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pandas as pd
import streamlit as st

from sim import ScenarioError
from sim.calibrate import History
from sim.lags import LagCalibration, apply_lags, fit_lags
from sim.models import Scenario
from sim.time_charts import lag_chart
from ui import shell


def _key(history: History) -> str:
    digest = hashlib.sha256()
    for s in history.sources:
        digest.update(s.name.encode())
        if s.days is not None:
            digest.update(s.days.tobytes())
    return digest.hexdigest()


@st.cache_resource(max_entries=8, show_spinner="Fitting the time each step takes…")
def _fit(key: str, _history: History, as_of: str | None) -> LagCalibration:
    return fit_lags(_history, as_of=as_of)


def fitted(history: History | None) -> LagCalibration | None:
    """The lags of a lead export (None for quarterly counts), on the export day chosen below."""
    if history is None or history.format != "leads" or history.as_of is None:
        return None
    chosen = st.session_state.get("assumptions_lag_as_of")
    as_of = chosen.isoformat() if isinstance(chosen, date) else history.as_of
    return _fit(_key(history), history, as_of)


def section(history: History | None, scenario: Scenario) -> None:
    """Each step's time to convert against the history, and Apply to the plan."""
    lags = fitted(history)
    if history is None or lags is None:
        return
    st.subheader("How long each step takes")
    st.caption(
        "From the export's stage dates. A lead that has not moved on by the export day counts "
        "as unfinished, not as lost, so the newest quarters' leads do not read as low rates "
        "(the rates above are corrected the same way)."
    )
    st.date_input(
        "Export day",
        value=date.fromisoformat(history.as_of or lags.as_of),
        key="assumptions_lag_as_of",
        help="The day the export was taken (default: the latest date in the file).",
    )
    plan = {s.name.strip().casefold(): s for s in scenario.sources}
    rows = []
    for name, fits in lags.sources.items():
        src = plan.get(name.strip().casefold())
        for j, fit in enumerate(fits):
            step = " → ".join(lags.stages[name][j : j + 2])
            now = "not in the plan"
            if src is not None and list(src.stages) == list(lags.stages[name]):
                now = src.lags[j].describe() if src.lags else "no clock"
            rows.append(
                {
                    "Source": name,
                    "Step": step,
                    "Typical days": "too few moved on" if fit is None else f"{fit.median:.1f}",
                    "Range": "" if fit is None else f"{fit.low:.1f}–{fit.high:.1f}",
                    "Shape": "" if fit is None else f"{fit.family}, CV {fit.cv:.2f}",
                    "Moved on / waiting": "" if fit is None else f"{fit.moved:,} / {fit.waiting:,}",
                    "In the plan now": now,
                }
            )
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="assumptions_lag_table")
    fits = lags.fits()
    if not fits:
        st.info("Too few leads moved on at any step to fit how long it takes.")
        return
    shown = st.selectbox(
        "Step to look at",
        range(len(fits)),
        format_func=lambda i: f"{fits[i].source} · {fits[i].label}",
        key="assumptions_lag_step",
    )
    fit = fits[shown]
    st.plotly_chart(lag_chart(fit), key="assumptions_lag_chart", theme=None)
    st.markdown(
        shell.md_text(
            f"{fit.source} · {fit.label}: half of the leads that move on do so within "
            f"{fit.median:.1f} days ({fit.level:.0%} range {fit.low:.1f}–{fit.high:.1f}); "
            f"{fit.rate:.0%} move on eventually. {fit.waiting:,} were still waiting on "
            f"{lags.as_of}."
        )
    )
    if st.button(
        "Apply these times to the plan",
        key="assumptions_lag_apply",
        help="Writes each step's time into the plan's sources with the same stages; the Plan "
        "page then shows the quarter in time.",
    ):
        try:
            applied = apply_lags(scenario, lags)
        except ScenarioError as exc:
            st.error(f"Nothing was applied: {shell.md_text(str(exc))}")
        else:
            shell.set_scenario(applied.scenario)
            st.session_state["assumptions_lag_applied"] = (applied.changes, applied.skipped)
            st.rerun()
    if done := st.session_state.get("assumptions_lag_applied"):
        changes, skipped = done
        st.success(
            "Applied to the plan (open Plan to see the quarter in time):\n"
            + "\n".join(f"- {shell.md_text(c)}" for c in changes or ["nothing changed"])
        )
        for line in skipped:
            st.caption(f"Kept: {shell.md_text(line)}")
