"""Benchmark of the team (issue 13): what capacity adds to the engine for 100,000 trials, and the
Plan page's slider latency with a team of 30 people, as ratios to references in the same run.

Run from the repository root:  .venv/bin/python bench/team.py [--moves 30] [--no-browser]
Prints tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim.team as team_module
from sim import engine, load_scenario, parse_scenario, simulate
from sim.models import Scenario
from sim.plan import plan
from sim.store import Store

SEED = ROOT / "examples" / "seed-sla.json"
TRIALS = 100_000
SETTLE_MS = 400
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


def _moves(page: Any, expected: Any, moves: int) -> list[float]:
    """Slider "MQL → SQL rate" -> the new chance of hitting the number on screen (seconds)."""
    from bench.core import _HAS_TEXT

    slider = page.get_by_role("slider", name="MQL → SQL rate")
    out, rate = [], 75
    shown = expected(rate)
    for i in range(moves):
        key, step = ("ArrowLeft", -1) if (i // 15) % 2 else ("ArrowRight", 1)
        rate += step
        want = expected(rate)
        page.wait_for_timeout(SETTLE_MS)  # a leader looks before the next move
        slider.focus()
        t = time.perf_counter()
        slider.press(key)
        if want != shown:
            page.wait_for_function(
                _HAS_TEXT, arg=['[data-testid="stMetricValue"]', want], polling="raf"
            )
            out.append(time.perf_counter() - t)
        shown = want
    return out


def bench_browser(moves: int) -> None:
    """The empty reference page, the Plan page on the seed plan and on the team of 30, in one
    run: slider -> headline, as ratios to the reference."""
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM, FLAGS, Server, figures
    from bench.core import reference_moves
    from ui.results import headline_numbers

    seed, with_team = load_scenario(SEED), team_scenario()

    def hit_text(scenario: Scenario) -> Any:
        def at(rate: int) -> str:
            data = scenario.to_dict()
            data["sources"][0]["rates"][0]["mean"] = rate / 100
            return f"{headline_numbers(parse_scenario(data)).p_hit:.0%}"

        return at

    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as data, sync_playwright() as pw:
        store = Store(f"sqlite:///{data}/pact.db")
        ids = {
            name: store.create(s, "bench").scenario_id
            for name, s in (("seed", seed), ("team", with_team))
        }
        store.engine.dispose()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        with Server(8765, data, ROOT / "bench" / "empty_page.py") as ref:
            rows["reference: slider -> metric"] = reference_moves(browser, ref.url, moves)
        with Server(8766, data) as app:
            for label, key, scenario in (
                ("Plan, seed plan: slider -> headline", "seed", seed),
                ("Plan, team of 30: slider -> headline", "team", with_team),
            ):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{app.url}/?scenario={ids[key]}")
                page.get_by_text("45.0% · 80% range").wait_for(timeout=60_000)
                if scenario.team is not None:
                    page.get_by_text("SQLs the SDRs book").wait_for(timeout=60_000)
                rows[label] = _moves(page, hit_text(scenario), moves)
                page.close()
        browser.close()
    ref_median, ref_p95, _ = figures(rows["reference: slider -> metric"])
    print(
        f"\nBrowser (headless Chromium; {moves} moves, {SETTLE_MS} ms apart; ratios to the "
        "empty reference page in this run)"
    )
    print(f"{'':38} {'median ms':>9} {'p95 ms':>8} {'median x':>9} {'p95 x':>7}")
    for label, xs in rows.items():
        med, p95, _ = figures(xs)
        print(f"{label:38} {med:9.0f} {p95:8.0f} {med / ref_median:8.2f}x {p95 / ref_p95:6.2f}x")


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
