"""Compare page: proposals side by side on the same draws, differences highlighted, agree."""

from __future__ import annotations

from typing import Any

from app_helpers import ROOT, run_page
from streamlit.testing.v1 import AppTest

from sim import load_scenario, parse_scenario, plan
from sim.team import team_report
from ui.shell import SEED_FILE
from ui.storage import _open, default_url

SEED = load_scenario(SEED_FILE)


def with_mqls(name: str, mqls: int) -> Any:
    data = SEED.to_dict() | {"name": name}
    data["sources"][0]["volume"]["mean"] = mqls
    return parse_scenario(data)


def compare_page(*saved: Any) -> tuple[AppTest, list[str]]:
    """The Compare page with these proposals saved by others (newest last)."""
    store = _open(default_url())
    ids = [store.create(s, "Sam").scenario_id for s in saved]
    at = run_page()
    at.switch_page("pages/4_Compare.py").run()
    assert not at.exception, at.exception
    return at, ids


def chances(at: AppTest) -> list[float]:
    return [
        float(m.value.rstrip("%")) / 100 for m in at.metric if m.label == "Chance we hit the number"
    ]


def test_working_scenario_and_two_newest_are_compared_by_default() -> None:
    at, ids = compare_page(
        with_mqls("Old idea", 150),
        with_mqls("Marketing's proposal", 164),
        with_mqls("Sales' proposal", 220),
    )
    newest = [i.id for i in _open(default_url()).scenarios() if i.id in ids][:2]
    assert newest == [ids[2], ids[1]]
    assert at.multiselect(key="compare_pick").value == ["working", *newest]
    working, sales, marketing = chances(at)
    assert sales > marketing  # more MQLs, same rates: a better chance
    assert working == marketing  # same assumptions, same draws: exactly the same number
    assert len(at.get("plotly_chart")) == 1


def test_differences_are_highlighted_and_can_be_shown_alone() -> None:
    at, _ = compare_page(with_mqls("Sales' proposal", 220))
    table = at.dataframe[1].value  # a Styler: the frame it styles
    assert table.loc["Inbound · MQLs per quarter"].tolist() == ["164", "220"]
    assert any("1 of" in c.value and "assumptions differ" in c.value for c in at.caption)
    at.toggle(key="compare_only_diff").set_value(True).run()
    only = at.dataframe[1].value
    assert list(only.index) == ["Inbound · MQLs per quarter"]


def test_needed_volumes_rise_with_the_confidence_asked_for() -> None:
    at, _ = compare_page(with_mqls("Sales' proposal", 220))

    def needed() -> int:
        row = at.dataframe[0].value.loc[
            f"Marketing needs, to be {at.slider(key='compare_confidence').value}% sure"
        ]
        return int(row.iloc[0].split(" ")[0].replace(",", ""))

    at.slider(key="compare_confidence").set_value(60).run()
    low = needed()
    at.slider(key="compare_confidence").set_value(95).run()
    assert needed() > low


def test_fewer_than_two_picks_asks_for_more() -> None:
    at, ids = compare_page(with_mqls("Sales' proposal", 220))
    at.multiselect(key="compare_pick").set_value([ids[0]]).run()
    assert any("Pick at least two" in i.value for i in at.info)
    assert chances(at) == []


def test_bookings_and_customers_are_not_drawn_on_one_axis() -> None:
    bookings = SEED.to_dict() | {"name": "In bookings", "metric": "bookings", "target": 1_600_000}
    at, _ = compare_page(parse_scenario(bookings))
    assert any("count different things" in w.value for w in at.warning)
    assert len(chances(at)) == 2


def test_a_name_with_markup_is_shown_as_text() -> None:
    at, _ = compare_page(with_mqls("<img src=x onerror=alert(1)> *bold*", 200))
    shown = [m.value for m in at.markdown if "img" in m.value]
    assert shown
    assert all("\\<img" in v and "\\*bold\\*" in v for v in shown)


def test_agreeing_from_compare_locks_that_version() -> None:
    at, ids = compare_page(with_mqls("Sales' proposal", 220))
    at.selectbox(key="compare_agree_which").set_value(f"{ids[0]}:1").run()
    at.text_input(key="compare_agree_names").set_value("Maya, Sam").run()
    next(b for b in at.button if b.key == "compare_agree_button").click().run()
    assert not at.exception
    assert any("Agreed by Maya, Sam" in s.value for s in at.success)
    assert any("🔒 the agreed plan for 2027-Q1" in c.value for c in at.caption)
    (agreement,) = _open(default_url()).agreements()
    assert agreement.scenario_id == ids[0]
    assert agreement.agreed_by == "Maya, Sam"


def test_presentation_mode_hides_the_pickers_and_the_table() -> None:
    at, _ = compare_page(with_mqls("Sales' proposal", 220))
    at.toggle(key="presentation").set_value(True).run()
    assert at.multiselect(key="compare_pick").disabled
    assert len(at.dataframe) == 1  # the numbers stay, the assumptions table goes
    assert len(chances(at)) == 2


def test_team_differences_and_sales_in_people_side_by_side() -> None:
    team_plan = load_scenario(ROOT / "examples" / "team-plan.json")
    at, _ = compare_page(team_plan)
    numbers = at.dataframe[0].value
    assert numbers.loc["What the SDRs book"].tolist()[0] == "no team"  # the working seed plan
    report = team_report(team_plan)
    assert report is not None
    assert report.sourced is not None
    booked = numbers.loc["What the SDRs book"].tolist()[1]
    assert booked.startswith(f"{report.sourced.mean:,.0f} SQLs (P10–P90 {report.sourced.p10:,.0f}")
    people = numbers.loc["SDRs sales needs, to be 80% sure"].tolist()
    assert people[0] == "—"
    needed = plan(team_plan, 0.8).owners["sales"].people
    assert needed is not None
    assert people[1] == f"{needed.extra_sdrs} more from day one"
    table = at.dataframe[1].value
    assert table.loc["Team · January SDR hires"].tolist()[:2] == [
        "—",
        "2 SDRs from 2027-01-11 · 8 weeks' ramp · 1.50 SQLs a week each",
    ]
