"""The SLA page: terms edited and applied only when valid; lead-list check; exports offered."""

from __future__ import annotations

from app_helpers import ROOT, run_page
from streamlit.testing.v1 import AppTest


def open_sla() -> AppTest:
    at = run_page()
    at.switch_page("pages/2_SLA.py").run()
    assert not at.exception, at.exception
    return at


def apply(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Apply to the plan").click().run()
    assert not at.exception, at.exception


def test_valid_terms_become_part_of_the_plan() -> None:
    at = open_sla()
    at.text_input(key="sla_marketing_owner").set_value("Maya <b>Chen</b>")
    at.text_input(key="sla_regions").set_value("United States, Canada")
    at.number_input(key="sla_employees_min").set_value(200)
    at.text_input(key="sla_sectors").set_value("Manufacturing; Retail")
    at.checkbox(key="sla_timing").uncheck()
    apply(at)
    assert not at.error
    sla = at.session_state["scenario"].sla
    assert sla.marketing_owner == "Maya <b>Chen</b>"
    assert sla.mql.regions == ["United States", "Canada"]
    assert sla.mql.sectors == ["Manufacturing", "Retail"]
    assert sla.mql.employees_min == 200
    assert sla.sql.required() == ["Budget", "Authority", "Need"]
    assert any("Employees at least 200" in m.value for m in at.markdown)


def test_role_or_need_as_mql_criteria_is_refused_with_the_reason() -> None:
    at = open_sla()
    at.text_input(key="sla_sectors").set_value("Manufacturing, VP or above")
    apply(at)
    assert any(
        "sla.mql.sectors[1]" in e.value and "firmographics only" in e.value for e in at.error
    )
    assert at.session_state["scenario"].sla is None  # nothing applied
    at.text_input(key="sla_sectors").set_value("Manufacturing, has a need for the product")
    apply(at)
    assert any("'need'" in e.value for e in at.error)


def test_lead_list_check_against_a_hand_count() -> None:
    at = open_sla()
    at.text_input(key="sla_regions").set_value("Canada")
    at.number_input(key="sla_employees_min").set_value(100)
    apply(at)
    csv = (
        "company,country,employees,annual_revenue,sector,created\n"
        "A,Canada,150,1000000,Retail,2026-10-05\n"  # passes
        "B,canada,99,1000000,Retail,2026-10-06\n"  # too small
        "C,Mexico,500,1000000,Retail,2026-10-07\n"  # wrong country
        "=cmd|' /C calc'!A0,Canada,300,2000000,Retail,2026-10-12\n"  # passes; stays text
        "E,Canada,many,1000000,Retail,2026-10-13\n"  # dropped: not a number
    )
    at.file_uploader(key="sla_leads").set_value(("leads.csv", csv.encode(), "text/csv")).run()
    assert not at.exception, at.exception
    passing = next(m for m in at.metric if m.label == "Leads passing")
    assert passing.value == "2"
    assert any("1 where employees is not a number" in i.value for i in at.info)


def test_bad_lead_list_is_named() -> None:
    at = open_sla()
    at.file_uploader(key="sla_leads").set_value(
        ("leads.csv", b"company,country\nA,Canada\n", "text/csv")
    ).run()
    assert any("columns: missing employees" in e.value for e in at.error)


def test_exports_are_offered() -> None:
    at = open_sla()
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Web page (HTML)", "Spreadsheet (XLSX)", "Markdown", "Scenario file (JSON)"]
    assert (ROOT / "examples" / "agreed-plan.json").exists()


def test_the_agreed_plan_is_named_as_such_for_its_documents() -> None:
    from sim import load_scenario
    from ui.shell import SEED_FILE
    from ui.storage import _open, default_url

    at = open_sla()
    assert any("Not agreed yet for 2027-Q1" in c.value for c in at.caption)
    store = _open(default_url())
    sid = store.create(load_scenario(SEED_FILE), "Maya").scenario_id
    store.agree(sid, 1, ["Maya", "Sam"])
    at.run()
    assert any(
        "This is the agreed plan for 2027-Q1" in c.value and "Agreed by Maya, Sam" in c.value
        for c in at.caption
    )
