"""The quarter in time on the pages: the Plan page's timeline and clock editor, the lags on
Assumptions, and the mid-quarter review of a plan with a clock."""

from __future__ import annotations

from app_helpers import ROOT, charts, metric, number, percent, run_page
from streamlit.testing.v1 import AppTest

from sim import load_scenario, plan, simulate
from sim.engine import DEFAULT_TRIALS
from sim.review import blank_actuals
from sim.timeline import timeline

TIMED_FILE = ROOT / "examples" / "timed-plan.json"
TIMED = load_scenario(TIMED_FILE)


def open_timed() -> AppTest:
    at = run_page()
    at.file_uploader(key="plan_upload").set_value(
        ("timed-plan.json", TIMED_FILE.read_bytes(), "application/json")
    ).run()
    assert not at.exception, at.exception
    return at


def useful_line(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Last useful week"))


def test_a_plan_without_a_clock_says_so_and_draws_no_timeline() -> None:
    at = run_page()
    assert "The quarter in time" in [s.value for s in at.subheader]
    assert any("This plan has no clock" in c.value for c in at.caption)
    assert not any(m.value.startswith("**Last useful week") for m in at.markdown)
    assert len(charts(at)) == 2  # the outcome and the funnel only


def test_the_timeline_shows_the_engines_numbers() -> None:
    at = open_timed()
    expected = simulate(TIMED, trials=DEFAULT_TRIALS, seed=0)
    tl = timeline(TIMED)
    assert percent(at, "Chance we hit the number") == round(expected.p_hit, 2)
    assert number(at, "The opening pipeline delivers") == round(tl.opening)
    assert number(at, "Spills into next quarter") == round(tl.spill)
    assert number(at, "Expected by week 6") == round(float(tl.won[6]), 1)
    needed = plan(TIMED, 0.8).owners["marketing"].needed_volume_at_confidence
    assert number(at, "Marketing needs MQLs to be 80% sure") == needed  # accounts for arrival
    assert "Inbound: week 5" in useful_line(at)
    assert len(charts(at)) == 3
    assert not at.error


def test_asking_more_of_a_new_lead_brings_the_last_useful_week_forward() -> None:
    at = open_timed()
    before = useful_line(at)
    at.slider(key="plan_time_useful").set_value(80).run()
    after = useful_line(at)
    weeks = [tl.last_useful(c) for tl in [timeline(TIMED)] for c in (0.5, 0.8)]
    assert f"Inbound: week {weeks[0][0][2]}" in before
    assert f"Inbound: week {weeks[1][0][2]}" in after
    assert weeks[1][0][2] < weeks[0][0][2]


def open_editor(at: AppTest) -> AppTest:
    assert not any(t.key == "plan_time_on" for t in at.toggle)  # closed: nothing drawn
    at.toggle(key="plan_time_edit").set_value(True).run()
    assert not at.exception, at.exception
    return at


def test_the_clock_editor_gives_the_seed_plan_a_clock() -> None:
    at = open_editor(run_page())
    before = percent(at, "Chance we hit the number")
    at.toggle(key="plan_time_on").set_value(True)
    at.selectbox(key="plan_time_s0_lag2_dist").set_value("gamma")
    at.number_input(key="plan_time_s0_lag2_days").set_value(45)
    at.selectbox(key="plan_time_s0_shape").set_value("ramp")
    at.number_input(key="plan_time_s0_ratio").set_value(3.0)
    next(b for b in at.button if b.label == "Apply the clock").click().run()
    assert not at.exception
    scenario = at.session_state["scenario"]
    assert scenario.weeks == 13
    assert scenario.sources[0].arrivals.ratio == 3.0
    assert scenario.sources[0].lags[2].median == 45
    assert scenario.sources[0].lags[0].days == 0  # "no time" on the other steps
    assert percent(at, "Chance we hit the number") < before  # late wins spill over
    assert any(m.value.startswith("**Last useful week") for m in at.markdown)
    # Switching the clock off gives back exactly the plan without time keys.
    at.toggle(key="plan_time_on").set_value(False)
    next(b for b in at.button if b.label == "Apply the clock").click().run()
    assert not at.session_state["scenario"].timed
    assert percent(at, "Chance we hit the number") == before


def test_a_bad_weekly_profile_is_named_and_the_plan_kept() -> None:
    at = open_editor(open_timed())
    at.selectbox(key="plan_time_s1_shape").set_value("weekly")
    at.text_input(key="plan_time_s1_weekly").set_value("10, 10, 20")
    next(b for b in at.button if b.label == "Apply the clock").click().run()
    assert "sources\\[1\\]\\.arrivals\\.weekly: 3 numbers for a quarter of 13 weeks" in (
        at.error[0].value
    )
    assert at.session_state["scenario"] == TIMED
    at.text_input(key="plan_time_s1_weekly").set_value("x, y")
    next(b for b in at.button if b.label == "Apply the clock").click().run()
    assert "is not a list of numbers" in at.error[0].value
    assert at.session_state["scenario"] == TIMED


def test_adding_an_opening_pipeline_row_counts_it() -> None:
    at = open_editor(run_page())
    at.toggle(key="plan_time_on").set_value(True)
    rev = at.session_state["scenario_rev"]
    at.session_state[f"plan_time_s1_opening_{rev}"] = {
        "edited_rows": {},
        "added_rows": [{"stage": "Opportunity", "count": 40, "age": 10}],
        "deleted_rows": [],
    }
    next(b for b in at.button if b.label == "Apply the clock").click().run()
    assert not at.exception
    opening = at.session_state["scenario"].sources[1].opening
    assert [(r.stage, r.count, r.age) for r in opening] == [("Opportunity", 40, 10.0)]
    assert number(at, "The opening pipeline delivers") > 0


def test_assumptions_fits_the_lags_and_applies_them() -> None:
    at = run_page()
    at.switch_page("pages/1_Assumptions.py").run()
    raw = (ROOT / "examples" / "history-lags.csv").read_bytes()
    at.file_uploader(key="assumptions_upload").set_value(
        ("history-lags.csv", raw, "text/csv")
    ).run()
    assert not at.exception, at.exception
    assert "How long each step takes" in [s.value for s in at.subheader]
    assert any(m.value.startswith("Inbound · MQL → SQL: half of the leads") for m in at.markdown)
    assert not at.warning  # the newest quarter's unfinished deals are not flagged as drops
    at.button(key="assumptions_lag_apply").click().run()
    scenario = at.session_state["scenario"]
    assert [lag.dist for lag in scenario.sources[0].lags] == ["gamma", "lognormal", "gamma"]
    assert scenario.sources[1].lags[1].median == 38.4
    assert "Applied to the plan" in at.success[-1].value


def test_review_mid_quarter_is_on_the_plans_clock() -> None:
    at = open_timed()
    at.switch_page("pages/3_Review.py").run()
    at.radio(key="review_against").set_value("working").run()
    rows = blank_actuals(TIMED, week=6)
    csv = "source,stage,count,week\n" + "\n".join(
        f"{r['source']},{r['stage']},{r['count']},6" for r in rows
    )
    at.file_uploader(key="review_upload").set_value(("week6.csv", csv.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    assert at.slider(key="review_week").value == 6
    assert at.subheader[0].value.startswith("Week 6 of 13")
    planned = float(metric(at, "Plan expected by now"))
    assert planned < 55 * 6 / 13  # the lagged plan, not the pro-rated quarter
    assert at.selectbox(key="review_pace_stage0").options == ["MQL", "SQL", "Opportunity", "Won"]
    at.selectbox(key="review_pace_stage0").set_value("Won").run()
    assert len(at.get("plotly_chart")) >= 2  # the waterfall and the pacing chart
    assert not at.error
