"""The app server and Chromium settings the end-to-end journeys share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not become healthy at {url}")


class AppServer:
    """The app on a free port, with its own data folder: as `python -m ui.serve` starts it
    (asgi.py: the browser asks the room's head route), or with `script="app.py"` as
    `streamlit run app.py` does (the live bar asks by rerunning itself)."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, *, script: str | None = None
    ) -> None:
        self.command = ["-m", "streamlit", "run", script] if script else ["-m", "ui.serve"]
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"streamlit-{self.port}.log"
        self._log_file: Any = None

    def start(self) -> None:
        env = {
            **os.environ,
            "PACT_DATA_DIR": str(self.data_dir),
            "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
            **self.extra_env,
        }
        self._log_file = self.log.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *self.command,
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        _wait_healthy(self.url, self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def restart(self) -> None:
        self.stop()
        self.start()


def wait_idle(page: Any) -> None:
    """Wait until Streamlit has finished running the page's script."""
    from playwright.sync_api import expect

    expect(
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    ).to_be_attached(timeout=60_000)


def click_until(page: Any, button: Any, shown: Any, tries: int = 3) -> None:
    """Click `button` until `shown` is visible: a click that lands while the page is being
    redrawn is lost (seen once in CI on Compare's Agree), so wait for the page to settle and
    click again; the last try's failure is the test's."""
    from playwright.sync_api import expect

    for attempt in range(tries):
        wait_idle(page)
        button.click()
        try:
            expect(shown).to_be_visible(timeout=15_000)
            return
        except AssertionError:
            if attempt == tries - 1:
                raise


def download(page: Any, button: str, tries: int = 3) -> Any:
    """Click a download button and return the download; a click that lands while the page is
    being redrawn is lost, so wait for the page to settle and try again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        wait_idle(page)
        try:
            with page.expect_download(timeout=20_000) as dl:
                page.get_by_role("button", name=button).click()
            return dl.value
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
    return None


def go(page: Any, label: str) -> None:
    """Open a page from the sidebar's navigation and wait for it to finish running."""
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_role("link", name=label, exact=True).click()
    wait_idle(page)


def move_slider(page: Any, name: str, presses: int, key: str = "ArrowRight") -> None:
    """Move the (first) slider called `name` with the keyboard, as a leader would."""
    slider = page.get_by_role("slider", name=name).first
    slider.focus()
    for _ in range(presses):
        slider.press(key)
    wait_idle(page)
