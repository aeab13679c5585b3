"""The quarter in time (sim/timing.py and the engine with time) against exact laws.

Oracles are independent of the engine's grid: scipy's Poisson, binomial and Beta laws, the time
factors integrated with scipy.integrate.quad from the lags' closed-form CDFs, and a lead-level
simulation in continuous time. Monte Carlo tolerances are 4 standard errors (assert_law).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, special, stats
from test_engine import TRIALS, assert_law
from unit_helpers import SEED_FILE, one_source

from sim import load_scenario, parse_scenario, plan, simulate, timing
from sim.engine import draw_source_wins, source_pmf
from sim.models import Lag, Scenario, ScenarioError, Source

DAYS = 91  # 13 weeks


def timed(scenario: Scenario, **source_keys: Any) -> Scenario:
    """The scenario with `weeks: 13` and these optional keys on its first source."""
    data = scenario.to_dict()
    data["weeks"] = 13
    data["sources"][0].update(source_keys)
    return parse_scenario(data)


def finish_quad(lag: Lag, week: int, days: float = DAYS) -> float:
    """P(a lead arriving evenly in `week` (1-based) reaches the end within `days`): quad over
    the arrival day of the lag's closed-form CDF."""
    lo, hi = 7 * (week - 1), 7 * week
    value, _ = integrate.quad(lambda t: float(lag.cdf(days - t)), lo, hi, limit=200)
    return value / 7


# ---- Without lags nothing changes --------------------------------------------------------------


ZERO = {"dist": "fixed", "days": 0}


@pytest.mark.parametrize(
    ("volume", "rates"),
    [
        (
            {"mean": 164, "dist": "poisson"},
            [{"mean": 0.75}, {"mean": 0.5}, {"mean": 0.45, "n": 80}],
        ),
        ({"mean": 123, "dist": "fixed"}, [{"mean": 0.5, "n": 40}, {"mean": 0.45}]),
        ({"mean": 90, "dist": "negbin", "cv": 0.3}, [{"mean": 0.6, "n": 25}]),
    ],
)
@pytest.mark.parametrize("direct", [False, True])
def test_zero_lags_give_todays_numbers_bit_for_bit(
    volume: dict[str, Any], rates: list[dict[str, Any]], direct: bool
) -> None:
    plain = one_source(volume, rates)
    clock = timed(plain, lags=[ZERO] * len(rates), arrivals={"shape": "ramp", "ratio": 3})
    assert clock.sources[0].timed
    cells = 0 if direct else 4_000_000
    a = draw_source_wins(plain.sources[0], 5, 50_000, cells)
    b = draw_source_wins(clock.sources[0], 5, 50_000, cells, weeks=13)
    assert np.array_equal(a, b)


def test_the_seed_plan_with_a_clock_of_no_time_simulates_and_plans_the_same(seed: Scenario) -> None:
    data = seed.to_dict()
    data["weeks"] = 13
    for source in data["sources"]:
        source["lags"] = [ZERO] * len(source["rates"])
    clock = parse_scenario(data)
    a, b = simulate(seed, 50_000, 3), simulate(clock, 50_000, 3)
    assert np.array_equal(a.outcomes, b.outcomes)
    assert b.to_dict().pop("time")["expected_spill"] == pytest.approx(0, abs=1e-9)
    assert {k: v for k, v in b.to_dict().items() if k != "time"} == a.to_dict()
    assert plan(clock).to_dict() == plan(seed).to_dict()


def test_a_file_without_time_keys_has_no_clock(seed: Scenario) -> None:
    assert not seed.timed
    assert simulate(seed, 1000, 0).time is None
    assert "time" not in simulate(seed, 1000, 0).to_dict()
    assert "weeks" not in seed.to_dict()


# ---- Lags cut late volume ---------------------------------------------------------------------


@pytest.mark.parametrize("lag_days", [0, 7, 30, 45.5, 88])
def test_a_fixed_lag_makes_volume_after_quarter_minus_lag_worth_nothing(lag_days: float) -> None:
    source = one_source({"mean": 130, "dist": "poisson"}, [{"mean": 1.0}]).sources[0]
    lag = Lag(dist="fixed", days=lag_days)
    clk = timing.Clock(source.model_copy(update={"lags": [lag]}), 13)
    finish = clk.arrival_factors(1, DAYS)
    cut = DAYS - lag_days  # arrivals after this day land after the quarter
    for w in range(13):
        start, end = 7 * w, 7 * (w + 1)
        exact = min(max((cut - start) / 7, 0.0), 1.0)
        assert finish[w] == pytest.approx(exact, abs=1e-12), w
        if start >= cut:
            assert finish[w] == 0
        if end <= cut:
            assert finish[w] == 1


