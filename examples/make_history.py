"""Generate the example history, in both CSV shapes, from known true rates.

The truth is `TRUTH` below: two sources over eight quarters (2025-Q1 to 2026-Q4), the seed
plan's funnel, and the talk's warning sign: Inbound's MQL -> SQL rate is 57% every quarter
until the last, when it falls to 39%. Calibrating the files should recover these numbers
(inside the 80% ranges, most of the time), and the alarm should fire on 2026-Q4.

The seed is simply 0. The alarm compares each rate's latest quarter with its earlier quarters
and allows for the 5 rates checked (docs/calibration.md, section 4), so a stable rate raises a
false alarm in about 1 history in 20, and any seed shows the drop most of the time: of seeds
0-199, 175 show exactly the true drop, 14 also a false alarm on another rate, and 11 miss it.

How a quarter is drawn, per source: the first-stage volume (negative binomial: Poisson with a
gamma-distributed mean, cv as in sim.models.Volume; or Poisson), then each lead passes each
stage with the true rate. Dates: a lead reaches its first stage on a uniform day of the
quarter (created 0-5 days before), then SQL 0-10 days later, opportunity 3-30, won 10-60.
Won deals have Gamma sizes (mean 30,000, CV 0.6), rounded to whole currency units. A quarter
of Inbound's leads never become MQLs (they fail the firmographic definition): they appear in
the lead export with no stage dates. The quarterly file is the lead file counted by the
quarter each lead entered its funnel, with bookings on the Won row.

    .venv/bin/python examples/make_history.py    # rewrites the two CSVs; same seed, same files
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 0  # not chosen: see the module docstring
QUARTERS = [f"{y}-Q{q}" for y in (2025, 2026) for q in (1, 2, 3, 4)]
STAGE_COLUMNS = {
    "MQL": "mql_date",
    "SQL": "sql_date",
    "Opportunity": "opportunity_date",
    "Won": "won_date",
}
STAGE_DELAYS = {"SQL": (0, 10), "Opportunity": (3, 30), "Won": (10, 60)}  # days after last stage
TRUTH: dict[str, Any] = {
    "quarters": QUARTERS,
    "sources": {
        "Inbound": {
            "owner": "marketing",
            "stages": ["MQL", "SQL", "Opportunity", "Won"],
            "volume": {"mean": 160, "cv": 0.15},
            "rates": [0.57, 0.50, 0.45],
            "changes": {"2026-Q4": {0: 0.39}},  # quarter -> {step: true rate that quarter}
            "not_in_funnel": 0.25,  # share of created leads that never become MQLs
        },
        "Outbound": {
            "owner": "sales",
            "stages": ["SQL", "Opportunity", "Won"],
            "volume": {"mean": 120, "cv": None},
            "rates": [0.50, 0.45],
            "changes": {},
            "not_in_funnel": 0.0,
        },
    },
    "deal_size": {"mean": 30000, "cv": 0.6},
}
LEAD_HEADER = ["lead_id", "source", "created", *STAGE_COLUMNS.values(), "amount"]
COUNTS_HEADER = ["quarter", "source", "stage", "count", "bookings"]


def true_rate(truth: dict[str, Any], source: str, step: int, quarter: str) -> float:
    spec = truth["sources"][source]
    return float(spec["changes"].get(quarter, {}).get(step, spec["rates"][step]))


def _quarter_start(quarter: str) -> np.datetime64:
    year, q = quarter.split("-Q")
    return np.datetime64(f"{year}-{3 * (int(q) - 1) + 1:02d}-01")


def make_leads(truth: dict[str, Any] = TRUTH, seed: int = SEED) -> list[list[str]]:
    """One row per lead (LEAD_HEADER order), drawn from `truth`; same seed, same rows."""
    rng = np.random.default_rng(seed)
    deal = truth["deal_size"]
    shape = 1 / deal["cv"] ** 2
    rows: list[tuple[np.datetime64, list[str]]] = []
    for quarter in truth["quarters"]:
        start = _quarter_start(quarter)
        days = int((_quarter_start(_next(quarter)) - start) / np.timedelta64(1, "D"))
        for name, spec in truth["sources"].items():
            vol = spec["volume"]
            mean = (
                vol["mean"]
                if vol["cv"] is None
                else rng.gamma(1 / vol["cv"] ** 2, vol["mean"] * vol["cv"] ** 2)
            )
            n = int(rng.poisson(mean))
            reached = np.ones((n, len(spec["stages"])), dtype=bool)
            for j in range(len(spec["rates"])):
                p = true_rate(truth, name, j, quarter)
                reached[:, j + 1] = reached[:, j] & (rng.random(n) < p)
            when = start + rng.integers(0, days, n).astype("timedelta64[D]")
            created = when - rng.integers(0, 6, n).astype("timedelta64[D]")
            dates = {spec["stages"][0]: when}
            for stage in spec["stages"][1:]:
                lo, hi = STAGE_DELAYS[stage]
                when = when + rng.integers(lo, hi + 1, n).astype("timedelta64[D]")
                dates[stage] = when
            sizes = np.round(rng.gamma(shape, deal["mean"] / shape, n))
            for i in range(n):
                row = {"source": name, "created": str(created[i])}
                for stage, j in zip(spec["stages"], range(len(spec["stages"])), strict=True):
                    if reached[i, j]:
                        row[STAGE_COLUMNS[stage]] = str(dates[stage][i])
                if reached[i, -1]:
                    row["amount"] = f"{sizes[i]:.0f}"
                rows.append((created[i], [row.get(c, "") for c in LEAD_HEADER]))
            outside = int(rng.binomial(n, spec["not_in_funnel"] / (1 - spec["not_in_funnel"])))
            for day in start + rng.integers(0, days, outside).astype("timedelta64[D]"):
                rows.append(
                    (day, [{"source": name, "created": str(day)}.get(c, "") for c in LEAD_HEADER])
                )
    rows.sort(key=lambda r: (r[0], r[1][1]))
    out = []
    for i, (_, row) in enumerate(rows):
        row[0] = f"L{i + 1:06d}"
        out.append(row)
    return out


def _next(quarter: str) -> str:
    year, q = (int(v) for v in quarter.split("-Q"))
    return f"{year + q // 4}-Q{q % 4 + 1}"


def _quarter_of(date: str) -> str:
    year, month = int(date[:4]), int(date[5:7])
    return f"{year}-Q{(month - 1) // 3 + 1}"


def quarterly(leads: list[list[str]], truth: dict[str, Any] = TRUTH) -> list[list[str]]:
    """The lead rows counted per quarter of entering the funnel (COUNTS_HEADER order)."""
    col = {c: i for i, c in enumerate(LEAD_HEADER)}
    counts: dict[tuple[str, str, str], int] = {}
    bookings: dict[tuple[str, str], float] = {}
    for row in leads:
        spec = truth["sources"][row[col["source"]]]
        first = row[col[STAGE_COLUMNS[spec["stages"][0]]]]
        if not first:
            continue
        quarter = _quarter_of(first)
        for stage in spec["stages"]:
            if row[col[STAGE_COLUMNS[stage]]]:
                key = (quarter, row[col["source"]], stage)
                counts[key] = counts.get(key, 0) + 1
        if row[col["amount"]]:
            key2 = (quarter, row[col["source"]])
            bookings[key2] = bookings.get(key2, 0.0) + float(row[col["amount"]])
    out = []
    for quarter in truth["quarters"]:
        for name, spec in truth["sources"].items():
            for stage in spec["stages"]:
                won = stage == spec["stages"][-1]
                amount = f"{bookings.get((quarter, name), 0.0):.0f}" if won else ""
                out.append(
                    [quarter, name, stage, str(counts.get((quarter, name, stage), 0)), amount]
                )
    return out


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def main() -> None:
    leads = make_leads()
    (HERE / "history-leads.csv").write_text(to_csv(LEAD_HEADER, leads))
    (HERE / "history-quarterly.csv").write_text(to_csv(COUNTS_HEADER, quarterly(leads)))
    print(f"wrote {len(leads):,} leads and {len(quarterly(leads))} quarterly rows to {HERE}")


if __name__ == "__main__":
    main()
