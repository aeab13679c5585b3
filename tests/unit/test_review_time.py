"""The review of a plan with a clock: the lagged plan by week k, stage calls on the plan's
clock, the re-forecast letting waiting leads finish by age (sim/review.py with sim/timing.py)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import ROOT, valid

from sim import ScenarioError, load_scenario, parse_scenario, simulate, timing
from sim.engine import source_pmf
from sim.review import (
    actuals_from_rows,
    attribute,
    blank_actuals,
    pacing,
    parse_actuals,
    reforecast,
    review,
    shapley,
    shapley_product,
    signals,
)

TIMED = load_scenario(ROOT / "examples" / "timed-plan.json")
LAGS = {
    "Inbound": [
        {"dist": "gamma", "median": 4, "cv": 0.9},
        {"dist": "lognormal", "median": 12, "cv": 0.8},
        {"dist": "gamma", "median": 35, "cv": 0.5},
    ],
    "Outbound": [
        {"dist": "gamma", "median": 10, "cv": 0.7},
        {"dist": "lognormal", "median": 40, "cv": 0.6},
    ],
}


def twin(*, clock: bool, opening: bool = False) -> Any:
    """The seed plan with or without the example's lags (and opening pipeline)."""
    data = load_scenario(ROOT / "examples" / "seed-sla.json").to_dict()
    if clock:
        data["weeks"] = 13
        for source, timed in zip(data["sources"], TIMED.to_dict()["sources"], strict=True):
            source["lags"] = LAGS[source["name"]]
            if opening and "opening" in timed:
                source["opening"] = timed["opening"]
    return parse_scenario(data)


@given(plan=st.lists(st.floats(0.01, 50), min_size=1, max_size=6), data=st.data())
def test_shapley_of_a_product_is_the_product_formula(plan: list[float], data: Any) -> None:
    actual = [data.draw(st.floats(0, 50)) for _ in plan]
    assert shapley(math.prod, plan, actual) == pytest.approx(
        shapley_product(plan, actual), rel=1e-9, abs=1e-9
    )


@given(week=st.integers(0, 13), data=st.data())
def test_lagged_attribution_adds_up_to_the_gap(week: int, data: Any) -> None:
    rows = blank_actuals(TIMED, week=week)
    for row in rows:  # any counts the funnel allows (the opening pipeline may add to a stage)
        row["count"] = data.draw(st.integers(0, 3 * row["count"] + 5))
    try:
        actuals = actuals_from_rows(rows, TIMED, week=week)
    except ScenarioError:
        return  # a count the funnel cannot hold; check_actuals names it (tested below)
    plan_expected, actual, parts = attribute(TIMED, actuals)
    assert sum(p.effect for p in parts) == pytest.approx(actual - plan_expected, abs=1e-6)
    wins = sum(
        sa.counts[s.stages[-1]] for s, sa in zip(TIMED.sources, actuals.sources, strict=True)
    )
    assert actual == pytest.approx(wins)
    expected = sum(timing.source_pace(s, 13).reached[-1, week] for s in TIMED.sources)
    assert plan_expected == pytest.approx(expected)


def test_an_on_plan_quarter_has_no_gap_and_unchanged_factors_get_nothing() -> None:
    week = 7
    rows = blank_actuals(TIMED, week=week)
    paces = {s.name: timing.source_pace(s, 13) for s in TIMED.sources}
    actuals = actuals_from_rows(rows, TIMED, week=week)
    result = review(TIMED, actuals, trials=2_000)
    assert abs(result.gap) < 2.0  # only the rounding of the expected counts
    assert result.paced_share == pytest.approx(
        sum(p.reached[-1, week] for p in paces.values()) / sum(p.won for p in paces.values())
    )
    assert result.target_by_now == pytest.approx(TIMED.target * result.paced_share)
    assert all(s.p_value is None or s.p_value > 0.2 for s in result.signals)


def test_the_clock_removes_the_early_quarter_false_drops() -> None:
    """Counts exactly as a team with these lags would have them at week 4: the plan without a
    clock pro-rates every stage and calls the later ones real drops; with its clock, noise."""
    clock, plain = twin(clock=True), twin(clock=False)
    rows = blank_actuals(clock, week=4)
    calls_plain = signals(plain, actuals_from_rows(rows, plain, week=4))
    calls_clock = signals(clock, actuals_from_rows(rows, clock, week=4))
    assert any(s.real and s.actual_rate < s.plan_rate for s in calls_plain)
    assert not any(s.real for s in calls_clock)
    assert attribute(clock, actuals_from_rows(rows, clock, week=4))[0] == pytest.approx(
        sum(timing.source_pace(s, 13).reached[-1, 4] for s in clock.sources)
    )


def test_stage_calls_with_no_time_left_are_the_plain_beta_binomial_calls() -> None:
    """A clock of no time, at quarter end: every lead had all its time, so the calls are the
    plan's Beta-binomial (Gauss-Jacobi integrates the mixture exactly at these sizes)."""
    data = twin(clock=False).to_dict()
    data["weeks"] = 13
    for source in data["sources"]:
        source["lags"] = [{"dist": "fixed", "days": 0}] * len(source["rates"])
    zero = parse_scenario(data)
    rows = blank_actuals(twin(clock=False))
    rows[3]["count"] = 15  # Inbound Won, uncertain rate: 15 of 62 opportunities
    plain = signals(twin(clock=False), actuals_from_rows(rows, twin(clock=False), week=13))
    timed = signals(zero, actuals_from_rows(rows, zero, week=13))
    for a, b in zip(plain, timed, strict=True):
        assert b.p_value == pytest.approx(a.p_value, rel=1e-7, abs=1e-12)
        assert (b.low, b.high) == pytest.approx((a.low, a.high))
        assert b.plan_rate == pytest.approx(a.plan_rate)


