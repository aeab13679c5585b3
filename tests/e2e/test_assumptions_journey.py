"""A leader uploads the example history in real Chromium, applies it, and sees the plan change."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import ROOT, AppServer
from playwright.sync_api import Page, expect

from sim import load_scenario
from sim.calibrate import apply_calibration, calibrate, read_history_file

pytestmark = pytest.mark.e2e

HISTORY = ROOT / "examples" / "history-leads.csv"
SEED = load_scenario(ROOT / "examples" / "seed-sla.json")


def hit_value(page: Page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit the number")
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_upload_history_apply_and_see_the_plan_change(
    app_server: AppServer, page: Page, artifacts
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    before = hit_value(page)
    slider = page.get_by_role("slider", name="MQL → SQL rate")
    expect(slider).to_have_value("75")

    page.get_by_role("link", name="Assumptions").click()
    expect(page.get_by_role("heading", name="Know your assumptions")).to_be_visible(timeout=30_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(HISTORY)
    history = calibrate(read_history_file(HISTORY)).history
    expect(
        page.get_by_text(re.compile(f"{history.rows_read:,} rows read, {history.rows_used:,} used"))
    ).to_be_visible(timeout=30_000)
    alarm = page.locator('[data-testid="stAlertContentWarning"]').filter(has_text="real drop")
    expect(alarm).to_have_count(1)
    expect(alarm).to_contain_text("Inbound · MQL → SQL was 56%")
    expect(alarm).to_contain_text("39% of 150 in 2026-Q4")
    expect(page.get_by_text("Quarter by quarter (for exploring)")).to_be_visible()
    page.get_by_role("button", name="Apply to the plan", exact=True).click()
    expect(page.get_by_text("Applied to the plan")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts / "assumptions-applied.png", full_page=True)

    page.get_by_role("link", name="Plan", exact=True).click()
    headline = page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit the number")
    expect(headline).to_be_visible(timeout=30_000)
    rate = (
        apply_calibration(SEED, calibrate(read_history_file(HISTORY))).scenario.sources[0].rates[0]
    )
    expect(page.get_by_role("slider", name="MQL → SQL rate")).to_have_value(
        str(round(100 * rate.mean)), timeout=30_000
    )
    lo, hi = rate.interval(0.8)
    expect(page.get_by_text(f"{rate.mean:.1%} · 80% range {lo:.0%}–{hi:.0%}")).to_be_visible()
    expect(
        page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit")
    ).not_to_contain_text(before, timeout=15_000)
    assert int(hit_value(page).rstrip("%")) < int(before.rstrip("%"))
    page.screenshot(path=artifacts / "plan-after-calibration.png", full_page=True)
    # What must not happen: an error box, or a script error in the page.
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
