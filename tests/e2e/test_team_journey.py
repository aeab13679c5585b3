"""A leader gives the plan a team in real Chromium, adds a hire and sees sales' chance rise."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import AppServer, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def metric(page: Page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_adding_a_hire_raises_sales_chance(app_server: AppServer, page: Page, artifacts) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Plan with a team").click()
    wait_idle(page)
    expect(page.get_by_text("SQLs the SDRs book")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Hiring plan by week")).to_be_visible(timeout=30_000)
    before = metric(page, "Chance sales hits its share")
    total_before = metric(page, "Chance we hit the number")
    booked_before = int(metric(page, "SQLs the SDRs book").replace(",", ""))
    page.screenshot(path=artifacts / "team-started.png", full_page=True)

    people = (
        page.locator('[data-testid="stNumberInput"]').filter(has_text="People").locator("input")
    )
    people.fill("2")
    people.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Add hire").click()
    wait_idle(page)
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Chance sales hits its share")
    ).not_to_contain_text(before, timeout=30_000)
    booked = page.locator('[data-testid="stMetric"]').filter(has_text="SQLs the SDRs book")
    expect(booked).not_to_contain_text(
        str(booked_before), timeout=30_000
    )  # drawn after the chances
    wait_idle(page)
    after = metric(page, "Chance sales hits its share")
    assert int(after.rstrip("%")) > int(before.rstrip("%"))
    assert int(metric(page, "SQLs the SDRs book").replace(",", "")) > booked_before
    assert int(metric(page, "Chance we hit the number").rstrip("%")) >= int(
        total_before.rstrip("%")
    )
    hires = page.get_by_text(re.compile(r"^SDR hires Jan 01"))  # grid cells
    expect(hires).to_have_count(1, timeout=30_000)  # one click, one hire
    page.screenshot(path=artifacts / "team-after-hire.png", full_page=True)
    page.get_by_role("button", name="Remove the team").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "team-editor.png")

    # Nothing is lost: a refresh reopens the saved scenario with its hire.
    page.reload()
    expect(page.get_by_text("SQLs the SDRs book")).to_be_visible(timeout=30_000)
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Chance sales hits its share")
    ).to_contain_text(after, timeout=30_000)
    # What must not happen: an error box, or a script error in the page.
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
