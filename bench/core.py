"""Benchmark of the core (issue 2): engine speed against a plain stage-by-stage numpy
reference, and what a leader feels in the browser: first render and slider -> updated P(hit).

Run from the repository root:
    .venv/bin/python bench/core.py [--moves 60] [--no-browser] [--floor] [--alternate ROUNDS]
--floor adds the Plan page's floor (bench/floor_page.py: its elements, none of its work);
--alternate moves the empty page, the floor and the Plan page in turn instead.
Prints tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, simulate
from sim.models import Scenario, parse_scenario

SETTLE_MS = 400
SEED = ROOT / "examples" / "seed-sla.json"


def reference(scenario: Scenario, trials: int, seed: int) -> float:
    """The textbook way: draw volume, each rate, then thin stage by stage with binomials."""
    rng = np.random.default_rng(seed)
    total = np.zeros(trials, dtype=np.int64)
    for source in scenario.sources:
        v = source.volume
        if v.dist == "fixed":
            count = np.full(trials, int(v.mean))
        elif v.dist == "poisson":
            count = rng.poisson(v.mean, trials)
        else:
            shape = 1 / v.cv**2
            count = rng.poisson(rng.gamma(shape, v.mean / shape, trials))
        for rate in source.rates:
            p = rng.beta(rate.alpha, rate.beta, trials) if rate.uncertain else rate.mean
            count = rng.binomial(count, p)
        total += count
    return float(np.mean(total >= scenario.target))


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bench_engine() -> None:
    scenario = load_scenario(SEED)
    simulate(scenario, trials=1000, seed=0)  # warm the law cache, as a running app has it
    print("Engine, seed scenario (best of 5; 2-core machine)")
    print(f"{'trials':>10} {'engine s':>9} {'trials/s':>12} {'reference s':>12} {'ratio':>6}")
    for trials in (100_000, 1_000_000):
        e = best_of(lambda n=trials: simulate(scenario, trials=n, seed=1), 5)
        r = best_of(lambda n=trials: reference(scenario, n, 1), 5)
        print(f"{trials:>10,} {e:>9.3f} {trials / e:>12,.0f} {r:>12.3f} {r / e:>5.1f}x")
    p_e = simulate(scenario, trials=1_000_000, seed=3).p_hit
    p_r = reference(scenario, 1_000_000, 3)
    print(
        f"P(hit) engine {p_e:.4f} vs reference {p_r:.4f} (SE {np.sqrt(p_e * (1 - p_e) / 1e6):.4f})"
    )


def seed_at(mql_to_sql: int) -> Scenario:
    """The seed scenario with its first source's MQL -> SQL rate set to `mql_to_sql` percent:
    the plan the benchmark's moves lead to."""
    data = load_scenario(SEED).to_dict()
    data["sources"][0]["rates"][0]["mean"] = mql_to_sql / 100
    return parse_scenario(data)


def expected_hit(mql_to_sql: int) -> str:
    """The chance the Plan page must show for this MQL -> SQL rate (the page's own numbers)."""
    from ui.results import headline_numbers

    return f"{headline_numbers(seed_at(mql_to_sql)).p_hit:.0%}"


def sql_count(mql_to_sql: int) -> str:
    """The SQL count the funnel chart shows for the seed's 164 MQLs at this rate."""
    return f"{164 * mql_to_sql / 100:,.0f}"


_HAS_TEXT = """([selector, text]) => [...document.querySelectorAll(selector)]
    .some(e => e.textContent.trim() === text)"""
_WHOLE_PAGE = """([caption, hit, sql]) => {
    const texts = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')];
    const svg = [...document.querySelectorAll('.js-plotly-plot text')].map(t => t.textContent);
    return texts.some(e => e.textContent.trim() === caption)
        && svg.includes('Hit the number: ' + hit) && svg.includes(sql);
}"""


def first_render(browser: Any, url: str, ready: str) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        _HAS_TEXT, arg=['[data-testid="stMetricValue"]', ready], polling="raf", timeout=120_000
    )
    took = time.perf_counter() - t
    page.close()
    return took