def test_the_opening_pipeline_may_make_a_stage_grow_and_no_more() -> None:
    rows = {r["stage"]: r for r in blank_actuals(TIMED, week=13) if r["source"] == "Outbound"}

    def outbound(opportunity: int, won: int) -> Any:
        return parse_actuals(
            {
                "week": 13,
                "sources": [
                    {
                        "name": "Inbound",
                        "counts": {"MQL": 10, "SQL": 5, "Opportunity": 2, "Won": 1},
                    },
                    {
                        "name": "Outbound",
                        "counts": {
                            "SQL": rows["SQL"]["count"],
                            "Opportunity": opportunity,
                            "Won": won,
                        },
                    },
                ],
            },
            TIMED,
        )

    assert outbound(10, 35).for_source("Outbound") is not None  # 10 + 25 on day one
    with pytest.raises(
        ScenarioError,
        match=r"^Outbound\.Won: 36 reached Won but only 10 reached "
        r"Opportunity and 25 were in it on day one",
    ):
        outbound(10, 36)


def test_weeks_must_match_the_plans_clock() -> None:
    with pytest.raises(ScenarioError, match="^weeks: the plan's quarter has 13 weeks"):
        actuals_from_rows(blank_actuals(TIMED, week=3), TIMED, week=3, weeks=12)


def test_the_reforecast_starts_at_the_plans_chance_and_keeps_its_expectation() -> None:
    """At week 0 it is the plan's own chance; at the plan's own expected counts later, the
    expected outcome stays the plan's (what is known so far is what was expected)."""
    data = TIMED.to_dict()
    data["target"] = 40  # a number this plan hits about 70% of the time
    plan = parse_scenario(data)
    trials = 60_000
    sim = simulate(plan, trials, 1)
    for week in (0, 4, 9):
        actuals = actuals_from_rows(blank_actuals(plan, week=week), plan, week=week)
        r = reforecast(plan, actuals, trials=trials, seed=2)
        se_mean = math.sqrt(2) * sim.outcomes.std() / math.sqrt(trials)
        assert abs(r.mean - sim.total.mean) <= 4 * se_mean + 0.5, week  # + rounding of counts
        if week == 0:
            se = math.sqrt(2 * sim.p_hit * (1 - sim.p_hit) / trials)
            assert abs(r.p_hit - sim.p_hit) <= 4 * se
    closed = actuals_from_rows(blank_actuals(plan, week=13), plan, week=13)
    assert reforecast(plan, closed, trials=1_000).p_hit in (0.0, 1.0)


def test_waiting_leads_of_a_source_without_lags_never_finish_later() -> None:
    """No lags: a lead that has not moved on by now never will (it would have at once)."""
    data = twin(clock=True).to_dict()
    data["sources"][1].pop("lags")
    plan = parse_scenario(data)
    odds = timing.waiting(plan.sources[1], 13, 5)
    assert all(o.moves == 0 and o.moved == 1 for o in odds)
    assert all(o.chance(0.5) == 0 for o in odds)


def test_pacing_on_the_clock_uses_the_exact_law_by_week() -> None:
    actuals = actuals_from_rows(blank_actuals(TIMED, week=6), TIMED, week=6)
    source = TIMED.sources[1]
    pace = pacing(TIMED, actuals, "Outbound", "Won")
    expected = timing.source_pace(source, 13).reached[-1]
    assert pace["planned"] == pytest.approx(expected.tolist())
    for w in (3, 8, 13):
        pmf = source_pmf(source, weeks=13, by_week=w)
        assert pmf is not None
        cdf = np.cumsum(pmf)
        assert pace["low"][w] == np.searchsorted(cdf, 0.1)
        assert pace["high"][w] == np.searchsorted(cdf, 0.9)
        assert pace["low"][w] <= expected[w] <= pace["high"][w]
    first = pacing(TIMED, actuals, "Inbound")
    assert first["stage"] == "MQL"
    from sim.charts import pacing_chart

    for pace in (pacing(TIMED, actuals, "Outbound", "Won"), first):
        band_high, band_low, planned, *actual = valid(pacing_chart(pace)).data
        assert list(planned.y) == pytest.approx(list(pace["planned"]))
        assert list(band_low.y) == list(pace["low"])
        assert list(band_high.y) == list(pace["high"])
        assert len(actual) == (pace["actual"] is not None)
    assert first["planned"][-1] == pytest.approx(TIMED.sources[0].volume.mean)


def test_the_cli_review_of_a_timed_plan(tmp_path: Any) -> None:
    csv = tmp_path / "week6.csv"
    csv.write_text(
        "source,stage,count,week\n"
        + "\n".join(f"{r['source']},{r['stage']},{r['count']},6" for r in blank_actuals(TIMED, 6))
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "review",
            str(ROOT / "examples" / "timed-plan.json"),
            str(csv),
            "--json",
            "--trials",
            "2000",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["week"] == 6
    assert result["target_by_now"] < TIMED.target * 6 / 13  # customers lag the calendar
    plain = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "review",
            str(ROOT / "examples" / "seed-sla.json"),
            str(ROOT / "examples" / "actuals-2027-Q1-week6.csv"),
            "--json",
            "--trials",
            "2000",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert "target_by_now" not in json.loads(plain.stdout)
