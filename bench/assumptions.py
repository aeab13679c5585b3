"""Benchmark of the Assumptions page's work (issue 3): sensitivity and history import.

1. Tornado over 10 assumptions plus a 20 x 20 heatmap, 20,000 trials each, with common random
   numbers (sim.sensitivity), next to the same bars and cells run as plain `simulate` calls.
2. Import of a 100,000-row lead export: read and check the CSV, calibrate, trend every rate.

Run from the repository root:  .venv/bin/python bench/assumptions.py [--repeat 5]
Prints tables; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario, simulate
from sim.calibrate import calibrate, read_history
from sim.models import Scenario, parse_scenario
from sim.sensitivity import assumptions, heatmap, move, tornado
from sim.signal import all_trends

TRIALS = 20_000


def ten_assumptions(metric: str = "customers") -> Scenario:
    """The seed plan plus a partner source: 10 assumptions (12 with the deal size, bookings)."""
    data = load_scenario(ROOT / "examples" / "seed-sla.json").to_dict()
    data["sources"].append(
        {
            "name": "Partners",
            "owner": "marketing",
            "stages": ["Lead", "MQL", "Won"],
            "volume": {"mean": 90, "dist": "negbin", "cv": 0.3},
            "rates": [{"mean": 0.4, "n": 50}, {"mean": 0.2, "n": 30}],
        }
    )
    data["target"] = 60
    if metric == "bookings":
        data.update(metric="bookings", target=60 * 30000)
    return parse_scenario(data)


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def bench_sensitivity(repeat: int) -> None:
    print(
        f"Sensitivity at {TRIALS:,} trials per bar end and per cell (median and best of {repeat})"
    )
    print(
        f"{'scenario':<26} {'bars':>4} {'tornado s':>10} {'heatmap s':>10} {'total s':>8} "
        f"{'best s':>7}"
    )
    for metric in ("customers", "bookings"):
        s = ten_assumptions(metric)
        n = len(assumptions(s))
        tor = timed(lambda s=s: tornado(s, trials=TRIALS, seed=0), repeat)
        heat = timed(lambda s=s: heatmap(s, size=20, trials=TRIALS, seed=0), repeat)
        total = [a + b for a, b in zip(tor, heat, strict=True)]
        print(
            f"{'10-assumption, ' + metric:<26} {n:>4} {statistics.median(tor):>10.3f} "
            f"{statistics.median(heat):>10.3f} {statistics.median(total):>8.3f} {min(total):>7.3f}"
        )
    s = ten_assumptions()
    h = heatmap(s, size=20, trials=TRIALS, seed=0)
    cells = [(r, c) for r in range(20) for c in range(20)]

    def plain() -> None:
        for a in assumptions(s):
            simulate(move(s, a.key, a.low), trials=TRIALS, seed=0)
            simulate(move(s, a.key, a.high), trials=TRIALS, seed=0)
        for r, c in cells:
            moved = move(move(s, h.x.key, h.x_values[c]), h.y.key, h.y_values[r])
            simulate(moved, trials=TRIALS, seed=0)

    t = timed(plain, 1)[0]
    print(f"{'same work as simulate()':<26} {'':>4} {'':>10} {'':>10} {t:>8.3f}   (one run)")
    same = all(
        h.p_hit[r, c]
        == simulate(
            move(move(s, h.x.key, h.x_values[c]), h.y.key, h.y_values[r]), trials=TRIALS, seed=0
        ).p_hit
        for r, c in cells[::37]
    )
    print(f"heatmap cells equal to simulate() at the same seed: {same}")


def big_export(rows_wanted: int) -> tuple[str, int]:
    spec = importlib.util.spec_from_file_location("mh", ROOT / "examples" / "make_history.py")
    assert spec is not None
    assert spec.loader is not None
    mh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mh)
    truth = {**mh.TRUTH, "sources": {k: dict(v) for k, v in mh.TRUTH["sources"].items()}}
    scale = rows_wanted / 2525  # the example has 2,525 rows at these volumes
    for spec_ in truth["sources"].values():
        spec_["volume"] = {**spec_["volume"], "mean": spec_["volume"]["mean"] * scale}
    leads = mh.make_leads(truth, seed=1)
    return mh.to_csv(mh.LEAD_HEADER, leads), len(leads)


def bench_import(repeat: int) -> None:
    text, rows = big_export(100_000)
    data = text.encode()
    print(
        f"\nImport of a lead export: {rows:,} rows, {len(data) / 1e6:.1f} MB "
        f"(median and best of {repeat})"
    )
    print(f"{'step':<34} {'median s':>9} {'best s':>7}")
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("read and check (read_history)", lambda: read_history(data)),
        ("read + calibrate", lambda: calibrate(read_history(data))),
        ("read + calibrate + trends", lambda: all_trends(calibrate(read_history(data)))),
    ]
    for label, fn in steps:
        t = timed(fn, repeat)
        print(f"{label:<34} {statistics.median(t):>9.3f} {min(t):>7.3f}")
    h = read_history(data)
    print(f"  {h.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bench_sensitivity(args.repeat)
    bench_import(args.repeat)


if __name__ == "__main__":
    main()
