"""The Monte Carlo engine against exact laws (scipy.stats is the oracle).

Tolerances come from the standard error of each estimate: |MC - exact| <= 4 SE.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from unit_helpers import one_source

from sim import parse_scenario, simulate
from sim.engine import draw_source_wins, exact, source_pmf
from sim.models import Scenario

TRIALS = 200_000
Z = 4.0


def assert_law(wins: np.ndarray, law: object, *, name: str = "") -> None:
    """Every tail probability P(W >= k) within 4 SE of the exact law, and the mean too."""
    n = len(wins)
    counts = np.bincount(wins)
    tail_mc = np.cumsum(counts[::-1])[::-1] / n  # P(W >= k) for k = 0..max
    ks = np.arange(len(tail_mc))
    tail_ex = law.sf(ks - 1)  # type: ignore[attr-defined]
    se = np.sqrt(np.maximum(tail_ex * (1 - tail_ex), 1e-12) / n)
    worst = np.max(np.abs(tail_mc - tail_ex) / np.maximum(se, 1 / n))
    assert worst <= Z + 1.0, f"{name}: tail probability off by {worst:.1f} SE"
    mean_se = math.sqrt(law.var() / n)  # type: ignore[attr-defined]
    if mean_se > 0:
        assert abs(wins.mean() - law.mean()) <= Z * mean_se, name  # type: ignore[attr-defined]


def _wins(s: Scenario, *, seed: int = 1, direct: bool = False) -> np.ndarray:
    return draw_source_wins(s.sources[0], seed, TRIALS, max_cells=0 if direct else 4_000_000)


rates = st.lists(st.floats(0.05, 0.95), min_size=1, max_size=3)


@given(n=st.integers(1, 400), ps=rates, seed=st.integers(0, 2**32 - 1))
def test_fixed_volume_fixed_rates_is_binomial(n: int, ps: list[float], seed: int) -> None:
    s = one_source({"mean": n, "dist": "fixed"}, [{"mean": p} for p in ps])
    assert_law(_wins(s, seed=seed), stats.binom(n, math.prod(ps)), name="binomial")


@given(lam=st.floats(0.5, 2000), ps=rates, seed=st.integers(0, 2**32 - 1))
def test_poisson_volume_fixed_rates_is_poisson(lam: float, ps: list[float], seed: int) -> None:
    s = one_source({"mean": lam, "dist": "poisson"}, [{"mean": p} for p in ps])
    assert_law(_wins(s, seed=seed), stats.poisson(lam * math.prod(ps)), name="poisson")


@given(m=st.floats(1, 2000), cv=st.floats(0.05, 1.5), ps=rates, seed=st.integers(0, 2**32 - 1))
def test_negbin_volume_is_negative_binomial(
    m: float, cv: float, ps: list[float], seed: int
) -> None:
    s = one_source({"mean": m, "dist": "negbin", "cv": cv}, [{"mean": p} for p in ps])
    shape, mean = 1 / cv**2, m * math.prod(ps)
    law = stats.nbinom(shape, shape / (shape + mean))
    assert abs(law.var() - (mean + (cv * mean) ** 2)) < 1e-6 * max(1, law.var())
    assert_law(_wins(s, seed=seed), law, name="negbin")


@given(
    n=st.integers(1, 300),
    mean=st.floats(0.05, 0.95),
    evidence=st.floats(2, 500),
    thin=st.floats(0.1, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_one_uncertain_rate_is_beta_binomial(
    n: int, mean: float, evidence: float, thin: float, seed: int
) -> None:
    """Fixed volume, one Beta rate: Beta-binomial; a later known rate thins it further."""
    a, b = mean * evidence, (1 - mean) * evidence
    s = one_source({"mean": n, "dist": "fixed"}, [{"mean": mean, "n": evidence}])
    assert_law(_wins(s, seed=seed), stats.betabinom(n, a, b), name="betabinom")
    s2 = one_source({"mean": n, "dist": "fixed"}, [{"mean": mean, "n": evidence}, {"mean": thin}])
    # Exact: P(W = w) = sum_k BetaBin(k) * Bin(w; k, thin)
    k = np.arange(n + 1)
    pmf = stats.betabinom.pmf(k, n, a, b) @ stats.binom.pmf(k[None, :], k[:, None], thin)
    law = stats.rv_discrete(values=(k, pmf / pmf.sum()))
    assert_law(_wins(s2, seed=seed), law, name="betabinom thinned")


@pytest.mark.parametrize("direct", [False, True])
def test_both_paths_match_the_exact_laws(direct: bool) -> None:
    """The tabulated path and the direct path (for sources too large to tabulate) agree."""
    s = one_source({"mean": 120, "dist": "fixed"}, [{"mean": 0.4, "n": 30}])
    assert_law(_wins(s, direct=direct), stats.betabinom(120, 12, 18), name=f"direct={direct}")
    s = one_source({"mean": 300, "dist": "poisson"}, [{"mean": 0.5}, {"mean": 0.3, "n": 50}])
    lam = 300 * 0.5  # Poisson(150) then Beta-binomial: mix the Poisson over the Beta rate
    k = np.arange(0, 260)
    inner = stats.poisson.pmf(k, lam)
    pmf = inner @ stats.betabinom.pmf(k[None, :], k[:, None], 15, 35)
    law = stats.rv_discrete(values=(k, pmf / pmf.sum()))
    assert_law(_wins(s, direct=direct), law, name=f"poisson+beta direct={direct}")


def test_source_pmf_is_the_exact_law() -> None:
    s = one_source({"mean": 50, "dist": "fixed"}, [{"mean": 0.6, "n": 10}, {"mean": 0.5}])
    pmf = source_pmf(s.sources[0])
    assert pmf is not None
    k = np.arange(51)
    exact = stats.betabinom.pmf(k, 50, 6, 4) @ stats.binom.pmf(k[None, :], k[:, None], 0.5)
    assert np.allclose(pmf, exact[: len(pmf)], atol=1e-12)
    assert source_pmf(s.sources[0], max_cells=0) is None


def _two_source(metric: str = "customers", target: float = 40) -> Scenario:
    data = {
        "schema_version": 1,
        "name": "Two",
        "quarter": "2027-Q2",
        "metric": metric,
        "target": target,
        "marketing_share": 0.6,
        "deal_size": {"mean": 1000, "cv": 0.5},
        "sources": [
            {
                "name": "In",
                "owner": "marketing",
                "stages": ["MQL", "SQL", "Won"],
                "volume": {"mean": 150, "dist": "poisson"},
                "rates": [{"mean": 0.5}, {"mean": 0.3, "n": 60}],
            },
            {
                "name": "Out",
                "owner": "sales",
                "stages": ["SQL", "Won"],
                "volume": {"mean": 80, "dist": "fixed"},
                "rates": [{"mean": 0.25}],
            },
        ],
    }
    return parse_scenario(data)


def test_two_sources_convolve_and_owners_are_their_sources() -> None:
    s = _two_source()
    res = simulate(s, trials=TRIALS, seed=11)
    m_pmf, s_pmf = (source_pmf(src) for src in s.sources)
    assert m_pmf is not None
    assert s_pmf is not None
    total = np.convolve(m_pmf, s_pmf)
    k = np.arange(len(total))
    exact_hit = total[k >= 40].sum()
    se = math.sqrt(exact_hit * (1 - exact_hit) / TRIALS)
    assert abs(res.p_hit - exact_hit) <= Z * se
    s_law = stats.binom(80, 0.25)
    sales_hit = s_law.sf(math.ceil(40 * 0.4) - 1)
    se_s = math.sqrt(sales_hit * (1 - sales_hit) / TRIALS)
    assert abs(res.owners["sales"].p_hit - sales_hit) <= Z * se_s
    assert np.array_equal(
        res.outcomes, res.owner_outcomes["marketing"] + res.owner_outcomes["sales"]
    )
    # The marketing source's law against scipy directly: Poisson(75) through Beta(18, 42).
    kk = np.arange(200)
    direct = stats.poisson.pmf(kk, 75) @ stats.betabinom.pmf(kk[None, :], kk[:, None], 18, 42)
    assert np.allclose(m_pmf, direct[: len(m_pmf)], atol=1e-10)


def test_bookings_match_the_gamma_mixture() -> None:
    s = _two_source("bookings", target=30_000)
    res = simulate(s, trials=TRIALS, seed=5)
    m_pmf, s_pmf = (source_pmf(src) for src in s.sources)
    assert m_pmf is not None
    assert s_pmf is not None
    shape, scale = 1 / 0.5**2, 1000 * 0.5**2
    for owner, pmf, share in (("marketing", m_pmf, 0.6), ("sales", s_pmf, 0.4)):
        w = np.arange(len(pmf))
        sf = np.where(w > 0, stats.gamma.sf(30_000 * share / scale, np.maximum(w, 1) * shape), 0)
        exact = float(pmf @ sf)
        se = math.sqrt(exact * (1 - exact) / TRIALS)
        assert abs(res.owners[owner].p_hit - exact) <= Z * se, owner
    expected_mean = 1000 * (150 * 0.5 * 0.3 + 80 * 0.25)
    assert abs(res.total.mean - expected_mean) <= Z * res.outcomes.std() / math.sqrt(TRIALS)


def test_same_seed_same_bits_other_seed_differs(seed: Scenario) -> None:
    a = simulate(seed, trials=20_000, seed=42)
    b = simulate(seed, trials=20_000, seed=42)
    c = simulate(seed, trials=20_000, seed=43)
    assert np.array_equal(a.outcomes, b.outcomes)
    assert a.to_dict() == b.to_dict()
    assert not np.array_equal(a.outcomes, c.outcomes)


@given(step=st.floats(0.001, 0.1), base=st.floats(0.2, 0.8))
def test_common_random_numbers_make_moves_monotone(step: float, base: float) -> None:
    """Raising a rate never lowers any trial's wins, and a small move changes P(hit) a little."""
    data = one_source(
        {"mean": 164, "dist": "poisson"},
        [{"mean": base}, {"mean": 0.5}, {"mean": 0.45, "n": 80}],
        target=25,
    ).to_dict()
    low = simulate(parse_scenario(data), trials=20_000, seed=3)
    data["sources"][0]["rates"][0]["mean"] = base + step
    high = simulate(parse_scenario(data), trials=20_000, seed=3)
    assert np.all(high.outcomes >= low.outcomes)
    changed = np.mean(high.outcomes != low.outcomes)
    # A move of `step` shifts the mean by about 27.7 * step / base wins; few trials jump more.
    assert changed <= min(1.0, 4 * (164 * 0.5 * 0.45 * step + 0.02))
    assert high.p_hit >= low.p_hit


