"""The container image (deploy/Containerfile, built by scripts/image): two containers of it on
one PostgreSQL database start together, report healthy, run as a non-root user, and serve one
plan. One test: the build is the slow part (cached after the first run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import ROOT, _free_port, move_slider
from playwright.sync_api import Browser, expect
from sqlalchemy import make_url

from sim.store import Store, latest_schema
from tests.postgres_db import throwaway_database

pytestmark = pytest.mark.e2e

PODMAN = ["podman", "--runtime", "runc"]
ENV = {**os.environ, "CONTAINERS_CONF": str(ROOT / "deploy" / "containers.conf")}
BASE = "localhost/pact-base:bookworm"


def engine_can_run() -> str | None:
    """None when podman runs containers here, else why not."""
    if shutil.which("podman") is None and os.geteuid() != 0:
        return "podman is not installed (scripts/image installs it as root)"
    if shutil.which("podman") is None:
        return None  # scripts/image installs it
    done = subprocess.run([*PODMAN, "info"], env=ENV, capture_output=True, timeout=60, check=False)
    return None if done.returncode == 0 else f"podman info failed: {done.stderr[-300:]!r}"


@pytest.fixture
def image() -> str:
    if (why := engine_can_run()) is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI=true the container test must run: {why}")
        pytest.skip(why)
    done = subprocess.run(
        [str(ROOT / "scripts" / "image"), "localhost/pipeline-pact:test"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def database() -> Iterator[str]:
    """A new PostgreSQL database on the test server (PACT_TEST_POSTGRES_URL), dropped after."""
    with throwaway_database() as url:
        yield url


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        [*PODMAN, *args], env=ENV, capture_output=True, text=True, timeout=120, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout.strip()


def test_two_containers_of_the_image_serve_one_plan(
    image: str, database: str, browser: Browser, artifacts: Path
) -> None:
    config = podman(
        "image", "inspect", "--format", "{{.Config.User}} {{.Config.Healthcheck}}", image
    )
    assert config.startswith("pact ")
    assert "/_stcore/health" in config
    mounts = []
    if socket_dir := make_url(database).query.get("host"):  # a unix socket: share its folder
        mounts = ["-v", f"{socket_dir}:{socket_dir}"]
    names, ports = [], []
    try:
        for _ in range(2):  # started together: the store's migrations must run once
            names.append(f"pact-test-{uuid.uuid4().hex[:8]}")
            ports.append(_free_port())
            podman(
                "run", "-d", "--rm", "--name", names[-1], "--network=host", *mounts,
                "-e", f"STREAMLIT_SERVER_PORT={ports[-1]}",
                "-e", "STREAMLIT_SERVER_ADDRESS=127.0.0.1",
                "-e", f"PACT_DATABASE_URL={database}",
                image,
            )  # fmt: skip
        for name in names:
            for _ in range(120):  # the image's own HEALTHCHECK command, run by podman
                if (
                    subprocess.run(
                        [*PODMAN, "healthcheck", "run", name],
                        env=ENV,
                        capture_output=True,
                        check=False,
                    ).returncode
                    == 0
                ):
                    break
                running = podman("inspect", "--format", "{{.State.Running}}", name, check=False)
                assert running == "true", podman("logs", name, check=False)
                subprocess.run(["sleep", "0.5"], check=True)
            else:
                raise AssertionError(f"{name} never healthy: {podman('logs', name)}")
            assert podman("exec", name, "id", "-un") == "pact"
            assert podman("exec", name, "id", "-u") != "0"

        first = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        first.goto(f"http://127.0.0.1:{ports[0]}")
        expect(first.get_by_text("Chance we hit the number")).to_be_visible(timeout=60_000)
        # plotly.js served from the image's static files: the charts update in place (ui/plot.py)
        expect(first.locator(".pact-chart.js-plotly-plot")).to_have_count(2, timeout=60_000)
        move_slider(first, "MQL → SQL rate", 1)
        expect(first).to_have_url(re.compile(r"\?scenario=[0-9a-f]+"), timeout=15_000)
        sid = first.url.split("scenario=")[1]
        second = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        second.goto(f"http://127.0.0.1:{ports[1]}/?scenario={sid}")
        expect(second.get_by_text("76.0% · known exactly")).to_be_visible(timeout=60_000)
        second.screenshot(path=artifacts / "container-second-replica.png", full_page=True)
        expect(second.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
        for page in (first, second):
            page.context.close()

        store = Store(database)
        try:
            assert len(store.versions(sid)) == 1
            assert store.schema_version() == latest_schema()
        finally:
            store.engine.dispose()
        for name in names:
            assert "Traceback" not in podman("logs", name)
    finally:
        for name in names:
            podman("rm", "--force", "--time", "10", name, check=False)
