"""A leader edits the MQL definition, exports the plan as HTML and XLSX, and opens both."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from e2e_helpers import AppServer, download
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e


def test_edit_mql_definition_and_export(
    app_server: AppServer, page: Page, browser: Browser, artifacts: Path, tmp_path: Path
) -> None:
    page.goto(app_server.url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="SLA").click()
    expect(page.get_by_role("heading", name="The agreement", exact=False)).to_be_visible(
        timeout=30_000
    )
    page.get_by_role("textbox", name="Marketing leader").fill("Maya <b>Chen</b>")
    page.get_by_role("textbox", name="Countries or regions (comma separated)").fill(
        "United States, Canada"
    )
    page.get_by_role("textbox", name="Sectors (comma separated)").fill("Manufacturing, Retail")
    page.get_by_role("button", name="Apply to the plan").click()
    expect(page.get_by_text("The SLA terms are part of the plan now.")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("Located in United States, Canada")).to_be_visible()

    html_file = tmp_path / "plan.html"
    download(page, "Web page (HTML)").save_as(html_file)
    xlsx_dl = download(page, "Spreadsheet (XLSX)")
    xlsx = pd.read_excel(io.BytesIO(Path(xlsx_dl.path()).read_bytes()), sheet_name=None)
    assert set(xlsx) == {"Summary", "Funnel targets", "Weekly pacing", "Assumptions"}
    summary = dict(zip(xlsx["Summary"]["Item"], xlsx["Summary"]["Value"], strict=True))
    assert summary["Marketing owner"] == "Maya <b>Chen</b>"
    page.screenshot(path=artifacts / "sla-page.png", full_page=True)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)

    # The exported page opens offline in the browser, shows the chart, logs no errors.
    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)
    doc = context.new_page()
    console_errors: list[str] = []
    doc.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    doc.on("pageerror", lambda e: console_errors.append(str(e)))
    doc.goto(html_file.as_uri())
    expect(doc.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    expect(doc.get_by_text("Located in United States, Canada")).to_be_visible()
    expect(doc.get_by_text("Maya <b>Chen</b>", exact=False).first).to_be_visible()
    doc.screenshot(path=artifacts / "sla-export.png", full_page=True)
    assert console_errors == []
    context.close()
