"""The Plan page (app.py) driven like a leader in the meeting would."""

from __future__ import annotations

import json

from app_helpers import charts, number, percent, run_page

from sim import load_scenario, plan, simulate
from sim.engine import DEFAULT_TRIALS
from ui.shell import SEED_FILE

HIT = "Chance we hit the number"
MKT = "Chance marketing hits its share"
SALES = "Chance sales hits its share"


def test_opens_on_the_seed_plan_with_the_engines_numbers() -> None:
    at = run_page()
    seed = load_scenario(SEED_FILE)
    expected = simulate(seed, trials=DEFAULT_TRIALS, seed=0)
    assert at.title[0].value.startswith("Seed plan")
    assert percent(at, HIT) == round(expected.p_hit, 2)
    assert percent(at, MKT) == round(expected.owners["marketing"].p_hit, 2)
    needed = plan(seed, 0.8).owners["marketing"].needed_volume_at_confidence
    assert number(at, "Marketing needs MQLs to be 80% sure") == needed
    assert not at.error


def test_mql_to_sql_moves_marketing_and_total_not_sales() -> None:
    at = run_page()
    before = (percent(at, HIT), percent(at, MKT), percent(at, SALES))
    at.slider(key="plan_s0_rate0").set_value(85).run()
    up = (percent(at, HIT), percent(at, MKT), percent(at, SALES))
    at.slider(key="plan_s0_rate0").set_value(60).run()
    down = (percent(at, HIT), percent(at, MKT), percent(at, SALES))
    assert up[0] > before[0] > down[0]
    assert up[1] > before[1] > down[1]
    assert up[2] == before[2] == down[2]
    assert at.session_state["scenario"].sources[0].rates[0].mean == 0.60


def test_more_volume_raises_the_chance_and_lowers_the_gap() -> None:
    at = run_page()
    before = percent(at, MKT)
    at.slider(key="plan_s0_volume").set_value(220).run()
    assert percent(at, MKT) > before
    assert at.session_state["scenario"].sources[0].volume.mean == 220


def test_marketing_share_shifts_the_burden() -> None:
    at = run_page()
    mkt, sales = percent(at, MKT), percent(at, SALES)
    at.slider(key="plan_marketing_share").set_value(60).run()
    assert percent(at, MKT) < mkt
    assert percent(at, SALES) > sales


def test_higher_confidence_needs_more_volume() -> None:
    at = run_page()
    v80 = number(at, "Marketing needs MQLs to be 80% sure")
    at.slider(key="plan_confidence").set_value(90).run()
    assert number(at, "Marketing needs MQLs to be 90% sure") > v80


def test_more_evidence_narrows_the_range_and_keeps_precise_values() -> None:
    at = run_page()
    at.number_input(key="plan_s0_evidence0").set_value(40).run()
    rate = at.session_state["scenario"].sources[0].rates[0]
    assert rate.n == 40
    assert rate.mean == 0.75
    assert any("80% range" in c.value for c in at.caption)
    # Untouched fields keep their exact values (Poisson mean, rates without evidence).
    assert at.session_state["scenario"].sources[1] == load_scenario(SEED_FILE).sources[1]


def test_bad_edit_shows_the_field_and_keeps_the_last_good_plan() -> None:
    at = run_page()
    before = percent(at, HIT)
    at.text_input(key="plan_quarter").set_value("2027-Q5").run()
    assert any("quarter" in e.value for e in at.error)
    assert percent(at, HIT) == before
    assert at.session_state["scenario"].quarter == "2027-Q1"
    at.text_input(key="plan_quarter").set_value("2027-Q2").run()
    assert not at.error
    assert at.session_state["scenario"].quarter == "2027-Q2"


def test_upload_loads_a_scenario_and_a_bad_upload_names_the_field() -> None:
    at = run_page()
    data = json.loads(SEED_FILE.read_text())
    data["name"] = "Marketing's proposal"
    data["sources"][0]["volume"]["mean"] = 200
    at.file_uploader(key="plan_upload").set_value(
        ("proposal.json", json.dumps(data).encode(), "application/json")
    ).run()
    assert not at.error
    assert at.title[0].value.startswith("Marketing's proposal")
    assert at.slider(key="plan_s0_volume").value == 200
    good = percent(at, HIT)
    data["sources"][1]["rates"][0]["mean"] = 1.4
    at.file_uploader(key="plan_upload").set_value(
        ("broken.json", json.dumps(data).encode(), "application/json")
    ).run()
    assert any("sources[1].rates[0].mean" in e.value for e in at.error)
    assert at.title[0].value.startswith("Marketing's proposal")
    assert percent(at, HIT) == good


def test_not_json_upload_is_refused() -> None:
    at = run_page()
    at.file_uploader(key="plan_upload").set_value(
        ("x.json", b"{not json", "application/json")
    ).run()
    assert any("invalid JSON" in e.value for e in at.error)
    assert at.title[0].value.startswith("Seed plan")


def test_html_in_the_name_is_shown_as_text() -> None:
    at = run_page()
    at.text_input(key="plan_name").set_value("<script>alert(1)</script> **bold**").run()
    title = at.title[0].value
    assert "\\<script\\>" in title
    assert "\\*\\*bold\\*\\*" in title


def test_bookings_metric_uses_deal_size() -> None:
    at = run_page()
    at.radio(key="plan_metric").set_value("bookings").run()
    at.number_input(key="plan_target").set_value(1_500_000.0).run()
    assert not at.error
    scenario = at.session_state["scenario"]
    assert scenario.metric == "bookings"
    assert scenario.deal_size is not None
    assert 0 < percent(at, HIT) < 1


def test_presentation_mode_hides_the_editors() -> None:
    at = run_page()
    assert at.slider(key="plan_s0_rate0")
    at.toggle(key="presentation").set_value(True).run()
    assert not [s for s in at.slider if s.key == "plan_s0_rate0"]
    assert percent(at, HIT) > 0


def _texts(figure: dict) -> str:
    """Every label a figure shows, annotations and the bars' own text, one per line."""
    shown = [str(a.get("text", "")) for a in figure["layout"].get("annotations", [])]
    for trace in figure["data"]:
        shown += [str(t) for t in trace.get("text") or []]
    return "\n".join(shown)


def test_a_move_updates_both_charts_in_place() -> None:
    """The charts keep their element ids across a move (the browser updates them with
    Plotly.react instead of mounting new ones, ui/plot.py) and show the move's numbers."""
    at = run_page()
    before = charts(at)
    assert len(before) == 2
    at.slider(key="plan_s0_rate0").set_value(80).run()
    after = charts(at)
    assert [i for i, _ in after] == [i for i, _ in before]  # same elements, new figures
    hit = f"Hit the number: {percent(at, HIT):.0%}"
    assert hit in _texts(after[0][1])
    assert hit not in _texts(before[0][1])
    sql = f"{164 * 0.80:,.0f}"  # the seed's 164 MQLs at 80%
    assert sql in _texts(after[1][1]).split("\n")
    assert sql not in _texts(before[1][1]).split("\n")
    assert at.get("bidi_component"), "charts fell back to st.plotly_chart"