def test_adding_a_source_keeps_the_others_draws(seed: Scenario) -> None:
    data = seed.to_dict()
    before = simulate(seed, trials=10_000, seed=9)
    data["sources"].append(
        {
            "name": "Events",
            "owner": "marketing",
            "stages": ["MQL", "Won"],
            "volume": {"mean": 0, "dist": "fixed"},
            "rates": [{"mean": 0.1}],
        }
    )
    after = simulate(parse_scenario(data), trials=10_000, seed=9)
    assert np.array_equal(before.outcomes, after.outcomes)


def test_summary_statistics_follow_their_definitions(seed: Scenario) -> None:
    res = simulate(seed, trials=50_000, seed=2)
    x = res.outcomes
    assert res.total.mean == pytest.approx(x.mean())
    for q, v in ((0.1, res.total.p10), (0.5, res.total.p50), (0.9, res.total.p90)):
        assert v == np.quantile(x, q, method="inverted_cdf")
    assert res.total.p_hit == np.mean(x >= 55)
    assert res.owners["marketing"].p_hit == np.mean(res.owner_outcomes["marketing"] >= 28)
    assert res.p_hit_se == pytest.approx(math.sqrt(res.p_hit * (1 - res.p_hit) / 50_000))
    _left, _right, prob = res.distribution()
    assert prob.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("trials", [0, 99, 5_000_001, -5])
