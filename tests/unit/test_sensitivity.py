"""Sensitivity: tornado and heatmap are the engine's own re-simulations; confidence planning
finds the smallest lever that reaches the chosen confidence."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import load_scenario, simulate
from sim.engine import source_pmf
from sim.models import Scenario, ScenarioError, parse_scenario
from sim.plan import (
    owner_hit_probability,
    scale_sources,
    volume_for_confidence,
    volume_for_expectation,
)
from sim.sensitivity import (
    Resimulator,
    assumptions,
    confidence_plan,
    default_heatmap_keys,
    find_assumption,
    heatmap,
    levers,
    move,
    step_owner,
    tornado,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = load_scenario(ROOT / "examples" / "seed-sla.json")
TRIALS = 4000


def _bookings(s: Scenario) -> Scenario:
    data = s.to_dict()
    data.update(metric="bookings", target=s.target * 30000)
    return parse_scenario(data)


def _three_sources() -> Scenario:
    data = SEED.to_dict()
    data["sources"].append(
        {
            "name": "Partners",
            "owner": "marketing",
            "stages": ["Lead", "MQL", "Won"],
            "volume": {"mean": 90, "dist": "negbin", "cv": 0.3},
            "rates": [{"mean": 0.4, "n": 50}, {"mean": 0.2, "n": 30}],
        }
    )
    data["target"] = 60
    return parse_scenario(data)


# ---- Assumptions and owners ---------------------------------------------------------------------


def test_assumptions_move_to_their_interval_or_ten_percent() -> None:
    by_key = {a.key: a for a in assumptions(_three_sources())}
    won = by_key["sources[0].rates[2].mean"]  # 45% on 80 deals: the Beta's 80% interval
    assert (won.low, won.high) == pytest.approx(SEED.sources[0].rates[2].interval(0.8))
    assert won.basis == "80% range"
    mql_sql = by_key["sources[0].rates[0].mean"]  # known exactly: ±10%
    assert (mql_sql.low, mql_sql.high) == pytest.approx((0.675, 0.825))
    assert mql_sql.basis == "±10%"
    fixed = by_key["sources[1].volume.mean"]  # 123 fixed: whole numbers
    assert (fixed.low, fixed.high) == (111.0, 135.0)
    negbin = by_key["sources[2].volume.mean"]  # gamma mixing of a negbin volume
    shape = 1 / 0.3**2

    assert (negbin.low, negbin.high) == pytest.approx(
        tuple(stats.gamma(shape, scale=90 / shape).ppf([0.1, 0.9]))
    )
    assert len(by_key) == 10
    assert {a.key for a in assumptions(_bookings(SEED))} >= {"deal_size.mean", "deal_size.cv"}


def test_owners_follow_the_talks_accountability_rule() -> None:
    s = _three_sources()
    owners = {a.label: a.owner for a in assumptions(s)}
    assert owners["Inbound · MQLs per quarter"] == "marketing"
    assert owners["Inbound · MQL → SQL rate"] == "sales"  # sales' follow-up
    assert owners["Inbound · Opportunity → Won rate"] == "sales"
    assert owners["Outbound · SQLs per quarter"] == "sales"
    assert owners["Partners · Lead → MQL rate"] == "marketing"  # before the MQL: marketing's
    assert owners["Partners · MQL → Won rate"] == "sales"
    assert step_owner(s.sources[2], 0) == "marketing"


def test_move_keeps_the_scenario_valid_and_other_fields_untouched() -> None:
    moved = move(SEED, "sources[1].volume.mean", 130.6)
    assert moved.sources[1].volume.mean == 131  # fixed volumes stay whole
    assert moved.sources[0] == SEED.sources[0]
    assert move(SEED, "sources[0].rates[2].mean", 1.5).sources[0].rates[2].mean < 1
    assert move(SEED, "sources[0].rates[0].mean", 1.5).sources[0].rates[0].mean == 1
    assert parse_scenario(moved.to_dict()) == moved
    with pytest.raises(ScenarioError, match="not a movable field"):
        move(SEED, "target", 3)
    with pytest.raises(ScenarioError, match="is not one of"):
        find_assumption(SEED, "sources[5].volume.mean")


# ---- Exact laws and common random numbers ---------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["fixed", "poisson", "negbin"]),
    st.integers(0, 400),
    st.lists(
        st.tuples(st.floats(0.05, 0.95), st.one_of(st.none(), st.floats(2, 300))),
        min_size=1,
        max_size=3,
    ),
)
def test_cached_transitions_give_the_exact_law(dist: str, mean: int, rates: list) -> None:
    volume = {"mean": mean, "dist": dist} | ({"cv": 0.4} if dist == "negbin" else {})
    source = parse_scenario(
        SEED.to_dict()
        | {
            "sources": [
                {
                    "name": "S",
                    "owner": "marketing",
                    "stages": [f"s{k}" for k in range(len(rates) + 1)],
                    "volume": volume,
                    "rates": [{"mean": m} | ({"n": n} if n else {}) for m, n in rates],
                }
            ]
        }
    ).sources[0]
    engine = source_pmf(source)
    if engine is None:
        return
    # Independent: the folded volume law, then a freshly built Beta-binomial matrix per rate.
    known = float(np.prod([r.mean for r in source.rates if not r.uncertain]))
    law = {
        "fixed": stats.binom(mean, known),
        "poisson": stats.poisson(mean * known),
        "negbin": stats.nbinom(1 / 0.16, (1 / 0.16) / (1 / 0.16 + mean * known)),
    }[dist]
    k = np.arange(int(law.isf(1e-15)) + 2)
    exact = law.pmf(k)
    for r in (r for r in source.rates if r.uncertain):
        exact = exact @ stats.betabinom.pmf(k[None, :], k[:, None], r.alpha, r.beta)
    np.testing.assert_allclose(engine, exact[: len(engine)], rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "scenario",
    [SEED, _bookings(SEED), _three_sources()],
    ids=["customers", "bookings", "three-sources"],
)
def test_tornado_bars_are_direct_re_simulations(scenario: Scenario) -> None:
    t = tornado(scenario, trials=TRIALS, seed=3)
    assert t.p_hit == simulate(scenario, trials=TRIALS, seed=3).p_hit
    for bar in t.bars:
        a = bar.assumption
        assert bar.p_low == simulate(move(scenario, a.key, a.low), trials=TRIALS, seed=3).p_hit
        assert bar.p_high == simulate(move(scenario, a.key, a.high), trials=TRIALS, seed=3).p_hit
    swings = [b.swing for b in t.bars]
    assert swings == sorted(swings, reverse=True)


def test_tornado_summary_names_the_biggest_mover_and_its_owner() -> None:
    t = tornado(SEED, trials=TRIALS, seed=0)
    top = t.bars[0]
    line = t.summary()
    assert line.startswith(f"{top.assumption.label} ({top.assumption.owner}) moves the number")
    assert f"{min(top.p_low, top.p_high):.0%} to {max(top.p_low, top.p_high):.0%}" in line
    assert "\n" not in line
    assert t.to_dict()["bars"][0]["label"] == top.assumption.label


def test_heatmap_cells_are_direct_re_simulations_and_monotone() -> None:
    h = heatmap(SEED, size=8, trials=TRIALS, seed=1, confidence=0.8)
    assert (h.x.key, h.y.key) == default_heatmap_keys(SEED)
    assert (h.x.key, h.y.key) == ("sources[0].volume.mean", "sources[0].rates[0].mean")
    for r in (0, 3, 7):
        for c in (0, 4, 7):
            moved = move(move(SEED, h.x.key, h.x_values[c]), h.y.key, h.y_values[r])
            assert h.p_hit[r, c] == simulate(moved, trials=TRIALS, seed=1).p_hit
    # Common random numbers: more MQLs or a better rate never lowers any trial's outcome.
    assert (np.diff(h.p_hit, axis=0) >= 0).all()
    assert (np.diff(h.p_hit, axis=1) >= 0).all()
    assert h.base_p_hit == simulate(SEED, trials=TRIALS, seed=1).p_hit


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("sources[2].volume.mean", "deal_size.mean"),  # the deal size moves: every owner redrawn
        ("sources[0].volume.mean", "sources[2].rates[1].mean"),  # marketing only: wins needed
        ("sources[0].volume.mean", "sources[1].rates[0].mean"),  # both owners move
    ],
)
def test_bookings_heatmaps_match_simulate(x: str, y: str) -> None:
    s = _bookings(_three_sources())
    h = heatmap(s, x, y, size=4, trials=TRIALS, seed=2)
    for r in range(4):
        for c in range(4):
            moved = move(move(s, h.x.key, h.x_values[c]), h.y.key, h.y_values[r])
            assert h.p_hit[r, c] == simulate(moved, trials=TRIALS, seed=2).p_hit


def test_needed_y_is_where_the_column_crosses_the_confidence() -> None:
    h = heatmap(SEED, size=12, trials=TRIALS, seed=0, confidence=0.6)
    needed = h.needed_y()
    for c, y in enumerate(needed):
        col = h.p_hit[:, c]
        if np.isnan(y):
            assert col.max() < 0.6
            continue
        r = int(np.searchsorted(h.y_values, y - 1e-12))
        assert col[min(r, len(col) - 1)] >= 0.6 - 1e-12
        if r > 0:
            assert col[r - 1] < 0.6


def test_resimulator_refuses_a_different_set_of_sources() -> None:
    sim = Resimulator(SEED, TRIALS, 0)
    with pytest.raises(ScenarioError, match="keep the scenario's sources"):
        sim.p_hit(_three_sources())


# ---- Confidence planning --------------------------------------------------------------------------


def test_volume_levers_are_the_plans_back_solve() -> None:
    for owner in ("marketing", "sales"):
        cp = confidence_plan(SEED, f"volume:{owner}", 0.8)
        assert cp.needed == volume_for_confidence(SEED, owner, 0.8)
        assert cp.point_estimate == volume_for_expectation(SEED, owner)
        assert cp.p_hit_current == pytest.approx(
            owner_hit_probability(SEED, SEED.owner_sources(owner), SEED.owner_target(owner))
        )
        assert cp.p_hit_point_estimate is not None
        assert 0.3 < cp.p_hit_point_estimate < 0.6  # the coin flip of a point-estimate plan
    assert [k for k, _ in levers(SEED)][:2] == ["volume:marketing", "volume:sales"]
    assert dict(levers(SEED))["volume:sales"] == "Sales' SQLs per quarter"


def test_volume_for_the_whole_number_is_the_smallest_that_reaches_it() -> None:
    cp = confidence_plan(SEED, "volume:marketing", 0.8, goal="total")
    assert cp.needed is not None

    def p(v: float) -> float:
        return owner_hit_probability(
            SEED,
            scale_sources(SEED.owner_sources("marketing"), v) + SEED.owner_sources("sales"),
            SEED.target,
        )

    assert p(cp.needed) >= 0.8 > p(cp.needed - 1)
    assert cp.goal_target == SEED.target


@pytest.mark.parametrize("lever", ["sources[0].rates[0].mean", "sources[0].rates[2].mean"])
@pytest.mark.parametrize("goal", ["share", "total"])
def test_rate_lever_is_the_smallest_rate_that_reaches_the_confidence(lever: str, goal: str) -> None:
    cp = confidence_plan(SEED, lever, 0.8, goal=goal)  # type: ignore[arg-type]
    assert cp.needed is not None
    keep = SEED.sources if goal == "total" else SEED.owner_sources("marketing")
    target = SEED.target if goal == "total" else SEED.owner_target("marketing")

    def p(r: float) -> float:
        moved = move(SEED, lever, r)
        names = {s.name for s in keep}
        return owner_hit_probability(SEED, [s for s in moved.sources if s.name in names], target)

    assert p(cp.needed) >= 0.8
    assert p(cp.needed - 2e-4) < 0.8
    # The point estimate's expected outcome is exactly the goal.
    assert cp.point_estimate is not None
    moved = move(SEED, lever, cp.point_estimate)
    expected = sum(
        s.expected_counts()[-1] for s in moved.sources if s.name in {x.name for x in keep}
    )
    assert expected == pytest.approx(target)
    assert cp.needed > cp.point_estimate
    assert "sure" in cp.sentence()


def test_unreachable_levers_say_so() -> None:
    data = SEED.to_dict()
    data["target"] = 400
    s = parse_scenario(data)
    cp = confidence_plan(s, "sources[0].rates[0].mean", 0.9)
    assert cp.needed is None
    assert cp.point_estimate is None
    assert "cannot make it 90% sure" in cp.sentence()
    with pytest.raises(ScenarioError, match="lever"):
        confidence_plan(SEED, "volume:nobody")
    with pytest.raises(ScenarioError, match="confidence"):
        confidence_plan(SEED, "volume:sales", 1.5)


def test_more_confidence_needs_more() -> None:
    needs = [confidence_plan(SEED, "sources[1].rates[1].mean", c).needed for c in (0.6, 0.8, 0.95)]
    assert all(n is not None for n in needs)
    assert needs == sorted(needs)
    assert not math.isclose(needs[0], needs[-1])


# ---- With the plan's clock (issue 11): the same laws, the same exactness ---------------------

TIMED = load_scenario(ROOT / "examples" / "timed-plan.json")


def _easier(scenario: Scenario) -> Scenario:
    data = scenario.to_dict()
    data["target"] = 40  # about 70%: the tornado's bars move
    return parse_scenario(data)


def test_tornado_on_a_timed_plan_is_direct_re_simulations() -> None:
    scenario = _easier(TIMED)
    t = tornado(scenario, trials=TRIALS, seed=4)
    assert t.p_hit == simulate(scenario, trials=TRIALS, seed=4).p_hit
    for bar in t.bars[:4]:
        a = bar.assumption
        assert bar.p_low == simulate(move(scenario, a.key, a.low), trials=TRIALS, seed=4).p_hit
        assert bar.p_high == simulate(move(scenario, a.key, a.high), trials=TRIALS, seed=4).p_hit


@pytest.mark.parametrize("lever", ["sources[0].rates[0].mean", "sources[1].rates[1].mean"])
def test_a_rate_levers_point_estimate_counts_the_clock_and_the_opening_pipeline(lever: str) -> None:
    """With time the expected outcome is still linear in one rate (the opening pipeline past
    that step does not depend on it), so the point estimate's expectation is the goal."""
    from sim import timing

    scenario = _easier(TIMED)
    cp = confidence_plan(scenario, lever, 0.8, goal="total")
    assert cp.point_estimate is not None
    moved = move(scenario, lever, cp.point_estimate)
    expected = sum(timing.expected_wins(s, 13) for s in moved.sources)
    assert expected == pytest.approx(scenario.target, rel=1e-9)
    assert cp.needed is not None
    assert cp.needed > cp.point_estimate


def test_a_volume_levers_point_estimate_counts_the_clock_and_the_opening_pipeline() -> None:
    from sim import timing

    scenario = _easier(TIMED)
    cp = confidence_plan(scenario, "volume:marketing", 0.8, goal="total")
    assert cp.point_estimate is not None
    moved = scale_sources(scenario.owner_sources("marketing"), cp.point_estimate)
    before = scale_sources(scenario.owner_sources("marketing"), cp.point_estimate - 1)
    sales = sum(timing.expected_wins(s, 13) for s in scenario.owner_sources("sales"))
    assert sales + sum(timing.expected_wins(s, 13) for s in moved) >= scenario.target - 1e-9
    assert sales + sum(timing.expected_wins(s, 13) for s in before) < scenario.target
