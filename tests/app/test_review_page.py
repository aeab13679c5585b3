"""The Review page: actuals in, verdict, waterfall and re-forecast out; bad files named."""

from __future__ import annotations

from app_helpers import ROOT, run_page
from streamlit.testing.v1 import AppTest

ACTUALS = (ROOT / "examples" / "actuals-2027-Q1.csv").read_bytes()
WEEK6 = (ROOT / "examples" / "actuals-2027-Q1-week6.csv").read_bytes()


def open_review() -> AppTest:
    at = run_page()
    at.switch_page("pages/3_Review.py").run()
    assert not at.exception, at.exception
    return at


def upload(at: AppTest, name: str, content: bytes) -> None:
    at.file_uploader(key="review_upload").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception


def value(at: AppTest, label_start: str) -> str:
    return next(str(m.value) for m in at.metric if m.label.startswith(label_start))


def test_closed_quarter_verdict_names_the_stage_and_owner() -> None:
    at = open_review()
    upload(at, "actuals.csv", ACTUALS)
    verdict = at.subheader[0].value
    assert verdict.startswith("Missed the number by 12 customers")
    assert "MQL→SQL \\(sales follow\\-up\\)" in verdict
    assert value(at, "Hit the number?") == "No"
    assert len(at.get("plotly_chart")) == 1  # the waterfall (pacing is for open quarters)
    assert not at.error


def test_mid_quarter_reforecast_and_editing_moves_it() -> None:
    at = open_review()
    upload(at, "week6.csv", WEEK6)
    assert at.slider(key="review_week").value == 6
    before = float(value(at, "Chance we still hit").rstrip("%"))
    at.slider(key="review_week").set_value(9).run()
    later = float(value(at, "Chance we still hit").rstrip("%"))
    assert later < before  # the same counts three weeks later are further behind
    assert not at.error


def test_bad_csv_is_named_and_nothing_changes() -> None:
    at = open_review()
    upload(at, "actuals.csv", ACTUALS)
    verdict = at.subheader[0].value
    upload(at, "bad.csv", b"source,stage,count\nInbound,MQL,-3\n")
    assert any("row 2, count: -3 is negative" in e.value for e in at.error)
    assert at.subheader[0].value == verdict


def test_follow_up_compliance_section() -> None:
    at = open_review()
    at.file_uploader(key="review_activity").set_value(
        ("activity.csv", (ROOT / "examples" / "activity-2027-Q1.csv").read_bytes(), "text/csv")
    ).run()
    assert not at.exception, at.exception
    within = float(value(at, "MQLs worked within the SLA").rstrip("%"))
    worked = float(value(at, "MQL→SQL when worked").rstrip("%"))
    not_worked = float(value(at, "MQL→SQL when not worked").rstrip("%"))
    assert 0 < within < 100
    assert worked > not_worked
    at.file_uploader(key="review_activity").set_value(
        ("bad.csv", b"lead,rep\nA,Ana\n", "text/csv")
    ).run()
    assert any("columns: missing mql_time" in e.value for e in at.error)
