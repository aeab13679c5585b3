"""Writes examples/activity-2027-Q1.csv: a lead-level follow-up export for the compliance check.

Known truth (so the check can be verified): 164 MQLs over 13 weeks from 2027-01-04, handled by
three reps. Ana touches within ~1 business hour and makes 6-8 attempts; Ben usually waits one to
two days for the first touch; Cy is fast but stops after 2-4 attempts. A lead worked within the
SLA (4 business hours, 6 attempts in 10 days) becomes an SQL with probability 0.75, otherwise 0.45.
Run from the repository root: .venv/bin/python examples/make_activity.py [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

REPS = {"Ana": (0.8, (6, 9)), "Ben": (30.0, (6, 9)), "Cy": (0.8, (2, 5))}


def add_business_hours(t: datetime, hours: float) -> datetime:
    """Move forward `hours` business hours (Mon-Fri 09:00-17:00)."""
    while hours > 0:
        if t.weekday() >= 5 or t.hour >= 17:
            t = (t + timedelta(days=1)).replace(hour=9, minute=0)
            continue
        if t.hour < 9:
            t = t.replace(hour=9, minute=0)
        left = 17 - (t.hour + t.minute / 60)
        step = min(left, hours)
        t += timedelta(hours=step)
        hours -= step
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).with_name("activity-2027-Q1.csv")))
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    start = datetime(2027, 1, 4, 9, 0)
    rows = []
    for i in range(164):
        rep = list(REPS)[i % 3]
        first_mean, (lo, hi) = REPS[rep]
        day = int(rng.integers(0, 13 * 7))
        mql = start + timedelta(days=day, hours=float(rng.uniform(0, 8)))
        first = add_business_hours(mql, float(rng.exponential(first_mean)))
        attempts = int(rng.integers(lo, hi))
        touches = [first] + [
            first + timedelta(days=float(d)) for d in np.sort(rng.uniform(0.2, 9.5, attempts - 1))
        ]
        within = (first - mql) <= timedelta(hours=4) or add_business_hours(mql, 4) >= first
        compliant = within and attempts >= 6
        sql = rng.random() < (0.75 if compliant else 0.45)
        sql_time = (first + timedelta(days=float(rng.uniform(1, 9)))) if sql else None
        for t in touches:
            rows.append(
                [
                    f"L{i:04d}",
                    rep,
                    mql.isoformat(" ", "minutes"),
                    t.isoformat(" ", "minutes"),
                    sql_time.isoformat(" ", "minutes") if sql_time else "",
                ]
            )
    rows.sort(key=lambda r: r[3])
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["lead", "rep", "mql_time", "touch_time", "sql_time"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
