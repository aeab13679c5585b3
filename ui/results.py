"""Cached calls into sim for the pages: the same scenario never simulates twice."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import streamlit as st

from sim import plan, scenario_from_json, simulate
from sim.charts import funnel_chart, outcome_chart
from sim.engine import DEFAULT_TRIALS, SimulationResult, exact
from sim.export import SignOff, export
from sim.leads import LeadCheck, check_leads
from sim.models import Scenario
from sim.plan import PlanResult
from ui.plot import figure_json


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_simulate(scenario_json: str, trials: int, seed: int) -> SimulationResult:
    """Results are immutable, so one shared copy serves every session."""
    return simulate(scenario_from_json(scenario_json), trials=trials, seed=seed)


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_plan(scenario_json: str, confidence: float) -> PlanResult:
    return plan(scenario_from_json(scenario_json), confidence=confidence)


def fmt_outcome(value: float, metric: str) -> str:
    """Customers with one decimal when fractional; bookings as whole currency units."""
    if metric == "bookings":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@lru_cache(maxsize=32)
def export_bytes(scenario_json: str, fmt: str, day: str, signoff: SignOff | None = None) -> bytes:
    """An export, made when a download button is clicked (in its own thread) and kept."""
    return export(
        scenario_from_json(scenario_json), fmt, on=date.fromisoformat(day), signoff=signoff
    )


@st.cache_data(max_entries=4, show_spinner="Checking the lead list…")
def cached_lead_check(raw: bytes, scenario_json: str) -> LeadCheck:
    """A lead list is checked once per file and MQL definition, not on every rerun."""
    return check_leads(raw, scenario_from_json(scenario_json))


@st.cache_resource(max_entries=256, show_spinner=False)
def cached_exact(scenario_json: str) -> SimulationResult | None:
    return exact(scenario_from_json(scenario_json))


def headline_numbers(
    scenario: Scenario, trials: int = DEFAULT_TRIALS, seed: int = 0
) -> SimulationResult:
    """The outcome a page shows: exact for customers (no simulation noise, the same on every
    page and every screen), simulated with `trials` and `seed` for bookings."""
    scenario_json = scenario.to_json()
    return cached_exact(scenario_json) or cached_simulate(scenario_json, trials, seed)


def outcome_caption(result: SimulationResult) -> str:
    """How the numbers were made, in a leader's words."""
    if result.exact:
        return "exact odds over every possible quarter (no simulation noise)"
    return f"{result.trials:,} simulated quarters"


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_outcome_chart(scenario_json: str, trials: int, seed: int) -> str:
    """The outcome chart (ui.plot.figure_json), made once per scenario for every screen in the
    room."""
    return figure_json(
        outcome_chart(headline_numbers(scenario_from_json(scenario_json), trials, seed))
    )


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_funnel_chart(scenario_json: str) -> str:
    return figure_json(funnel_chart(scenario_from_json(scenario_json)))
