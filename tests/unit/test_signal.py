"""Signal or noise: alarms fire on real drops, and on stable histories only as often as stated."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.calibrate import calibrate, read_history
from sim.signal import (
    DEFAULT_ALPHA,
    DEFAULT_FDR,
    benjamini_hochberg,
    compare,
    holm,
    latest_vs_earlier,
    mid_p_value,
    probability_of_drop,
    rate_trend,
    signals,
)

STAGES = ("MQL", "SQL", "Opportunity", "Won")
# The stable history: 3 sources, MQL -> SQL -> Opportunity -> Won, 8 quarters,
# about 150, 120 and 60 MQLs a quarter (Poisson), fixed true rates.
VOLUMES = (150, 120, 60)
RATES = ((0.57, 0.50, 0.45), (0.75, 0.50, 0.45), (0.40, 0.45, 0.30))
QUARTERS = 8


def histories(
    rng: np.random.Generator,
    count: int,
    volumes: tuple[float, ...] = VOLUMES,
    rates: tuple[tuple[float, ...], ...] = RATES,
    *,
    latest_first_rate: float | None = None,
) -> np.ndarray:
    """Counts reaching each stage: (history, source, quarter, stage). `latest_first_rate`
    replaces the first source's first rate in the last quarter (the talk's drop)."""
    steps = len(rates[0])
    counts = np.zeros((count, len(volumes), QUARTERS, steps + 1), dtype=np.int64)
    counts[..., 0] = rng.poisson(np.asarray(volumes, dtype=float)[:, None], counts.shape[:3])
    for j in range(steps):
        p = np.empty(counts.shape[:3])
        p[:] = np.asarray([r[j] for r in rates])[:, None]
        if j == 0 and latest_first_rate is not None:
            p[:, 0, -1] = latest_first_rate
        counts[..., j + 1] = rng.binomial(counts[..., j], p)
    return counts


def by_rate(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leads and converted per rate: (history, source x step, quarter)."""
    h, s, q, stages = counts.shape
    leads = counts[..., :-1].transpose(0, 1, 3, 2).reshape(h, s * (stages - 1), q)
    converted = counts[..., 1:].transpose(0, 1, 3, 2).reshape(h, s * (stages - 1), q)
    return leads, converted


def alarms(counts: np.ndarray) -> np.ndarray:
    """Which rates of each history raise an alarm: the product's own functions, vectorised."""
    *_, p = latest_vs_earlier(*by_rate(counts))
    return holm(p) < DEFAULT_ALPHA


def band_99(rate: float, n: int) -> tuple[float, float]:
    """Where a binomial share of n draws at `rate` falls 99% of the time."""
    lo, hi = stats.binom(n, rate).ppf([0.005, 0.995])
    return lo / n, hi / n


def history_csv(counts: np.ndarray) -> str:
    lines = ["quarter,source,stage,count"]
    for s, source in enumerate(counts):
        for q, row in enumerate(source):
            quarter = f"{2025 + q // 4}-Q{q % 4 + 1}"
            lines += [f"{quarter},S{s},{stage},{c}" for stage, c in zip(STAGES, row, strict=True)]
    return "\n".join(lines)


# ---- The stated guarantee, replicated --------------------------------------------------------


def test_a_stable_history_raises_any_alarm_at_the_stated_rate() -> None:
    """1,000 stable histories (9 rates each): the share with any alarm is in the 99% band of 5%.

    The old rule (each consecutive comparison at 5%) raised one in almost all of them.
    """
    n = 1000
    counts = histories(np.random.default_rng(2027), n)
    share = float(alarms(counts).any(axis=1).mean())
    lo, hi = band_99(DEFAULT_ALPHA, n)
    assert lo <= share <= hi, share
    leads, converted = by_rate(counts)
    per_comparison = mid_p_value(
        converted[..., :-1], leads[..., :-1], converted[..., 1:], leads[..., 1:]
    )
    assert (per_comparison < DEFAULT_ALPHA).any(axis=(1, 2)).mean() > 0.8  # the old rule


