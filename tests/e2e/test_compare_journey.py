"""The meeting, start to finish: two proposals saved, compared side by side, one agreed and
locked; the history shows who changed what."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import AppServer, click_until, go, move_slider, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_two_proposals_compared_and_one_agreed(
    app_server: AppServer, page: Page, artifacts
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    page.get_by_role("textbox", name="Your name").fill("Maya")
    page.get_by_role("textbox", name="Your name").press("Enter")
    move_slider(page, "MQL → SQL rate", 2)  # marketing's proposal: saved as the session's scenario
    expect(page).to_have_url(re.compile(r"\?scenario=[0-9a-f]+"), timeout=15_000)

    go(page, "Scenarios")
    expect(page.get_by_text("Working on:")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="Your name")).to_have_value("Maya")  # kept
    page.get_by_role("textbox", name="Save the working scenario as a new proposal, named").fill(
        "Sales' proposal"
    )
    page.get_by_role("button", name="Save as a new scenario").click()
    expect(page.get_by_text("Working on: Sales' proposal")).to_be_visible(timeout=15_000)

    go(page, "Plan")
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    move_slider(page, "MQL → SQL rate", 8)  # sales' proposal asks more of the follow-up
    expect(page.get_by_text("85.0% · known exactly")).to_be_visible(timeout=15_000)

    go(page, "Compare")
    expect(page.get_by_text("Chance we hit the number")).to_have_count(3, timeout=30_000)
    expect(page.get_by_text("assumptions differ")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    page.screenshot(path=artifacts / "compare-side-by-side.png", full_page=True)

    page.get_by_text("Agree on one of these as the plan").click()
    page.get_by_role("textbox", name="Who agrees (names, comma separated)").fill("Maya, Sam")
    page.get_by_role("textbox", name="Who agrees (names, comma separated)").press("Enter")
    wait_idle(page)
    click_until(
        page,
        page.get_by_role("button", name=re.compile("Agree: lock it as the plan for 2027-Q1")),
        page.get_by_text(re.compile("Agreed by Maya, Sam: version")),
    )
    page.screenshot(path=artifacts / "compare-agreed.png", full_page=True)

    go(page, "Scenarios")
    expect(page.get_by_text(re.compile("History of"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Maya, Sam").first).to_be_attached()  # a grid cell (canvas)
    page.screenshot(path=artifacts / "scenarios-history.png", full_page=True)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert not page.errors  # type: ignore[attr-defined]
