"""Scenarios in the browser: after a restore on another scenario, the next action (delete)
acts on the scenario on screen, not on this session's."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import AppServer, go, move_slider, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_restore_then_delete_acts_on_the_scenario_on_screen(
    app_server: AppServer, page: Page, artifacts
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    for _ in range(2):  # two versions of the seed plan
        move_slider(page, "MQL → SQL rate", 1)
    expect(page.get_by_text("77.0% · known exactly")).to_be_visible(timeout=15_000)

    go(page, "Scenarios")
    box = page.get_by_role("textbox", name="Save the working scenario as a new proposal, named")
    box.fill("Sales' proposal")
    page.get_by_role("button", name="Save as a new scenario").click()
    expect(page.get_by_text("Working on: Sales' proposal")).to_be_visible(timeout=15_000)
    wait_idle(page)
    sales_link = page.url

    # Pick the seed plan (not this session's), restore its first version.
    page.get_by_test_id("stSelectbox").filter(has_text="Scenario").first.click()
    page.get_by_role("option", name="Seed plan · 2027-Q1").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="History of Seed plan")).to_be_visible()
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_text("Version 1 restored as version 3")).to_be_visible(timeout=15_000)
    wait_idle(page)
    page.get_by_role("button", name="Delete (restorable)").click()
    expect(page.get_by_text("Deleted Seed plan")).to_be_visible(timeout=15_000)
    wait_idle(page)
    page.screenshot(path=artifacts / "scenarios-restore-delete.png", full_page=True)
    # This session's proposal is untouched and still in the link.
    expect(page.get_by_text("Working on: Sales' proposal")).to_be_visible()
    assert re.search(r"\?scenario=[0-9a-f]+", page.url)
    assert page.url == sales_link
    expect(page.get_by_text("Deleted scenarios (1)")).to_be_visible()
    assert not page.errors  # type: ignore[attr-defined]
