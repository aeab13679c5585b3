"""The Plan page's Team section driven like a leader would: start a team, add a hire, edit the
table, set attrition, see the warnings, and the numbers the engine gives for that team."""

from __future__ import annotations

from pathlib import Path

from app_helpers import ROOT, number, percent, run_page
from streamlit.testing.v1 import AppTest

from sim import load_scenario, plan
from sim.engine import SimulationResult, exact
from sim.models import Scenario
from ui.editor import SOURCE_PICK

SALES = "Chance sales hits its share"


def headline(scenario: Scenario) -> SimulationResult:
    """What the Plan page shows for a customers plan: the exact odds."""
    result = exact(scenario)
    assert result is not None
    return result


TEAM_FILE = ROOT / "examples" / "team-plan.json"


def with_team_file() -> AppTest:
    at = run_page()
    at.file_uploader(key="plan_upload").set_value(
        ("team-plan.json", Path(TEAM_FILE).read_bytes(), "application/json")
    ).run()
    assert not at.exception, at.exception
    assert at.session_state["scenario"] == load_scenario(TEAM_FILE)
    assert not at.data_editor  # the numbers first; editing is one switch away
    at.toggle(key="plan_team_edit").set_value(True).run()
    return at


def test_a_plan_without_a_team_offers_one_and_the_team_books_sales_volume() -> None:
    at = run_page()
    assert "Team" in [s.value for s in at.subheader]
    assert not [m for m in at.metric if m.label.endswith("the SDRs book")]
    at.button(key="plan_team_start").click().run()
    assert not at.exception, at.exception
    scenario = at.session_state["scenario"]
    assert scenario.team is not None
    assert [m.role for m in scenario.team.members] == ["sdr", "ae"]
    result = headline(scenario)
    assert percent(at, SALES) == round(result.owners["sales"].p_hit, 2)
    booked = number(at, "SQLs the SDRs book")
    assert abs(booked - 123) <= 3  # the starting team books about what sales commits
    assert not at.error


def test_adding_a_hire_raises_sales_chance() -> None:
    at = with_team_file()
    before = percent(at, SALES)
    people_before = at.session_state["scenario"].team.members
    at.selectbox(key="plan_team_hire_role").set_value("SDR")
    at.number_input(key="plan_team_hire_people").set_value(2)
    at.run()
    at.button(key="plan_team_add_hire").click().run()
    assert not at.exception, at.exception
    team = at.session_state["scenario"].team
    assert len(team.members) == len(people_before) + 1
    added = team.members[-1]
    assert (added.role, added.people, added.start) == ("sdr", 2, "2027-01-01")
    assert percent(at, SALES) > before
    expected = headline(at.session_state["scenario"])
    assert percent(at, SALES) == round(expected.owners["sales"].p_hit, 2)
    # The people answer follows the team.
    people = plan(at.session_state["scenario"], 0.8).owners["sales"].people
    assert people is not None
    shown = [m.value for m in at.markdown if m.value.startswith("**In people:**")]
    assert len(shown) == 1
    assert (
        "already 80% sure" in shown[0]
        if people.extra_sdrs == 0
        else f"{people.extra_sdrs} more SDR" in shown[0]
    )


def test_table_edits_change_the_team_and_a_bad_cell_keeps_the_last_good_team() -> None:
    at = with_team_file()
    key = at.session_state["plan_team_table_key"]
    at.session_state[key] = {
        "edited_rows": {0: {"People": 9}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["scenario"].team.members[0].people == 9
    good = at.session_state["scenario"]
    at.session_state[key] = {
        "edited_rows": {0: {"People": 9}, 1: {"Productivity": None}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["scenario"] == good
    assert any("team.members[1].productivity" in e.value.replace("\\", "") for e in at.error)


def test_attrition_and_overload_settings_reach_the_scenario() -> None:
    at = with_team_file()
    before = percent(at, SALES)
    at.slider(key="plan_team_sdr_attrition").set_value(60).run()
    team = at.session_state["scenario"].team
    assert team.sdr_attrition.mean == 0.6
    assert team.sdr_attrition.n == 20  # the evidence stays
    assert percent(at, SALES) < before
    at.slider(key="plan_team_overload").set_value(100).run()
    assert at.session_state["scenario"].team.ae_overload_win_factor == 1.0
    at.number_input(key="plan_team_touches").set_value(1.0).run()
    assert at.session_state["scenario"].team.follow_up_touches == 1.0
    warnings = [w.value for w in at.warning]
    assert any("more than the team can work" in w for w in warnings)
    assert not at.error


def test_warning_when_sales_commits_more_than_the_team_books() -> None:
    at = with_team_file()
    at.segmented_control(key=SOURCE_PICK).set_value(1).run()  # Outbound's sliders
    at.slider(key="plan_s1_volume").set_value(200).run()
    assert any("Sales commits 200 SQLs" in w.value for w in at.warning)
    assert at.session_state["scenario"].sources[1].volume.mean == 200


def test_presentation_mode_shows_the_team_without_the_editor() -> None:
    at = with_team_file()
    at.toggle(key="presentation").set_value(True).run()
    assert not at.exception, at.exception
    assert "Team" in [s.value for s in at.subheader]
    assert number(at, "SQLs the SDRs book") > 0
    assert not at.data_editor
    assert not [b for b in at.button if b.key == "plan_team_add_hire"]


def test_remove_the_team_returns_to_the_typed_volume() -> None:
    at = with_team_file()
    at.button(key="plan_team_remove").click().run()
    scenario = at.session_state["scenario"]
    assert scenario.team is None
    assert percent(at, SALES) == round(headline(scenario).owners["sales"].p_hit, 2)


def test_with_two_sales_sources_the_leader_picks_the_one_the_sdrs_book() -> None:
    import json

    data = json.loads(Path(TEAM_FILE).read_text())
    partners = {**data["sources"][1], "name": "Partners", "volume": {"mean": 40, "dist": "fixed"}}
    data["sources"].append(partners)
    at = run_page()
    at.file_uploader(key="plan_upload").set_value(
        ("two.json", json.dumps(data).encode(), "application/json")
    ).run()
    at.toggle(key="plan_team_edit").set_value(True).run()
    assert at.selectbox(key="plan_team_source").value == "Outbound"
    at.selectbox(key="plan_team_source").set_value("Partners").run()
    assert not at.exception, at.exception
    scenario = at.session_state["scenario"]
    assert scenario.team.source == "Partners"
    assert any("sales commits 40;" in c.value for c in at.caption)  # Partners' commitment
    expected = headline(scenario)
    assert percent(at, SALES) == round(expected.owners["sales"].p_hit, 2)
