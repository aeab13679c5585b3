"""A team server: PostgreSQL, two app replicas and nginx (scripts/cluster). Two leaders whose
browsers nginx sends to different replicas share one room (each move reaches the other screen
live) and one history."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_helpers import Cluster
from e2e_helpers import go, move_slider, wait_idle
from playwright.sync_api import Browser, Page, expect

from sim.store import Store, latest_schema

pytestmark = pytest.mark.e2e
ARRIVES_MS = 30_000  # arrival, not speed: bench/topology.py and bench/load.py measure the lag


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: as root the cluster's PostgreSQL runs as "postgres", which
    # must be able to enter the folder.
    folder = Path(tempfile.mkdtemp(prefix="pact-cluster-"))
    folder.chmod(0o755)
    running = Cluster(folder)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        shutil.rmtree(folder, ignore_errors=True)


def leader(browser: Browser, cluster: Cluster, route: str, name: str, url: str) -> Page:
    """A browser pinned by nginx to the replica `route` hashes to, with the leader's name typed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": "pact_route", "value": route, "url": cluster.url}])
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=60_000)
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("textbox", name="Your name").press("Enter")
    wait_idle(page)
    return page


def test_leaders_on_two_replicas_share_one_scenario_and_history(
    cluster: Cluster, browser: Browser, artifacts: Path
) -> None:
    routes = cluster.routes_to_each_replica()
    (port_a, route_a), (port_b, route_b) = sorted(routes.items())
    maya = leader(browser, cluster, route_a, "Maya", cluster.url)
    move_slider(maya, "MQL → SQL rate", 1)
    expect(maya.get_by_text("76.0% · known exactly")).to_be_visible(timeout=15_000)
    expect(maya).to_have_url(re.compile(r"\?scenario=[0-9a-f]+"), timeout=15_000)
    link = maya.url

    sam = leader(browser, cluster, route_b, "Sam", link)  # the other replica, the same plan
    expect(sam.get_by_text("76.0% · known exactly")).to_be_visible(timeout=15_000)
    move_slider(sam, "MQL → SQL rate", 1)
    expect(sam.get_by_text("77.0% · known exactly")).to_be_visible(timeout=15_000)

    # One room across replicas: Sam's move reaches Maya's screen on the other replica without a
    # reload (the store's change notices: PostgreSQL LISTEN/NOTIFY), and each sees the other.
    expect(maya.get_by_text("77.0% · known exactly").first).to_be_visible(timeout=ARRIVES_MS)
    expect(maya.get_by_text(re.compile(r"Live · with .*Sam"))).to_be_visible(timeout=ARRIVES_MS)
    expect(sam.get_by_text(re.compile(r"Live · with .*Maya"))).to_be_visible(timeout=ARRIVES_MS)
    maya.screenshot(path=artifacts / "topology-room.png", full_page=True)
    go(maya, "Scenarios")
    expect(maya.get_by_text("History")).to_be_visible(timeout=15_000)
    maya.screenshot(path=artifacts / "topology-history.png", full_page=True)

    sid = link.split("scenario=")[1]
    store = Store(cluster.database_url)
    try:
        assert [v.author for v in store.versions(sid)] == ["Maya", "Sam"]
        assert store.schema_version() == latest_schema()
    finally:
        store.engine.dispose()
    for page in (maya, sam):
        expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
        page.context.close()
    # Each leader's websocket went to its own replica (nginx logs it once it closes), and
    # neither replica logged an error.
    assert cluster.stream_served(route_a) == {port_a}
    assert cluster.stream_served(route_b) == {port_b}
    for n in (1, 2):
        assert "Traceback" not in cluster.app_log(n)
