"""Benchmark of the team (issue 13): what capacity adds to the engine for 100,000 trials, and the
Plan page's slider latency with a team of 30 people, as ratios to references in the same run.

Run from the repository root:  .venv/bin/python bench/team.py [--moves 30] [--no-browser]
Prints tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim.team as team_module
from sim import engine, load_scenario, parse_scenario, simulate
from sim.engine import DEFAULT_TRIALS
from sim.models import Scenario
from sim.plan import plan
from sim.store import Store

SEED = ROOT / "examples" / "seed-sla.json"
TRIALS = 100_000
SETTLE_MS = 400
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
TEAM_30 = {
    "members": [
        {"name": "SDR team", "role": "sdr", "people": 14, "start": "2026-03-02",
         "ramp_weeks": 8, "productivity": 0.55},
        {"name": "SDR hires Jan", "role": "sdr", "people": 3, "start": "2027-01-11",
         "ramp_weeks": 8, "productivity": 0.55},
        {"name": "SDR hires Feb", "role": "sdr", "people": 3, "start": "2027-02-08",
         "ramp_weeks": 8, "productivity": 0.55},
        {"name": "AE team", "role": "ae", "people": 8, "start": "2025-09-01",
         "ramp_weeks": 12, "productivity": 16},
        {"name": "AE hires", "role": "ae", "people": 2, "start": "2027-01-18",
         "ramp_weeks": 12, "productivity": 16},
    ],
    "sdr_pace_cv": 0.15,
    "sdr_attrition": {"mean": 0.3, "n": 20},
    "ae_attrition": {"mean": 0.15},
    "ae_overload_win_factor": 0.7,
    "follow_up_touches": 20,
}  # fmt: skip


def team_scenario() -> Scenario:
    data = load_scenario(SEED).to_dict()
    data["name"] = "Team of 30"
    data["team"] = TEAM_30
    return parse_scenario(data)


def typed_twin(scenario: Scenario) -> Scenario:
    """The same plan without a team: the SDRs' source typed as a negbin with the team's mean
    and variance (the engine's own path for an uncertain volume)."""
    assert scenario.team is not None
    mix = team_module.sdr_volume_mix(scenario.team, scenario.quarter)
    assert mix is not None
    pmf = mix.pmf()
    k = np.arange(len(pmf))
    mean, var = float(k @ pmf), float((k - k @ pmf) ** 2 @ pmf)
    data = scenario.to_dict()
    del data["team"]
    data["sources"][1]["volume"] = {
        "mean": mean,
        "dist": "negbin",
        "cv": (var - mean) ** 0.5 / mean,
    }
    return parse_scenario(data)


def clear_caches() -> None:
    engine._source_pmf_cached.cache_clear()
    engine._TRANSITIONS.clear()
    engine._BINOMIAL.clear()
    team_module._sdr_mix_cached.cache_clear()


def interleaved(fa: Any, fb: Any, repeats: int, *, cold: bool) -> tuple[float, float]:
    """Best time of each of two functions, run alternately (the machine's load hits both)."""
    ta, tb = [], []
    for _ in range(repeats):
        for fn, times in ((fa, ta), (fb, tb)):
            if cold:
                clear_caches()
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return min(ta), min(tb)


def bench_engine() -> None:
    with_team = team_scenario()
    twin = typed_twin(with_team)
    print(f"Engine, {TRIALS:,} trials, team of 30 vs the same plan with the volume typed")
    print("(best of 15, run alternately; 2-core machine)")
    print(f"{'':<44} {'typed s':>8} {'team s':>8} {'ratio':>6}")
    for label, cold in (("laws cached (a move elsewhere on the page)", False),
                        ("from nothing (every cache cleared)", True)):  # fmt: skip
        simulate(with_team, 1000, 0)
        simulate(twin, 1000, 0)
        a, b = interleaved(
            lambda: simulate(twin, TRIALS, 1), lambda: simulate(with_team, TRIALS, 1), 15, cold=cold
        )
        print(f"{label:<44} {a:>8.4f} {b:>8.4f} {b / a:>5.2f}x")

    def moved_rate(s: Scenario, rate: float) -> Scenario:
        data = s.to_dict()
        data["sources"][1]["rates"][0]["mean"] = rate
        return parse_scenario(data)

    rates = iter(np.linspace(0.30, 0.70, 200))
    a, b = interleaved(
        lambda: simulate(moved_rate(twin, next(rates)), TRIALS, 1),
        lambda: simulate(moved_rate(with_team, next(rates)), TRIALS, 1),
        15,
        cold=False,
    )
    print(f"{'a move of the SDR source SQL -> Opp rate':<44} {a:>8.4f} {b:>8.4f} {b / a:>5.2f}x")
    sizes = iter(range(10, 400))

    def more_people(s: Scenario, people: int) -> Scenario:
        data = s.to_dict()
        if "team" in data:
            data["team"]["members"][0]["people"] = people
        else:
            data["sources"][1]["volume"]["mean"] *= 1 + people / 1000
        return parse_scenario(data)

    a, b = interleaved(
        lambda: simulate(more_people(twin, next(sizes)), TRIALS, 1),
        lambda: simulate(more_people(with_team, next(sizes)), TRIALS, 1),
        15,
        cold=False,
    )
    label = "a team edit (typed: a volume edit)"
    print(f"{label:<44} {a:>8.4f} {b:>8.4f} {b / a:>5.2f}x")
    r_team = simulate(with_team, 200_000, 3)
    r_twin = simulate(twin, 200_000, 3)
    print(
        f"sales P(hit): team {r_team.owners['sales'].p_hit:.3f}, typed twin "
        f"{r_twin.owners['sales'].p_hit:.3f} (the twin has no AE overload)"
    )
    t = time.perf_counter()
    clear_caches()
    plan(with_team, 0.8)
    print(f"plan with people needed, from nothing: {time.perf_counter() - t:.3f} s")


FLOOR_APP = """
import streamlit as st
value = st.slider("Rate", 0, 100, 75, key="rate")
st.metric("Value", f"{value}%")
"""


def _serve(args: list[str], data: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", *args, "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none"],
        cwd=ROOT,
        env={"PACT_DATA_DIR": data, "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _moves(
    page: Any, slider_name: str, metric_label: str, expected: Any, moves: int
) -> list[float]:
    """Key presses on a slider; ms from each press to the expected metric text on screen."""
    slider = page.get_by_role("slider", name=slider_name)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=metric_label)
    out, rate = [], 75
    shown = expected(rate)
    for i in range(moves):
        key, step = ("ArrowLeft", -1) if (i // 15) % 2 else ("ArrowRight", 1)
        rate += step
        want = expected(rate)
        page.wait_for_timeout(SETTLE_MS)
        slider.focus()
        t = time.perf_counter()
        slider.press(key)
        if want != shown:
            metric.get_by_text(want, exact=True).wait_for(timeout=30_000)
            out.append(1000 * (time.perf_counter() - t))
        shown = want
    return out


def _p95(ms: list[float]) -> float:
    s = sorted(ms)
    return s[min(len(s) - 1, int(np.ceil(0.95 * len(s))) - 1)]


def bench_browser(moves: int) -> None:
    from playwright.sync_api import sync_playwright

    seed, with_team = load_scenario(SEED), team_scenario()

    def hit_text(scenario: Scenario) -> Any:
        def at(rate: int) -> str:
            data = scenario.to_dict()
            data["sources"][0]["rates"][0]["mean"] = rate / 100
            return f"{simulate(parse_scenario(data), trials=DEFAULT_TRIALS, seed=0).p_hit:.0%}"

        return at

    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as data:
        floor_file = Path(data) / "floor.py"
        floor_file.write_text(FLOOR_APP)
        store = Store(f"sqlite:///{data}/pact.db")
        ids = {"seed": store.create(seed, "bench").scenario_id}
        ids["team"] = store.create(with_team, "bench").scenario_id
        store.engine.dispose()
        app = _serve(["ui.serve"], data, 8766)
        floor = _serve(["streamlit", "run", str(floor_file)], data, 8767)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto("http://127.0.0.1:8767/")
                page.get_by_text("75%").wait_for(timeout=60_000)
                results["empty page (floor)"] = _moves(
                    page, "Rate", "Value", lambda r: f"{r}%", moves
                )
                for name, scenario in (("Plan, seed plan", seed), ("Plan, team of 30", with_team)):
                    page.goto(f"http://127.0.0.1:8766/?scenario={ids[name.split(', ')[1][:4]]}")
                    page.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
                    if scenario.team is not None:
                        page.get_by_text("SQLs the SDRs book").wait_for(timeout=60_000)
                    results[name] = _moves(
                        page, "MQL → SQL rate", "Chance we hit", hit_text(scenario), moves
                    )
                browser.close()
        finally:
            for proc in (app, floor):
                proc.terminate()
                proc.wait()
    base = _p95(results["empty page (floor)"])
    print(f"\nBrowser: key press on a slider -> updated number on screen ({SETTLE_MS} ms pauses)")
    print(f"{'':<22} {'moves':>5} {'median ms':>10} {'p95 ms':>7} {'p95 / floor':>12}")
    for name, ms in results.items():
        print(
            f"{name:<22} {len(ms):>5} {statistics.median(ms):>10.0f} {_p95(ms):>7.0f} "
            f"{_p95(ms) / base:>11.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    bench_engine()
    if not args.no_browser:
        bench_browser(args.moves)


if __name__ == "__main__":
    main()
