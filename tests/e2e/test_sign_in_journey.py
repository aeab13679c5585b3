"""Sign-in for real: Streamlit's st.login against a local OpenID Connect provider
(oidc-provider-mock), configured from PACT_AUTH_* as a container would be. A leader who may not
agree proposes and is refused the agreement, signs out; one who may agree agrees; versions and
the agreement carry the provider's names and e-mails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import ROOT, _free_port, _wait_healthy, go, move_slider, wait_idle
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, Page, expect

from sim.store import Store

pytestmark = [
    pytest.mark.e2e,
    # oidc-provider-mock calls an Authlib method Authlib deprecates (in the provider's thread).
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
]

SAM = User(sub="sam", claims={"email": "sam@sales.test", "name": "Sam Ortiz"})
MAYA = User(sub="maya", claims={"email": "maya@pact.test", "name": "Maya Lee"})
SAM_AUTHOR, MAYA_AUTHOR = "Sam Ortiz <sam@sales.test>", "Maya Lee <maya@pact.test>"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with run_server_in_thread(user_claims=[SAM, MAYA]) as server:
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture(scope="module")
def signed_app(
    provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The app as `python -m ui.serve` starts it, sign-in configured from the environment."""
    data = tmp_path_factory.mktemp("pact-auth")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PACT_DATA_DIR": str(data),
        "PACT_AUTH_REDIRECT_URI": f"{url}/oauth2callback",
        "PACT_AUTH_COOKIE_SECRET": "a-test-cookie-secret-of-enough-length-0123456789",
        "PACT_AUTH_CLIENT_ID": "pipeline-pact",
        "PACT_AUTH_CLIENT_SECRET": "test-secret",
        "PACT_AUTH_SERVER_METADATA_URL": f"{provider}/.well-known/openid-configuration",
        "PACT_AGREE": "maya@pact.test, @finance.test",
    }
    env.pop("PACT_DATABASE_URL", None)
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ui.serve",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(url, proc)
        yield url, data
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def sign_in(page: Page, app: str, who: str, path: str = "") -> None:
    page.goto(app + path)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)
    if path:
        expect(page.get_by_text("open your link again after signing in")).to_be_visible()
    expect(page.get_by_text("Chance we hit the number")).to_have_count(0)  # nothing before it
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's predefined user
    expect(page.get_by_text("Chance we hit the number")).to_be_visible(timeout=60_000)
    wait_idle(page)


def test_sign_in_propose_refused_agreement_sign_out_and_agree(
    signed_app: tuple[str, Path], browser: Browser, artifacts: Path
) -> None:
    app, data = signed_app
    sam = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(sam, app, "sam")
    sidebar = sam.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(f"Signed in as {SAM_AUTHOR}")).to_be_visible()
    expect(sam.get_by_role("textbox", name="Your name")).to_have_count(0)
    move_slider(sam, "MQL → SQL rate", 1)  # Sam proposes
    expect(sam).to_have_url(re.compile(r"\?scenario=[0-9a-f]+"), timeout=15_000)
    sid = sam.url.split("scenario=")[1]

    go(sam, "Scenarios")
    expect(
        sam.get_by_text("Only maya@pact.test, @finance.test may agree a plan; you can propose.")
    ).to_be_visible(timeout=15_000)
    sam.get_by_role("button", name=re.compile("^Agree: lock it as the plan")).click()
    expect(
        sam.get_by_text("Not agreed: only maya@pact.test, @finance.test may agree")
    ).to_be_visible(timeout=15_000)
    sam.screenshot(path=artifacts / "sign-in-refused-agreement.png", full_page=True)

    sam.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    # Streamlit signs out, then sends the browser to the provider's end-session page.
    sam.get_by_role("button", name="End session").click()
    sam.goto(app)
    expect(sam.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)
    expect(sam.get_by_text("Chance we hit the number")).to_have_count(0)
    sam.context.close()

    maya = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(maya, app, "maya", f"/?scenario={sid}")
    maya.goto(f"{app}/?scenario={sid}")  # sign-in returns to the home page; the link again
    expect(maya.get_by_text("76.0% · known exactly")).to_be_visible(timeout=15_000)
    move_slider(maya, "MQL → SQL rate", 1)
    expect(maya.get_by_text("77.0% · known exactly")).to_be_visible(timeout=15_000)
    go(maya, "Scenarios")
    expect(maya.get_by_text(f"You agree as {MAYA_AUTHOR}.")).to_be_visible(timeout=15_000)
    maya.get_by_role("button", name=re.compile("^Agree: lock it as the plan")).click()
    expect(maya.get_by_text(f"Agreed by {MAYA_AUTHOR}")).to_be_visible(timeout=15_000)
    maya.screenshot(path=artifacts / "sign-in-agreed.png", full_page=True)
    expect(maya.locator('[data-testid="stException"]')).to_have_count(0)
    maya.context.close()

    store = Store(f"sqlite:///{data / 'pact.db'}")
    try:
        assert [v.author for v in store.versions(sid)] == [SAM_AUTHOR, MAYA_AUTHOR]
        [agreement] = store.agreements()
        assert (agreement.agreed_by, agreement.scenario_id, agreement.version) == (
            MAYA_AUTHOR,
            sid,
            2,
        )
    finally:
        store.engine.dispose()
