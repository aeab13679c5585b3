"""The Assumptions page driven like a leader: load history, read the flags, apply, plan."""

from __future__ import annotations

from app_helpers import ROOT, metric
from streamlit.testing.v1 import AppTest

from sim import load_scenario
from sim.calibrate import apply_calibration, calibrate, read_history
from sim.lags import fit_lags
from sim.sensitivity import confidence_plan, tornado
from sim.signal import signals
from ui.shell import SEED_FILE

PAGE = "pages/1_Assumptions.py"
LEADS = (ROOT / "examples" / "history-leads.csv").read_bytes()
COUNTS = (ROOT / "examples" / "history-quarterly.csv").read_bytes()
SEED = load_scenario(SEED_FILE)
CAL = calibrate(read_history(LEADS))


def open_page() -> AppTest:
    """Start where a leader starts (the Plan page), then open Assumptions from the sidebar."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90).run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements).replace("\\", "")


def test_opens_with_the_sensitivity_of_the_current_plan() -> None:
    at = open_page()
    t = tornado(SEED, trials=20_000, seed=0)
    assert texts(at.markdown).count(t.summary()) == 1
    cp = confidence_plan(SEED, "volume:marketing", 0.8)
    assert metric(at, "To be 80% sure") == cp.fmt(cp.needed)
    assert metric(at, "Point-estimate plan") == cp.fmt(cp.point_estimate)
    assert len(at.get("plotly_chart")) == 2  # tornado and heatmap; no history yet
    assert not at.error


def test_example_history_is_calibrated_flagged_and_applied() -> None:
    at = open_page()
    at.button(key="assumptions_example").click().run()
    assert not at.exception
    assert f"{CAL.history.rows_read:,} rows read" in texts(at.success)
    warnings = texts(at.warning)
    assert warnings.count("Inbound · MQL → SQL was ") == 1  # the one alarm: the true drop
    assert "(7 quarters) and 39% of 150 in 2026-Q4" in warnings
    assert "flagged as a real drop" in warnings
    assert signals(CAL).alarm_sentences()[0].replace("\\", "") in warnings
    captions = texts(at.caption)
    assert "5 rates are checked as one family (Holm's correction)" in captions
    assert "at most 5%" in captions
    assert "For exploring, not alarms: every quarter against the one before" in captions
    assert "None of the quarter-to-quarter moves stands out from noise." in texts(at.markdown)
    before = at.session_state["scenario"]
    assert before == SEED
    at.button(key="assumptions_apply").click().run()
    assert not at.exception
    history = read_history(LEADS)  # a lead export: rates corrected for young cohorts
    expected = apply_calibration(SEED, calibrate(history, lags=fit_lags(history))).scenario
    assert at.session_state["scenario"] == expected
    assert at.session_state["scenario_rev"] == 1
    fitted = CAL.sources[0].rates[0].rate().mean
    assert f"MQL → SQL rate: 75.0% (known exactly) → {fitted:.1%}" in texts(at.success)
    # the sensitivity below now describes the calibrated plan
    assert tornado(expected, trials=20_000, seed=0).summary() in texts(at.markdown)


def test_applied_history_changes_the_plan_page() -> None:
    at = open_page()
    at.button(key="assumptions_example").click().run()
    at.button(key="assumptions_apply").click().run()
    at.switch_page("app.py").run()
    assert not at.exception
    fitted = CAL.sources[0].rates[0].rate().mean
    assert at.slider(key="plan_s0_rate0").value == round(100 * fitted)
    assert at.session_state["scenario"].sources[0].rates[0].mean == fitted


def test_only_the_chosen_parts_are_applied_with_recent_quarters_weighted() -> None:
    at = open_page()
    at.file_uploader(key="assumptions_upload").set_value(("h.csv", COUNTS, "text/csv")).run()
    assert "56 rows read" in texts(at.success)
    at.toggle(key="assumptions_recent").set_value(True).run()
    at.number_input(key="assumptions_half_life").set_value(1).run()
    at.multiselect(key="assumptions_parts").set_value(["rates"]).run()
    at.button(key="assumptions_apply").click().run()
    new = at.session_state["scenario"]
    expected = apply_calibration(
        SEED, calibrate(read_history(COUNTS), half_life=1), parts=["rates"]
    ).scenario
    assert new == expected
    assert new.sources[0].volume == SEED.sources[0].volume
    assert new.sources[0].rates[0].mean < 0.55  # the last quarter's drop weighs more


def test_bad_history_names_rows_and_columns_and_changes_nothing() -> None:
    at = open_page()
    bad = LEADS.decode().replace("2026-10-", "2026-13-", 1).encode()
    at.file_uploader(key="assumptions_upload").set_value(("crm.csv", bad, "text/csv")).run()
    assert not at.exception
    error = texts(at.error)
    assert "Nothing was imported from crm.csv" in error
    assert "column" in error
    assert "not a date" in error
    assert "row " in error
    assert not _has(at, "assumptions_apply")
    assert at.session_state["scenario"] == SEED
    # Skipping the bad rows imports the rest and lists what was left out.
    at.checkbox(key="assumptions_skip").check().run()
    assert "left out" in texts(at.success)
    assert _has(at, "assumptions_apply")


def _has(at: AppTest, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_oversized_and_wrong_files_are_refused() -> None:
    at = open_page()
    huge = b"source,mql_date,sql_date\n" + b"Web,2026-01-01,2026-01-02\n" * 2_000_000
    at.file_uploader(key="assumptions_upload").set_value(("big.csv", huge, "text/csv")).run()
    assert "larger than the 25 MB limit" in texts(at.error)
    assert not _has(at, "assumptions_apply")
    at.file_uploader(key="assumptions_upload").set_value(("x.csv", b"a,b\n1,2\n", "text/csv")).run()
    assert not at.exception
    assert "no source column" in texts(at.warning)
    assert not _has(at, "assumptions_apply")
    assert at.session_state["scenario"] == SEED


def test_columns_with_other_names_are_matched_by_hand() -> None:
    renamed = LEADS.decode().replace(
        "lead_id,source,created,mql_date,sql_date,opportunity_date,won_date,amount",
        "id,channel,born,m,s,o,w,value",
        1,
    )
    at = open_page()
    at.file_uploader(key="assumptions_upload").set_value(
        ("crm.csv", renamed.encode(), "text/csv")
    ).run()
    assert not _has(at, "assumptions_apply")
    at.selectbox(key="assumptions_col_source").set_value("channel").run()
    at.selectbox(key="assumptions_col_amount").set_value("value").run()
    at.multiselect(key="assumptions_col_stages").set_value(["m", "s", "o", "w"]).run()
    assert not at.exception
    assert _has(at, "assumptions_apply")
    assert f"{CAL.history.rows_read:,} rows read" in texts(at.success)


def test_heatmap_axes_and_confidence_plan_follow_the_controls() -> None:
    at = open_page()
    at.slider(key="assumptions_confidence").set_value(90).run()
    cp = confidence_plan(SEED, "volume:marketing", 0.9)
    assert metric(at, "To be 90% sure") == cp.fmt(cp.needed)
    at.selectbox(key="assumptions_lever").set_value("sources[0].rates[0].mean").run()
    at.radio(key="assumptions_goal").set_value("total").run()
    cp = confidence_plan(SEED, "sources[0].rates[0].mean", 0.9, "total")
    assert metric(at, "To be 90% sure") == cp.fmt(cp.needed)
    at.selectbox(key="assumptions_heat_y").set_value("sources[0].volume.mean").run()
    assert "Pick two different assumptions" in texts(at.info)
    assert not at.exception
