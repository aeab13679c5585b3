"""Room news that is not a new version of the screen's own scenario: the quarter's plan agreed,
and a new version of a proposal that Compare shows beside it.

Another process saves (this one, on the server's SQLite file, as a second app process or
`pact agree` would) and the benchmark times how long an idle screen takes to show it, with no
reload: the lock on the Plan page, the proposal's column on Compare. Printed as median / p95 /
max, against issue 10's 1.5 s for a leader's move.

    .venv/bin/python bench/news.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.browser import CHROMIUM, FLAGS, Server, figures
from sim.merge import FieldChange
from sim.models import load_scenario
from sim.store import Store

SEED = load_scenario(ROOT / "examples" / "seed-sla.json")
SHARE = ("marketing_share",)
ARRIVES_MS = 30_000


def _idle(page: Any) -> None:
    """Wait until the page's runs are over (Streamlit's status widget gone) and its watch asks
    the head route at its steady pace (two questions in a row): a screen someone is looking at,
    not one still opening."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    for _ in range(2):
        with page.expect_request(lambda r: "/_pact/head?" in r.url, timeout=30_000):
            pass


def agreement_lags(browser: Any, url: str, store: Store, rounds: int) -> list[float]:
    """Agree a plan open on an idle Plan page: the time until that page shows the lock."""
    out = []
    for i in range(rounds):
        # Each round its own plan: an agreement locks a content hash, and the same content in
        # another round would show as agreed already.
        plan = SEED.model_copy(update={"marketing_share": round(0.2 + 0.01 * i, 2)})
        sid = store.create(plan, "Bench").scenario_id
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/?scenario={sid}")
        page.get_by_text("Chance we hit the number").wait_for(timeout=60_000)
        page.get_by_text("Live ·", exact=False).first.wait_for(timeout=60_000)
        _idle(page)
        t = time.perf_counter()
        store.agree(sid, 1, ["Bench"])
        page.get_by_text("The agreed plan for", exact=False).first.wait_for(timeout=ARRIVES_MS)
        out.append(time.perf_counter() - t)
        page.close()
    return out


def proposal_lags(browser: Any, url: str, store: Store, rounds: int) -> list[float]:
    """Move a proposal that an idle Compare page shows beside the screen's own plan: the time
    until its column shows the new odds."""
    working = store.create(SEED, "Bench").scenario_id
    proposal = store.create(SEED.model_copy(update={"name": "Bench proposal"}), "Bench")
    pid = proposal.scenario_id
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{url}/?scenario={working}")
    page.get_by_text("Chance we hit the number").wait_for(timeout=60_000)
    page.get_by_role("link", name="Compare").click()
    column = page.locator('[data-testid="stColumn"]').filter(has_text="Bench proposal")
    odds = column.locator('[data-testid="stCaptionContainer"]', has_text="Marketing hits its share")
    odds.wait_for(timeout=60_000)
    share, out = SEED.marketing_share, []
    for _ in range(rounds):
        _idle(page)
        before = odds.inner_text()
        head = store.head(pid)
        after = round(share - 0.05 if share > 0.3 else share + 0.3, 2)
        t = time.perf_counter()
        store.apply(pid, [FieldChange(SHARE, share, after)], "Bench", seen=head)
        page.wait_for_function(
            "([el, before]) => el.innerText !== before",
            arg=[odds.element_handle(), before],
            polling="raf",
            timeout=ARRIVES_MS,
        )
        out.append(time.perf_counter() - t)
        share = after
    page.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as data, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        with Server(8775, data) as app:
            store = Store(f"sqlite:///{Path(data) / 'pact.db'}")
            rows["Compare: a proposal beside moved"] = proposal_lags(
                browser, app.url, store, args.rounds
            )
            rows["Plan: the plan agreed"] = agreement_lags(browser, app.url, store, args.rounds)
        browser.close()
    print(f"\nRoom news saved by another process, to an idle screen ({args.rounds} rounds)")
    print(f"{'':36} {'median ms':>9} {'p95 ms':>8} {'max ms':>8}")
    for label, xs in rows.items():
        med, p95, top = figures(xs)
        print(f"{label:36} {med:9.0f} {p95:8.0f} {top:8.0f}")


if __name__ == "__main__":
    main()
