"""The team (sim/team.py): capacity arithmetic, the law of sales-sourced volume against direct
draws, AE overload against exact laws, follow-up feasibility by hand, people needed.

Monte Carlo tolerances come from standard errors (4 SE), as in test_engine.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from unit_helpers import one_source

from sim import parse_scenario, plan, simulate
from sim.engine import draw_source_wins, overload_step, source_pmf
from sim.models import Scenario, ScenarioError
from sim.roster import Team
from sim.team import (
    Drive,
    attrition_strata,
    by_week,
    drives,
    follow_up_check,
    hazard,
    sdr_volume_mix,
    team_report,
)

TRIALS = 200_000
Z = 4.0
RAMPED = "2020-01-06"  # years before the quarter: fully ramped
Q2 = "2027-Q2"


def sdr(name: str, people: int, start: str, productivity: float, ramp: float = 0) -> dict:
    return {
        "name": name,
        "role": "sdr",
        "people": people,
        "start": start,
        "ramp_weeks": ramp,
        "productivity": productivity,
    }


def ae(name: str, people: int, carry: float, start: str = RAMPED) -> dict:
    return {"name": name, "role": "ae", "people": people, "start": start, "productivity": carry}


def with_team(
    members: list[dict],
    *,
    quarter: str = Q2,
    rates: list[dict[str, Any]] | None = None,
    target: float = 10,
    **team: Any,
) -> Scenario:
    """One sales source (first stage booked by the SDRs) owning the whole target."""
    data = one_source(
        {"mean": 100, "dist": "fixed"}, rates or [{"mean": 0.5}], owner="sales", target=target
    ).to_dict()
    data["quarter"] = quarter
    data["team"] = {"members": members, **team}
    return parse_scenario(data)


def tail_z(draws: np.ndarray, pmf: np.ndarray) -> float:
    """Largest gap between the empirical and exact P(X >= k), in standard errors."""
    n = len(draws)
    size = max(len(pmf), int(draws.max()) + 1)
    exact = np.zeros(size)
    exact[: len(pmf)] = pmf
    sf_exact = np.cumsum(exact[::-1])[::-1]
    sf_mc = np.cumsum(np.bincount(draws, minlength=size)[::-1])[::-1] / n
    se = np.sqrt(np.maximum(sf_exact * (1 - sf_exact), 1e-12) / n)
    return float(np.max(np.abs(sf_mc - sf_exact) / np.maximum(se, 1 / n)))


def mean_var(pmf: np.ndarray) -> tuple[float, float]:
    k = np.arange(len(pmf))
    m = float(k @ pmf)
    return m, float((k - m) ** 2 @ pmf)


# ---- capacity arithmetic ------------------------------------------------------------------------

cohort = st.tuples(st.integers(1, 40), st.floats(0.1, 20), st.floats(0, 26))


@given(cohorts=st.lists(cohort, min_size=1, max_size=3), seed=st.integers(0, 2**32 - 1))
def test_full_ramp_without_attrition_is_people_times_productivity_times_weeks(
    cohorts: list[tuple[int, float, float]], seed: int
) -> None:
    members = [sdr(f"c{i}", n, RAMPED, p, r) for i, (n, p, r) in enumerate(cohorts)]
    scenario = with_team(members)
    assert scenario.team is not None
    expected = sum(n * p * 13 for n, p, _ in cohorts)
    mix = sdr_volume_mix(scenario.team, Q2)
    assert mix is not None
    assert mix.means == pytest.approx((expected,), rel=1e-12)
    pmf = mix.pmf()
    poisson = stats.poisson(expected).pmf(np.arange(len(pmf)))
    assert np.max(np.abs(pmf - poisson)) < 1e-12
    _, ramped = by_week(scenario.team.members, Q2, None)
    assert ramped.sum() == pytest.approx(sum(n for n, _, _ in cohorts) * 13)
    # The engine thins it by the source's rate: Poisson(expected x 0.5) wins.
    wins = draw_source_wins(scenario.sources[0], seed, TRIALS, drive=drives(scenario)["Only"])
    assert tail_z(wins, stats.poisson(expected * 0.5).pmf(np.arange(wins.max() + 2))) <= Z + 1


def test_a_quarter_is_its_weeks() -> None:
    """The team works the scenario's clock: `weeks` weeks of 7 days (13 unless it says)."""
    plain = with_team([sdr("SDRs", 3, RAMPED, 2.0)], quarter="2027-Q1")
    short = parse_scenario({**plain.to_dict(), "weeks": 12})
    for scenario, weeks in ((plain, 13), (short, 12)):
        assert scenario.team is not None
        mix = drives(scenario)["Only"].volume
        assert mix is not None
        assert mix.mean == pytest.approx(3 * 2.0 * weeks)
        report = team_report(scenario)
        assert report is not None
        assert len(report.weeks) == weeks
        assert sum(report.sourced_by_week) == pytest.approx(3 * 2.0 * weeks)