@pytest.mark.parametrize(
    ("volumes", "rates"),
    [((150,), ((0.57,),)), ((150, 120, 60, 200, 90, 40), RATES * 2)],
    ids=["1 rate", "18 rates"],
)
def test_the_rate_does_not_grow_with_the_number_of_rates(
    volumes: tuple[float, ...], rates: tuple[tuple[float, ...], ...]
) -> None:
    """At most 5% with 1 rate or 18 (below it when many rates have small counts: exact tests
    on a handful of leads cannot reach their nominal level, docs/calibration.md)."""
    n = 1000
    share = float(alarms(histories(np.random.default_rng(7), n, volumes, rates)).any(1).mean())
    assert 0.025 <= share <= band_99(DEFAULT_ALPHA, n)[1], share


def test_the_exploration_scan_marks_noise_at_most_at_its_false_discovery_rate() -> None:
    """With nothing changed every mark is false, so any mark at all happens <= fdr of the time."""
    n = 600
    leads, converted = by_rate(histories(np.random.default_rng(11), n))
    p = mid_p_value(converted[..., :-1], leads[..., :-1], converted[..., 1:], leads[..., 1:])
    q = benjamini_hochberg(p.reshape(n, -1))
    share = float((q < DEFAULT_FDR).any(axis=1).mean())
    assert share <= band_99(DEFAULT_FDR, n)[1], share


def test_the_talks_drop_is_flagged_in_at_least_90_percent_of_histories_with_it() -> None:
    """57% for seven quarters, then 39%, on ~150 MQLs a quarter, among the 9 rates."""
    n = 4000
    counts = histories(np.random.default_rng(39), n, latest_first_rate=0.39)
    flags = alarms(counts)
    assert flags[:, 0].mean() >= 0.90, flags[:, 0].mean()
    assert flags[:, 1:].any(axis=1).mean() <= band_99(DEFAULT_ALPHA, n)[1]  # others: <= 5%


def test_the_talks_own_numbers_are_flagged_among_nine_rates() -> None:
    """57 of 100 MQLs for seven quarters, then 39 of 100, beside 8 other stable rates."""
    counts = histories(np.random.default_rng(1), 1)[0]
    counts[0, :, 0] = 100
    counts[0, :, 1] = 57
    counts[0, -1, 1] = 39
    counts[0, :, 2] = np.round(0.50 * counts[0, :, 1])
    counts[0, :, 3] = np.round(0.45 * counts[0, :, 2])
    sig = signals(calibrate(read_history(history_csv(counts))))
    first = sig.trends[0]
    assert first.flagged
    assert first.alarm is not None
    assert first.alarm.tests == 9
    assert first.alarm.p_adjusted < DEFAULT_ALPHA
    assert first.summary().startswith(
        "S0 · MQL → SQL was 57% of 700 MQLs over 2025-Q1–2026-Q3 (7 quarters) and 39% of 100 "
        "in 2026-Q4: over 99.9% sure it really fell"
    )
    assert first.summary().endswith("so it is flagged as a real drop.")
    assert [t.flagged for t in sig.trends[1:]] == [False] * 8


def test_the_whole_import_path_flags_what_the_vectorised_check_flags() -> None:
    """The CSV -> calibrate -> signals path agrees with the arrays the tests replicate."""
    rng = np.random.default_rng(5)
    counts = np.concatenate([histories(rng, 20), histories(rng, 20, latest_first_rate=0.39)])
    expected = alarms(counts)
    for h, history in enumerate(counts):
        sig = signals(calibrate(read_history(history_csv(history))))
        assert [t.flagged for t in sig.trends] == expected[h].tolist(), h
    assert expected[20:, 0].sum() >= 15


# ---- The tests behind it ----------------------------------------------------------------------


