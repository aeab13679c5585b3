"""In the meeting: slider moves survive a refresh and a server restart (two leaders on one link:
tests/e2e/test_room_journey.py)."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import AppServer, move_slider
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def move_mql_to_sql(page: Page, presses: int, key: str = "ArrowRight") -> None:
    move_slider(page, "MQL → SQL rate", presses, key)


def test_refresh_and_restart_keep_every_move(app_server: AppServer, page: Page, artifacts) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    move_mql_to_sql(page, 5)
    expect(page.get_by_text("80.0% · known exactly")).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(r"\?scenario=[0-9a-f]+"), timeout=15_000)
    link = page.url
    page.reload()
    expect(page.get_by_text("80.0% · known exactly")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("slider", name="MQL → SQL rate")).to_have_value("80")
    app_server.restart()
    page.goto(link)
    expect(page.get_by_text("80.0% · known exactly")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "meeting-after-restart.png", full_page=True)
    # What must not happen: the seed value coming back, or an error box.
    expect(page.get_by_text("75.0% · known exactly")).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