def test_ramp_is_linear_from_the_start_date() -> None:
    """A hire on the first day with an 8-week ramp works 4 ramp-weighted weeks in the first 8
    weeks (a triangle) and 5 full weeks after: 9 of 13. One starting in week 7 with no ramp
    works the 7 weeks left."""
    team = with_team(
        [sdr("Day one", 1, "2027-04-01", 1.0, ramp=8), sdr("Week 7", 2, "2027-05-13", 1.0)]
    ).team
    assert team is not None
    mix = sdr_volume_mix(team, Q2)
    assert mix is not None
    assert mix.mean == pytest.approx(9 + 2 * 7)
    _, ramped = by_week(team.members[:1], Q2, None)
    assert ramped[0] == pytest.approx(0.5 / 8)  # the first week's ramp, averaged over the week
    assert np.all(np.diff(ramped) >= -1e-12)


def test_a_hire_after_the_quarters_end_adds_nothing() -> None:
    base = [sdr("SDRs", 4, RAMPED, 2.0), sdr("Hires", 2, "2027-05-03", 2.0, ramp=6)]
    later = [*base, sdr("Next quarter", 5, "2027-07-01", 3.0), sdr("Next year", 9, "2028-02-01", 3)]
    kw: dict[str, Any] = {"sdr_attrition": {"mean": 0.3, "n": 20}, "sdr_pace_cv": 0.2}
    a, b = with_team(base, **kw), with_team(later, **kw)
    assert a.team is not None
    assert b.team is not None
    assert sdr_volume_mix(a.team, Q2) == sdr_volume_mix(b.team, Q2)
    ra, rb = simulate(a, trials=20_000, seed=3), simulate(b, trials=20_000, seed=3)
    assert np.array_equal(ra.outcomes, rb.outcomes)
    assert ra.p_hit == rb.p_hit
    # ...while one starting on the quarter's last day adds a day's work.
    last_day = with_team([*base, sdr("Last day", 1, "2027-06-30", 7.0)], **kw)
    assert last_day.team is not None
    mix_a, mix_c = sdr_volume_mix(a.team, Q2), sdr_volume_mix(last_day.team, Q2)
    assert mix_a is not None
    assert mix_c is not None
    assert mix_c.mean - mix_a.mean == pytest.approx(1.0, rel=0.01)  # 7 a week, for a day


def test_attrition_takes_the_expected_share_of_the_weeks() -> None:
    """Half the people leaving per year: a ramped person works (1 - e^(-13 h)) / h weeks."""
    team = with_team([sdr("SDRs", 10, RAMPED, 1.0)], sdr_attrition={"mean": 0.5}).team
    assert team is not None
    h = math.log(2) / 52
    weeks = (1 - math.exp(-13 * h)) / h
    mix = sdr_volume_mix(team, Q2)
    assert mix is not None
    assert mix.mean == pytest.approx(10 * weeks, rel=1e-4)
    _, ramped = by_week(team.members, Q2, team.sdr_attrition)
    assert ramped.sum() == pytest.approx(10 * weeks, rel=1e-4)
    assert float(hazard(0.5)) == pytest.approx(h)
    # Who leaves is random: the volume is wider than a Poisson with the same mean.
    assert mean_var(mix.pmf())[1] > mix.mean