def test_volume_arriving_only_after_the_cut_wins_nothing() -> None:
    weekly = [0.0] * 10 + [5.0, 5.0, 5.0]  # weeks 11-13 start on day 70
    s = timed(
        one_source({"mean": 200, "dist": "poisson"}, [{"mean": 0.9}]),
        lags=[{"dist": "fixed", "days": 21}],
        arrivals={"shape": "weekly", "weekly": weekly},
    )
    wins = draw_source_wins(s.sources[0], 1, 20_000, weeks=13)
    assert wins.max() == 0
    pace = timing.source_pace(s.sources[0], 13)
    assert pace.won == pytest.approx(0, abs=1e-12)
    assert pace.spill == pytest.approx(200 * 0.9)


# ---- Exact laws ----------------------------------------------------------------------------------


LAGS = [
    {"dist": "gamma", "median": 20, "cv": 0.6},
    {"dist": "lognormal", "median": 12, "cv": 0.9},
    {"dist": "gamma", "median": 5, "cv": 1.5},
    {"dist": "empirical", "table": [[3, 0.2], [10, 0.6], [40, 1.0]]},
]


@pytest.mark.parametrize("lag", LAGS)
def test_the_time_factors_match_quadrature(lag: dict[str, Any]) -> None:
    """The grid (3-hour cells) against quad of the closed-form CDF: within 2e-3 per week."""
    model = Lag.model_validate(lag)
    source = one_source({"mean": 1, "dist": "poisson"}, [{"mean": 0.5}]).sources[0]
    clk = timing.Clock(source.model_copy(update={"lags": [model]}), 13)
    finish = clk.arrival_factors(1, DAYS)
    exact = [finish_quad(model, w) for w in range(1, 14)]
    assert np.max(np.abs(finish - exact)) < 2e-3


@given(
    lam=st.floats(20, 400),
    rate=st.floats(0.1, 0.9),
    ratio=st.floats(0.2, 5),
    lag=st.sampled_from(LAGS),
    seed=st.integers(0, 2**32 - 1),
)
def test_poisson_weekly_volumes_with_fixed_rates_are_poisson(
    lam: float, rate: float, ratio: float, lag: dict[str, Any], seed: int
) -> None:
    """Poisson weekly cohorts, each thinned by its chance to finish: Poisson with the mean
    summed over the weeks (computed here with quad)."""
    s = timed(
        one_source({"mean": lam, "dist": "poisson"}, [{"mean": rate}]),
        lags=[lag],
        arrivals={"shape": "ramp", "ratio": ratio},
    )
    model = Lag.model_validate(lag)
    weights = np.array([1 + (ratio - 1) * w / 12 for w in range(13)])
    weights /= weights.sum()
    mean = lam * rate * sum(weights[w - 1] * finish_quad(model, w) for w in range(1, 14))
    wins = draw_source_wins(s.sources[0], seed, TRIALS, weeks=13)
    assert_law(wins, stats.poisson(mean), name="poisson cohorts")


def test_fixed_weekly_counts_are_a_poisson_binomial() -> None:
    lag = Lag.model_validate(LAGS[0])
    s = timed(
        one_source({"mean": 130, "dist": "fixed"}, [{"mean": 0.7}]),
        lags=[LAGS[0]],
        arrivals={"shape": "weekly", "weekly": [1] * 13},
    )
    pmf = source_pmf(s.sources[0], weeks=13)
    assert pmf is not None
    exact = np.ones(1)
    for w in range(1, 14):
        exact = np.convolve(exact, stats.binom.pmf(np.arange(11), 10, 0.7 * finish_quad(lag, w)))
    assert np.max(np.abs(pmf - exact[: len(pmf)])) < 1e-3
    law = stats.rv_discrete(values=(np.arange(len(exact)), exact))
    assert_law(draw_source_wins(s.sources[0], 4, TRIALS, weeks=13), law, name="poisson-binomial")


