"""Benchmark of the quarter in time (issue 11): the engine with 13 weekly cohorts, lags and an
opening pipeline against the time-less engine on the same scenario in the same run; the weekly
timeline, the back-solve and the mid-quarter review; the lag fit; and, in headless Chromium,
the Plan page's slider latency with the timeline on screen against an empty page (one slider,
one metric) and the seed plan without a clock, measured in the same run.

Run from the repository root:  .venv/bin/python bench/timing.py [--moves 30] [--no-browser]
Prints tables; asserts nothing about time. Report ratios: absolute times vary between machines.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import engine, load_scenario, parse_scenario, plan, simulate, timeline, timing
from sim.calibrate import read_history
from sim.lags import fit_lags
from sim.models import Scenario
from sim.review import actuals_from_rows, blank_actuals, review

TIMED = ROOT / "examples" / "timed-plan.json"
SEED = ROOT / "examples" / "seed-sla.json"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
SETTLE_MS = 400


def clear_caches() -> None:
    """Forget every law, grid and pace, as after a server start (cold)."""
    engine._source_pmf_cached.cache_clear()
    engine._timed_pmf_cached.cache_clear()
    engine._TRANSITIONS.clear()
    timing._lag_grid.cache_clear()
    timing._clock.cache_clear()
    timing._source_pace.cache_clear()
    timeline._timeline.cache_clear()


def best_of(fn: Callable[[], Any], repeats: int, *, cold: bool = False) -> float:
    times = []
    for _ in range(repeats):
        if cold:
            clear_caches()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def timeless(scenario: Scenario) -> Scenario:
    data = scenario.to_dict()
    data.pop("weeks", None)
    for source in data["sources"]:
        for key in ("arrivals", "lags", "opening"):
            source.pop(key, None)
    return parse_scenario(data)


def whole_weeks(scenario: Scenario) -> Scenario:
    """The timed plan with Outbound's 123 SQLs... made 130, 10 a week: 13 exact cohorts."""
    data = scenario.to_dict()
    data["sources"][1]["volume"]["mean"] = 130
    data["sources"][1]["arrivals"] = {"shape": "weekly", "weekly": [10] * 13}
    return parse_scenario(data)


def bench_engine() -> None:
    timed = load_scenario(TIMED)
    cases = [
        ("seed plan, no clock (reference)", timeless(timed)),
        ("13 weekly cohorts, lags, opening pipeline", timed),
        ("the same, 13 exact weekly cohorts of 10 SQLs", whole_weeks(timed)),
    ]
    print("Engine (best of 7; 2-core machine). Cold: every law computed; warm: laws cached.")
    print(
        f"{'scenario':<46} {'trials':>9} {'cold s':>8} {'warm s':>8} {'cold ratio':>11} {'warm ratio':>11}"
    )
    for trials in (100_000, 1_000_000):
        ref_cold = ref_warm = 1.0
        for i, (label, scenario) in enumerate(cases):
            cold = best_of(lambda s=scenario, n=trials: simulate(s, n, 1), 7, cold=True)
            simulate(scenario, 1000, 0)
            warm = best_of(lambda s=scenario, n=trials: simulate(s, n, 1), 7)
            if i == 0:
                ref_cold, ref_warm = cold, warm
            print(
                f"{label:<46} {trials:>9,} {cold:>8.3f} {warm:>8.3f} "
                f"{cold / ref_cold:>10.2f}x {warm / ref_warm:>10.2f}x"
            )
    print()
    print(f"{'the rest of the Plan page, cold':<46} {'seconds':>8}")
    for label, fn in (
        ("timeline (13 exact weekly laws, P10-P90 band)", lambda: timeline.timeline(timed)),
        ("plan() back-solve, with the clock", lambda: plan(timed, 0.8)),
        ("plan() back-solve, no clock (reference)", lambda: plan(timeless(timed), 0.8)),
    ):
        print(f"{label:<46} {best_of(fn, 5, cold=True):>8.3f}")
    rows = blank_actuals(timed, week=6)
    for label, scenario in (
        ("review at week 6, with the clock", timed),
        ("review at week 6, no clock (reference)", timeless(timed)),
    ):
        actuals = actuals_from_rows(rows, scenario, week=6)
        t = best_of(lambda s=scenario, a=actuals: review(s, a), 3, cold=True)
        print(f"{label:<46} {t:>8.3f}")


def bench_lags() -> None:
    spec = importlib.util.spec_from_file_location("mlh", ROOT / "examples" / "make_lag_history.py")
    assert spec is not None
    assert spec.loader is not None
    mlh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mlh)
    print()
    print(f"{'lag fit (read the export, fit every step)':<46} {'leads':>9} {'seconds':>8}")
    for scale in (1, 33):
        text = mlh.to_csv(mlh.make_leads(scale=scale))
        history = read_history(text)
        t = best_of(lambda h=history: fit_lags(h), 3)
        print(f"{'5 steps, 6 quarters':<46} {history.rows_used:>9,} {t:>8.3f}")


