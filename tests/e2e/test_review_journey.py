"""A leader uploads the quarter's actuals, reads the verdict and the waterfall, and keeps the
actuals with the plan."""

from __future__ import annotations

import pytest
from e2e_helpers import ROOT, AppServer, wait_idle
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_upload_actuals_read_the_verdict(app_server: AppServer, page: Page, artifacts) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Quarter review", exact=False)).to_be_visible(
        timeout=30_000
    )
    page.get_by_role("region", name="Load actuals (CSV)").get_by_test_id(
        "stFileUploaderDropzoneInput"
    ).set_input_files(str(ROOT / "examples" / "actuals-2027-Q1.csv"))
    verdict = page.get_by_text("Missed the number by 12 customers", exact=False)
    expect(verdict).to_be_visible(timeout=30_000)
    expect(verdict).to_contain_text("MQL→SQL (sales follow-up)")
    # While Plotly resizes a redrawn chart, two copies of a tick label can exist at once.
    wait_idle(page)
    expect(page.locator(".js-plotly-plot").get_by_text("Plan (expected)").first).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("a real drop").first).to_be_attached()  # a canvas grid cell
    page.screenshot(path=artifacts / "review-verdict.png", full_page=True)
    # Keep the actuals with the plan: the quarter-over-quarter section picks them up.
    page.get_by_role("button", name="Keep these actuals with the plan").click()
    expect(page.get_by_text("Kept: 2027-Q1 actuals for the closed quarter")).to_be_visible(
        timeout=30_000
    )
    wait_idle(page)
    expect(page.get_by_text("Keep another quarter's actuals to see a trend.")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)  # the waterfall and the trend
    page.get_by_role("heading", name="Quarter over quarter").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "review-kept.png", full_page=True)
    # What must not happen: an error box or a script error.
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