def _opening_chance(lag: Lag, later: Lag | None, age: float, days: float = DAYS) -> float:
    """P(the rest of a lag after `age` days, plus a later lag, fits in `days`), by quad."""
    sf_age = float(lag.sf(age))
    if later is None:
        return (float(lag.cdf(age + days)) - float(lag.cdf(age))) / sf_age
    law = lag.dist_law()
    value, _ = integrate.quad(
        lambda x: float(law.pdf(age + x)) * float(later.cdf(days - x)), 0, days, limit=200
    )
    return value / sf_age


def test_the_opening_pipeline_alone_is_the_poisson_binomial_of_its_leads() -> None:
    lags = [Lag.model_validate(x) for x in LAGS[:3]]
    s = one_source(
        {"mean": 0, "dist": "poisson"}, [{"mean": 0.8}, {"mean": 0.6}, {"mean": 0.5}]
    ).to_dict()
    s["weeks"] = 13
    s["sources"][0]["lags"] = LAGS[:3]
    opening = [("S1", 30, 10.0), ("S2", 25, 3.0), ("S2", 12, 40.0)]
    s["sources"][0]["opening"] = [{"stage": st_, "count": c, "age": a} for st_, c, a in opening]
    scenario = parse_scenario(s)
    chances = [
        0.6 * 0.5 * _opening_chance(lags[1], lags[2], 10.0),
        0.5 * _opening_chance(lags[2], None, 3.0),
        0.5 * _opening_chance(lags[2], None, 40.0),
    ]
    exact = np.ones(1)
    for (_, count, _), p in zip(opening, chances, strict=True):
        exact = np.convolve(exact, stats.binom.pmf(np.arange(count + 1), count, p))
    pmf = source_pmf(scenario.sources[0], weeks=13)
    assert pmf is not None
    assert np.max(np.abs(pmf - exact[: len(pmf)])) < 2e-3
    law = stats.rv_discrete(values=(np.arange(len(exact)), exact))
    for direct in (False, True):
        wins = draw_source_wins(
            scenario.sources[0], 8, TRIALS, 0 if direct else 4_000_000, weeks=13
        )
        assert_law(wins, law, name=f"opening direct={direct}")


def test_an_uncertain_rate_is_shared_by_every_cohort_and_the_opening_pipeline() -> None:
    """One Beta rate for all leads of a trial: the law is the mixture over the rate of the
    week cohorts' binomials and the opening pipeline's (Gauss-Jacobi, exact for this degree)."""
    lag = Lag.model_validate(LAGS[1])
    data = one_source({"mean": 65, "dist": "fixed"}, [{"mean": 0.4, "n": 30}]).to_dict()
    data["weeks"] = 13
    data["sources"][0].update(
        lags=[LAGS[1]],
        arrivals={"shape": "weekly", "weekly": [5] * 13},
        opening=[{"stage": "S0", "count": 20, "age": 6}],
    )
    scenario = parse_scenario(data)
    t = [finish_quad(lag, w) for w in range(1, 14)]
    o = _opening_chance(lag, None, 6.0)
    nodes, weights = special.roots_jacobi(60, 30 * 0.6 - 1, 30 * 0.4 - 1)
    exact = np.zeros(86)
    for x, wt in zip((1 + nodes) / 2, weights / weights.sum(), strict=True):
        part = stats.binom.pmf(np.arange(21), 20, o * x)
        for tw in t:
            part = np.convolve(part, stats.binom.pmf(np.arange(6), 5, tw * x))
        exact += wt * part
    pmf = source_pmf(scenario.sources[0], weeks=13)
    assert pmf is not None
    assert np.max(np.abs(pmf - exact[: len(pmf)])) < 2e-3
    law = stats.rv_discrete(values=(np.arange(len(exact)), exact / exact.sum()))
    assert_law(draw_source_wins(scenario.sources[0], 2, TRIALS, weeks=13), law, name="shared")
    assert_law(
        draw_source_wins(scenario.sources[0], 2, TRIALS, 0, weeks=13), law, name="shared direct"
    )


