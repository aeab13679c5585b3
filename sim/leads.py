"""Lead-list check: how many leads pass the MQL definition, per week and month, and is the
committed MQL volume attainable from the recent flow?"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .models import Scenario, ScenarioError
from .sla import SLA, MQLDefinition

COLUMNS = ("company", "country", "employees", "annual_revenue", "sector", "created")
MAX_BYTES = 50_000_000
MAX_ROWS = 1_000_000
RECENT_WEEKS = 13


@dataclass(frozen=True)
class LeadCheck:
    """Result of checking a lead list against the MQL definition."""

    rows: int
    valid: int
    dropped: dict[str, int]
    passing: int
    removed_by: dict[str, int]  # leads failing each criterion
    only_reason: dict[str, int]  # leads failing only that criterion
    weekly: pd.DataFrame  # week start, leads, passing
    monthly: pd.DataFrame  # month, leads, passing
    recent_weeks: float
    recent_per_quarter: float
    committed: float

    @property
    def attainable(self) -> bool:
        return self.recent_per_quarter >= self.committed

    def verdict(self) -> str:
        if self.committed <= 0:
            return (
                f"{self.recent_per_quarter:,.0f} qualifying leads per quarter at the recent pace."
            )
        ratio = self.recent_per_quarter / self.committed
        word = "attainable" if self.attainable else "not attainable"
        return (
            f"At the recent pace, {self.recent_per_quarter:,.0f} leads per quarter pass the MQL "
            f"definition against {self.committed:,.0f} committed ({ratio:.0%}): {word}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "dropped": self.dropped,
            "passing": self.passing,
            "removed_by": self.removed_by,
            "only_reason": self.only_reason,
            "weekly": [
                {"week": str(r.week), "leads": int(r.leads), "passing": int(r.passing)}
                for r in self.weekly.itertuples()
            ],
            "monthly": [
                {"month": str(r.month), "leads": int(r.leads), "passing": int(r.passing)}
                for r in self.monthly.itertuples()
            ],
            "recent_weeks": self.recent_weeks,
            "recent_per_quarter": self.recent_per_quarter,
            "committed": self.committed,
            "attainable": self.attainable,
            "verdict": self.verdict(),
        }


def read_leads(raw: bytes) -> tuple[pd.DataFrame, int, dict[str, int]]:
    """Parse a lead CSV; returns (valid rows, total rows, dropped counts by reason)."""
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"file: larger than {MAX_BYTES // 1_000_000} MB; split the lead list")
    if not raw.strip():
        raise ScenarioError("file: empty")
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"file: not a readable CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    if missing := [c for c in COLUMNS if c not in df.columns]:
        raise ScenarioError(f"columns: missing {', '.join(missing)} (need {', '.join(COLUMNS)})")
    if len(df) > MAX_ROWS:
        raise ScenarioError(f"file: more than {MAX_ROWS:,} rows; check a quarter or two at a time")
    total = len(df)
    employees = pd.to_numeric(df["employees"].str.replace(",", ""), errors="coerce")
    revenue = pd.to_numeric(df["annual_revenue"].str.replace(",", ""), errors="coerce")
    created = pd.to_datetime(df["created"], errors="coerce", format="ISO8601")
    bad = {
        "employees is not a number": employees.isna() | (employees < 0),
        "annual_revenue is not a number": revenue.isna() | (revenue < 0),
        "created is not a date (YYYY-MM-DD)": created.isna(),
    }
    dropped = {reason: int(mask.sum()) for reason, mask in bad.items() if mask.any()}
    keep = ~(
        bad["employees is not a number"]
        | bad["annual_revenue is not a number"]
        | bad["created is not a date (YYYY-MM-DD)"]
    )
    if not keep.any():
        raise ScenarioError(
            "file: no valid rows (" + "; ".join(f"{n} rows: {r}" for r, n in dropped.items()) + ")"
        )
    out = pd.DataFrame(
        {
            "country": df["country"].str.strip().str.casefold(),
            "sector": df["sector"].str.strip().str.casefold(),
            "employees": employees,
            "annual_revenue": revenue,
            "created": created,
        }
    )[keep]
    return out, total, dropped


def criteria_masks(df: pd.DataFrame, mql: MQLDefinition) -> dict[str, np.ndarray]:
    """One pass/fail mask per criterion the definition sets."""
    masks: dict[str, np.ndarray] = {}
    if mql.regions:
        masks["region"] = df["country"].isin({r.casefold() for r in mql.regions}).to_numpy()
    if mql.employees_min is not None or mql.employees_max is not None:
        lo = mql.employees_min if mql.employees_min is not None else -np.inf
        hi = mql.employees_max if mql.employees_max is not None else np.inf
        masks["employees"] = df["employees"].between(lo, hi).to_numpy()
    if mql.revenue_min is not None or mql.revenue_max is not None:
        lo = mql.revenue_min if mql.revenue_min is not None else -np.inf
        hi = mql.revenue_max if mql.revenue_max is not None else np.inf
        masks["annual revenue"] = df["annual_revenue"].between(lo, hi).to_numpy()
    if mql.sectors:
        masks["sector"] = df["sector"].isin({s.casefold() for s in mql.sectors}).to_numpy()
    return masks


def committed_mql_volume(scenario: Scenario) -> float:
    """Marketing's committed first-stage volume (its MQLs)."""
    return sum(s.volume.mean for s in scenario.owner_sources("marketing"))


def check_leads(raw: bytes, scenario: Scenario) -> LeadCheck:
    """Check a lead list (CSV bytes) against the scenario's MQL definition."""
    df, total, dropped = read_leads(raw)
    mql = (scenario.sla or SLA()).mql
    masks = criteria_masks(df, mql)
    passing = np.ones(len(df), dtype=bool)
    for m in masks.values():
        passing &= m
    fails = {k: ~m for k, m in masks.items()}
    removed_by = {k: int(f.sum()) for k, f in fails.items()}
    n_fail = sum((f.astype(int) for f in fails.values()), np.zeros(len(df), dtype=int))
    only = {k: int((f & (n_fail == 1)).sum()) for k, f in fails.items()}
    frame = pd.DataFrame({"created": df["created"].to_numpy(), "passing": passing})
    week = frame["created"].dt.to_period("W-SUN").dt.start_time.dt.date
    weekly = (
        frame.assign(week=week)
        .groupby("week")["passing"]
        .agg(leads="size", passing="sum")
        .reset_index()
    )
    month = frame["created"].dt.to_period("M").astype(str)
    monthly = (
        frame.assign(month=month)
        .groupby("month")["passing"]
        .agg(leads="size", passing="sum")
        .reset_index()
    )
    last = frame["created"].max()
    first = frame["created"].min()
    span_weeks = max((last - first).days / 7, 1.0)
    recent_weeks = min(float(RECENT_WEEKS), span_weeks)
    recent = frame[frame["created"] > last - pd.Timedelta(weeks=recent_weeks)]
    per_quarter = recent["passing"].sum() / recent_weeks * RECENT_WEEKS
    return LeadCheck(
        rows=total,
        valid=len(df),
        dropped=dropped,
        passing=int(passing.sum()),
        removed_by=removed_by,
        only_reason=only,
        weekly=weekly,
        monthly=monthly,
        recent_weeks=recent_weeks,
        recent_per_quarter=float(per_quarter),
        committed=committed_mql_volume(scenario),
    )
