"""A leader opens the Plan page in real Chromium and moves a slider with the keyboard."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import AppServer
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def hit_value(page: Page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit the number")
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_slider_moves_the_chance_of_hitting_the_number(
    app_server: AppServer, page: Page, artifacts
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name=re.compile("Seed plan"))).to_be_visible()
    before = hit_value(page)
    charts = page.locator(".pact-chart.js-plotly-plot")  # drawn in place (ui/plot.py)
    expect(charts).to_have_count(2, timeout=30_000)
    expect(charts.first).to_contain_text(f"Hit the number: {before}")
    charts.evaluate_all("els => els.forEach((e, i) => { e.dataset.drawnFirst = String(i); })")
    page.screenshot(path=artifacts / "plan-seed.png", full_page=True)

    slider = page.get_by_role("slider", name="MQL → SQL rate")
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    expect(slider).to_have_value("85")
    expect(page.get_by_text("85.0% · known exactly")).to_be_visible(timeout=15_000)
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit")
    ).not_to_contain_text(before, timeout=15_000)
    after = hit_value(page)
    assert int(after.rstrip("%")) > int(before.rstrip("%"))
    # The same chart elements, redrawn with the move's numbers (not new charts mounted).
    expect(charts.first).to_contain_text(f"Hit the number: {after}", timeout=15_000)
    expect(charts.nth(1)).to_contain_text(f"{164 * 0.85:,.0f}")  # SQLs from the seed's 164 MQLs
    assert charts.evaluate_all("els => els.map(e => e.dataset.drawnFirst)") == ["0", "1"]
    page.screenshot(path=artifacts / "plan-after-slider.png", full_page=True)
    # What must not happen: an error box, or a script error in the page.
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]


def test_bad_quarter_shows_an_error_and_keeps_the_numbers(
    app_server: AppServer, page: Page
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    before = hit_value(page)
    quarter = page.get_by_role("textbox", name="Quarter", exact=True)
    quarter.fill("2027-Q9")
    quarter.press("Enter")
    expect(page.locator('[data-testid="stAlertContentError"]')).to_contain_text("quarter")
    assert hit_value(page) == before
