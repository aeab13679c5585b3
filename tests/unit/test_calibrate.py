"""Calibration from history: honest intervals, both file shapes, bad input, applying a fit."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import load_scenario
from sim.calibrate import (
    MAX_HISTORY_BYTES,
    CalibrationError,
    CountsColumns,
    LeadColumns,
    apply_calibration,
    calibrate,
    detect_format,
    detect_lead_columns,
    fit_deal_amounts,
    fit_deal_totals,
    fit_volume,
    plural,
    problems_table,
    read_header,
    read_history,
    read_history_file,
    recency_weights,
    stage_name,
)
from sim.models import ScenarioError
from sim.signal import signals

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SEED = load_scenario(EXAMPLES / "seed-sla.json")
LEADS = (EXAMPLES / "history-leads.csv").read_text()
COUNTS = (EXAMPLES / "history-quarterly.csv").read_text()


def _make_history():  # examples/ is not a package: load the documented generator by path
    spec = importlib.util.spec_from_file_location("make_history", EXAMPLES / "make_history.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MH = _make_history()


def _quarter(i: int) -> str:
    return f"{2020 + i // 4}-Q{i % 4 + 1}"


def _counts_csv(rows: list[tuple[str, str, str, int]]) -> str:
    return "quarter,source,stage,count\n" + "\n".join(f"{q},{s},{st},{c}" for q, s, st, c in rows)


# ---- The example files -------------------------------------------------------------------------


def test_example_files_are_what_the_documented_generator_writes() -> None:
    leads = MH.make_leads()
    assert MH.to_csv(MH.LEAD_HEADER, leads) == LEADS
    assert MH.to_csv(MH.COUNTS_HEADER, MH.quarterly(leads)) == COUNTS


def test_both_shapes_of_the_example_give_the_same_counts_and_fit() -> None:
    by_leads = calibrate(read_history(LEADS))
    by_counts = calibrate(read_history(COUNTS))
    assert by_leads.history.format == "leads"
    assert by_counts.history.format == "counts"
    for name in ("Inbound", "Outbound"):
        a, b = by_leads.history.source(name), by_counts.history.source(name)
        assert a.stages == b.stages
        assert a.quarters == b.quarters
        np.testing.assert_array_equal(a.counts, b.counts)
        for ra, rb in zip(by_leads.source(name).rates, by_counts.source(name).rates, strict=True):
            assert (ra.alpha, ra.beta) == (rb.alpha, rb.beta)
    # Same bookings either way: quarter totals add up to the won amounts.
    total = sum(s.amounts.sum() for s in by_leads.history.sources)
    assert total == pytest.approx(sum(np.nansum(s.bookings) for s in by_counts.history.sources))


def test_example_calibration_recovers_the_truth() -> None:
    cal = calibrate(read_history(LEADS))
    truth = MH.TRUTH
    for name, spec in truth["sources"].items():
        fit = cal.source(name)
        assert list(fit.stages) == spec["stages"]
        for j, rf in enumerate(fit.rates):
            # the truth this history was drawn from, weighted by each quarter's leads
            true = sum(
                n * MH.true_rate(truth, name, j, q)
                for q, n in zip(rf.quarters, rf.leads, strict=True)
            ) / sum(rf.leads)
            sd = stats.beta(rf.alpha, rf.beta).std()
            assert abs(rf.mean - true) < 4 * sd, (name, rf.label, rf.mean, true)
    deal = cal.deal_size
    assert deal is not None
    assert deal.basis == "deals"
    se = truth["deal_size"]["mean"] * truth["deal_size"]["cv"] / math.sqrt(deal.deals)
    assert abs(deal.mean - truth["deal_size"]["mean"]) < 4 * se
    assert deal.cv == pytest.approx(truth["deal_size"]["cv"], abs=0.1)
    # Leads that never became MQLs are reported, not silently lost.
    assert any("never entered the funnel" in p.reason for p in cal.history.dropped)


# ---- Honest intervals ---------------------------------------------------------------------------

TRUE_RATES = (0.57, 0.50, 0.45)


def _simulated_counts(rng: np.random.Generator, quarters: int, mean: float, cv: float) -> str:
    rows = []
    for q in range(quarters):
        n = int(rng.poisson(rng.gamma(1 / cv**2, mean * cv**2)))
        counts = [n]
        for p in TRUE_RATES:
            counts.append(int(rng.binomial(counts[-1], p)))
        rows += [(_quarter(q), "S", st, c) for st, c in zip("ABCD", counts, strict=True)]
    return _counts_csv(rows)


@pytest.mark.parametrize(("quarters", "mean"), [(6, 150.0), (3, 25.0)])
def test_80_percent_intervals_cover_the_true_rate_80_percent_of_the_time(
    quarters: int, mean: float
) -> None:
    """1,000 histories from known rates through the whole import: coverage 80% ± 3 points.

    The standard error of one rate's coverage over 1,000 histories is 1.3 points and of the
    three rates pooled 0.73, so ±3 points is more than 2 and 4 standard errors respectively.
    """
    rng = np.random.default_rng(20260301)
    reps = 1000
    hits = np.zeros((reps, len(TRUE_RATES)), dtype=bool)
    for r in range(reps):
        cal = calibrate(read_history(_simulated_counts(rng, quarters, mean, 0.2)))
        for j, rf in enumerate(cal.sources[0].rates):
            lo, hi = rf.interval(0.8)
            hits[r, j] = lo <= TRUE_RATES[j] <= hi
    assert abs(hits.mean() - 0.8) <= 0.03
    for j in range(len(TRUE_RATES)):
        assert abs(hits[:, j].mean() - 0.8) <= 0.03 + 1e-12, (j, hits[:, j].mean())


def test_recency_weighting_is_conservative_on_stable_rates() -> None:
    """Down-weighting old quarters loses evidence, so intervals widen: coverage at least 80%."""
    rng = np.random.default_rng(7)
    reps = 600
    covered = 0
    for _ in range(reps):
        cal = calibrate(read_history(_simulated_counts(rng, 6, 150.0, 0.2)), half_life=2)
        lo, hi = cal.sources[0].rates[0].interval(0.8)
        covered += lo <= TRUE_RATES[0] <= hi
    se = math.sqrt(0.8 * 0.2 / reps)
    assert covered / reps >= 0.8 - 4 * se


def test_recency_weights_halve_every_half_life() -> None:
    w = recency_weights(["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"], "2026-Q4", 1.0)
    np.testing.assert_allclose(w, [0.125, 0.25, 0.5, 1.0])
    assert recency_weights(["2026-Q1"], "2026-Q4", None).tolist() == [1.0]
    # A drop in the last quarter pulls the weighted rate down and lowers the evidence.
    rows = []
    for q, k in enumerate([60, 60, 60, 40]):
        rows += [(_quarter(q), "S", "MQL", 100), (_quarter(q), "S", "SQL", k)]
    history = read_history(_counts_csv(rows))
    flat, recent = calibrate(history), calibrate(history, half_life=1)
    assert recent.sources[0].rates[0].mean < flat.sources[0].rates[0].mean
    assert recent.sources[0].rates[0].evidence < flat.sources[0].rates[0].evidence
    with pytest.raises(CalibrationError, match="half_life"):
        calibrate(history, half_life=0)


def test_beta_posterior_is_jeffreys_plus_the_counts() -> None:
    rows = [(_quarter(0), "S", "MQL", 100), (_quarter(0), "S", "SQL", 57)]
    rf = calibrate(read_history(_counts_csv(rows))).sources[0].rates[0]
    assert (rf.alpha, rf.beta) == (57.5, 43.5)
    assert rf.interval(0.8) == pytest.approx(stats.beta(57.5, 43.5).ppf([0.1, 0.9]))
    rate = rf.rate()
    assert rate.mean == round(57.5 / 101, 4)
    assert rate.n == 101


# ---- Volume and deal size ----------------------------------------------------------------------


def test_volume_overdispersion_is_recovered() -> None:
    """cv of a negbin volume over 2,000 quarters; its SE there is about 0.0053 (measured over
    300 replications), so 0.025 is over 4 SE."""
    rng = np.random.default_rng(11)
    x = rng.poisson(rng.gamma(1 / 0.3**2, 150 * 0.3**2, 2000))
    mean, var, cv = fit_volume(x)
    assert abs(mean - 150) < 4 * math.sqrt(var / len(x))
    assert cv is not None
    assert abs(cv - 0.3) < 0.025


def test_poisson_volume_is_not_called_overdispersed() -> None:
    rng = np.random.default_rng(12)
    estimates = [fit_volume(rng.poisson(150, 2000))[2] for _ in range(20)]
    assert all(cv is None or cv < 0.02 for cv in estimates)
    assert fit_volume(np.array([150]))[2] is None  # one quarter: no spread to measure


def test_deal_size_from_deals_matches_the_gamma() -> None:
    rng = np.random.default_rng(13)
    amounts = rng.gamma(1 / 0.6**2, 30000 * 0.6**2, 4000)
    mean, cv = fit_deal_amounts(amounts)
    assert abs(mean - 30000) < 4 * 30000 * 0.6 / math.sqrt(4000)
    assert cv is not None
    assert abs(cv - 0.6) < 0.03  # SE of the sample CV here is about 0.008


def test_deal_size_from_quarter_totals_is_unbiased_on_average() -> None:
    """sum W (avg - mean)^2 / (groups - 1) estimates the deal variance without bias."""
    rng = np.random.default_rng(14)
    shape, scale = 1 / 0.6**2, 30000 * 0.6**2
    variances = []
    for _ in range(400):
        wins = rng.poisson(25, 12) + 1
        bookings = np.array([rng.gamma(shape * w, scale) for w in wins])  # sum of w deals
        mean, cv = fit_deal_totals(bookings, wins)
        assert cv is not None
        variances.append((cv * mean) ** 2)
    v = np.array(variances)
    truth = (0.6 * 30000) ** 2
    assert abs(v.mean() - truth) < 4 * v.std(ddof=1) / math.sqrt(len(v))


def test_deal_histogram_integrates_to_one_with_its_curve() -> None:
    deal = calibrate(read_history(LEADS)).deal_size
    assert deal is not None
    h = deal.histogram(25)
    assert np.sum(h.density * np.diff(h.edges)) == pytest.approx(1.0)
    assert np.trapezoid(h.pdf, h.x) == pytest.approx(1.0, abs=0.02)


# ---- Reading: mapping, formats ------------------------------------------------------------------


def test_headers_format_and_stage_names_are_detected() -> None:
    assert read_header(LEADS.encode()) == tuple(MH.LEAD_HEADER)
    assert detect_format(MH.LEAD_HEADER) == "leads"
    assert detect_format(MH.COUNTS_HEADER) == "counts"
    cols = detect_lead_columns(MH.LEAD_HEADER)
    assert cols.stages == (
        ("MQL", "mql_date"),
        ("SQL", "sql_date"),
        ("Opportunity", "opportunity_date"),
        ("Won", "won_date"),
    )
    assert (cols.source, cols.created, cols.amount) == ("source", "created", "amount")
    assert stage_name("Closed Won Date") == "Closed Won"
    assert plural("Opportunity") == "Opportunities"
    assert plural("MQL") == "MQLs"


def test_renamed_columns_are_mapped_by_hand() -> None:
    renamed = LEADS.replace(
        "lead_id,source,created,mql_date,sql_date,opportunity_date,won_date,amount",
        "ID;Channel;Created on;Marketing qualified;Sales qualified;Opp;Closed;Value",
        1,
    )
    renamed = "\n".join(line.replace(",", ";") for line in renamed.splitlines())
    mapping = LeadColumns(
        source="Channel",
        created="Created on",
        amount="Value",
        stages=(
            ("MQL", "Marketing qualified"),
            ("SQL", "Sales qualified"),
            ("Opportunity", "Opp"),
            ("Won", "Closed"),
        ),
    )
    mapped = read_history(renamed.encode(), "leads", columns=mapping)
    plain = read_history(LEADS)
    for a, b in zip(mapped.sources, plain.sources, strict=True):
        np.testing.assert_array_equal(a.counts, b.counts)
        np.testing.assert_array_equal(a.amounts, b.amounts)
    with pytest.raises(CalibrationError, match=r"'Stage 2' \(mapped to stage SQL\) is not in"):
        read_history(
            renamed,
            "leads",
            columns=LeadColumns(source="Channel", stages=(("MQL", "Opp"), ("SQL", "Stage 2"))),
        )


def test_counts_file_with_other_headers_and_quarter_spellings() -> None:
    text = "Period,Channel,Funnel stage,Leads\nQ1 2026,Web,MQL,100\n2026Q2,Web,MQL,90\n"
    text += "Q1 2026,Web,SQL,60\n2026Q2,Web,SQL,45\n"
    cols = CountsColumns(quarter="Period", source="Channel", stage="Funnel stage", count="Leads")
    h = read_history(text, "counts", columns=cols)
    assert h.sources[0].quarters == ("2026-Q1", "2026-Q2")
    assert h.sources[0].counts.tolist() == [[100, 60], [90, 45]]


def test_dates_in_day_month_year_and_utf8_bom_and_latin1() -> None:
    text = (
        "source,created,mql_date,sql_date,amount\n"
        "Web,01/02/2026,02/02/2026,20/02/2026,\n"
        "Web,01/05/2026,03/05/2026,,\n"
    )
    h = read_history(("\ufeff" + text).encode(), date_format="%d/%m/%Y")
    assert h.sources[0].quarters == ("2026-Q1", "2026-Q2")
    assert h.sources[0].counts.tolist() == [[1, 1], [1, 0]]
    latin = read_history(text.replace("Web", "Caf\xe9").encode("latin-1"), date_format="%d/%m/%Y")
    assert latin.sources[0].name == "Caf\xe9"
    assert any("Latin-1" in n for n in latin.notes)


# ---- Bad input: named rows and columns, nothing imported -----------------------------------------

GOOD_LEADS = (
    "source,created,mql_date,sql_date,won_date,amount\n"
    "Web,2026-01-02,2026-01-03,2026-01-10,2026-02-01,1000\n"
    "Web,2026-01-04,2026-01-05,,,\n"
    "Web,2026-04-04,2026-04-05,2026-04-07,,\n"
)
GOOD_COUNTS = "quarter,source,stage,count\n2026-Q1,Web,MQL,100\n2026-Q1,Web,SQL,60\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file: empty"),
        ("\n\n", "file: empty"),
        ("quarter,source,stage,count\n", "no data rows"),
        ("a,b,c\n1,2,3\n", "columns: no source column"),
        ("quarter,source,count\n2026-Q1,Web,3\n", "columns: found 0 stage date columns"),
        (
            "source,mql_date,sql_date\nWeb,2026-01-01\nWeb,2026-01-01,2026-01-02,x\n",
            "row 3: 4 values",
        ),
        ("source,mql_date,,sql_date\nWeb,2026-01-01,,\n", "column 3 has no name"),
        ("source,mql_date,MQL_date\nWeb,2026-01-01,\n", "appears twice"),
        (
            GOOD_LEADS.replace("2026-01-10", "next week"),
            "row 2, column sql_date: not a date (e.g. 'next week')",
        ),
        (
            GOOD_LEADS.replace("2026-01-10", "2026-01-01"),
            "row 2, column sql_date: the SQL date is before an earlier stage's date",
        ),
        (
            GOOD_LEADS.replace("2026-01-02,2026-01-03", "2026-01-09,2026-01-03"),
            "row 2, column created: created after the lead reached its first stage",
        ),
        (GOOD_LEADS.replace(",1000", ",-1000"), "row 2, column amount: negative amount"),
        (GOOD_LEADS.replace(",1000", ",lots"), "row 2, column amount: not an amount (e.g. 'lots')"),
        (
            GOOD_LEADS + "Web,2026-01-04,2026-01-05,,2026-03-01,\n",
            "row 5, column sql_date: empty, but the lead reached a later stage (skipped SQL)",
        ),
        (GOOD_LEADS + ",2026-01-04,2026-01-05,,,\n", "row 5, column source: no source name"),
        (
            GOOD_COUNTS.replace("60", "160"),
            "rows 2, 3, column count: Web 2026-Q1: SQL (160) is more",
        ),
        (GOOD_COUNTS.replace("2026-Q1,Web,SQL", "2026-13,Web,SQL"), "row 3, column quarter: not a"),
        (GOOD_COUNTS.replace("60", "6o"), "row 3, column count: not a number (e.g. '6o')"),
        (GOOD_COUNTS.replace("60", "-6"), "row 3, column count: negative count"),
        (GOOD_COUNTS.replace("60", "6.5"), "row 3, column count: not a whole number"),
        (GOOD_COUNTS + "2026-Q1,Web,SQL,50\n", "rows 3, 4, column stage: Web 2026-Q1 SQL appears"),
        (
            GOOD_COUNTS + "2026-Q2,Web,MQL,50\n",
            "row 4, column stage: Web 2026-Q2 has no row for SQL",
        ),
        (
            "quarter,source,stage,count,bookings\n2026-Q1,Web,MQL,100,\n2026-Q1,Web,Won,6,-5\n",
            "row 3, column bookings: negative amount",
        ),
    ],
)
def test_bad_input_names_rows_and_columns_and_imports_nothing(text: str, expected: str) -> None:
    with pytest.raises(CalibrationError) as err:
        read_history(text.encode())
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_oversized_and_binary_uploads_are_refused_before_parsing() -> None:
    fifty_mb = b"source,mql_date,sql_date\n" + b"Web,2026-01-01,2026-01-02\n" * 2_000_000
    assert len(fifty_mb) > 50_000_000
    with pytest.raises(CalibrationError, match=r"file: 52\.0 MB is larger than the 25 MB limit"):
        read_history(fifty_mb)
    with pytest.raises(CalibrationError, match="binary"):
        read_history(b"PK\x03\x04\x00\x00" + b"\x00" * 100)
    assert len(fifty_mb) > MAX_HISTORY_BYTES


def test_oversized_file_on_disk_is_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(MAX_HISTORY_BYTES + 1)
    with pytest.raises(CalibrationError, match="larger than the 25 MB limit"):
        read_history_file(big)


def test_problems_list_every_row_and_skipping_leaves_them_out() -> None:
    bad = GOOD_LEADS + "".join(
        f"Web,2026-01-01,2026-01-0{d},2026-01-0{d - 1},,\n" for d in range(5, 9)
    )
    with pytest.raises(CalibrationError) as err:
        read_history(bad)
    assert "4 of 7 rows have problems, so nothing was imported" in str(err.value)
    (problem,) = err.value.problems
    assert problem.rows == (5, 6, 7, 8)
    assert problem.column == "sql_date"
    assert problems_table(err.value.problems, limit=2) == [
        {"Rows": "5, 6 …", "Column": "sql_date", "Why": problem.reason}
    ]
    skipped = read_history(bad, skip_bad_rows=True)
    assert skipped.rows_used == 3
    assert skipped.dropped[0].rows == (5, 6, 7, 8)
    assert skipped.sources[0].counts.sum() == read_history(GOOD_LEADS).sources[0].counts.sum()


def test_skipping_bad_count_rows_drops_the_whole_quarter_of_that_source() -> None:
    text = GOOD_COUNTS + "2026-Q2,Web,MQL,50\n2026-Q2,Web,SQL,70\n"
    h = read_history(text, skip_bad_rows=True)
    assert h.sources[0].quarters == ("2026-Q1",)
    assert h.dropped[0].rows == (4, 5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_give_a_history_or_a_calibration_error(data: bytes) -> None:
    try:
        history, message = read_history(data), ""
    except CalibrationError as exc:
        history, message = None, str(exc)
    assert message if history is None else history.sources


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2026-Q1", "2026-Q2", "Q3 2026", "2026-Q5", ""]),
            st.sampled_from(["Web", "Events", ""]),
            st.sampled_from(["MQL", "SQL", "Won"]),
            st.sampled_from(["0", "5", "50", "-1", "x", "", "7.5"]),
        ),
        max_size=12,
    ),
    st.booleans(),
)
def test_messy_counts_files_never_crash(rows: list[tuple[str, ...]], skip: bool) -> None:
    text = "quarter,source,stage,count\n" + "\n".join(",".join(r) for r in rows)
    try:
        h, message = read_history(text, skip_bad_rows=skip), ""
    except CalibrationError as exc:
        h, message = None, str(exc)
    if h is None:
        assert re.search(r"^(file|columns):|\brows? \d", message), message
        return
    for s in h.sources:
        assert (np.diff(s.counts, axis=1) <= 0).all()
        assert (s.counts >= 0).all()


# ---- Applying -----------------------------------------------------------------------------------


def test_apply_writes_the_fit_into_a_new_validated_scenario() -> None:
    cal = calibrate(read_history(COUNTS))
    applied = apply_calibration(SEED, cal)
    new = applied.scenario
    inbound = cal.source("Inbound")
    assert new.sources[0].rates[0].mean == round(inbound.rates[0].mean, 4)
    assert new.sources[0].rates[0].n == round(inbound.rates[0].evidence, 1)
    assert new.sources[0].volume.dist == ("negbin" if inbound.volume.cv else "poisson")
    assert new.sources[0].volume.mean == round(inbound.volume.mean, 1)
    assert new.deal_size is not None
    assert cal.deal_size is not None
    assert new.deal_size.mean == round(cal.deal_size.mean, 2)
    assert any("MQL → SQL rate: 75.0% (known exactly) →" in c for c in applied.changes)
    assert applied.skipped == ()
    # Validated, round-trips through JSON, and the original is untouched.
    assert load_scenario(EXAMPLES / "seed-sla.json") == SEED
    assert type(new).model_validate_json(new.to_json()) == new
    assert new.target == SEED.target
    assert new.marketing_share == SEED.marketing_share


def test_apply_only_the_parts_asked_for() -> None:
    cal = calibrate(read_history(LEADS))
    rates_only = apply_calibration(SEED, cal, parts=["rates"]).scenario
    assert rates_only.sources[0].volume == SEED.sources[0].volume
    assert rates_only.deal_size == SEED.deal_size
    assert rates_only.sources[0].rates != SEED.sources[0].rates
    spread_only = apply_calibration(SEED, cal, parts=["spread"]).scenario
    assert spread_only.sources[0].volume.mean == SEED.sources[0].volume.mean
    assert spread_only.sources[1].volume.mean == SEED.sources[1].volume.mean  # stays whole
    one_source = apply_calibration(SEED, cal, sources=["Outbound"]).scenario
    assert one_source.sources[0] == SEED.sources[0]
    with pytest.raises(ScenarioError, match="parts: unknown"):
        apply_calibration(SEED, cal, parts=["everything"])


def test_unknown_sources_need_an_owner_and_other_funnels_are_replaced_whole() -> None:
    rows = []
    for q in range(2):
        rows += [(_quarter(q), "Events", "Lead", 80), (_quarter(q), "Events", "MQL", 40)]
        rows += [(_quarter(q), "inbound", "MQL", 150), (_quarter(q), "inbound", "Won", 20)]
    cal = calibrate(read_history(_counts_csv(rows)))
    applied = apply_calibration(SEED, cal)
    assert [s.name for s in applied.scenario.sources] == ["Inbound", "Outbound"]
    assert any("Events: not in the plan" in s for s in applied.skipped)
    assert applied.scenario.sources[0].stages == ["MQL", "Won"]  # name matched, case ignored
    partial = apply_calibration(SEED, cal, parts=["rates"])
    assert partial.scenario.sources[0] == SEED.sources[0]
    assert any("differ from the plan's" in s for s in partial.skipped)
    added = apply_calibration(SEED, cal, owners={"Events": "marketing"}).scenario
    assert added.sources[-1].name == "Events"
    assert added.sources[-1].owner == "marketing"
    assert added.sources[-1].stages == ["Lead", "MQL"]


# ---- Command line --------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_cli_calibrate_json_is_the_calibration_and_its_flags() -> None:
    run = _cli("calibrate", "examples/history-quarterly.csv", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    expected = calibrate(read_history(COUNTS)).to_dict()
    assert {k: out[k] for k in expected} == json.loads(json.dumps(expected))
    assert [(f["source"], f["step"], f["latest_quarter"]) for f in out["flags"]] == [
        ("Inbound", "MQL → SQL", "2026-Q4")
    ]
    sig = signals(calibrate(read_history(COUNTS))).to_dict()
    assert {k: out[k] for k in ("flags", "alarms", "exploration")} == json.loads(json.dumps(sig))
    assert out["alarms"]["rates_checked"] == 5
    assert out["exploration"]["comparisons"] == 35
    text = _cli("calibrate", "examples/history-leads.csv", "--format", "leads")
    assert text.returncode == 0
    assert "MQL → SQL" in text.stdout
    assert "5 rates checked together, at most 5% chance of any false alarm" in text.stdout
    assert "flagged as a real drop" in text.stdout
    assert "Quarter by quarter, for exploring (not alarms; 35 comparisons" in text.stdout


def test_cli_calibrate_apply_prints_a_valid_scenario(tmp_path: Path) -> None:
    run = _cli("calibrate", "examples/history-leads.csv", "--apply", "examples/seed-sla.json")
    assert run.returncode == 0, run.stderr
    out = tmp_path / "calibrated.json"
    out.write_text(run.stdout)
    assert load_scenario(out).sources[0].rates[0].mean < 0.6
    assert "MQL → SQL rate" in run.stderr


def test_cli_calibrate_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD_LEADS.replace("2026-01-10", "soon"))
    run = _cli("calibrate", str(bad))
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.startswith("error: 1 of 3 rows have problems")
    assert "row 2, column sql_date" in run.stderr
    assert run.stderr.count("\n") == 1
    assert "Traceback" not in run.stderr