def _mid_p_oracle(k1: int, n1: int, k2: int, n2: int) -> float:
    law = stats.hypergeom(n1 + n2, k1 + k2, n2)
    half = law.pmf(k2) / 2
    return min(1.0, 2 * min(law.cdf(k2) - half, law.sf(k2 - 1) - half))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400), st.data())
def test_mid_p_is_fishers_mid_p_from_the_hypergeometric_law(n1: int, n2: int, data) -> None:
    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2))
    assert mid_p_value(k1, n1, k2, n2) == pytest.approx(_mid_p_oracle(k1, n1, k2, n2), abs=1e-9)


def test_mid_p_works_elementwise_and_on_the_talks_numbers() -> None:
    k1, n1, k2, n2 = [57, 4, 0], [100, 7, 10], [39, 3, 0], [100, 8, 12]
    got = mid_p_value(k1, n1, k2, n2)
    assert got.tolist() == pytest.approx(
        [_mid_p_oracle(*t) for t in zip(k1, n1, k2, n2, strict=True)]
    )
    assert got[2] == 1.0  # nothing converted in either period: nothing to compare


@pytest.mark.parametrize("n", [10, 30, 100])
@pytest.mark.parametrize("p", [0.1, 0.45])
@pytest.mark.parametrize("earlier", [1, 7])
def test_exact_size_of_one_check_is_at_most_nominal_give_or_take_10_percent(
    n: int, p: float, earlier: int
) -> None:
    """Summed over every outcome of the latest quarter (n leads) and the earlier ones pooled."""
    k0 = np.arange(earlier * n + 1)[:, None]
    k1 = np.arange(n + 1)[None, :]
    weight = stats.binom.pmf(k0, earlier * n, p) * stats.binom.pmf(k1, n, p)
    p_values = mid_p_value(k0, earlier * n, k1, n)
    for level in (DEFAULT_ALPHA, DEFAULT_ALPHA / 9):
        size = float(np.sum(weight * (p_values < level)))
        assert size <= 1.1 * level, (level, size)
        if n >= 100:
            assert size >= 0.7 * level, (level, size)


def _holm_by_definition(p: list[float]) -> list[float]:
    m, order = len(p), sorted(range(len(p)), key=lambda i: p[i])
    out = [0.0] * m
    for rank, i in enumerate(order):
        out[i] = min(1.0, max((m - r) * p[order[r]] for r in range(rank + 1)))
    return out


def _bh_by_definition(p: list[float]) -> list[float]:
    m, order = len(p), sorted(range(len(p)), key=lambda i: p[i])
    out = [0.0] * m
    for rank, i in enumerate(order):
        out[i] = min(1.0, min(m * p[order[r]] / (r + 1) for r in range(rank, m)))
    return out


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12), st.data())
def test_holm_and_benjamini_hochberg_match_their_definitions(p: list[float], data) -> None:
    holes = data.draw(st.lists(st.integers(0, len(p)), max_size=3))
    with_nan = list(p)
    for i in holes:
        with_nan.insert(i, math.nan)
    got_holm, got_bh = holm(with_nan), benjamini_hochberg(with_nan)
    kept = [i for i, v in enumerate(with_nan) if not math.isnan(v)]
    assert np.isnan(got_holm).sum() == np.isnan(got_bh).sum() == len(holes)
    assert got_holm[kept] == pytest.approx(_holm_by_definition(p))
    assert got_bh[kept] == pytest.approx(_bh_by_definition(p))
    assert np.all(got_bh[kept] <= got_holm[kept] + 1e-12)
    assert holm(np.array([p, p]))[1] == pytest.approx(_holm_by_definition(p))  # per row