def test_uncertain_attrition_keeps_its_mean_and_widens_the_work() -> None:
    known = with_team([sdr("SDRs", 12, RAMPED, 2.0)], sdr_attrition={"mean": 0.4}).team
    unsure = with_team([sdr("SDRs", 12, RAMPED, 2.0)], sdr_attrition={"mean": 0.4, "n": 5}).team
    assert known is not None
    assert unsure is not None
    a, b = sdr_volume_mix(known, Q2), sdr_volume_mix(unsure, Q2)
    assert a is not None
    assert b is not None
    assert unsure.sdr_attrition is not None
    shares, weights = attrition_strata(unsure.sdr_attrition)
    assert shares @ weights == pytest.approx(0.4, rel=1e-9)  # the strata keep the Beta's mean
    assert mean_var(b.pmf())[1] > mean_var(a.pmf())[1]


# ---- pace uncertainty: widens the outcome, never moves the mean ---------------------------------


@given(cv=st.floats(0.05, 0.8), people=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=10)
def test_uncertain_productivity_widens_the_outcome_and_never_moves_the_mean(
    cv: float, people: int, seed: int
) -> None:
    members = [sdr("SDRs", people, RAMPED, 1.5), sdr("Hires", 2, "2027-04-19", 1.5, ramp=8)]
    known = with_team(members, target=20)
    unsure = with_team(members, target=20, sdr_pace_cv=cv)
    assert known.team is not None
    assert unsure.team is not None
    a, b = sdr_volume_mix(known.team, Q2), sdr_volume_mix(unsure.team, Q2)
    assert a is not None
    assert b is not None
    (ma, va), (mb, vb) = mean_var(a.pmf()), mean_var(b.pmf())
    assert mb == pytest.approx(ma, rel=1e-9)
    assert vb == pytest.approx(va + (cv * ma) ** 2, rel=1e-6)  # Gamma mixing adds (cv m)^2
    # Simulated wins: means agree within the standard error, the P10-P90 range widens.
    ra, rb = simulate(known, trials=TRIALS, seed=seed), simulate(unsure, trials=TRIALS, seed=seed)
    wa, wb = ra.owner_outcomes["sales"], rb.owner_outcomes["sales"]
    se = math.sqrt((wa.var() + wb.var()) / TRIALS)
    assert abs(wa.mean() - wb.mean()) <= Z * se
    assert rb.owners["sales"].p90 - rb.owners["sales"].p10 >= (
        ra.owners["sales"].p90 - ra.owners["sales"].p10
    )
    assert wb.var() > wa.var()


# ---- the law against direct draws --------------------------------------------------------------


@given(
    people=st.integers(1, 25),
    hires=st.integers(0, 6),
    hire_day=st.integers(0, 100),
    ramp=st.floats(0, 12),
    share=st.floats(0.0, 0.8),
    evidence=st.one_of(st.none(), st.floats(3, 200)),
    cv=st.one_of(st.just(0.0), st.floats(0.01, 0.5)),
    seed=st.integers(0, 2**32 - 1),
)
@settings(max_examples=15)
def test_sdr_volume_law_matches_direct_draws(
    people: int,
    hires: int,
    hire_day: int,
    ramp: float,
    share: float,
    evidence: float | None,
    cv: float,
    seed: int,
) -> None:
    """The grid law (leaving by day, strata of the attrition) against trial-by-trial draws
    with continuous leaving times."""
    from datetime import date, timedelta

    from sim.team import draw_sdr_volume

    start = (date(2027, 4, 1) + timedelta(days=hire_day)).isoformat()
    members = [sdr("SDRs", people, "2027-02-15", 2.0, ramp=ramp)]
    if hires:
        members.append(sdr("Hires", hires, start, 1.2, ramp=ramp))
    attrition = (
        {"mean": share} if evidence is None or share == 0 else {"mean": share, "n": evidence}
    )
    team = Team.model_validate({"members": members, "sdr_attrition": attrition, "sdr_pace_cv": cv})
    mix = sdr_volume_mix(team, Q2)
    assert mix is not None
    draws = draw_sdr_volume(team, Q2, np.random.default_rng(seed), TRIALS)
    pmf = mix.pmf()
    assert tail_z(draws, pmf) <= Z + 1
    m, v = mean_var(pmf)
    assert abs(draws.mean() - m) <= Z * math.sqrt(v / TRIALS)


# ---- AE overload --------------------------------------------------------------------------------


