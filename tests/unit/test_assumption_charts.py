"""The Assumptions page's figures are valid Plotly figures (the app builds them without Plotly's
validation, for speed), show the numbers of the result objects they are built from, and show
user text literally."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from unit_helpers import valid

from sim import load_scenario
from sim.assumption_charts import (
    deal_size_chart,
    heatmap_chart,
    tornado_chart,
    trend_chart,
    volume_chart,
)
from sim.calibrate import calibrate, read_history_file
from sim.sensitivity import heatmap, tornado
from sim.signal import all_trends, rate_trend

ROOT = Path(__file__).resolve().parents[2]
SEED = load_scenario(ROOT / "examples" / "seed-sla.json")
CAL = calibrate(read_history_file(ROOT / "examples" / "history-leads.csv"))


def test_trend_chart_marks_the_alarm_and_draws_band_limits_and_the_earlier_rate() -> None:
    trend = next(t for t in all_trends(CAL) if t.flagged)
    assert trend.alarm is not None
    fig = valid(trend_chart(trend))
    names = [tr.name for tr in fig.data]
    assert "80% credible band" in names
    assert "Control limits (3σ)" in names
    rate = next(tr for tr in fig.data if tr.name == trend.step)
    assert list(rate.y) == [p.rate for p in trend.points if p.leads]
    earlier = next(tr for tr in fig.data if str(tr.name).startswith("earlier quarters together"))
    assert list(earlier.x) == list(trend.alarm.before_quarters)
    assert set(earlier.y) == {trend.alarm.before}
    (note,) = fig.layout.annotations[1:]  # the first is the centre line's label
    assert note.x == trend.alarm.after_quarter
    assert "real drop" in note.text
    fig.to_json()


def test_trend_chart_marks_a_move_worth_a_look_apart_from_the_alarm() -> None:
    trend = rate_trend(
        ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"], [200, 200, 200, 200], [110, 60, 112, 108]
    )
    assert not trend.flagged
    assert [c.after_quarter for c in trend.worth_a_look] == ["2026-Q2", "2026-Q3"]
    notes = valid(trend_chart(trend)).layout.annotations[1:]
    assert [n.x for n in notes] == ["2026-Q2", "2026-Q3"]
    assert all(n.text.startswith("worth a look") for n in notes)


def test_volume_and_deal_size_charts_show_the_history_and_the_fit() -> None:
    vol = CAL.sources[0].volume
    fig = valid(volume_chart(vol))
    assert list(fig.data[0].y) == list(vol.counts)
    assert CAL.deal_size is not None
    deal = valid(deal_size_chart(CAL.deal_size))
    bars, curve = deal.data
    assert np.sum(np.asarray(bars.y) * np.asarray(bars.width)) == pytest.approx(1.0)
    assert "fitted: mean" in curve.name


def test_tornado_chart_has_one_bar_end_per_assumption_coloured_by_owner() -> None:
    t = tornado(SEED, trials=5000, seed=0)
    fig = valid(tornado_chart(t))
    ends = {(tr.name, y) for tr in fig.data for y in tr.y}
    assert len(ends) == 2 * len(t.bars)
    top = t.bars[0]
    label = f"{top.assumption.label} · {top.assumption.owner}"
    assert list(fig.layout.yaxis.categoryarray)[-1] == label  # biggest swing drawn on top
    high = next(tr for tr in fig.data if tr.name == f"{top.assumption.owner}, high end")
    i = list(high.y).index(label)
    assert high.base + high.x[i] == pytest.approx(top.p_high)


def test_heatmap_chart_draws_the_contour_at_the_chosen_confidence() -> None:
    h = heatmap(SEED, size=10, trials=5000, seed=0, confidence=0.8)
    fig = valid(heatmap_chart(h))
    grid, contour, now = fig.data
    np.testing.assert_array_equal(np.asarray(grid.z), h.p_hit)
    assert contour.contours.start == contour.contours.end == 0.8
    assert (now.x[0], now.y[0]) == (h.x.value, h.y.value)
    assert fig.layout.yaxis.tickformat == ".0%"


def test_user_text_is_shown_literally_in_every_chart() -> None:
    """A source named like markup is text on the chart, not bold type (Plotly reads some HTML)."""
    odd = "<b>Inbound</b>"
    trend = next(t for t in all_trends(CAL) if t.flagged)
    fig = valid(trend_chart(dataclasses.replace(trend, source=odd)))
    assert fig.layout.title.text.startswith("&lt;b&gt;Inbound&lt;/b&gt; · ")
    vol = dataclasses.replace(CAL.sources[0].volume, source=odd)
    assert valid(volume_chart(vol)).layout.title.text.startswith("&lt;b&gt;Inbound&lt;/b&gt; · ")
    t = tornado(SEED, trials=2000, seed=0)
    labels = valid(tornado_chart(t)).layout.yaxis.categoryarray
    assert all("<" not in label for label in labels)