def _serve(script: Path, port: int, data: str) -> subprocess.Popen[bytes]:
    module = (
        ["-m", "ui.serve"] if script.name == "app.py" else ["-m", "streamlit", "run", str(script)]
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            *module,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env={"PACT_DATA_DIR": data, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _moves(
    page: Any, moves: int, want: Callable[[int], str], page_done: Callable[[int], str] | None
) -> tuple[list[float], list[float]]:
    slider = page.get_by_role("slider", name="MQL → SQL rate").first
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit").first
    to_hit, to_page = [], []
    rate, shown = 75, want(75)
    for i in range(moves):
        key, step = ("ArrowLeft", -1) if (i // 15) % 2 else ("ArrowRight", 1)
        rate += step
        target = want(rate)
        page.wait_for_timeout(SETTLE_MS)  # a leader looks before the next move
        slider.focus()
        t = time.perf_counter()
        slider.press(key)
        if target != shown:
            metric.get_by_text(target, exact=True).wait_for(timeout=30_000)
            to_hit.append(time.perf_counter() - t)
        if page_done is not None:
            page.get_by_text(page_done(rate)).first.wait_for(timeout=30_000)
            to_page.append(time.perf_counter() - t)
        shown = target
    return to_hit, to_page


def _stats(xs: list[float]) -> tuple[float, float]:
    ms = sorted(1000 * x for x in xs)
    return statistics.median(ms), ms[min(len(ms) - 1, int(np.ceil(0.95 * len(ms))) - 1)]


def bench_browser(moves: int) -> None:
    from playwright.sync_api import sync_playwright

    timed = load_scenario(TIMED).to_dict()
    timed["target"] = 43  # about an even chance, so a one-point move changes the shown percent
    timed_scenario = parse_scenario(timed)

    def hit(scenario: Scenario) -> Callable[[int], str]:
        def at(rate: int) -> str:
            data = scenario.to_dict()
            data["sources"][0]["rates"][0]["mean"] = rate / 100
            moved = parse_scenario(data)  # the page shows exact odds for customers
            result = engine.exact(moved) or simulate(moved, engine.DEFAULT_TRIALS, seed=0)
            return f"{result.p_hit:.0%}"

        return at

    results: dict[str, tuple[list[float], list[float], float]] = {}
    with tempfile.TemporaryDirectory() as data, sync_playwright() as pw:
        empty = Path(data) / "empty.py"
        empty.write_text(
            "import streamlit as st\n"
            "v = st.slider('MQL → SQL rate', 0, 100, 75)\n"
            "st.metric('Chance we hit the number', f'{v}%')\n"
        )
        timed_file = Path(data) / "timed.json"
        timed_file.write_text(json.dumps(timed))
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for label, script, port in (("empty page", empty, 8771), ("plan", ROOT / "app.py", 8772)):
            proc = _serve(script, port, data)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_text("Chance we hit the number").first.wait_for(timeout=60_000)
                first = time.perf_counter() - t
                if label == "empty page":
                    hits, _ = _moves(page, moves, lambda r: f"{r}%", None)
                    results[label] = (hits, [], first)
                    continue
                page.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
                first = time.perf_counter() - t
                done = lambda r: f"{r:.1f}% · known exactly"
                hits, whole = _moves(page, moves, hit(load_scenario(SEED)), done)
                results["Plan, seed plan (no clock)"] = (hits, whole, first)
                page.get_by_test_id("stSidebar").get_by_test_id(
                    "stFileUploaderDropzoneInput"
                ).set_input_files(str(timed_file))
                page.get_by_text("Last useful week for new leads").wait_for(timeout=60_000)
                page.locator(".js-plotly-plot").nth(2).wait_for(timeout=60_000)
                hits, whole = _moves(page, moves, hit(timed_scenario), done)
                results["Plan, timed plan (timeline on screen)"] = (hits, whole, float("nan"))
            finally:
                proc.terminate()
                proc.wait()
        browser.close()
    print(
        f"\nBrowser (headless Chromium, {engine.DEFAULT_TRIALS:,} trials; {moves} moves, "
        f"{SETTLE_MS} ms apart). Ratios to the empty page measured in this run."
    )
    floor = _stats(results["empty page"][0])
    print(
        f"{'page':<40} {'headline median/p95 ms':>24} {'ratio p95':>10} {'whole page p95 ms':>18} {'ratio':>7} {'first render s':>15}"
    )
    for label, (hits, whole, first) in results.items():
        med, p95 = _stats(hits)
        w = _stats(whole)[1] if whole else float("nan")
        print(
            f"{label:<40} {med:>11.0f} / {p95:<10.0f} {p95 / floor[1]:>9.2f}x {w:>18.0f} "
            f"{w / floor[1]:>6.2f}x {first:>15.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    bench_engine()
    bench_lags()
    if not args.no_browser:
        bench_browser(args.moves)


if __name__ == "__main__":
    main()