class ReferenceScreen:
    """The empty reference page (bench/empty_page.py) open in the browser, moved a few moves at a
    time: slider -> metric."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.goto(url)
        self.page.get_by_text("50%", exact=True).wait_for(timeout=60_000)
        self.slider = self.page.get_by_role("slider", name="Reference slider")
        self.value, self.done = 50, 0

    def close(self) -> None:
        self.page.close()

    def move(self, moves: int) -> list[float]:
        out = []
        for _ in range(moves):
            key, step = ("ArrowLeft", -1) if (self.done // 15) % 2 else ("ArrowRight", 1)
            self.value += step
            self.done += 1
            self.page.wait_for_timeout(SETTLE_MS)  # a leader looks before the next move
            self.slider.focus()
            t = time.perf_counter()
            self.slider.press(key)
            self.page.wait_for_function(
                _HAS_TEXT, arg=['[data-testid="stMetricValue"]', f"{self.value}%"], polling="raf"
            )
            out.append(time.perf_counter() - t)
        return out


class PlanScreen:
    """The Plan page (or its floor, bench/floor_page.py) open in the browser, moved a few moves
    at a time: slider -> headline and slider -> whole page (both charts)."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.goto(url)
        self.page.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
        self.slider = self.page.get_by_role("slider", name="MQL → SQL rate")
        self.rate, self.done = 75, 0
        self.shown = expected_hit(self.rate)

    def close(self) -> None:
        self.page.close()

    def move(self, moves: int) -> tuple[list[float], list[float]]:
        to_hit, to_page = [], []
        for _ in range(moves):
            key, step = ("ArrowLeft", -1) if (self.done // 15) % 2 else ("ArrowRight", 1)
            self.rate += step
            self.done += 1
            want = expected_hit(self.rate)
            self.page.wait_for_timeout(SETTLE_MS)
            self.slider.focus()
            t = time.perf_counter()
            self.slider.press(key)
            if want != self.shown:
                self.page.wait_for_function(
                    _HAS_TEXT, arg=['[data-testid="stMetricValue"]', want], polling="raf"
                )
                to_hit.append(time.perf_counter() - t)
            self.page.wait_for_function(
                _WHOLE_PAGE,
                arg=[f"{self.rate:.1f}% · known exactly", want, sql_count(self.rate)],
                polling="raf",
                timeout=30_000,
            )
            to_page.append(time.perf_counter() - t)
            self.shown = want
        return to_hit, to_page


def reference_moves(browser: Any, url: str, moves: int) -> list[float]:
    """Slider -> metric on the empty reference page (bench/empty_page.py)."""
    screen = ReferenceScreen(browser, url)
    out = screen.move(moves)
    screen.close()
    return out


def plan_moves(browser: Any, url: str, moves: int) -> tuple[list[float], list[float]]:
    """Slider -> headline and slider -> whole page (both charts) on the Plan page."""
    screen = PlanScreen(browser, url)
    out = screen.move(moves)
    screen.close()
    return out


def follower_lags(browser: Any, leader_url: str, follower_base: str, moves: int) -> list[float]:
    """Key press on a leader's MQL -> SQL slider to the new value on a follower's screen (the
    follower's page may be served by another process on the same store)."""
    leader = browser.new_page(viewport={"width": 1400, "height": 1000})
    leader.goto(leader_url)
    leader.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
    slider = leader.get_by_role("slider", name="MQL → SQL rate")
    slider.focus()
    slider.press("ArrowRight")  # the first move saves the plan and gives it its link
    leader.wait_for_url("**scenario=*", timeout=30_000)
    query = leader.url.split("?", 1)[1]
    follower = browser.new_page(viewport={"width": 1400, "height": 1000})
    follower.goto(f"{follower_base}/?{query}")
    follower.get_by_text("76.0% · known exactly").wait_for(timeout=60_000)
    rate, out = 76, []
    for i in range(moves):
        key, step = ("ArrowLeft", -1) if (i // 10) % 2 else ("ArrowRight", 1)
        rate += step
        leader.wait_for_timeout(SETTLE_MS + 600)  # both screens settled
        slider.focus()
        t = time.perf_counter()
        slider.press(key)
        follower.wait_for_function(
            _HAS_TEXT,
            arg=['[data-testid="stCaptionContainer"]', f"{rate:.1f}% · known exactly"],
            polling="raf",
            timeout=30_000,
        )
        out.append(time.perf_counter() - t)
    leader.close()
    follower.close()
    return out


def print_rows(rows: dict[str, list[float]]) -> None:
    """Median, p95 and max of each row, and each as a ratio to the reference's (the first row)."""
    from bench.browser import figures

    ref_median, ref_p95, _ = figures(next(iter(rows.values())))
    print(f"{'':32} {'median ms':>9} {'p95 ms':>8} {'max ms':>8} {'median x':>9} {'p95 x':>7}")
    for label, xs in rows.items():
        med, p95, top = figures(xs)
        print(
            f"{label:32} {med:9.0f} {p95:8.0f} {top:8.0f} {med / ref_median:8.2f}x "
            f"{p95 / ref_p95:6.2f}x"
        )


def place_floor_static() -> None:
    """plotly.js where the floor page (bench/floor_page.py) serves it: static/ beside app.py,
    linked from bench/static (Streamlit serves static/ beside the script it runs)."""
    from ui import plot

    plot.prepare()
    floor_static = ROOT / "bench" / "static"
    if not floor_static.exists():
        floor_static.symlink_to(ROOT / "static", target_is_directory=True)


def bench_alternate(moves: int, rounds: int) -> None:
    """The empty page, the Plan page's full floor and the Plan page, each open in its own tab,
    moved in turn for `rounds` rounds of moves / rounds moves: the machine's speed drifts within
    a run, and alternating puts each page in the same minutes as the others."""
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM, FLAGS, Server

    place_floor_static()
    each = max(1, moves // rounds)
    rows: dict[str, list[float]] = {
        "reference: slider -> metric": [],
        "floor, full: -> headline": [],
        "floor, full: -> whole page": [],
        "Plan: slider -> headline": [],
        "Plan: slider -> whole page": [],
    }
    with (
        tempfile.TemporaryDirectory() as data,
        sync_playwright() as pw,
        Server(8765, data, ROOT / "bench" / "empty_page.py") as ref,
        Server(8768, data, ROOT / "bench" / "floor_page.py") as low,
        Server(8766, data) as app,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        empty = ReferenceScreen(browser, ref.url)
        screens = {
            "floor, full": PlanScreen(browser, low.url),
            "Plan": PlanScreen(browser, app.url),
        }
        screens["Plan"].move(1)  # the first move saves the plan: once, not in the figures
        for _ in range(rounds):
            rows["reference: slider -> metric"] += empty.move(each)
            for name, screen in screens.items():
                to_hit, to_page = screen.move(each)
                prefix = "Plan: slider" if name == "Plan" else name + ":"
                rows[f"{prefix} -> headline"] += to_hit
                rows[f"{prefix} -> whole page"] += to_page
        browser.close()
    print(
        f"\nAlternated (headless Chromium; {rounds} rounds of {each} moves on each page, "
        f"{SETTLE_MS} ms apart; ratios to the empty reference page)"
    )
    print_rows(rows)


def bench_browser(moves: int, pause_ms: int | None, floor: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM, FLAGS, Server

    rows: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}  # the server's CPU per move, in ms

    def measured(label: str, server: Server, moving: Callable[[], Any]) -> Any:
        before = server.cpu()
        out = moving()
        cpu[label] = 1000 * (server.cpu() - before) / moves
        return out

    with tempfile.TemporaryDirectory() as data, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        with Server(8765, data, ROOT / "bench" / "empty_page.py") as ref:
            ref_first = first_render(browser, ref.url, "50%")
            ref_second = first_render(browser, ref.url, "50%")
            rows["reference: slider -> metric"] = measured(
                "empty page", ref, lambda: reference_moves(browser, ref.url, moves)
            )
        if floor:  # the Plan page's elements without its work (bench/floor_page.py)
            place_floor_static()
            with Server(8768, data, ROOT / "bench" / "floor_page.py") as low:
                first_render(browser, low.url, expected_hit(75))  # makes its frames
                for parts in ("full", "core", "minimal"):
                    url = f"{low.url}/?parts={parts}"
                    label = f"floor, {parts}"
                    to_hit, to_page = measured(
                        label, low, lambda u=url: plan_moves(browser, u, moves)
                    )
                    rows[f"{label}: -> headline"] = to_hit
                    rows[f"{label}: -> whole page"] = to_page
        env = {} if pause_ms is None else {"PACT_PAINT_PAUSE_MS": str(pause_ms)}
        with Server(8766, data, env=env) as app:
            app_first = first_render(browser, app.url, expected_hit(75))
            app_second = first_render(browser, app.url, expected_hit(75))
            to_hit, to_page = measured("Plan", app, lambda: plan_moves(browser, app.url, moves))
            rows["Plan: slider -> headline"] = to_hit
            rows["Plan: slider -> whole page"] = to_page
            rows["room: leader -> follower"] = follower_lags(browser, app.url, app.url, moves // 2)
            with Server(8767, data) as other:  # a second process on the same SQLite file
                rows["room: ... on another process"] = follower_lags(
                    browser, app.url, other.url, moves // 2
                )
        browser.close()
    print(
        f"\nBrowser (headless Chromium; {moves} moves, {SETTLE_MS} ms apart; ratios to the "
        "empty reference page in this run)"
    )
    print_rows(rows)
    print(f"{'server CPU per move':32} " + "  ".join(f"{k} {v:.0f} ms" for k, v in cpu.items()))
    print(f"{'first render':32} {'reference':>9} {'Plan':>8} {'ratio':>8}")
    print(
        f"{'  first session after start':32} {ref_first:8.2f}s {app_first:7.2f}s "
        f"{app_first / ref_first:7.2f}x"
    )
    print(
        f"{'  a second session':32} {ref_second:8.2f}s {app_second:7.2f}s "
        f"{app_second / ref_second:7.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--pause-ms",
        type=int,
        default=None,
        help="the Plan page's pause after the headline (default: the app's, 40 ms)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure the Plan page's elements without its work (bench/floor_page.py)",
    )
    parser.add_argument(
        "--alternate",
        type=int,
        metavar="ROUNDS",
        default=0,
        help="instead of the browser figures: the empty page, the full floor and the Plan page "
        "moved in turn, ROUNDS rounds of --moves / ROUNDS moves each",
    )
    args = parser.parse_args()
    bench_engine()
    if args.alternate:
        bench_alternate(args.moves, args.alternate)
    elif not args.no_browser:
        bench_browser(args.moves, args.pause_ms, args.floor)


if __name__ == "__main__":
    main()