@given(
    n=st.integers(1, 120),
    cap=st.integers(0, 120),
    f=st.floats(0, 1),
    p=st.floats(0.05, 0.95),
)
def test_overload_step_is_capacity_plus_thinned_excess(
    n: int, cap: int, f: float, p: float
) -> None:
    """Fixed n opportunities: wins are Bin(min(n, C), p) + Bin(n - C, p f) (scipy's laws)."""
    point = np.zeros(n + 1)
    point[n] = 1.0
    worked = overload_step(point, cap, f)
    full = min(n, cap)
    exact = np.convolve(
        np.eye(1, full + 1, full).ravel(), stats.binom(max(n - cap, 0), f).pmf(range(n - full + 1))
    )
    assert np.allclose(worked, np.pad(exact, (0, len(worked) - len(exact))), atol=1e-12)
    source = one_source({"mean": n, "dist": "fixed"}, [{"mean": p}], owner="sales").sources[0]
    law = source_pmf(source, drive=Drive(None, cap, f))
    assert law is not None
    oracle = np.convolve(
        stats.binom(full, p).pmf(range(full + 1)),
        stats.binom(n - full, p * f).pmf(range(n - full + 1)),
    )
    size = max(len(law), len(oracle))
    assert np.allclose(np.pad(law, (0, size - len(law))), np.pad(oracle, (0, size - len(oracle))))


def test_overload_with_an_uncertain_last_rate_shares_the_rate() -> None:
    """One Beta win rate for all opportunities of the quarter: the law is the mixture over it
    of Bin(C, p) + Bin(n - C, p f); checked by quadrature and on the direct path."""
    n, cap, f, a, b = 60, 35, 0.4, 18.0, 22.0
    source = one_source(
        {"mean": n, "dist": "fixed"}, [{"mean": a / (a + b), "n": a + b}], owner="sales"
    ).sources[0]
    drive = Drive(None, cap, f)
    law = source_pmf(source, drive=drive)
    assert law is not None

    def given_p(p: float) -> np.ndarray:
        return np.convolve(
            stats.binom(cap, p).pmf(range(cap + 1)), stats.binom(n - cap, p * f).pmf(range(26))
        )

    x, w = np.polynomial.legendre.leggauss(200)  # Gauss-Legendre on [0, 1]: exact to 1e-12
    ps, ws = (x + 1) / 2, w / 2 * stats.beta(a, b).pdf((x + 1) / 2)
    oracle = sum(wi * given_p(pi) for pi, wi in zip(ps, ws, strict=True))
    assert np.allclose(np.pad(law, (0, n + 1 - len(law))), oracle, atol=1e-8)
    direct = draw_source_wins(source, 5, TRIALS, max_cells=0, drive=drive)
    assert tail_z(direct, law) <= Z + 1


def test_overload_shows_the_diminishing_return_of_mqls_without_aes() -> None:
    """More MQLs raise marketing's expected wins by less once the AEs are full."""

    def wins(mqls: float, factor: float) -> float:
        data = parse_scenario(
            {
                "schema_version": 1,
                "name": "AE",
                "quarter": Q2,
                "metric": "customers",
                "target": 30,
                "marketing_share": 1.0,
                "sources": [
                    {
                        "name": "Inbound",
                        "owner": "marketing",
                        "stages": ["MQL", "SQL", "Opportunity", "Won"],
                        "volume": {"mean": mqls, "dist": "poisson"},
                        "rates": [{"mean": 0.75}, {"mean": 0.5}, {"mean": 0.45, "n": 80}],
                    }
                ],
                "team": {"members": [ae("AEs", 3, 20)], "ae_overload_win_factor": factor},
            }
        )
        return plan(data).owners["marketing"].expected_outcome

    gain_free = wins(300, 1.0) - wins(200, 1.0)
    gain_loaded = wins(300, 0.3) - wins(200, 0.3)
    assert gain_free == pytest.approx(100 * 0.75 * 0.5 * 0.45)
    assert 0 < gain_loaded < gain_free
    assert wins(100, 0.3) == pytest.approx(wins(100, 1.0), rel=0.01)  # 37.5 opps, 60 carried


# ---- a team that changes nothing changes nothing -------------------------------------------------