def test_latest_against_earlier_skips_empty_quarters() -> None:
    latest, n0, k0, n1, k1, p = latest_vs_earlier(
        [[50, 0, 60, 0], [0, 0, 30, 0]], [[20, 0, 30, 0], [0, 0, 9, 0]]
    )
    assert latest.tolist() == [2, 2]
    assert (n0.tolist(), k0.tolist(), n1.tolist(), k1.tolist()) == (
        [50, 0],
        [20, 0],
        [60, 30],
        [30, 9],
    )
    assert p[0] == pytest.approx(mid_p_value(20, 50, 30, 60))
    assert math.isnan(p[1])  # nothing before the only quarter with leads: no test


# ---- A single comparison, the trend and the words ----------------------------------------------


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


def test_trend_has_bands_control_limits_the_alarm_and_the_scan() -> None:
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
    # The alarm: Q4 against Q1 and Q3 pooled (the empty quarter is skipped).
    alarm = trend.alarm
    assert alarm is not None
    assert alarm.before_quarters == ("2026-Q1", "2026-Q3")
    assert (alarm.before_leads, alarm.before_converted) == (220, 123)
    assert alarm.p_value == pytest.approx(_mid_p_oracle(123, 220, 30, 100))
    assert trend.flagged
    # The scan: Q1 -> Q3 -> Q4, each against the one before.
    assert [(c.before_quarter, c.after_quarter) for c in trend.changes] == [
        ("2026-Q1", "2026-Q3"),
        ("2026-Q3", "2026-Q4"),
    ]
    assert [c.after_quarter for c in trend.worth_a_look] == ["2026-Q4"]
    assert trend.summary().startswith(
        "Inbound · MQL → SQL was 56% of 220 MQLs over 2026-Q1–2026-Q3 (2 quarters) and 30% of "
        "100 in 2026-Q4"
    )
    d = trend.to_dict()
    assert d["points"][1]["rate"] is None
    assert d["alarm"]["earlier_quarters"] == ["2026-Q1", "2026-Q3"]
    assert [c["worth_a_look"] for c in d["changes"]] == [False, True]


def test_signals_adjust_over_every_rate_and_say_so() -> None:
    history = "\n".join(
        ["quarter,source,stage,count"]
        + [
            f"2026-Q{q + 1},{src},{stage},{c}"
            for q in range(4)
            for src, row in (("A", (100, 57 if q < 3 else 39)), ("B", (80, 40)))
            for stage, c in zip(("MQL", "SQL"), row, strict=True)
        ]
    )
    sig = signals(calibrate(read_history(history)))
    a, b = sig.trends
    assert a.alarm is not None
    assert b.alarm is not None
    assert a.alarm.tests == b.alarm.tests == 2
    assert a.alarm.p_adjusted == pytest.approx(min(1, 2 * a.alarm.p_value))  # Holm, smallest
    assert b.alarm.p_adjusted == pytest.approx(1.0)  # B never moved
    assert [t.source for t in sig.flags] == ["A"]
    assert "2 rates are checked as one family" in sig.explainer()
    assert "at most 5%" in sig.explainer()
    assert "6 comparisons" in sig.scan_explainer()
    out = sig.to_dict()
    assert [f["source"] for f in out["flags"]] == ["A"]
    assert out["alarms"]["rates_checked"] == 2
    assert out["alarms"]["method"] == "holm"
    assert out["exploration"]["method"] == "benjamini-hochberg"
    assert len(out["exploration"]["changes"]) == out["exploration"]["comparisons"] == 6
    qs = [c["q_value"] for c in out["exploration"]["changes"]]
    ps = [c["p_value"] for c in out["exploration"]["changes"]]
    assert qs == pytest.approx(_bh_by_definition(ps))


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="second period"):
        compare(5, 10, 3, 0)
    with pytest.raises(ValueError, match="first period"):
        compare(11, 10, 3, 5)


def test_quarters_pair_in_order() -> None:  # the scan compares neighbours only
    trend = rate_trend(["a", "b", "c"], [10, 10, 10], [5, 6, 7])
    assert [(c.before_quarter, c.after_quarter) for c in trend.changes] == list(
        pairwise(["a", "b", "c"])
    )
