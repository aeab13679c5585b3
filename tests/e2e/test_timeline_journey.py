"""A leader loads a plan with a clock, reads the weekly timeline and the last useful week, then
reviews week 6 against the plan's clock."""

from __future__ import annotations

import pytest
from e2e_helpers import ROOT, AppServer, go, move_slider, wait_idle
from playwright.sync_api import Page, expect

from sim import load_scenario
from sim.review import blank_actuals

pytestmark = pytest.mark.e2e

TIMED = ROOT / "examples" / "timed-plan.json"


def test_timeline_then_mid_quarter_review(
    app_server: AppServer, page: Page, artifacts, tmp_path
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("This plan has no clock", exact=False)).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        str(TIMED)
    )
    useful = page.get_by_test_id("stMarkdown").filter(has_text="Last useful week for new leads")
    expect(useful).to_be_visible(timeout=30_000)
    expect(useful).to_contain_text("Inbound: week 5")
    expect(
        page.get_by_test_id("stMetric").filter(has_text="The opening pipeline delivers")
    ).to_contain_text("23")
    wait_idle(page)
    chart = page.locator(".js-plotly-plot").nth(2)
    expect(chart.get_by_text("P10–P90 by week").first).to_be_attached(timeout=30_000)
    expect(chart.get_by_text("last useful week 5").first).to_be_attached()
    chart.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "plan-timeline.png")

    # Ask more of a new lead: the last useful week comes forward.
    move_slider(page, "A new lead is still useful", 4)  # 50% -> 70%
    expect(useful).to_contain_text("Inbound: week 3")
    expect(chart.get_by_text("last useful week 3").first).to_be_attached(timeout=30_000)

    # Week 6 of the quarter, on the plan's clock.
    rows = blank_actuals(load_scenario(TIMED), week=6)
    csv = tmp_path / "week6.csv"
    csv.write_text(
        "source,stage,count,week\n"
        + "\n".join(f"{r['source']},{r['stage']},{r['count']},6" for r in rows)
    )
    go(page, "Review")
    expect(page.get_by_role("heading", name="Quarter review", exact=False)).to_be_visible(
        timeout=30_000
    )
    page.get_by_role("region", name="Load actuals (CSV)").get_by_test_id(
        "stFileUploaderDropzoneInput"
    ).set_input_files(str(csv))
    expect(page.get_by_text("Week 6 of 13", exact=False).first).to_be_visible(timeout=30_000)
    wait_idle(page)
    expect(
        page.locator(".js-plotly-plot").first.get_by_text("Target due by week 6").first
    ).to_be_attached(timeout=30_000)
    expect(page.get_by_text("Pacing against the plan")).to_be_visible()
    page.screenshot(path=artifacts / "review-on-the-clock.png")
    # What must not happen: a stage called a real drop when the counts are the plan's own,
    # an error box, or a script error.
    expect(page.get_by_text("a real drop")).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