def test_a_file_without_a_team_means_what_it_meant(seed: Scenario) -> None:
    assert seed.team is None
    assert "team" not in seed.to_dict()
    assert drives(seed) == {}
    follow_only = parse_scenario(
        {**seed.to_dict(), "team": {"members": [ae("AEs", 5, 30)], "follow_up_touches": 50}}
    )
    assert drives(follow_only) == {}  # AEs without an overload factor change no funnel
    a, b = simulate(seed, trials=30_000, seed=11), simulate(follow_only, trials=30_000, seed=11)
    assert np.array_equal(a.outcomes, b.outcomes)
    assert a.to_dict() == {**b.to_dict(), "scenario": a.scenario}
    assert plan(seed).owners["sales"].people is None


# ---- follow-up feasibility, worked by hand -------------------------------------------------------


def follow_up_case(mqls: float, touches: float = 40, hours: int = 4) -> Scenario:
    data = one_source(
        {"mean": mqls, "dist": "poisson"},
        [{"mean": 0.75}, {"mean": 0.5}, {"mean": 0.45}],
        owner="marketing",
    ).to_dict()
    data["quarter"] = Q2
    data["sla"] = {"follow_up": {"first_touch_hours": hours, "min_attempts": 6, "over_days": 10}}
    data["team"] = {"members": [sdr("SDRs", 2, RAMPED, 1.0)], "follow_up_touches": touches}
    return parse_scenario(data)


def test_follow_up_within_capacity() -> None:
    """130 MQLs over 13 weeks = 10 a week x 6 attempts = 60 touches a week; 2 SDRs x 40 = 80."""
    check = follow_up_check(follow_up_case(130))
    assert check is not None
    assert check.owed == pytest.approx(780)
    assert check.capacity == pytest.approx(1040)
    assert check.load == pytest.approx(0.75)
    assert check.workable_mqls == pytest.approx(1040 / 6)
    assert check.short_mqls == 0
    assert check.extra_sdrs == 0
    # First touch within 4 of 40 business hours: Poisson(1) arrivals, 95th percentile 3;
    # the two SDRs make 8 touches in 4 hours.
    assert check.first_touch_burst == 3
    assert check.first_touch_capacity == pytest.approx(8)
    assert check.feasible
    assert "75% of their follow-up time" in check.sentence()


def test_follow_up_short_says_by_how_much() -> None:
    """195 MQLs = 15 a week x 6 = 90 touches a week against 80: 10 short a week, 130 over the
    quarter, 21.7 MQLs the team cannot work; one more SDR covers it."""
    check = follow_up_check(follow_up_case(195))
    assert check is not None
    assert check.owed - check.capacity == pytest.approx(130)
    assert check.short_mqls == pytest.approx(130 / 6)
    assert check.extra_sdrs == 1
    assert check.short_weeks == tuple(range(1, 14))
    assert not check.feasible
    sentence = check.sentence()
    assert "about 173 MQLs" in sentence
    assert "22 more than the team can work" in sentence
    assert "1 more ramped SDR would" in sentence


def test_first_touch_can_fail_while_the_quarter_fits() -> None:
    """52 MQLs = 4 a week = 24 touches a week; two SDRs at 13 make 26, so the quarter fits. But
    within 1 of 40 business hours, 1 MQL arrives 1 time in 20 (Poisson(0.1)), and the SDRs make
    only 0.65 touches an hour."""
    check = follow_up_check(follow_up_case(52, touches=13, hours=1))
    assert check is not None
    assert check.short_mqls == 0
    assert check.first_touch_burst == 1
    assert check.first_touch_capacity == pytest.approx(0.65)
    assert not check.first_touch_ok
    assert not check.feasible
    assert "first touches will be late" in check.sentence()


def test_no_follow_up_check_without_touches_per_sdr(seed: Scenario) -> None:
    scenario = parse_scenario({**seed.to_dict(), "team": {"members": [sdr("S", 1, RAMPED, 1)]}})
    assert follow_up_check(scenario) is None
    assert follow_up_check(seed) is None


# ---- the answer in people ------------------------------------------------------------------------


def team_seed(seed: Scenario, members: list[dict], **team: Any) -> Scenario:
    return parse_scenario({**seed.to_dict(), "team": {"members": members, **team}})


