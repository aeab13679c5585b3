"""Plotly figures of sim/charts.py: each one is a valid Plotly figure (the app builds the Plan
page's charts without Plotly's validation, for speed) and draws what it says."""

from __future__ import annotations

import pytest
from unit_helpers import one_source, valid

from sim.charts import CHART_TAIL, funnel_chart, outcome_chart
from sim.engine import exact, simulate
from sim.models import Scenario


@pytest.mark.parametrize("how", ["exact", "simulated"])
def test_outcome_chart_is_valid_and_shades_the_hits(seed: Scenario, how: str) -> None:
    result = exact(seed) if how == "exact" else simulate(seed, trials=20_000, seed=1)
    assert result is not None
    fig = valid(outcome_chart(result))
    bars = fig.data[0]
    hits = [y for x, y, c in zip(bars.x, bars.y, bars.marker.color, strict=True) if x >= 55]
    misses = [c for x, c in zip(bars.x, bars.marker.color, strict=True) if x < 55]
    assert set(misses) == {"#afb8c1"}
    assert sum(hits) == pytest.approx(result.p_hit, abs=CHART_TAIL * len(bars.x))
    assert f"Hit the number: {result.p_hit:.0%}" in fig.layout.annotations[0].text
    assert bars.y[0] >= CHART_TAIL  # the long tails of the exact law are not drawn
    assert bars.y[-1] >= CHART_TAIL


def test_bookings_outcome_chart_is_valid() -> None:
    scenario = one_source(
        {"mean": 50, "dist": "poisson"},
        [{"mean": 0.5}],
        metric="bookings",
        target=200_000,
        deal_size={"mean": 10_000, "cv": 0.5},
    )
    fig = valid(outcome_chart(simulate(scenario, trials=5_000, seed=0)))
    assert fig.layout.xaxis.title.text == "Bookings this quarter"
    assert len(fig.data[0].width) == len(fig.data[0].x)


def test_funnel_chart_is_valid_and_user_text_is_literal(seed: Scenario) -> None:
    data = seed.to_dict()
    data["sources"][0]["name"] = "<b>Inbound</b>"
    from sim.models import parse_scenario

    fig = valid(funnel_chart(parse_scenario(data)))
    assert [t.name for t in fig.data] == [
        "&lt;b&gt;Inbound&lt;/b&gt; (marketing)",
        "Outbound (sales)",
    ]
    assert list(fig.data[0].text) == ["164", "123", "61.5", "27.7"]
