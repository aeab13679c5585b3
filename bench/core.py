"""Benchmark of the core (issue 2): engine speed against a plain stage-by-stage numpy
reference, and what a leader feels in the browser: first render and slider -> updated P(hit).

Run from the repository root:  .venv/bin/python bench/core.py [--moves 30] [--no-browser]
Prints tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, simulate
from sim.engine import DEFAULT_TRIALS
from sim.models import Scenario, parse_scenario

SETTLE_MS = 400
SEED = ROOT / "examples" / "seed-sla.json"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def expected_hit(mql_to_sql: int) -> str:
    """The P(hit) text the Plan page must show for this MQL -> SQL rate (default trials, seed 0)."""
    data = load_scenario(SEED).to_dict()
    data["sources"][0]["rates"][0]["mean"] = mql_to_sql / 100
    return f"{simulate(parse_scenario(data), trials=DEFAULT_TRIALS, seed=0).p_hit:.0%}"


def bench_browser(moves: int) -> None:
    from playwright.sync_api import sync_playwright

    port = 8765
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ui.serve",  # as scripts/run starts it
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env={"PACT_DATA_DIR": data, "PATH": "/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            import urllib.request

            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_text("Chance we hit the number").wait_for(timeout=60_000)
                page.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
                first = time.perf_counter() - t
                page2 = browser.new_page(viewport={"width": 1400, "height": 1000})
                t = time.perf_counter()
                page2.goto(f"http://127.0.0.1:{port}/")
                page2.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
                second = time.perf_counter() - t
                page2.close()
                slider = page.get_by_role("slider", name="MQL → SQL rate")
                metric = page.locator('[data-testid="stMetric"]').filter(has_text="Chance we hit")
                value = page.locator('[data-testid="stMetricValue"]').first
                to_hit, to_page = [], []
                rate = 75
                shown = expected_hit(rate)
                for i in range(moves):
                    key, step = ("ArrowLeft", -1) if (i // 15) % 2 else ("ArrowRight", 1)
                    rate += step
                    want = expected_hit(rate)
                    page.wait_for_timeout(SETTLE_MS)  # a leader looks before the next move
                    slider.focus()
                    t = time.perf_counter()
                    slider.press(key)
                    if want != shown:
                        metric.get_by_text(want, exact=True).wait_for(timeout=30_000)
                        to_hit.append(time.perf_counter() - t)
                    page.get_by_text(f"{rate:.1f}% · known exactly").wait_for(timeout=30_000)
                    to_page.append(time.perf_counter() - t)
                    shown = want
                assert value.inner_text() == shown
                browser.close()
        finally:
            proc.terminate()
            proc.wait()
    print(
        f"\nBrowser (headless Chromium, {DEFAULT_TRIALS:,} trials = the app's default;"
        f" {SETTLE_MS} ms pause between moves)"
    )
    print(f"first render, first session after the server is up: {first:.2f} s")
    print(f"first render, a second session:                     {second:.2f} s")
    for label, xs in (("updated P(hit)", to_hit), ("whole page redrawn", to_page)):
        ms = sorted(1000 * x for x in xs)
        p95 = ms[min(len(ms) - 1, int(np.ceil(0.95 * len(ms))) - 1)]
        print(
            f"slider -> {label:<18} ({len(ms)} moves): median {statistics.median(ms):.0f} ms,"
            f" p95 {p95:.0f} ms, max {ms[-1]:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moves", type=int, default=60)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    bench_engine()
    if not args.no_browser:
        bench_browser(args.moves)


if __name__ == "__main__":
    main()
