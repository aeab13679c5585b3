"""Signal or noise: the change flag fires on real drops, and only as often as it should."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.calibrate import calibrate, read_history
from sim.signal import (
    DEFAULT_ALPHA,
    EXPLAINER,
    all_trends,
    compare,
    probability_of_drop,
    rate_trend,
    two_proportion_p_value,
)


def test_the_talks_57_to_39_is_flagged_at_realistic_counts() -> None:
    for n in (100, 150, 300):
        change = compare(round(0.57 * n), n, round(0.39 * n), n, quarters=("2026-Q3", "2026-Q4"))
        assert change.flagged, n
        assert change.direction == "drop"
        assert change.p_drop > 0.99
        assert change.p_value < DEFAULT_ALPHA
        sentence = change.sentence("MQL → SQL", "MQLs")
        assert sentence.startswith(f"MQL → SQL went from 57% of {n} MQLs in 2026-Q3 to 39%")
        assert "flagged as a real drop" in sentence


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(4, 7, 3, 8), (8, 14, 5, 13), (12, 21, 7, 18)])
def test_the_same_drop_on_tiny_counts_is_not_flagged(k1: int, n1: int, k2: int, n2: int) -> None:
    change = compare(k1, n1, k2, n2)
    assert round(change.before, 2) >= 0.57
    assert round(change.after, 2) <= 0.39
    assert not change.flagged
    assert change.p_drop < 0.95
    assert "not flagged (could be noise)" in change.sentence()


def test_p_value_is_the_chi_square_test_of_the_two_by_two_table() -> None:
    for k1, n1, k2, n2 in [(57, 100, 39, 100), (30, 80, 41, 90), (5, 12, 1, 15)]:
        table = [[k1, n1 - k1], [k2, n2 - k2]]
        _, p, _, _ = stats.chi2_contingency(table, correction=False)
        assert two_proportion_p_value(k1, n1, k2, n2) == pytest.approx(p, rel=1e-9)
    assert two_proportion_p_value(0, 10, 0, 12) == 1.0


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"), [(57, 100, 39, 100), (3, 9, 4, 11), (0, 5, 2, 40)]
)
def test_probability_of_drop_matches_a_monte_carlo_of_the_two_posteriors(
    k1: int, n1: int, k2: int, n2: int
) -> None:
    rng = np.random.default_rng(5)
    draws = 400_000
    p1 = stats.beta(k1 + 0.5, n1 - k1 + 0.5).rvs(draws, random_state=rng)
    p2 = stats.beta(k2 + 0.5, n2 - k2 + 0.5).rvs(draws, random_state=rng)
    mc = float(np.mean(p2 < p1))
    se = math.sqrt(mc * (1 - mc) / draws)
    assert abs(probability_of_drop(k1, n1, k2, n2) - mc) <= 4 * se + 1e-4


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.data())
def test_probability_of_drop_is_a_coherent_probability(n1: int, n2: int, data) -> None:
    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2 - 1))
    p = probability_of_drop(k1, n1, k2, n2)
    assert 0 <= p <= 1
    assert p + probability_of_drop(k2, n2, k1, n1) == pytest.approx(1, abs=2e-4)
    # one more conversion in the second period makes a drop less likely
    assert probability_of_drop(k1, n1, k2 + 1, n2) <= p + 1e-9


@pytest.mark.parametrize("n", [30, 50, 100, 150, 300])
@pytest.mark.parametrize("p", [0.2, 0.45, 0.57, 0.75])
def test_false_alarm_rate_on_stable_rates_is_near_nominal_exactly(n: int, p: float) -> None:
    """Exact: sum over every pair of outcomes of two quarters with the same true rate."""
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, p)
    flagged = two_proportion_p_value(k[:, None], n, k[None, :], n) < DEFAULT_ALPHA
    size = float(pmf @ flagged @ pmf)
    assert abs(size - DEFAULT_ALPHA) <= 0.01, size
    # the elementwise p-values are the ones `compare` flags on
    assert compare(k[n // 3], n, k[n // 2], n).flagged == flagged[n // 3, n // 2]


def test_false_alarm_rate_over_replicated_stable_histories() -> None:
    """600 eight-quarter histories of a stable 57% rate through the whole import."""
    rng = np.random.default_rng(99)
    flags = comparisons = 0
    for _ in range(600):
        lines = ["quarter,source,stage,count"]
        for q in range(8):
            n = int(rng.poisson(140))
            lines += [f"{2025 + q // 4}-Q{q % 4 + 1},Web,MQL,{n}"]
            lines += [f"{2025 + q // 4}-Q{q % 4 + 1},Web,SQL,{rng.binomial(n, 0.57)}"]
        (trend,) = all_trends(calibrate(read_history("\n".join(lines))))
        flags += len(trend.flagged)
        comparisons += len(trend.changes)
    rate = flags / comparisons
    se = math.sqrt(DEFAULT_ALPHA * (1 - DEFAULT_ALPHA) / comparisons)
    # the exact size of the test at these counts is within a point of 5% (test above)
    assert abs(rate - DEFAULT_ALPHA) <= 0.01 + 4 * se, rate


def test_trend_has_bands_control_limits_and_the_changes() -> None:
    trend = rate_trend(
        ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"],
        [100, 0, 120, 100],
        [57, 0, 66, 30],
        source="Inbound",
        step="MQL → SQL",
        from_stage="MQL",
    )
    centre = (57 + 66 + 30) / 320
    assert trend.centre == pytest.approx(centre)
    q1, empty, _, q4 = trend.points
    assert math.isnan(empty.rate)
    assert not empty.outside
    assert q1.lower_limit == pytest.approx(centre - 3 * math.sqrt(centre * (1 - centre) / 100))
    assert q1.low == pytest.approx(stats.beta(57.5, 43.5).ppf(0.1))
    assert q1.low < q1.rate < q1.high
    assert q4.outside  # 30% is below the 3-sigma limit around 47.8%
    # The empty quarter is skipped: Q1 -> Q3 -> Q4.
    assert [(c.before_quarter, c.after_quarter) for c in trend.changes] == [
        ("2026-Q1", "2026-Q3"),
        ("2026-Q3", "2026-Q4"),
    ]
    assert [c.after_quarter for c in trend.flagged] == ["2026-Q4"]
    assert trend.summary().startswith("Inbound · MQL → SQL went from 55% of 120 MQLs in 2026-Q3")
    assert trend.to_dict()["points"][1]["rate"] is None
    assert "5%" in EXPLAINER.format(alpha=DEFAULT_ALPHA)


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="second period"):
        compare(5, 10, 3, 0)
    with pytest.raises(ValueError, match="first period"):
        compare(11, 10, 3, 5)
