"""Writes examples/leads-sample.csv: a synthetic lead list for the MQL check.

Known mix (so the check can be verified by hand): 26 weeks from 2026-07-06, about 100
leads a week; 70% in the seed plan's regions, employees log-uniform 10-20,000, revenue about
150,000 per employee, five sectors; a few formula-like company names to show they stay text.
Run from the repository root: .venv/bin/python examples/make_leads.py [--rows N] [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

REGIONS = ["United States", "Canada", "United Kingdom", "Germany", "Brazil", "India"]
SECTORS = ["Manufacturing", "Logistics", "Retail", "Healthcare", "Software"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2600)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--out", default=str(Path(__file__).with_name("leads-sample.csv")))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = date(2026, 7, 6)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["company", "country", "employees", "annual_revenue", "sector", "created"])
        for i in range(args.rows):
            employees = int(np.exp(rng.uniform(np.log(10), np.log(20_000))))
            country = REGIONS[rng.choice(6, p=[0.45, 0.15, 0.1, 0.1, 0.1, 0.1])]
            name = f"Company {i:05d}" if i % 250 else '=HYPERLINK("http://x","click")'
            w.writerow(
                [
                    name,
                    country,
                    employees,
                    round(employees * 150_000 * rng.lognormal(0, 0.3), -3),
                    SECTORS[rng.integers(5)],
                    (start + timedelta(days=int(rng.integers(0, 26 * 7)))).isoformat(),
                ]
            )


if __name__ == "__main__":
    main()