def test_people_needed_is_the_smallest_team_that_is_sure(seed: Scenario) -> None:
    scenario = team_seed(
        seed, [sdr("SDRs", 5, RAMPED, 1.6), sdr("Hires", 2, "2027-02-15", 1.6, ramp=8)]
    )
    people = plan(scenario, 0.8).owners["sales"].people
    assert people is not None
    assert people.p_hit < 0.8
    assert people.extra_sdrs is not None
    assert people.extra_sdrs > 0

    def sales_chance(extra: int) -> float:
        add = [sdr("More", extra, "2027-01-01", 1.6, ramp=8)] if extra else []
        assert scenario.team is not None
        members = [m.model_dump() for m in scenario.team.members] + add
        return plan(team_seed(seed, members), 0.5).owners["sales"].p_hit

    assert sales_chance(people.extra_sdrs) >= 0.8
    assert sales_chance(people.extra_sdrs - 1) < 0.8
    assert people.hires == 2


def test_weeks_of_earlier_hiring(seed: Scenario) -> None:
    scenario = team_seed(
        seed, [sdr("SDRs", 4, RAMPED, 2.0), sdr("Hires", 4, "2027-03-01", 2.0, ramp=4)]
    )
    people = plan(scenario, 0.6).owners["sales"].people
    assert people is not None
    assert people.weeks_earlier is not None
    w = people.weeks_earlier
    assert w > 0

    def chance(weeks: int) -> float:
        from datetime import date, timedelta

        start = (date(2027, 3, 1) - timedelta(weeks=weeks)).isoformat()
        moved = [sdr("SDRs", 4, RAMPED, 2.0), sdr("Hires", 4, start, 2.0, ramp=4)]
        return plan(team_seed(seed, moved), 0.5).owners["sales"].p_hit

    assert chance(w) >= 0.6
    assert chance(w - 1) < 0.6
    assert "earlier" in people.sentence("SQL")


def test_adding_a_hire_raises_sales_chance_and_no_trial_goes_down(seed: Scenario) -> None:
    base = [sdr("SDRs", 5, RAMPED, 1.6)]
    a = team_seed(seed, base, sdr_attrition={"mean": 0.3, "n": 20}, sdr_pace_cv=0.15)
    b = team_seed(
        seed,
        [*base, sdr("Hire", 1, "2027-01-18", 1.6, ramp=8)],
        sdr_attrition={"mean": 0.3, "n": 20},
        sdr_pace_cv=0.15,
    )
    ra, rb = simulate(a, trials=50_000, seed=0), simulate(b, trials=50_000, seed=0)
    assert rb.owners["sales"].p_hit > ra.owners["sales"].p_hit
    assert np.all(rb.owner_outcomes["sales"] >= ra.owner_outcomes["sales"])  # common numbers
    assert np.array_equal(rb.owner_outcomes["marketing"], ra.owner_outcomes["marketing"])


# ---- the report and bad input --------------------------------------------------------------------


def test_report_warns_when_the_commitment_exceeds_what_the_team_books(seed: Scenario) -> None:
    scenario = team_seed(seed, [sdr("SDRs", 3, RAMPED, 1.5), ae("AEs", 3, 20)])
    report = team_report(scenario)
    assert report is not None
    assert report.sourced is not None
    assert report.sourced.mean == pytest.approx(3 * 1.5 * 13)
    assert report.sourced.p10 < report.sourced.mean < report.sourced.p90
    assert any("Sales commits 123 SQLs" in w for w in report.warnings)
    assert report.ae_load is not None
    assert report.ae_load.capacity == pytest.approx(60)
    assert any("beyond capacity" in w for w in report.warnings)
    assert sum(report.sourced_by_week) == pytest.approx(report.sourced.mean)


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ({"members": [{**sdr("A", 1, RAMPED, 1), "people": 0}]}, "team.members[0].people"),
        ({"members": [sdr("A", 1, "2027-13-01", 1)]}, "team.members[0].start: not a date"),
        ({"members": [sdr("A", 1, "1889-01-01", 1)]}, "team.members[0].start"),
        ({"members": [sdr("A", 1, RAMPED, 1), sdr("A", 2, RAMPED, 1)]}, "duplicate name"),
        ({"members": [{**sdr("A", 1, RAMPED, 1), "role": "cfo"}]}, "team.members[0].role"),
        ({"members": [], "source": "Inbound"}, "team.source: 'Inbound' is not a sales source"),
        ({"members": [], "sdr_attrition": {"mean": 1.0}}, "team.sdr_attrition.mean"),
        ({"members": [], "ae_overload_win_factor": 1.5}, "team.ae_overload_win_factor"),
        ({"members": [], "coach": 1}, "team.coach: unknown key"),
    ],
)
def test_bad_team_names_the_field(seed: Scenario, team: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario({**seed.to_dict(), "team": team})


@given(
    people=st.one_of(st.integers(-5, 2000), st.floats(allow_nan=True), st.text(max_size=3)),
    start=st.one_of(st.text(max_size=12), st.dates().map(str), st.integers()),
    ramp=st.one_of(st.floats(allow_nan=True), st.none()),
    productivity=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.booleans()),
    role=st.sampled_from(["sdr", "ae", "SDR", "", "bdr"]),
)
def test_any_team_row_is_valid_or_named(
    people: Any, start: Any, ramp: Any, productivity: Any, role: str
) -> None:
    """Whatever a row holds, the loader accepts it or says which team field is wrong."""
    from unit_helpers import SEED_FILE

    from sim import load_scenario

    row = {"name": "Row", "role": role, "people": people, "start": start}
    row |= {"productivity": productivity} | ({} if ramp is None else {"ramp_weeks": ramp})
    data = {**load_scenario(SEED_FILE).to_dict(), "team": {"members": [row]}}
    try:
        scenario, problem = parse_scenario(data), ""
    except ScenarioError as exc:
        scenario, problem = None, str(exc)
    if scenario is None:
        assert problem.startswith("team.members[0]."), problem
    else:
        assert scenario.team is not None
        member = scenario.team.members[0]
        assert 1 <= member.people <= 1000
        assert member.productivity > 0
        simulate(scenario, trials=1000, seed=0)  # and the engine takes it


