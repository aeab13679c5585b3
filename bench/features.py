"""Benchmark of the SLA exports, the lead-list check and the quarter review (issues 5 and 6).

Run from the repository root:  .venv/bin/python bench/features.py
Prints a table (best of 3 runs each); asserts nothing about time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim import load_scenario
from sim.charts import pacing_chart, waterfall_chart
from sim.export import export
from sim.leads import check_leads
from sim.review import actuals_from_csv, pacing, review


def best(fn, repeats: int = 3) -> tuple[float, float]:
    """(first run, best run): the first pays for cold caches, as a fresh server would."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times[0], min(times)


def main() -> None:
    agreed = load_scenario(ROOT / "examples" / "agreed-plan.json")
    with tempfile.TemporaryDirectory() as tmp:
        leads = Path(tmp) / "leads.csv"
        import subprocess

        subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "make_leads.py"),
                "--rows",
                "200000",
                "--out",
                str(leads),
            ],
            check=True,
        )
        raw = leads.read_bytes()
    actuals = actuals_from_csv(
        (ROOT / "examples" / "actuals-2027-Q1-week6.csv").read_bytes(), agreed
    )

    def full_review() -> None:
        r = review(agreed, actuals, trials=20_000)
        waterfall_chart(r).to_json()
        pacing_chart(pacing(agreed, actuals, "Inbound")).to_json()

    rows = [
        ("Lead-list check, 200,000 leads", "< 3 s", best(lambda: check_leads(raw, agreed))),
        (
            "HTML export (Plotly inline)",
            "< 2 s",
            best(lambda: export(agreed, "html", on=date.today())),
        ),
        ("XLSX export", "< 2 s", best(lambda: export(agreed, "xlsx", on=date.today()))),
        ("Markdown export", "", best(lambda: export(agreed, "md", on=date.today()))),
        ("Review: waterfall + re-forecast, 20,000 trials, charts", "< 1 s", best(full_review)),
    ]
    print(f"{'work':<58} {'target':>8} {'first s':>8} {'best s':>8}")
    for name, target, (first, fastest) in rows:
        print(f"{name:<58} {target:>8} {first:>8.3f} {fastest:>8.3f}")


if __name__ == "__main__":
    main()
