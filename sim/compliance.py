"""Sales' side of the SLA, measured: was every MQL touched fast enough and often enough?

Input: a lead-level activity export, one row per touch: lead, rep, mql_time, touch_time (empty
for an MQL nobody touched), optionally sql_time (when the lead became an SQL). Business hours
are Monday to Friday, 09:00 to 17:00, in the export's own clock.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .models import Scenario, ScenarioError
from .sla import SLA, FollowUp

COLUMNS = ("lead", "rep", "mql_time", "touch_time")
MAX_BYTES = 50_000_000
DAY_START, DAY_HOURS = 9, 8


def business_hours(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Business hours (Mon-Fri 09:00-17:00) between two series of timestamps, elementwise."""
    hours: np.ndarray = _clock(end) - _clock(start)
    return hours


def _clock(t: pd.Series) -> np.ndarray:
    """Business hours elapsed since 1970-01-01 at each timestamp."""
    days = t.dt.normalize().to_numpy().astype("datetime64[D]")
    full_days = np.busday_count(np.datetime64("1970-01-01"), days)
    hour = (t - t.dt.normalize()).dt.total_seconds().to_numpy() / 3600
    today = np.is_busday(days)
    within = np.where(today, np.clip(hour - DAY_START, 0, DAY_HOURS), 0.0)
    clock: np.ndarray = full_days * DAY_HOURS + within
    return clock


@dataclass(frozen=True)
class Compliance:
    """Per lead status, and the shares per rep and week."""

    terms: FollowUp
    as_of: pd.Timestamp
    leads: pd.DataFrame  # lead, rep, mql_time, first_touch_hours, attempts, status, sql
    by_rep: pd.DataFrame
    by_week: pd.DataFrame
    sql_rate: dict[str, float | None]  # MQL->SQL among compliant and non-compliant leads

    @property
    def decided(self) -> pd.DataFrame:
        return self.leads[self.leads["status"] != "in progress"]

    @property
    def share_compliant(self) -> float | None:
        d = self.decided
        return None if d.empty else float((d["status"] == "compliant").mean())

    def out_of_compliance(self) -> pd.DataFrame:
        bad = self.leads[self.leads["status"] == "out of compliance"]
        return bad.sort_values("mql_time", ascending=False)[
            ["lead", "rep", "mql_time", "first_touch_hours", "attempts", "reason"]
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "terms": self.terms.model_dump(),
            "leads": len(self.leads),
            "decided": len(self.decided),
            "share_compliant": self.share_compliant,
            "by_rep": self.by_rep.to_dict("records"),
            "by_week": [{**r, "week": str(r["week"])} for r in self.by_week.to_dict("records")],
            "out_of_compliance": [
                {**r, "mql_time": r["mql_time"].isoformat()}
                for r in self.out_of_compliance().to_dict("records")
            ],
            "sql_rate": self.sql_rate,
        }


def read_activity(raw: bytes) -> pd.DataFrame:
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"file: larger than {MAX_BYTES // 1_000_000} MB")
    if not raw.strip():
        raise ScenarioError("file: empty")
    try:
        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"file: not a readable CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    if missing := [c for c in COLUMNS if c not in df.columns]:
        raise ScenarioError(f"columns: missing {', '.join(missing)} (need {', '.join(COLUMNS)})")
    for col in ("mql_time", "touch_time", "sql_time"):
        if col not in df.columns:
            continue
        text = df[col].str.strip()
        parsed = pd.to_datetime(text.where(text != ""), errors="coerce", format="ISO8601")
        bad = parsed.isna() & (text != "")
        if col == "mql_time":
            bad |= text == ""
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise ScenarioError(
                f"row {row}, {col}: {df[col].iloc[row - 2]!r} is not a date and time "
                f"(YYYY-MM-DD HH:MM); {int(bad.sum())} such rows"
            )
        df[col] = parsed
    late = df["touch_time"].notna() & (df["touch_time"] < df["mql_time"])
    if late.any():
        row = int(np.flatnonzero(late.to_numpy())[0]) + 2
        raise ScenarioError(f"row {row}, touch_time: before the lead's mql_time")
    return df


def check_compliance(
    raw: bytes, scenario: Scenario, *, as_of: pd.Timestamp | None = None
) -> Compliance:
    """Status of every MQL against the scenario's follow-up terms (SLA defaults if none)."""
    terms = (scenario.sla or SLA()).follow_up
    df = read_activity(raw)
    now = as_of if as_of is not None else df[["mql_time", "touch_time"]].max().max()
    has_sql = "sql_time" in df.columns
    grouped = df.groupby("lead", sort=False)
    leads = grouped.agg(
        rep=("rep", "first"), mql_time=("mql_time", "min"), first_touch=("touch_time", "min")
    )
    window_end = leads["mql_time"] + pd.Timedelta(days=terms.over_days)
    in_window = df["touch_time"].notna() & (df["touch_time"] <= df["lead"].map(window_end))
    leads["attempts"] = in_window.groupby(df["lead"]).sum().reindex(leads.index).astype(int)
    touched = leads["first_touch"].notna()
    delay = np.full(len(leads), np.nan)
    delay[touched.to_numpy()] = business_hours(
        leads.loc[touched, "mql_time"], leads.loc[touched, "first_touch"]
    )
    leads["first_touch_hours"] = delay
    waited = business_hours(leads["mql_time"], pd.Series(now, index=leads.index))
    first_late = np.where(
        touched, delay > terms.first_touch_hours, waited > terms.first_touch_hours
    )
    window_open = (window_end > now).to_numpy()
    too_few = (leads["attempts"] < terms.min_attempts).to_numpy()
    status = np.where(
        first_late | (too_few & ~window_open),
        "out of compliance",
        np.where(too_few, "in progress", "compliant"),
    )
    leads["status"] = status
    leads["reason"] = np.where(
        first_late,
        np.where(touched, "first touch too late", "not touched yet"),
        np.where(too_few & ~window_open, "too few attempts", ""),
    )
    leads["week"] = leads["mql_time"].dt.to_period("W-SUN").dt.start_time.dt.date
    sql_rate: dict[str, float | None] = {"compliant": None, "not compliant": None}
    if has_sql:
        leads["sql"] = grouped["sql_time"].min().notna()
        decided = leads[leads["status"] != "in progress"]
        for key, mask in (
            ("compliant", decided["status"] == "compliant"),
            ("not compliant", decided["status"] != "compliant"),
        ):
            sql_rate[key] = float(decided.loc[mask, "sql"].mean()) if mask.any() else None
    leads = leads.reset_index()
    decided = leads[leads["status"] != "in progress"]

    def shares(by: str) -> pd.DataFrame:
        g = decided.groupby(by)
        out = pd.DataFrame(
            {
                "mqls": g.size(),
                "compliant": g["status"].apply(lambda s: int((s == "compliant").sum())),
                "first_touch_on_time": g["reason"].apply(
                    lambda s: int((~s.isin(["first touch too late", "not touched yet"])).sum())
                ),
            }
        )
        out["share_compliant"] = out["compliant"] / out["mqls"]
        return out.reset_index()

    return Compliance(
        terms=terms,
        as_of=now,
        leads=leads,
        by_rep=shares("rep"),
        by_week=shares("week"),
        sql_rate=sql_rate,
    )