def test_trials_out_of_range_name_the_field(seed: Scenario, trials: int) -> None:
    with pytest.raises(ValueError, match="^trials: must be between 100 and 5000000"):
        simulate(seed, trials=trials)


@pytest.mark.parametrize("bad", [1.5, "100", True])
def test_trials_must_be_whole(seed: Scenario, bad: object) -> None:
    with pytest.raises(ValueError, match="^trials: must be a whole number"):
        simulate(seed, trials=bad)  # type: ignore[arg-type]


def test_seed_must_be_non_negative(seed: Scenario) -> None:
    with pytest.raises(ValueError, match="^seed:"):
        simulate(seed, trials=1000, seed=-1)


# ---- the exact result (no simulation noise) ---------------------------------------------------
def test_exact_total_is_the_convolution_of_the_scipy_laws() -> None:
    """Poisson(100) x 0.3 (marketing) + Binomial(80, 0.25) (sales): Poisson(30) + Bin(80, .25)."""
    data = {
        "schema_version": 1,
        "name": "Two",
        "quarter": "2027-Q1",
        "metric": "customers",
        "target": 48,
        "marketing_share": 0.6,
        "sources": [
            {
                "name": "In",
                "owner": "marketing",
                "stages": ["A", "B", "C"],
                "volume": {"mean": 100, "dist": "poisson"},
                "rates": [{"mean": 0.6}, {"mean": 0.5}],
            },
            {
                "name": "Out",
                "owner": "sales",
                "stages": ["A", "B"],
                "volume": {"mean": 80, "dist": "fixed"},
                "rates": [{"mean": 0.25}],
            },
        ],
    }
    result = exact(parse_scenario(data))
    assert result is not None
    assert result.exact
    assert result.p_hit_se == 0
    k = np.arange(200)
    law = np.convolve(stats.poisson.pmf(k, 30), stats.binom.pmf(np.arange(81), 80, 0.25))
    assert result.total.p_hit == pytest.approx(law[48:].sum(), abs=1e-10)
    assert result.total.mean == pytest.approx(50, abs=1e-8)
    cdf = np.cumsum(law)
    assert result.total.p50 == np.searchsorted(cdf, 0.5)
    assert result.owners["marketing"].p_hit == pytest.approx(stats.poisson.sf(48 * 0.6 - 1e-9, 30))
    assert result.owners["sales"].p_hit == pytest.approx(
        stats.binom.sf(math.ceil(48 * 0.4) - 1, 80, 0.25)
    )
    assert result.distribution()[2].sum() == pytest.approx(1)


def test_exact_agrees_with_the_simulation_within_its_standard_error(seed: Scenario) -> None:
    sim_result = simulate(seed, trials=400_000, seed=5)
    exact_result = exact(seed)
    assert exact_result is not None
    assert abs(sim_result.p_hit - exact_result.p_hit) < 4 * sim_result.p_hit_se
    for owner in ("marketing", "sales"):
        p = exact_result.owners[owner].p_hit
        se = math.sqrt(p * (1 - p) / 400_000)
        assert abs(sim_result.owners[owner].p_hit - p) < 4 * se
    assert abs(sim_result.total.mean - exact_result.total.mean) < 0.05


def test_exact_is_none_for_bookings_and_untabulated_sources() -> None:
    bookings = one_source(
        {"mean": 50, "dist": "poisson"},
        [{"mean": 0.5}],
        metric="bookings",
        deal_size={"mean": 1000, "cv": 0.5},
    )
    assert exact(bookings) is None
    huge = one_source({"mean": 900_000, "dist": "poisson"}, [{"mean": 0.5, "n": 10}])
    assert exact(huge) is None
