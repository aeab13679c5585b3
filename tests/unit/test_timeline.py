"""The Plan page's weekly timeline (sim/timeline.py) and its charts (sim/time_charts.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from unit_helpers import ROOT, valid

from sim import load_scenario, parse_scenario, simulate, timing
from sim.calibrate import read_history_file
from sim.lags import fit_lags
from sim.time_charts import lag_chart, timeline_chart
from sim.timeline import quantiles, timeline

TIMED = load_scenario(ROOT / "examples" / "timed-plan.json")
TRIALS = 200_000


def _bookings() -> object:
    data = TIMED.to_dict()
    data.update(metric="bookings", target=1_200_000)
    return parse_scenario(data)


@pytest.mark.parametrize("scenario", [TIMED, _bookings()], ids=["customers", "bookings"])
def test_the_last_week_is_the_simulated_quarter(scenario: object) -> None:
    """At the last week the exact band and chance are the engine's, within Monte Carlo error."""
    tl = timeline(scenario)  # type: ignore[arg-type]
    sim = simulate(scenario, TRIALS, 7)  # type: ignore[arg-type]
    assert tl.p_hit is not None
    assert tl.low is not None
    assert tl.high is not None
    se = math.sqrt(tl.p_hit * (1 - tl.p_hit) / TRIALS)
    assert abs(sim.p_hit - tl.p_hit) <= 4 * se
    for q, exact in ((0.1, tl.low[-1]), (0.9, tl.high[-1])):
        below = np.mean(sim.outcomes <= exact)  # the exact quantile has about q below it
        slack = 4 * math.sqrt(q * (1 - q) / TRIALS)
        step = np.mean(sim.outcomes == exact) if sim.outcomes.dtype.kind in "iu" else 0.0
        assert q - slack <= below <= q + step + slack
    assert abs(sim.total.mean - tl.won[-1]) <= 4 * sim.outcomes.std() / math.sqrt(TRIALS)


def test_the_curve_grows_and_the_band_holds_it() -> None:
    tl = timeline(TIMED)
    assert tl.low is not None
    assert tl.high is not None
    assert tl.won[0] == 0
    assert np.all(np.diff(tl.won) >= 0)
    assert np.all(tl.low <= tl.won + 1e-9)
    assert np.all(tl.won <= tl.high + 1e-9)
    paces = [timing.source_pace(s, 13) for s in TIMED.sources]
    assert tl.opening == pytest.approx(sum(p.won_from_opening for p in paces))
    assert tl.spill == pytest.approx(sum(p.spill for p in paces))
    assert tl.arrivals["marketing"].sum() == pytest.approx(164)
    assert tl.last_useful(0.5) == [("Inbound", "MQL", 5), ("Outbound", "SQL", 6)]


def test_bookings_quantiles_invert_the_gamma_mixture() -> None:
    from scipy import stats

    from sim.models import DealSize

    law = stats.poisson.pmf(np.arange(60), 12.0)
    law /= law.sum()
    deal = DealSize(mean=1000, cv=0.5)
    lo, hi = quantiles(law, (0.1, 0.9), deal)
    shape, scale = 4.0, 250.0
    w = np.arange(1, 60)
    for x, q in ((lo, 0.1), (hi, 0.9)):
        cdf = law[0] + float(law[1:] @ stats.gamma.cdf(x, w * shape, scale=scale))
        assert cdf == pytest.approx(q, abs=1e-6)


def test_the_timeline_chart_shows_band_target_and_last_useful_week() -> None:
    tl = timeline(TIMED)
    fig = timeline_chart(tl, useful_week=5)
    names = [t.name for t in fig.data]
    assert "P10–P90 by week" in names
    assert any(n and n.startswith("Target 55") for n in names)
    assert "MQLs in per week (marketing)" in names
    assert "SQLs in per week (sales)" in names
    assert any("last useful week 5" in a.text for a in fig.layout.annotations)


def test_the_lag_chart_escapes_user_text_and_draws_history_and_fit() -> None:
    fit = fit_lags(read_history_file(ROOT / "examples" / "history-lags.csv")).fits()[0]
    fig = valid(
        lag_chart(
            fit.__class__(
                **{**{f: getattr(fit, f) for f in fit.__slots__}, "source": "<b>Inbound</b>"}
            )
        )
    )
    assert "&lt;b&gt;Inbound&lt;/b&gt;" in fig.layout.title.text
    assert fig.data[0].name == "History (Kaplan–Meier)"
    assert fig.data[1].y[-1] == pytest.approx(fit.rate * float(fit.cdf(fig.data[1].x[-1])))
