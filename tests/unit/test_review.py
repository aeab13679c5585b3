"""Quarter review: exact attribution, signal or noise, re-forecast at both ends and between."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import ROOT, valid

from sim import ScenarioError, load_scenario, parse_scenario, simulate
from sim.review import (
    actuals_from_csv,
    attribute,
    parse_actuals,
    reforecast,
    review,
    shapley_product,
    signals,
)

SEED = load_scenario(ROOT / "examples" / "seed-sla.json")


def counts(src: Any, volume: float, rates: list[float]) -> dict[str, int]:
    out, c = {}, float(volume)
    for stage, r in zip(src.stages, [1.0, *rates], strict=True):
        c = c * r
        out[stage] = round(c)
    return out


def actuals_for(inbound: dict[str, int], outbound: dict[str, int], week: int = 13) -> Any:
    return parse_actuals(
        {
            "week": week,
            "sources": [
                {"name": "Inbound", "counts": inbound},
                {"name": "Outbound", "counts": outbound},
            ],
        },
        SEED,
    )


ON_PLAN_OUT = {"SQL": 123, "Opportunity": 62, "Won": 28}


@given(plan=st.lists(st.floats(0.01, 500), min_size=1, max_size=7), data=st.data())
def test_shapley_parts_add_up_exactly_and_ignore_order(plan: list[float], data: Any) -> None:
    actual = [data.draw(st.floats(0, 500)) for _ in plan]
    parts = shapley_product(plan, actual)
    gap = math.prod(actual) - math.prod(plan)
    assert sum(parts) == pytest.approx(gap, rel=1e-9, abs=1e-6 * max(1.0, abs(gap)))
    order = data.draw(st.permutations(range(len(plan))))
    shuffled = shapley_product([plan[i] for i in order], [actual[i] for i in order])
    assert [shuffled[order.index(i)] for i in range(len(plan))] == pytest.approx(parts)


@given(k=st.integers(0, 5), n=st.integers(2, 6), new=st.floats(0, 3))
def test_one_factor_changed_gets_the_whole_gap(k: int, n: int, new: float) -> None:
    plan = [1.0 + i for i in range(n)]
    k = k % n
    actual = list(plan)
    actual[k] = new
    parts = shapley_product(plan, actual)
    gap = math.prod(actual) - math.prod(plan)
    assert parts[k] == pytest.approx(gap)
    assert all(abs(p) < 1e-9 for i, p in enumerate(parts) if i != k)


@given(
    inb=st.tuples(st.integers(0, 400), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)),
    out=st.tuples(st.integers(0, 400), st.floats(0, 1), st.floats(0, 1)),
)
def test_review_parts_sum_to_the_gap_for_random_actuals(inb: Any, out: Any) -> None:
    a = actuals_for(
        counts(SEED.sources[0], inb[0], list(inb[1:])),
        counts(SEED.sources[1], out[0], list(out[1:])),
    )
    plan_expected, actual, parts = attribute(SEED, a)
    assert sum(p.effect for p in parts) == pytest.approx(actual - plan_expected, abs=1e-9)
    wins = a.for_source("Inbound").counts["Won"] + a.for_source("Outbound").counts["Won"]
    assert actual == pytest.approx(wins)


def test_talks_example_puts_the_miss_on_sales_follow_up() -> None:
    """Plan 57% MQL->SQL, actual 39%, the rest on plan: the miss is sales follow-up, flagged real."""
    data = SEED.to_dict()
    data["sources"][0]["rates"][0] = {"mean": 0.57}
    plan = parse_scenario(data)
    inbound = counts(plan.sources[0], 164, [0.39, 0.5, 0.45])
    a = parse_actuals(
        {
            "sources": [
                {"name": "Inbound", "counts": inbound},
                {"name": "Outbound", "counts": ON_PLAN_OUT},
            ]
        },
        plan,
    )
    res = review(plan, a)
    top = res.contributions[0]
    assert top.key == "Inbound:rate0"
    assert top.owner == "sales"
    assert "sales follow-up" in top.label
    assert top.effect < -3
    assert "MQL→SQL (sales follow-up)" in res.verdict
    assert res.verdict.startswith("Missed the number")
    flag = next(s for s in res.signals if s.source == "Inbound" and s.step.startswith("MQL"))
    assert flag.real
    assert "real drop" in flag.verdict


def test_tiny_counts_are_noise_not_a_drop() -> None:
    data = SEED.to_dict()
    data["sources"][0]["rates"][0] = {"mean": 0.57}
    plan = parse_scenario(data)
    a = parse_actuals(
        {
            "sources": [
                {"name": "Inbound", "counts": {"MQL": 13, "SQL": 5, "Opportunity": 2, "Won": 1}},
                {"name": "Outbound", "counts": ON_PLAN_OUT},
            ]
        },
        plan,
    )
    flag = next(s for s in signals(plan, a) if s.source == "Inbound" and s.step.startswith("MQL"))
    assert flag.actual_rate == pytest.approx(5 / 13)
    assert not flag.real
    assert "noise" in flag.verdict


def test_signal_false_alarm_rate_is_near_nominal() -> None:
    """Counts drawn from the plan itself are flagged at most about 5% of the time."""
    rng = np.random.default_rng(4)
    plan_src = SEED.sources[1]
    flags = 0
    reps = 400
    for _ in range(reps):
        opp = int(rng.binomial(123, 0.5))
        won = int(rng.binomial(opp, 0.45))
        a = actuals_for(
            {"MQL": 164, "SQL": 123, "Opportunity": 62, "Won": 28},
            {"SQL": 123, "Opportunity": opp, "Won": won},
        )
        s = next(x for x in signals(SEED, a) if x.source == plan_src.name)
        flags += s.real
    rate = flags / reps
    assert rate <= 0.05 + 4 * math.sqrt(0.05 * 0.95 / reps)


def test_reforecast_at_week_zero_is_the_plans_chance() -> None:
    a = parse_actuals(
        {
            "week": 0,
            "sources": [
                {"name": "Inbound", "counts": {"MQL": 0, "SQL": 0, "Opportunity": 0, "Won": 0}},
                {"name": "Outbound", "counts": {"SQL": 0, "Opportunity": 0, "Won": 0}},
            ],
        },
        SEED,
    )
    n = 100_000
    got = reforecast(SEED, a, trials=n, seed=3).p_hit
    want = simulate(SEED, trials=n, seed=9).p_hit
    se = math.sqrt(2 * want * (1 - want) / n)
    assert abs(got - want) <= 4 * se


@pytest.mark.parametrize(("won_in", "won_out", "hit"), [(30, 28, 1.0), (20, 28, 0.0)])
def test_reforecast_at_the_last_week_is_the_actual(won_in: int, won_out: int, hit: float) -> None:
    a = actuals_for(
        {"MQL": 164, "SQL": 120, "Opportunity": 60, "Won": won_in},
        {"SQL": 123, "Opportunity": 60, "Won": won_out},
    )
    r = reforecast(SEED, a, trials=2000)
    assert r.p_hit == hit
    assert r.mean == won_in + won_out


def test_reforecast_mid_quarter_matches_a_direct_simulation() -> None:
    """Week 6 of 13: waiting leads move on with 7/13 of the time left, new volume pro-rated."""
    inbound = {"MQL": 70, "SQL": 40, "Opportunity": 15, "Won": 5}
    outbound = {"SQL": 60, "Opportunity": 25, "Won": 10}
    a = actuals_for(inbound, outbound, week=6)
    n = 100_000
    got = reforecast(SEED, a, trials=n, seed=1).p_hit
    rng = np.random.default_rng(77)
    left = 7 / 13
    won = np.full(n, 15)
    r3 = rng.beta(36, 44, n)
    in_rates = [np.full(n, 0.75), np.full(n, 0.5), r3]
    for j, waiting in enumerate([30, 25, 10]):
        won += rng.binomial(waiting, left * np.prod(in_rates[j:], axis=0))
    won += rng.binomial(rng.poisson(164 * left, n), np.prod(in_rates, axis=0))
    for j, waiting in enumerate([35, 15]):
        won += rng.binomial(waiting, left * np.prod([0.5, 0.45][j:]), n)
    won += rng.binomial(round(123 * left), 0.5 * 0.45, n)
    want = float(np.mean(won >= 55))
    se = math.sqrt(2 * want * (1 - want) / n)
    assert abs(got - want) <= 4 * se


REST = "Inbound,Won,1\nOutbound,SQL,1\nOutbound,Opportunity,1\nOutbound,Won,1\n"
GROWS = "source,stage,count\nInbound,MQL,10\nInbound,SQL,20\nInbound,Opportunity,1\n" + REST
UNKNOWN_STAGE = (
    "source,stage,count\nInbound,MQL,10\nInbound,Demo,5\nInbound,SQL,2\nInbound,Opportunity,1\n"
    + REST
)


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("source,stage\nInbound,MQL\n", "columns: missing count"),
        ("source,stage,count\nInbound,MQL,-4\n", "row 2, count: -4 is negative"),
        ("source,stage,count\nInbound,MQL,many\n", "row 2, count: 'many' is not a whole number"),
        ("source,stage,count\n", "file: no rows"),
        ("source,stage,count\nWebinars,MQL,4\n", "sources: no actuals for Inbound, Outbound"),
        (
            GROWS,
            "Inbound.SQL: 20 reached SQL but only 10 reached MQL",
        ),
        (
            UNKNOWN_STAGE,
            "Inbound.Demo: the plan's Inbound has no stage 'Demo'",
        ),
    ],
)
def test_bad_actuals_are_named(csv: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        actuals_from_csv(csv.encode(), SEED)
    assert message in str(err.value)


def test_week_outside_the_quarter_is_refused() -> None:
    csv = (ROOT / "examples" / "actuals-2027-Q1.csv").read_bytes()
    with pytest.raises(ScenarioError, match="^week: 20 is outside the quarter's 13 weeks"):
        actuals_from_csv(csv, SEED, week=20)


def test_example_files_load() -> None:
    full = actuals_from_csv((ROOT / "examples" / "actuals-2027-Q1.csv").read_bytes(), SEED)
    assert full.week == 13
    assert full.for_source("Inbound").bookings == 420000
    mid = actuals_from_csv((ROOT / "examples" / "actuals-2027-Q1-week6.csv").read_bytes(), SEED)
    assert mid.week == 6


def test_bookings_attribution_includes_deal_size() -> None:
    data = SEED.to_dict()
    data["metric"], data["target"] = "bookings", 1_650_000
    plan = parse_scenario(data)
    a = parse_actuals(
        {
            "sources": [
                {
                    "name": "Inbound",
                    "counts": {"MQL": 164, "SQL": 123, "Opportunity": 62, "Won": 28},
                    "bookings": 28 * 25_000,
                },
                {"name": "Outbound", "counts": ON_PLAN_OUT, "bookings": 28 * 25_000},
            ]
        },
        plan,
    )
    res = review(plan, a)
    assert res.actual == pytest.approx(56 * 25_000)
    deal = next(c for c in res.contributions if c.key == "deal")
    assert deal.actual == pytest.approx(25_000)
    assert deal.effect < 0
    assert sum(c.effect for c in res.contributions) == pytest.approx(res.gap)


@pytest.mark.parametrize("week", [6, 13])
def test_waterfall_walks_from_plan_to_actual_with_the_target_for_the_week(week: int) -> None:
    from sim.charts import waterfall_chart

    csv = (ROOT / "examples" / "actuals-2027-Q1.csv").read_bytes()
    result = review(SEED, actuals_from_csv(csv, SEED, week=week), trials=2_000)
    bar = valid(waterfall_chart(result)).data[0]
    ys = list(bar.y)
    assert ys[0] == pytest.approx(result.plan_expected)
    assert ys[-1] == pytest.approx(result.actual)
    shown = [c for c in result.contributions if abs(c.effect) >= 0.005]
    assert sum(ys[1:-1]) == pytest.approx(sum(c.effect for c in shown))
    assert sum(c.effect for c in result.contributions) == pytest.approx(result.gap)
    (line,) = [sh for sh in waterfall_chart(result).layout.shapes if sh.type == "line"]
    assert line.y0 == pytest.approx(SEED.target * week / 13)
