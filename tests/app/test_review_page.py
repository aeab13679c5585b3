"""The Review page: actuals in, verdict, waterfall and re-forecast out; bad files named."""

from __future__ import annotations

from app_helpers import ROOT, run_page
from streamlit.testing.v1 import AppTest

from sim import load_scenario, parse_scenario
from sim.review import actuals_from_csv
from ui.shell import SEED_FILE
from ui.storage import _open, default_url

SEED = load_scenario(SEED_FILE)

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


def kept() -> list:  # type: ignore[type-arg]
    return _open(default_url()).kept_actuals()


def test_actuals_are_kept_with_the_plan_and_load_back() -> None:
    at = open_review()
    upload(at, "week6.csv", WEEK6)
    at.button(key="review_keep").click().run()
    assert any("Kept: 2027-Q1 actuals to week 6" in s.value for s in at.success)
    (first,) = kept()
    assert first.scenario_id == at.session_state["store_id"]  # the working plan was saved first
    assert first.week == 6
    upload(at, "actuals.csv", ACTUALS)
    at.button(key="review_keep").click().run()
    assert [k.week for k in kept()] == [6, 13]
    table = next(d.value for d in at.dataframe if "Kept by" in d.value.columns)
    assert list(table["Week"]) == ["13 of 13", "6 of 13"]
    at.selectbox(key="review_kept_pick").set_value(0).run()
    at.button(key="review_kept_load").click().run()
    assert not at.exception
    assert at.slider(key="review_week").value == 6
    assert value(at, "Chance we still hit").endswith("%")


def test_invalid_actuals_cannot_be_kept() -> None:
    at = open_review()
    upload(at, "actuals.csv", ACTUALS)
    rows = at.session_state["review_rows"]
    rows[1]["count"] = 500  # more SQLs than MQLs
    at.session_state["review_rows"] = rows
    at.session_state["review_rev"] += 1
    at.run()
    assert any("counts cannot grow down the funnel" in e.value for e in at.error)
    assert at.button(key="review_keep").disabled
    assert kept() == []


def test_reviews_the_agreed_plan_for_the_quarter_by_default() -> None:
    store = _open(default_url())
    agreed = parse_scenario(
        SEED.to_dict() | {"name": "Agreed Q1 plan", "marketing_share": 0.6, "target": 60}
    )
    sid = store.create(agreed, "Maya").scenario_id
    store.agree(sid, 1, ["Maya", "Sam"])
    at = open_review()
    assert at.radio(key="review_against").value == "agreed"
    assert "Agreed Q1 plan" in at.title[0].value
    upload(at, "actuals.csv", ACTUALS)
    at.button(key="review_keep").click().run()
    (k,) = kept()
    assert (k.scenario_id, k.version) == (sid, 1)
    at.radio(key="review_against").set_value("working").run()
    assert "Seed plan" in at.title[0].value


def test_quarter_over_quarter_trend_from_kept_actuals() -> None:
    store = _open(default_url())
    earlier = parse_scenario(SEED.to_dict() | {"name": "Q4 plan", "quarter": "2026-Q4"})
    q4 = store.create(earlier, "Maya").scenario_id
    store.keep_actuals(q4, 1, actuals_from_csv(ACTUALS, earlier), "Maya")
    at = open_review()
    assert any("Keep another quarter" in c.value for c in at.caption)
    upload(at, "actuals.csv", ACTUALS.replace(b"Inbound,MQL,160", b"Inbound,MQL,120"))
    at.button(key="review_keep").click().run()
    trend = next(d.value for d in at.dataframe if "Effect on the number" in d.value.columns)
    assert list(trend["Quarter"]) == ["2026-Q4", "2026-Q4", "2027-Q1", "2027-Q1"]
    marketing = trend[trend["Owner"] == "Marketing"]
    assert list(marketing["Delivered volume"]) == [160, 120]
    effect_q4, effect_q1 = marketing["Effect on the number"]
    assert effect_q1 < effect_q4  # 40 fewer MQLs: marketing's effect falls
    assert len(at.get("plotly_chart")) == 2  # the waterfall and the trend


def test_before_any_actuals_the_page_says_so_and_keeps_nothing() -> None:
    at = open_review()
    assert any("the plan against itself" in i.value for i in at.info)
    assert at.button(key="review_keep").disabled
    upload(at, "actuals.csv", ACTUALS)
    assert not any("the plan against itself" in i.value for i in at.info)
    assert not at.button(key="review_keep").disabled
