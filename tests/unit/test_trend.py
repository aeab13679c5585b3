"""Quarter over quarter: each owner's delivery against its commitment, effects that add up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import SEED_FILE, valid

from sim import load_scenario, parse_scenario
from sim.review import attribute, parse_actuals
from sim.store import Store
from sim.trend import delivery_trend, latest_kept, quarter_delivery, stored_trend, trend_chart

SEED = load_scenario(SEED_FILE)


def in_quarter(quarter: str) -> Any:
    return parse_scenario({**SEED.to_dict(), "quarter": quarter})


def actuals(plan: Any, mql: int, sql_in: int, outbound_sql: int, week: int = 13) -> Any:
    opp_in = sql_in // 2
    opp_out = outbound_sql // 2
    return parse_actuals(
        {
            "week": week,
            "sources": [
                {
                    "name": "Inbound",
                    "counts": {
                        "MQL": mql,
                        "SQL": sql_in,
                        "Opportunity": opp_in,
                        "Won": opp_in // 2,
                    },
                },
                {
                    "name": "Outbound",
                    "counts": {"SQL": outbound_sql, "Opportunity": opp_out, "Won": opp_out // 2},
                },
            ],
        },
        plan,
    )


def test_each_owner_gets_its_committed_and_delivered_volume() -> None:
    rows = {oq.owner: oq for oq in quarter_delivery(SEED, actuals(SEED, 140, 100, 123))}
    assert rows["marketing"].committed_volume == 164
    assert rows["marketing"].delivered_volume == 140
    assert rows["marketing"].volume_delivered_share == pytest.approx(140 / 164)
    assert rows["sales"].committed_volume == 123
    assert rows["sales"].delivered_volume == 123


def test_mid_quarter_commitment_is_pro_rated_to_the_week() -> None:
    rows = {oq.owner: oq for oq in quarter_delivery(SEED, actuals(SEED, 60, 45, 50, week=5))}
    assert rows["marketing"].committed_volume == pytest.approx(164 * 5 / 13)
    assert rows["sales"].week == 5


@settings(max_examples=60, deadline=None)
@given(
    mql=st.integers(0, 400),
    sql_frac=st.floats(0, 1),
    outbound=st.integers(0, 300),
)
def test_owner_effects_add_up_to_the_quarter_gap(mql: int, sql_frac: float, outbound: int) -> None:
    a = actuals(SEED, mql, int(mql * sql_frac), outbound)
    rows = quarter_delivery(SEED, a)
    plan_expected, actual, contributions = attribute(SEED, a)
    gap = actual - plan_expected
    assert sum(oq.effect for oq in rows) == pytest.approx(gap, abs=1e-9 * max(1.0, abs(gap)))
    assert all(oq.gap == pytest.approx(gap) for oq in rows)
    for oq in rows:
        own = sum(c.effect for c in contributions if c.owner == oq.owner)
        assert oq.effect == pytest.approx(own)


def test_a_marketing_shortfall_lands_on_marketing_only() -> None:
    exact = parse_actuals(
        {
            "sources": [
                {
                    "name": "Inbound",
                    "counts": {"MQL": 100, "SQL": 75, "Opportunity": 37, "Won": 17},
                },
                {"name": "Outbound", "counts": {"SQL": 123, "Opportunity": 62, "Won": 28}},
            ]
        },
        SEED,
    )
    rows = {oq.owner: oq for oq in quarter_delivery(SEED, exact)}
    assert rows["marketing"].effect < -8  # 64 MQLs short at 16.9% to won is about -10.8
    assert abs(rows["sales"].effect) < abs(rows["marketing"].effect) / 5


def test_trend_orders_quarters_and_keeps_the_latest_review_of_each() -> None:
    q1, q2 = in_quarter("2027-Q1"), in_quarter("2027-Q2")
    first_look = actuals(q2, 50, 40, 40, week=4)
    final_q2 = actuals(q2, 170, 120, 120)
    trend = delivery_trend([(q2, first_look), (q1, actuals(q1, 150, 110, 123)), (q2, final_q2)])
    assert list(trend["quarter"]) == ["2027-Q1", "2027-Q1", "2027-Q2", "2027-Q2"]
    q2_marketing = trend[(trend["quarter"] == "2027-Q2") & (trend["owner"] == "marketing")]
    assert q2_marketing["delivered_volume"].item() == 170
    assert q2_marketing["week"].item() == 13


def test_trend_chart_draws_one_bar_series_per_owner_with_its_effects() -> None:
    q1, q2 = in_quarter("2027-Q1"), in_quarter("2027-Q2")
    trend = delivery_trend(
        [(q1, actuals(q1, 150, 110, 123)), (q2, actuals(q2, 60, 45, 50, week=5))]
    )
    fig = valid(trend_chart(trend))
    bars = {bar.name: bar for bar in fig.data}
    assert set(bars) == {"Marketing", "Sales"}
    marketing = trend[trend["owner"] == "marketing"]
    assert list(bars["Marketing"].y) == pytest.approx(list(marketing["effect"]))
    assert list(bars["Marketing"].x) == ["2027-Q1", "2027-Q2 (week 5)"]


def test_an_empty_trend_is_an_empty_table() -> None:
    trend = delivery_trend([])
    assert trend.empty
    assert "effect" in trend.columns


def test_stored_trend_prefers_the_closed_quarter_over_a_later_to_date_look(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pact.db'}")
    q1 = store.create(in_quarter("2027-Q1"), "Maya").scenario_id
    q2 = store.create(in_quarter("2027-Q2"), "Maya").scenario_id
    store.keep_actuals(q2, 1, actuals(in_quarter("2027-Q2"), 170, 120, 120), "Maya")
    store.keep_actuals(q2, 1, actuals(in_quarter("2027-Q2"), 40, 30, 30, week=3), "Sam")
    store.keep_actuals(q1, 1, actuals(SEED, 150, 110, 123, week=8), "Maya")
    store.keep_actuals(q1, 1, actuals(SEED, 155, 112, 123, week=9), "Maya")
    chosen = latest_kept(store.kept_actuals())
    assert [(k.quarter, k.week) for k in chosen] == [("2027-Q1", 9), ("2027-Q2", 13)]
    trend = stored_trend(store)
    assert list(trend["week"]) == [9, 9, 13, 13]
    assert trend[trend["owner"] == "marketing"]["delivered_volume"].tolist() == [155, 170]