def test_a_team_too_large_to_tabulate_is_drawn_directly() -> None:
    """A million leads a week: no table, the direct draw, the same mean and spread."""
    scenario = with_team(
        [sdr("Army", 1000, RAMPED, 1000.0)],
        rates=[{"mean": 0.5}, {"mean": 0.4, "n": 50}],
        sdr_pace_cv=0.1,
    )
    assert scenario.team is not None
    drive = drives(scenario)["Only"]
    assert source_pmf(scenario.sources[0], drive=drive) is None
    mix = sdr_volume_mix(scenario.team, Q2)
    assert mix is not None
    wins = draw_source_wins(scenario.sources[0], 4, TRIALS, drive=drive)
    mean = mix.mean * 0.5 * 0.4
    # Var: pace (cv 0.1) and the Beta rate (n = 50) dominate; the binomial noise is tiny.
    sd = mean * math.sqrt((1 + 0.1**2) * (1 + (0.6 / 0.4) / 51) - 1)
    assert abs(wins.mean() - mean) <= Z * sd / math.sqrt(TRIALS)
    assert wins.std() == pytest.approx(sd, rel=0.02)


def test_exact_odds_use_the_team(seed: Scenario) -> None:
    """The Plan page's exact odds, the plan's chances and the simulation agree on a team."""
    from unit_helpers import ROOT

    from sim import load_scenario
    from sim.engine import exact

    scenario = load_scenario(ROOT / "examples" / "team-plan.json")
    odds = exact(scenario)
    assert odds is not None
    p = plan(scenario, 0.8)
    for owner in ("marketing", "sales"):
        assert odds.owners[owner].p_hit == pytest.approx(p.owners[owner].p_hit, abs=1e-12)
        assert odds.owners[owner].mean == pytest.approx(p.owners[owner].expected_outcome)
    sim = simulate(scenario, trials=TRIALS, seed=2)
    se = math.sqrt(odds.p_hit * (1 - odds.p_hit) / TRIALS)
    assert abs(sim.p_hit - odds.p_hit) <= Z * se
    assert odds.owners["sales"].p_hit != exact(seed).owners["sales"].p_hit  # the team counts


def test_team_charts_are_valid_and_draw_the_report() -> None:
    from unit_helpers import ROOT, valid

    from sim import load_scenario
    from sim.team_charts import follow_up_chart, hiring_chart

    report = team_report(load_scenario(ROOT / "examples" / "team-plan.json"))
    assert report is not None
    assert report.follow_up is not None
    hiring = valid(hiring_chart(report))  # Plotly's own validation
    assert [t.name for t in hiring.data] == [
        "SDRs on the team",
        "SDRs ramped (full-productivity equivalent)",
        "AEs on the team",
        "AEs ramped (full-productivity equivalent)",
    ]
    assert list(hiring.data[1].y) == pytest.approx(report.sdr_ramped)
    follow = valid(follow_up_chart(report))
    assert list(follow.data[1].y) == pytest.approx(report.follow_up.capacity_by_week)
    assert list(follow.data[0].y) == pytest.approx(report.follow_up.owed_by_week)