def _lead_level(scenario: Scenario, trials: int, rng: np.random.Generator) -> np.ndarray:
    """Independent oracle: every lead drawn in continuous time (arrival day, each step's
    Bernoulli and lag; opening leads' first lag drawn beyond their age)."""
    source = scenario.sources[0]
    lags = [lag.dist_law() for lag in source.lags or []]
    weights = np.asarray(source.arrivals.weights(13))
    out = np.zeros(trials, dtype=np.int64)
    for i in range(trials):
        r = [rng.beta(x.alpha, x.beta) if x.uncertain else x.mean for x in source.rates]
        n = int(rng.poisson(source.volume.mean))
        t = rng.choice(13, size=n, p=weights) * 7 + rng.random(n) * 7
        ok = np.ones(n, dtype=bool)
        for j, law in enumerate(lags):
            ok &= rng.random(n) < r[j]
            t = t + law.rvs(n, random_state=rng)
        out[i] = np.count_nonzero(ok & (t <= DAYS))
        for row in source.opening or []:
            k = source.stages.index(row.stage)
            c = row.count
            u = rng.uniform(float(lags[k].cdf(row.age)), 1, c)
            t = lags[k].ppf(u) - row.age
            ok = rng.random(c) < r[k]
            for j in range(k + 1, len(lags)):
                ok &= rng.random(c) < r[j]
                t = t + lags[j].rvs(c, random_state=rng)
            out[i] += np.count_nonzero(ok & (t <= DAYS))
    return out


def test_several_steps_and_the_opening_pipeline_match_a_lead_level_simulation() -> None:
    data = one_source(
        {"mean": 120, "dist": "poisson"}, [{"mean": 0.7}, {"mean": 0.5, "n": 40}, {"mean": 0.45}]
    ).to_dict()
    data["weeks"] = 13
    data["sources"][0].update(
        lags=LAGS[:3],
        arrivals={"shape": "ramp", "ratio": 2},
        opening=[{"stage": "S1", "count": 15, "age": 8}, {"stage": "S2", "count": 10, "age": 2}],
    )
    scenario = parse_scenario(data)
    pmf = source_pmf(scenario.sources[0], weeks=13)
    assert pmf is not None
    law = stats.rv_discrete(values=(np.arange(len(pmf)), pmf))
    oracle = _lead_level(scenario, 6_000, np.random.default_rng(12))
    assert_law(oracle, law, name="lead level")
    assert law.mean() == pytest.approx(timing.source_pace(scenario.sources[0], 13).won, rel=1e-9)


# ---- Expectations, spill, last useful week --------------------------------------------------


def test_pacing_adds_up(seed: Scenario) -> None:
    scenario = load_scenario(SEED_FILE.parent / "timed-plan.json")
    for source in scenario.sources:
        pace = timing.source_pace(source, 13)
        pmf = source_pmf(source, weeks=13)
        assert pmf is not None
        assert pace.won == pytest.approx(float(np.arange(len(pmf)) @ pmf), rel=1e-9)
        assert pace.eventual == pytest.approx(pace.won + pace.spill)
        assert pace.arrivals.sum() == pytest.approx(source.volume.mean)
        assert np.all(np.diff(pace.reached, axis=1) >= -1e-12)  # counts only grow
        for w in range(1, 14):  # the law cut at each week has the curve's mean
            cut = source_pmf(source, weeks=13, by_week=w)
            assert cut is not None
            assert float(np.arange(len(cut)) @ cut) == pytest.approx(pace.reached[-1, w], rel=1e-9)
    result = simulate(scenario, TRIALS, 0)
    assert result.time is not None
    se = result.outcomes.std() / math.sqrt(TRIALS)
    assert abs(result.total.mean - result.time.won) <= 4 * se


@pytest.mark.parametrize(("lag_days", "chance", "week"), [(30, 0.5, 9), (30, 0.9, 8), (0, 0.5, 13)])
def test_the_last_useful_week(lag_days: float, chance: float, week: int) -> None:
    """Fixed lag L: a lead arriving in week w closes in time with the week's share before day
    91 - L (week 9 covers days 56-63 and day 61 cuts it at 5/7)."""
    s = timed(
        one_source({"mean": 100, "dist": "poisson"}, [{"mean": 0.5}]),
        lags=[{"dist": "fixed", "days": lag_days}],
    )
    assert timing.source_pace(s.sources[0], 13).last_useful_week(chance) == week


