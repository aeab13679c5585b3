"""Calibrating the lags (sim/lags.py) against exports generated from known true lags
(examples/make_lag_history.py), and the young-cohort correction of the rates."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim import load_scenario
from sim.calibrate import calibrate, read_history, read_history_file
from sim.lags import StepData, apply_lags, fit_lags, fit_step, kaplan_meier
from sim.models import ScenarioError
from sim.signal import all_trends

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _generator():  # examples/ is not a package: load the documented generator by path
    spec = importlib.util.spec_from_file_location(
        "make_lag_history", EXAMPLES / "make_lag_history.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MLH = _generator()
EXPORT = float(np.datetime64(MLH.EXPORT_DAY, "D").astype(np.int64))


def test_the_example_file_is_what_the_generator_writes() -> None:
    assert (EXAMPLES / "history-lags.csv").read_text() == MLH.to_csv(MLH.make_leads())


def test_the_example_recovers_every_true_lag_inside_its_interval() -> None:
    lags = fit_lags(read_history_file(EXAMPLES / "history-lags.csv"))
    assert lags.as_of == MLH.EXPORT_DAY  # the latest date in the file is the export day
    for name, spec in MLH.TRUTH["sources"].items():
        for fit, truth in zip(lags.sources[name], spec["lags"], strict=True):
            assert fit is not None
            assert fit.low <= truth["median"] <= fit.high, (name, fit.label)
            assert fit.family == truth["dist"]
            assert fit.cv == pytest.approx(truth["cv"], rel=0.25)
            assert fit.waiting > 0  # the export is censored: the newest leads are unfinished


def test_the_interval_covers_the_true_median_at_its_stated_rate() -> None:
    """80% intervals over 60 generated exports (two steps each, one with heavy censoring):
    the hits are Binomial(120, 0.8) if the interval is right; accept within 3.5 SD."""
    truth = {"sources": {"Outbound": MLH.TRUTH["sources"]["Outbound"]}}
    hits = []
    for seed in range(60):
        h = read_history(MLH.to_csv(MLH.make_leads(truth, seed=1000 + seed, scale=0.4)))
        s = h.source("Outbound")
        for j, lag in enumerate(truth["sources"]["Outbound"]["lags"]):
            fit = fit_step(s, j, EXPORT, families=(lag["dist"],))
            assert fit is not None
            hits.append(fit.low <= lag["median"] <= fit.high)
    n, rate = len(hits), 0.8
    sd = math.sqrt(n * rate * (1 - rate))
    assert abs(sum(hits) - n * rate) <= 3.5 * sd, f"{sum(hits)} of {n} intervals cover"


def test_censored_leads_are_unfinished_not_lost() -> None:
    """The naive share of the newest cohort that moved on reads low; the fitted rate does not."""
    h = read_history_file(EXAMPLES / "history-lags.csv")
    fit = fit_lags(h).sources["Outbound"][1]
    assert fit is not None
    naive = calibrate(h).source("Outbound").rates[1]
    true_rate = MLH.TRUTH["sources"]["Outbound"]["rates"][1]
    assert naive.converted[-1] / naive.leads[-1] < true_rate - 0.15  # young: half unfinished
    assert abs(fit.rate - true_rate) < 3 * math.sqrt(true_rate * (1 - true_rate) / fit.leads)


def test_young_cohorts_no_longer_read_as_low_rates() -> None:
    """Over 30 exports, the newest quarter's corrected Opportunity → Won rate is centred on the
    truth (within 4 SE of the mean) while the naive one is well below it."""
    truth = {"sources": {"Outbound": MLH.TRUTH["sources"]["Outbound"]}}
    true_rate = truth["sources"]["Outbound"]["rates"][1]
    naive, fixed = [], []
    for seed in range(30):
        h = read_history(MLH.to_csv(MLH.make_leads(truth, seed=2000 + seed, scale=0.5)))
        plain = calibrate(h).source("Outbound").rates[1]
        corrected = calibrate(h, lags=fit_lags(h)).source("Outbound").rates[1]
        assert corrected.effective is not None
        naive.append(plain.converted[-1] / plain.leads[-1])
        fixed.append(corrected.converted[-1] / corrected.effective[-1])
    se = np.std(fixed) / math.sqrt(len(fixed))
    assert abs(np.mean(fixed) - true_rate) <= 4 * se
    assert np.mean(naive) < true_rate - 0.1


def test_the_example_raises_no_alarm_once_young_cohorts_are_corrected() -> None:
    h = read_history_file(EXAMPLES / "history-lags.csv")
    naive = [t.alarm for t in all_trends(calibrate(h)) if t.flagged]
    fixed = [t.alarm for t in all_trends(calibrate(h, lags=fit_lags(h))) if t.flagged]
    assert naive  # the newest quarter's unfinished deals read as a drop ...
    assert all(a is not None and a.after_quarter == "2026-Q4" and a.after < a.before for a in naive)
    assert fixed == []  # ... and no longer do


def test_kaplan_meier_without_censoring_is_the_empirical_share() -> None:
    rng = np.random.default_rng(0)
    moved = np.round(rng.gamma(2, 5, 400))
    days, share = kaplan_meier(StepData(moved=moved, waiting=np.full(100, 10_000.0)))
    for t in (0, 3, 10, 25):
        assert share[int(t)] == pytest.approx(np.mean(moved <= t) * 400 / 500)
    assert days[0] == 0


def test_fitted_curve_follows_the_history_on_the_example() -> None:
    """r * F(t) against Kaplan-Meier within 4 binomial SE at the median and at twice it."""
    h = read_history_file(EXAMPLES / "history-lags.csv")
    for fit in fit_lags(h).fits():
        for t in (round(fit.median), round(2 * fit.median)):
            km = fit.km_moved[min(t, len(fit.km_moved) - 1)]
            model = fit.rate * float(fit.cdf(t + 0.5))
            se = math.sqrt(max(km * (1 - km), 0.01) / fit.leads)
            assert abs(km - model) <= 4 * se + 0.01, (fit.label, t)


def test_lags_need_a_lead_export_and_a_date() -> None:
    counts = read_history_file(EXAMPLES / "history-quarterly.csv")
    with pytest.raises(ScenarioError, match="^history: the time each step takes needs a lead"):
        fit_lags(counts)
    leads = read_history_file(EXAMPLES / "history-lags.csv")
    with pytest.raises(ScenarioError, match="^as_of: 'soon' is not a date"):
        fit_lags(leads, as_of="soon")


def test_too_few_moves_give_no_fit_and_apply_keeps_the_plans_step() -> None:
    text = "lead_id,source,mql_date,sql_date,won_date\n" + "\n".join(
        f"L{i},Inbound,2026-01-{1 + i % 20:02d},"
        + (f"2026-01-{3 + i % 20:02d}," if i % 2 else ",")
        + ("2026-02-10" if i % 20 == 1 else "")
        for i in range(60)
    )
    h = read_history(text)
    lags = fit_lags(h)
    first, second = lags.sources["Inbound"]
    assert first is not None
    assert second is None  # 3 won: fewer than MIN_MOVED
    plan = load_scenario(EXAMPLES / "seed-sla.json")
    applied = apply_lags(plan, lags)
    assert applied.scenario == plan  # Inbound's stages differ from MQL, SQL, Won: kept
    assert any("differ" in line for line in applied.skipped)


def test_apply_writes_the_fitted_lags_into_matching_sources() -> None:
    plan = load_scenario(EXAMPLES / "seed-sla.json")
    lags = fit_lags(read_history_file(EXAMPLES / "history-lags.csv"))
    applied = apply_lags(plan, lags)
    for source in applied.scenario.sources:
        assert source.lags is not None
        for lag, fit in zip(source.lags, lags.sources[source.name], strict=True):
            assert fit is not None
            assert lag.median == pytest.approx(fit.median, abs=0.05)
    assert applied.scenario.timed
    assert len(applied.changes) == 5
    # The median of the written lag is the fitted one (scipy's law, no grid).
    lag = applied.scenario.sources[1].lags[1]  # type: ignore[index]
    assert stats.lognorm.median(*lag.dist_law().args, **lag.dist_law().kwds) == pytest.approx(
        lag.median
    )