@given(
    p=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(1e-12, 1 - 1e-12)), low=st.integers(0, 40)
)
def test_binomial_transition_rows_match_scipy(p: float, low: int) -> None:
    from sim.engine import _binomial_matrix

    k = np.arange(low, 300)
    rows = _binomial_matrix(k, 300, p)
    assert np.allclose(rows, stats.binom.pmf(np.arange(300)[None, :], k[:, None], p), atol=1e-12)


# ---- the team on the quarter's clock (lags, weekly MQLs) ----------------------------------------


def test_with_lags_the_team_books_like_poisson_weekly_cohorts() -> None:
    """Ramped SDRs and a hire in week 7: given their work, bookings are Poisson week by week, so
    with lags the team's law equals a typed Poisson source whose weekly profile is the team's
    expected bookings (exactly: no attrition, no pace uncertainty)."""
    lags = [{"dist": "fixed", "days": 5}, {"dist": "gamma", "median": 30, "cv": 0.5}]
    rates = [{"mean": 0.5}, {"mean": 0.45, "n": 60}]
    members = [sdr("SDRs", 4, RAMPED, 1.5), sdr("Hire", 2, "2027-05-13", 1.5, ramp=4)]
    scenario = with_team(members, rates=rates)
    data = scenario.to_dict()
    data["sources"][0] |= {"lags": lags, "opening": [{"stage": "S1", "count": 9, "age": 10}]}
    timed = parse_scenario(data)
    assert timed.team is not None
    report = team_report(timed)
    assert report is not None
    booked = sum(report.sourced_by_week)
    twin = parse_scenario(
        {
            **{k: v for k, v in data.items() if k != "team"},
            "sources": [
                data["sources"][0]
                | {
                    "volume": {"mean": booked, "dist": "poisson"},
                    "arrivals": {"shape": "weekly", "weekly": list(report.sourced_by_week)},
                }
            ],
        }
    )
    from sim.engine import exact

    with_team_law = source_pmf(timed.sources[0], drive=drives(timed)["Only"])
    typed_law = source_pmf(twin.sources[0])
    assert with_team_law is not None
    assert typed_law is not None
    size = max(len(with_team_law), len(typed_law))
    pad = [np.pad(x, (0, size - len(x))) for x in (with_team_law, typed_law)]
    assert np.max(np.abs(pad[0] - pad[1])) < 1e-9
    a, b = exact(timed), exact(twin)
    assert a is not None
    assert b is not None
    assert a.p_hit == pytest.approx(b.p_hit, abs=1e-9)
    # Late bookings close less often: the same team without lags wins more.
    untimed = with_team(members, rates=rates)
    assert exact(untimed).owners["sales"].mean > a.owners["sales"].mean  # type: ignore[union-attr]


def test_follow_up_goes_week_by_week_when_mqls_have_a_profile() -> None:
    """130 MQLs ramping 1 -> 3 over 13 weeks arrive 5 w_i a week (w_i = 1 + i/6): 30 w_i touches
    owed against 80. The quarter fits (780 of 1,040), but weeks 12 and 13 owe 85 and 90:
    15 touches short, 2.5 MQLs the team cannot work, one more ramped SDR covers the worst week."""
    data = follow_up_case(130).to_dict()
    data["sources"][0]["arrivals"] = {"shape": "ramp", "ratio": 3}
    check = follow_up_check(parse_scenario(data))
    assert check is not None
    assert check.weekly
    assert check.owed == pytest.approx(780)
    assert check.owed_by_week[-1] == pytest.approx(90)
    assert check.short_weeks == (12, 13)
    assert check.short_mqls == pytest.approx(15 / 6)
    assert check.extra_sdrs == 1
    assert not check.feasible
    flat = follow_up_check(follow_up_case(130))
    assert flat is not None
    assert not flat.weekly
    assert flat.feasible  # spread evenly, the same MQLs fit