def test_late_arrivals_need_more_volume_to_be_sure(seed: Scenario) -> None:
    lags = [LAGS[2], LAGS[1], LAGS[0]]
    early = timed(seed, lags=lags, arrivals={"shape": "ramp", "ratio": 0.25})
    late = timed(seed, lags=lags, arrivals={"shape": "ramp", "ratio": 4})
    need = [plan(s).owners["marketing"].needed_volume_at_confidence for s in (seed, early, late)]
    assert need[0] is not None
    assert need[1] is not None
    assert need[2] is not None
    assert need[0] < need[1] < need[2]


def test_an_opening_pipeline_big_enough_needs_no_new_volume(seed: Scenario) -> None:
    s = timed(seed, lags=[ZERO] * 3, opening=[{"stage": "Opportunity", "count": 400, "age": 0}])
    owner = plan(s).owners["marketing"]
    assert owner.needed_volume_at_confidence == 0
    assert owner.needed_volume_expected == 0


def test_the_back_solve_is_the_smallest_volume_that_is_sure_enough() -> None:
    from sim.plan import owner_hit_probability, scale_sources

    s = load_scenario(SEED_FILE.parent / "timed-plan.json")
    result = plan(s, 0.8)
    for owner in ("marketing", "sales"):
        need = result.owners[owner].needed_volume_at_confidence
        assert need is not None
        sources = s.owner_sources(owner)
        target = s.owner_target(owner)
        assert owner_hit_probability(s, scale_sources(sources, need), target) >= 0.8
        assert owner_hit_probability(s, scale_sources(sources, need - 1), target) < 0.8


# ---- Bad time keys name the field --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lags": [{"dist": "gamma", "median": 5}]}, r"^sources\[0\]\.lags\[0\]\.cv: required"),
        ({"lags": [ZERO, ZERO]}, r"^sources\[0\]\.lags: 2 stages need 1 lags"),
        (
            {"lags": [{"dist": "empirical", "table": [[5, 0.5], [9, 0.8]]}]},
            r"^sources\[0\]\.lags\[0\]\.table: the last row's share must be 1",
        ),
        (
            {"lags": [{"dist": "empirical", "table": [[5, 0.5], [5, 1]]}]},
            r"^sources\[0\]\.lags\[0\]\.table: days must increase",
        ),
        (
            {"lags": [{"dist": "fixed", "days": -1}]},
            r"^sources\[0\]\.lags\[0\]\.days: must be at least 0",
        ),
        (
            {"opening": [{"stage": "S1", "count": 3, "age": 1}]},
            r"^sources\[0\]\.opening\[0\]\.stage: leads already at S1",
        ),
        (
            {"opening": [{"stage": "X", "count": 3, "age": 1}]},
            r"^sources\[0\]\.opening\[0\]\.stage: 'X' is not one",
        ),
        (
            {"opening": [{"stage": "S0", "count": 2.5, "age": 1}]},
            r"^sources\[0\]\.opening\[0\]\.count",
        ),
        ({"arrivals": {"shape": "ramp"}}, r"^sources\[0\]\.arrivals\.ratio: required"),
        (
            {"arrivals": {"shape": "weekly", "weekly": [1, 2]}},
            r"^sources\[0\]\.arrivals\.weekly: 2 numbers for a quarter of 13",
        ),
        (
            {"arrivals": {"shape": "weekly", "weekly": [0] * 13}},
            r"^sources\[0\]\.arrivals\.weekly: at least one week",
        ),
        ({"tempo": 3}, r"^sources\[0\]\.tempo: unknown key"),
    ],
)
def test_bad_time_keys_name_the_field(change: dict[str, Any], message: str) -> None:
    data = one_source({"mean": 10, "dist": "poisson"}, [{"mean": 0.5}]).to_dict()
    data["sources"][0].update(change)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(data)


@given(weeks=st.one_of(st.integers(-5, 0), st.integers(54, 200), st.just(2.5)))
def test_weeks_out_of_range_name_the_field(weeks: object) -> None:
    data = one_source({"mean": 10, "dist": "poisson"}, [{"mean": 0.5}]).to_dict()
    data["weeks"] = weeks
    with pytest.raises(ScenarioError, match=r"^weeks: "):
        parse_scenario(data)


def test_time_keys_round_trip_exactly() -> None:
    s = load_scenario(SEED_FILE.parent / "timed-plan.json")
    assert s.timed
    assert parse_scenario(s.to_dict()) == s
    assert Source.model_validate(s.sources[0].model_dump()) == s.sources[0]
