"""Two app processes on one database form one room: a move saved through one server reaches a
screen served by the other (PostgreSQL: LISTEN/NOTIFY; SQLite: a poll of the head version), both
ways. The first process is the app as `python -m ui.serve` starts it (the browser asks the head
route); on SQLite the second is `streamlit run app.py` (its live bar asks by rerunning itself)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import AppServer, move_slider
from playwright.sync_api import Browser, expect

from tests.postgres_db import throwaway_database

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new store's URL: one SQLite file, or a new PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    with throwaway_database("pact_e2e") as url:
        yield url


def test_a_save_through_one_process_reaches_a_screen_on_the_other(
    database_url: str, browser: Browser, tmp_path: Path, artifacts
) -> None:
    env = {"PACT_DATABASE_URL": database_url}
    one = AppServer(tmp_path / "one", env)
    two = AppServer(tmp_path / "two", env, script="app.py" if "sqlite" in database_url else None)
    for server in (one, two):
        server.data_dir.mkdir()
        server.start()
    try:
        leader = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        leader.goto(one.url)
        expect(leader.get_by_text("Chance we hit the number")).to_be_visible(timeout=60_000)
        move_slider(leader, "MQL → SQL rate", 1)
        expect(leader).to_have_url(re.compile(r"\?scenario=[0-9a-f]+"), timeout=15_000)
        query = leader.url.split("?", 1)[1]
        follower = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        follower.goto(f"{two.url}/?{query}")
        expect(follower.get_by_text("76.0% · known exactly")).to_be_visible(timeout=60_000)
        move_slider(leader, "MQL → SQL rate", 3)
        expect(follower.get_by_text("79.0% · known exactly")).to_be_visible(timeout=30_000)
        follower.screenshot(path=artifacts / f"room-second-process-{database_url[:6]}.png")
        move_slider(follower, "MQL → SQL rate", 2)  # ... and back: the first process's screen
        expect(leader.get_by_text("81.0% · known exactly")).to_be_visible(timeout=30_000)
        for page in (leader, follower):
            expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
        leader.context.close()
        follower.context.close()
    finally:
        one.stop()
        two.stop()
