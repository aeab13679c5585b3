"""Generate a lead export with stage dates from known true lags, taken on a known export day.

The truth is `TRUTH` below: two sources over six quarters (2025-Q3 to 2026-Q4), each step with
its rate and the time it takes (gamma or log-normal, by median and CV), as in a scenario's
`lags`. The export is taken on EXPORT_DAY, ten days into 2027: a stage a lead would reach after
that day is still empty in the file, so the newest cohorts have not finished converting (the
censoring the lag fit must handle: `python -m sim calibrate examples/history-lags.csv`).

Each fitted median has an 80% interval, so on a given seed one of the five misses its true value
now and then (tests/unit/test_lags.py measures the rate over many exports). Likewise the
quarter-to-quarter change flag fires by chance on about 1 stable comparison in 20. The seed
below is the first tried whose export shows all five inside their intervals, the true family
picked and no change flagged, so that the example reads cleanly; other seeds are just as valid.

How a lead is drawn, per source and quarter: a Poisson number of leads, each reaching its first
stage on a uniform day of the quarter (created 0-3 days before); at each step it moves on with
the true rate, and when it does, after the step's true lag rounded to whole days.

    .venv/bin/python examples/make_lag_history.py    # rewrites history-lags.csv; same seed, same file
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
from scipy import special

HERE = Path(__file__).resolve().parent
SEED = 13  # see the module docstring
EXPORT_DAY = "2027-01-10"
QUARTERS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
STAGE_COLUMNS = {
    "MQL": "mql_date",
    "SQL": "sql_date",
    "Opportunity": "opportunity_date",
    "Won": "won_date",
}
TRUTH: dict[str, Any] = {
    "sources": {
        "Inbound": {
            "stages": ["MQL", "SQL", "Opportunity", "Won"],
            "volume": 300,
            "rates": [0.6, 0.5, 0.45],
            "lags": [
                {"dist": "gamma", "median": 4, "cv": 0.9},
                {"dist": "lognormal", "median": 12, "cv": 0.8},
                {"dist": "gamma", "median": 35, "cv": 0.5},
            ],
        },
        "Outbound": {
            "stages": ["SQL", "Opportunity", "Won"],
            "volume": 200,
            "rates": [0.5, 0.4],
            "lags": [
                {"dist": "gamma", "median": 10, "cv": 0.7},
                {"dist": "lognormal", "median": 40, "cv": 0.6},
            ],
        },
    },
}
HEADER = ["lead_id", "source", "created", *STAGE_COLUMNS.values()]


def draw_lag(lag: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """n lags in days from a scenario-style lag (gamma or lognormal by median and cv)."""
    cv = lag["cv"]
    if lag["dist"] == "gamma":
        shape = 1 / cv**2
        return rng.gamma(shape, lag["median"] / special.gammaincinv(shape, 0.5), n)
    return lag["median"] * np.exp(np.sqrt(np.log1p(cv**2)) * rng.standard_normal(n))


def _start(quarter: str) -> np.datetime64:
    year, q = quarter.split("-Q")
    return np.datetime64(f"{year}-{3 * (int(q) - 1) + 1:02d}-01")


def make_leads(
    truth: dict[str, Any] = TRUTH,
    seed: int = SEED,
    quarters: list[str] = QUARTERS,
    export_day: str = EXPORT_DAY,
    scale: float = 1.0,
) -> list[list[str]]:
    """One row per lead (HEADER order); `scale` multiplies the volumes (smaller tests)."""
    rng = np.random.default_rng(seed)
    cut = np.datetime64(export_day)
    rows: list[tuple[np.datetime64, list[str]]] = []
    for quarter in quarters:
        start = _start(quarter)
        days = int((_start(_next(quarter)) - start) / np.timedelta64(1, "D"))
        for name, spec in truth["sources"].items():
            n = int(rng.poisson(spec["volume"] * scale))
            when = start + rng.integers(0, days, n).astype("timedelta64[D]")
            created = when - rng.integers(0, 4, n).astype("timedelta64[D]")
            reached = np.ones(n, dtype=bool)
            dates = [when]
            for rate, lag in zip(spec["rates"], spec["lags"], strict=True):
                reached = reached & (rng.random(n) < rate)
                step = np.round(draw_lag(lag, n, rng)).astype("timedelta64[D]")
                when = when + step
                dates.append(np.where(reached, when, np.datetime64("NaT")))
            for i in range(n):
                row = {"source": name, "created": str(created[i])}
                for stage, stamp in zip(spec["stages"], dates, strict=True):
                    if not np.isnat(stamp[i]) and stamp[i] <= cut:
                        row[STAGE_COLUMNS[stage]] = str(stamp[i])
                rows.append((created[i], [row.get(c, "") for c in HEADER]))
    rows.sort(key=lambda r: (r[0], r[1][1]))
    return [[f"L{i + 1:06d}", *row[1:]] for i, (_, row) in enumerate(rows)]


def _next(quarter: str) -> str:
    year, q = (int(v) for v in quarter.split("-Q"))
    return f"{year + q // 4}-Q{q % 4 + 1}"


def to_csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue()


def main() -> None:
    leads = make_leads()
    (HERE / "history-lags.csv").write_text(to_csv(leads))
    print(f"wrote {len(leads):,} leads to {HERE / 'history-lags.csv'} (export day {EXPORT_DAY})")


if __name__ == "__main__":
    main()
