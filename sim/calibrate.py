"""Calibrate a scenario from history: stage rates as Beta posteriors, the first-stage volume's
quarter-to-quarter spread and the deal-size law, per source (docs/calibration.md).

Two shapes of history are read: quarterly counts (`quarter, source, stage, count[, bookings]`)
and a lead-level CRM export (one row per lead, one date column per stage, a won amount). Both
become a `History` (leads reaching each stage, per source and quarter); `calibrate` fits it and
`apply_calibration` writes the fit into a scenario that is validated like any other.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .lags import LagCalibration, LagFit, exposure
from .models import (
    MAX_EVIDENCE,
    MAX_VOLUME,
    Owner,
    Rate,
    Scenario,
    ScenarioError,
    Volume,
    parse_scenario,
)

Format = Literal["counts", "leads"]
Part = Literal["rates", "volume", "spread", "deal_size"]
PARTS: tuple[Part, ...] = ("rates", "volume", "spread", "deal_size")

MAX_HISTORY_BYTES = 25_000_000
MAX_HISTORY_ROWS = 500_000
PRIOR = (0.5, 0.5)  # Jeffreys prior: equal-tailed intervals with close to nominal coverage
DEFAULT_LEVEL = 0.8
SHOW_ROWS = 5
SHOW_VALUE = 30
MAX_CV = 5.0
DATE_FORMATS = {
    "YYYY-MM-DD": None,  # ISO 8601, with or without a time
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
}

ACRONYMS = {"mql", "sql", "sal", "sqo", "pql", "tql", "sdr", "bdr", "ae"}
COUNTS_ALIASES = {
    "quarter": ("quarter", "period", "qtr", "fiscal quarter"),
    "source": ("source", "lead source", "lead_source", "channel", "origin"),
    "stage": ("stage", "funnel stage", "funnel_stage", "status"),
    "count": ("count", "leads", "number", "n", "volume"),
    "bookings": ("bookings", "won amount", "won_amount", "amount", "revenue"),
}
LEAD_ALIASES = {
    "source": COUNTS_ALIASES["source"],
    "created": ("created", "created date", "created_date", "created_at", "create date", "date"),
    "amount": ("amount", "won amount", "won_amount", "deal amount", "deal_amount", "value"),
}
_STAGE_HEADER = re.compile(
    r"^(?:reached[ _-]?|became[ _-]?|date[ _-]?(?:of[ _-])?)?(?P<stage>.+?)[ _-]*(?:date|at|on)$",
    re.IGNORECASE,
)
_QUARTER = re.compile(
    r"^(?:(?P<y1>\d{4})\s*[-_ ]?\s*Q(?P<q1>[1-4])|Q(?P<q2>[1-4])\s*[-_ ]?\s*(?P<y2>\d{4}))$"
)
_MONEY_JUNK = re.compile(r"[\s$€£,]")


class CalibrationError(ScenarioError):
    """A history file cannot be used; the message names the rows and columns at fault."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


# ---- What went wrong, row by row ------------------------------------------------------------


def rows_text(rows: Sequence[int]) -> str:
    """'row 5' / 'rows 5, 8, 9' / 'rows 5, 8, 9, 12, 15 and 37 more' (file rows; header is 1)."""
    shown = ", ".join(str(r) for r in rows[:SHOW_ROWS])
    more = len(rows) - SHOW_ROWS
    return f"row{'s' * (len(rows) > 1)} {shown}" + (f" and {more:,} more" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class Problem:
    """Rows of the file (row 1 is the header) that share one problem in one column."""

    rows: tuple[int, ...]
    column: str | None
    reason: str

    def __str__(self) -> str:
        column = f", column {self.column}" if self.column else ""
        return f"{rows_text(self.rows)}{column}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"rows": list(self.rows), "column": self.column, "reason": self.reason}


def problems_table(problems: Sequence[Problem], limit: int = 20) -> list[dict[str, str]]:
    """Rows of text for a table of problems: the first `limit` rows of each, column, reason."""
    return [
        {
            "Rows": ", ".join(map(str, p.rows[:limit])) + (" …" if len(p.rows) > limit else ""),
            "Column": p.column or "",
            "Why": p.reason,
        }
        for p in problems
    ]


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOW_VALUE else value[:SHOW_VALUE] + "…")


class _Problems:
    """Collects problems found with boolean masks over the rows of a table."""

    def __init__(self, n: int, skip: np.ndarray) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.items: list[Problem] = []
        self._skip = skip

    def add(self, mask: np.ndarray, column: str | None, reason: str) -> None:
        mask = mask & ~self._skip
        if mask.any():
            self.items.append(Problem(tuple((np.flatnonzero(mask) + 2).tolist()), column, reason))
            self.bad |= mask

    def add_values(self, mask: np.ndarray, values: pd.Series, column: str, reason: str) -> None:
        """Like `add`, quoting the first offending value in place of `{value}` in the reason."""
        mask = mask & ~self._skip
        if mask.any():
            first = str(values.to_numpy()[np.flatnonzero(mask)[0]]).strip()
            self.add(mask, column, reason.format(value=_shown(first)))

    def add_rows(self, rows: Sequence[int], column: str | None, reason: str) -> None:
        self.items.append(Problem(tuple(sorted(r + 2 for r in rows)), column, reason))
        self.bad[list(rows)] = True

    def raise_unless(self, skip_bad_rows: bool, rows: int) -> None:
        if not self.items or skip_bad_rows:
            return
        count = int(self.bad.sum())
        listed = "; ".join(str(p) for p in self.items[:4])
        more = len(self.items) - 4
        raise CalibrationError(
            f"{count:,} of {rows:,} rows have problems, so nothing was imported: {listed}"
            + (f"; and {more} more problem{'s' * (more > 1)}" if more > 0 else "")
            + ". Fix them, or skip the rows with problems.",
            self.items,
        )


# ---- Column mappings --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountsColumns:
    """Which header holds what in a quarterly counts file."""

    quarter: str = "quarter"
    source: str = "source"
    stage: str = "stage"
    count: str = "count"
    bookings: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "source": self.source,
            "stage": self.stage,
            "count": self.count,
            "bookings": self.bookings,
        }


@dataclass(frozen=True, slots=True)
class LeadColumns:
    """Which header holds what in a lead export; `stages` are (stage name, date column) pairs,
    top of the funnel first."""

    source: str
    stages: tuple[tuple[str, str], ...]
    created: str | None = None
    amount: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stages": [{"stage": s, "column": c} for s, c in self.stages],
            "created": self.created,
            "amount": self.amount,
        }


def _key(header: str) -> str:
    return " ".join(header.strip().casefold().replace("_", " ").split())


def _find(headers: Sequence[str], aliases: Sequence[str]) -> str | None:
    wanted = {_key(a) for a in aliases}
    return next((h for h in headers if _key(h) in wanted), None)


def stage_name(header: str) -> str:
    """'mql_date' -> 'MQL', 'opportunity_date' -> 'Opportunity', 'closed_won_at' -> 'Closed won'."""
    m = _STAGE_HEADER.match(header.strip())
    name = (m.group("stage") if m else header).strip(" _-").replace("_", " ")
    if name.casefold() in ACRONYMS:
        return name.upper()
    return name[0].upper() + name[1:]


def plural(stage: str) -> str:
    """'MQL' -> 'MQLs', 'Opportunity' -> 'Opportunities' (for sentences about counts)."""
    if stage.endswith("y") and stage[-2:-1].lower() not in "aeiou":
        return stage[:-1] + "ies"
    return stage if stage.endswith("s") else stage + "s"


def detect_format(headers: Sequence[str]) -> Format:
    """Counts when the file has stage and count columns, otherwise a lead export."""
    has = {k: _find(headers, a) is not None for k, a in COUNTS_ALIASES.items()}
    return "counts" if has["stage"] and has["count"] else "leads"


def detect_counts_columns(headers: Sequence[str]) -> CountsColumns:
    """The counts mapping read from the headers; missing roles are named in the error."""
    found = {k: _find(headers, a) for k, a in COUNTS_ALIASES.items()}
    missing = [k for k in ("quarter", "source", "stage", "count") if found[k] is None]
    if missing:
        raise CalibrationError(
            f"columns: no {', '.join(missing)} column (the counts format needs quarter, source, "
            f"stage, count and optionally bookings; found: {_listing(headers)})"
        )
    return CountsColumns(
        quarter=str(found["quarter"]),
        source=str(found["source"]),
        stage=str(found["stage"]),
        count=str(found["count"]),
        bookings=found["bookings"],
    )


def detect_lead_columns(headers: Sequence[str]) -> LeadColumns:
    """The lead-export mapping read from the headers (stage columns end in 'date', 'at', 'on')."""
    source = _find(headers, LEAD_ALIASES["source"])
    created = _find(headers, LEAD_ALIASES["created"])
    amount = _find(headers, LEAD_ALIASES["amount"])
    stages = tuple(
        (stage_name(h), h)
        for h in headers
        if h not in (source, created, amount) and _STAGE_HEADER.match(h.strip())
    )
    if source is None:
        raise CalibrationError(
            f"columns: no source column (a lead export needs source, one date column per stage "
            f"such as mql_date, sql_date, won_date, and optionally created and amount; "
            f"found: {_listing(headers)})"
        )
    if len(stages) < 2:
        raise CalibrationError(
            f"columns: found {len(stages)} stage date column{'s' * (len(stages) != 1)}, need at "
            f"least two (headers like mql_date, sql_date, won_date; found: {_listing(headers)})"
        )
    return LeadColumns(source=source, stages=stages, created=created, amount=amount)


def _listing(headers: Sequence[str]) -> str:
    return ", ".join(headers[:12]) + (f" and {len(headers) - 12} more" if len(headers) > 12 else "")


# ---- Reading the file --------------------------------------------------------------------------


def _decode(data: bytes | str, notes: list[str]) -> str:
    size = len(data)
    if size > MAX_HISTORY_BYTES:
        raise CalibrationError(
            f"file: {size / 1e6:.1f} MB is larger than the {MAX_HISTORY_BYTES / 1e6:.0f} MB "
            "limit for a history file"
        )
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            notes.append("The file is not UTF-8; it was read as Latin-1 text.")
    if "\x00" in text:
        raise CalibrationError("file: not a CSV text file (it contains binary data)")
    if not text.strip():
        raise CalibrationError("file: empty; expected a CSV file with a header row")
    return text


def read_header(data: bytes | str) -> tuple[str, ...]:
    """The column names of a CSV history (for the column-mapping controls)."""
    text = _decode(data, [])
    first = text.lstrip("\r\n").splitlines()[0]
    return tuple(h.strip() for h in next(csv.reader([first], delimiter=_delimiter(first))))


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _read_table(text: str) -> pd.DataFrame:
    text = text.lstrip("\r\n")
    first = text.splitlines()[0]
    sep = _delimiter(first)
    headers = [h.strip() for h in next(csv.reader([first], delimiter=sep))]
    for i, h in enumerate(headers):
        if not h:
            raise CalibrationError(f"columns: column {i + 1} has no name in the header row")
        if _key(h) in {_key(x) for x in headers[:i]}:
            raise CalibrationError(f"columns: {h!r} appears twice in the header row")
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            header=0,
            names=headers,
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise CalibrationError(
                f"row {m.group(2)}: {m.group(3)} values, but the header has {m.group(1)} columns"
            ) from None
        raise CalibrationError(f"file: not a readable CSV ({str(exc).strip()})") from None
    if len(df) > MAX_HISTORY_ROWS:
        raise CalibrationError(
            f"file: {len(df):,} rows is more than the {MAX_HISTORY_ROWS:,} a history may hold"
        )
    df = df.fillna("")
    blank = np.logical_and.reduce([(df[c].str.strip() == "").to_numpy() for c in df.columns])
    if blank.all():
        raise CalibrationError("file: has a header row but no data rows")
    df.attrs["blank"] = blank
    return df


def _column(df: pd.DataFrame, name: str | None, role: str) -> str | None:
    """The file's header matching a mapped column name (case and spacing ignored)."""
    if name is None:
        return None
    found = _find(list(df.columns), [name])
    if found is None:
        raise CalibrationError(
            f"columns: {name!r} (mapped to {role}) is not in the file; "
            f"found: {_listing(list(df.columns))}"
        )
    return found


def _money(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values, present) of an amount column: currency signs and thousands separators ignored."""
    text = col.str.replace(_MONEY_JUNK, "", regex=True)
    present = (text != "").to_numpy()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    return values, present


# ---- History: what was read -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class SourceHistory:
    """One source's leads reaching each stage, per quarter they entered the funnel."""

    name: str
    stages: tuple[str, ...]
    quarters: tuple[str, ...]
    counts: np.ndarray  # (quarters, stages), whole numbers
    amounts: np.ndarray = field(default_factory=lambda: np.zeros(0))  # won deals (lead exports)
    bookings: np.ndarray | None = None  # per quarter, NaN where not given (counts files)
    # Lead exports: per lead, the day it reached each stage (days since 1970, NaN if it did not)
    # and the index in `quarters` of its cohort; the time each step takes is fitted from them.
    days: np.ndarray | None = None
    cohort: np.ndarray | None = None

    def step_labels(self) -> list[str]:
        return [f"{a} → {b}" for a, b in zip(self.stages, self.stages[1:], strict=False)]


@dataclass(frozen=True, slots=True, eq=False)
class History:
    """A validated history file: per source counts, plus what was left out and why."""

    format: Format
    rows_read: int
    rows_used: int
    dropped: tuple[Problem, ...]
    notes: tuple[str, ...]
    sources: tuple[SourceHistory, ...]
    columns: CountsColumns | LeadColumns
    as_of: str | None = None  # lead exports: the latest date in the file (ISO), taken as export day

    @property
    def quarters(self) -> tuple[str, ...]:
        return tuple(sorted({q for s in self.sources for q in s.quarters}))

    def source(self, name: str) -> SourceHistory:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def summary(self) -> str:
        dropped = sum(len(p.rows) for p in self.dropped)
        return (
            f"{self.rows_read:,} rows read, {self.rows_used:,} used"
            + (f", {dropped:,} left out" if dropped else "")
            + f"; {len(self.sources)} source{'s' * (len(self.sources) != 1)} over "
            f"{len(self.quarters)} quarter{'s' * (len(self.quarters) != 1)}"
        )


def quarter_label(index: int) -> str:
    return f"{index // 4}-Q{index % 4 + 1}"


def quarter_index(label: str) -> int:
    year, q = label.split("-Q")
    return int(year) * 4 + int(q) - 1


def read_history(
    data: bytes | str,
    fmt: Format | Literal["auto"] = "auto",
    *,
    columns: CountsColumns | LeadColumns | None = None,
    date_format: str | None = None,
    skip_bad_rows: bool = False,
) -> History:
    """Parse and check a history CSV; raise CalibrationError naming rows and columns.

    With `skip_bad_rows`, rows with problems are left out and listed in `History.dropped`
    instead of failing the import.
    """
    notes: list[str] = []
    df = _read_table(_decode(data, notes))
    if fmt == "auto":
        fmt = "counts" if isinstance(columns, CountsColumns) else "leads"
        if columns is None:
            fmt = detect_format(list(df.columns))
    if fmt == "counts":
        cols = columns if isinstance(columns, CountsColumns) else detect_counts_columns(df.columns)
        return _read_counts(df, cols, skip_bad_rows, notes)
    if fmt != "leads":
        raise CalibrationError(f"format: must be counts or leads (got {fmt!r})")
    lead_cols = columns if isinstance(columns, LeadColumns) else detect_lead_columns(df.columns)
    return _read_leads(df, lead_cols, date_format, skip_bad_rows, notes)


def read_history_file(
    path: str | Path, fmt: Format | Literal["auto"] = "auto", **kw: Any
) -> History:
    """Read a history CSV from disk (size-checked before reading)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_HISTORY_BYTES:
            raise CalibrationError(
                f"file: {p} is {size / 1e6:.1f} MB, larger than the "
                f"{MAX_HISTORY_BYTES / 1e6:.0f} MB limit for a history file"
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise CalibrationError(f"file: cannot read {p}: {exc.strerror}") from None
    return read_history(raw, fmt, **kw)


def _read_counts(
    df: pd.DataFrame, cols: CountsColumns, skip_bad_rows: bool, notes: list[str]
) -> History:
    qcol = str(_column(df, cols.quarter, "quarter"))
    scol = str(_column(df, cols.source, "source"))
    stcol = str(_column(df, cols.stage, "stage"))
    ccol = str(_column(df, cols.count, "count"))
    bcol = _column(df, cols.bookings, "bookings")
    blank: np.ndarray = df.attrs["blank"]
    n = len(df)
    probs = _Problems(n, blank)

    quarter_text = df[qcol].str.strip().str.upper()
    parts = quarter_text.str.extract(_QUARTER)
    year = parts["y1"].fillna(parts["y2"])
    qn = parts["q1"].fillna(parts["q2"])
    bad_q = year.isna().to_numpy()
    probs.add_values(bad_q, df[qcol], qcol, "not a quarter (e.g. {value}); write it like 2026-Q1")
    qidx = np.where(
        bad_q,
        -1,
        pd.to_numeric(year, errors="coerce").fillna(0).to_numpy(int) * 4
        + pd.to_numeric(qn, errors="coerce").fillna(1).to_numpy(int)
        - 1,
    )

    source = df[scol].str.strip().to_numpy(dtype=object)
    stage = df[stcol].str.strip().to_numpy(dtype=object)
    probs.add(source == "", scol, "no source name")
    probs.add(stage == "", stcol, "no stage name")

    raw_count = df[ccol].str.strip()
    count = pd.to_numeric(raw_count, errors="coerce").to_numpy(dtype=float)
    not_number = ~np.isfinite(count)
    probs.add_values(not_number, raw_count, ccol, "not a number (e.g. {value})")
    probs.add(np.isfinite(count) & (count < 0), ccol, "negative count")
    probs.add(
        np.isfinite(count) & (count >= 0) & (count != np.round(count)), ccol, "not a whole number"
    )
    probs.add(np.isfinite(count) & (count > MAX_VOLUME), ccol, f"more than {MAX_VOLUME:,}")

    bookings = np.full(n, np.nan)
    if bcol is not None:
        values, present = _money(df[bcol])
        bad_b = present & ~np.isfinite(values)
        probs.add_values(bad_b, df[bcol], bcol, "not an amount (e.g. {value})")
        probs.add(present & (values < 0), bcol, "negative amount")
        bookings = np.where(present & np.isfinite(values), values, np.nan)

    # Duplicates, missing stages and counts that grow down the funnel, per (source, quarter).
    ok = ~probs.bad & ~blank
    seen: dict[tuple[str, int, str], int] = {}
    dup_rows: dict[tuple[str, int, str], list[int]] = {}
    stage_order: dict[str, list[str]] = {}
    for row in np.flatnonzero(ok).tolist():
        key = (source[row], int(qidx[row]), stage[row])
        if key in seen:
            dup_rows.setdefault(key, [seen[key]]).append(row)
        else:
            seen[key] = row
        order = stage_order.setdefault(source[row], [])
        if stage[row] not in order:
            order.append(stage[row])
    for (src, q, st), dups in dup_rows.items():
        probs.add_rows(dups, stcol, f"{src} {quarter_label(q)} {st} appears more than once")

    groups: dict[tuple[str, int], dict[str, int]] = {}
    for (src, q, st), row in seen.items():
        groups.setdefault((src, q), {})[st] = row
    for (src, q), members in groups.items():
        order = stage_order[src]
        missing = [st for st in order if st not in members]
        label = f"{src} {quarter_label(q)}"
        if missing:
            probs.add_rows(
                list(members.values()),
                stcol,
                f"{label} has no row for {', '.join(missing)} (every quarter of a "
                f"source needs every stage: {', '.join(order)})",
            )
            continue
        for a, b in itertools.pairwise(order):
            if count[members[b]] > count[members[a]]:
                probs.add_rows(
                    [members[a], members[b]],
                    ccol,
                    f"{label}: {b} ({count[members[b]]:,.0f}) is more than {a} "
                    f"({count[members[a]]:,.0f}); counts cannot increase down the funnel "
                    "(list each source's stages top of the funnel first)",
                )
                break
    probs.raise_unless(skip_bad_rows, int((~blank).sum()))

    good = ~probs.bad & ~blank
    sources: list[SourceHistory] = []
    for src, order in stage_order.items():
        quarters = sorted(
            {
                q
                for (s, q), rows in groups.items()
                if s == src and all(good[i] for i in rows.values()) and len(rows) == len(order)
            }
        )
        if len(order) < 2:
            notes.append(
                f"{src} has only one stage ({order[0]}); a rate needs two, so it is left out."
            )
            continue
        if not quarters:
            continue
        mat = np.array(
            [[count[groups[(src, q)][st]] for st in order] for q in quarters], dtype=np.int64
        )
        last = order[-1]
        bk = np.array([bookings[groups[(src, q)][last]] for q in quarters])
        stray = [
            i
            for q in quarters
            for st, i in groups[(src, q)].items()
            if st != last and np.isfinite(bookings[i])
        ]
        if stray:
            notes.append(
                f"Bookings on {rows_text([i + 2 for i in sorted(stray)])} are ignored: "
                f"bookings belong on the last stage's row ({src}: {last})."
            )
        sources.append(
            SourceHistory(
                name=src,
                stages=tuple(order),
                quarters=tuple(quarter_label(q) for q in quarters),
                counts=mat,
                bookings=bk if bcol is not None else None,
            )
        )
    if not sources:
        raise CalibrationError(
            "file: no usable rows (every source needs at least two stages)", probs.items
        )
    dropped = tuple(probs.items)
    used = int(good.sum())
    if blank.any():
        notes.append(f"{int(blank.sum()):,} blank rows skipped.")
    return History("counts", int((~blank).sum()), used, dropped, tuple(notes), tuple(sources), cols)


def _parse_dates(
    col: pd.Series, date_format: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(datetime64[s] values, unparsable mask, present-and-valid mask) of a date column."""
    text = col.str.strip()
    present = (text != "").to_numpy()
    if date_format is None:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_convert(
            None
        )
    else:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    values = parsed.to_numpy(dtype="datetime64[s]")
    valid = ~np.isnat(values)
    return values, present & ~valid, valid


def _read_leads(
    df: pd.DataFrame,
    cols: LeadColumns,
    date_format: str | None,
    skip_bad_rows: bool,
    notes: list[str],
) -> History:
    if len(cols.stages) < 2:
        raise CalibrationError("columns: map at least two stage date columns")
    names = [s.strip() for s, _ in cols.stages]
    if len({n.casefold() for n in names}) != len(names) or not all(names):
        raise CalibrationError("columns: stage names must be distinct and not empty")
    scol = str(_column(df, cols.source, "source"))
    stage_cols = [str(_column(df, c, f"stage {s}")) for s, c in cols.stages]
    ccol = _column(df, cols.created, "created")
    acol = _column(df, cols.amount, "amount")
    if len(set(stage_cols)) != len(stage_cols):
        raise CalibrationError("columns: each stage needs its own date column")
    blank: np.ndarray = df.attrs["blank"]
    n, S = len(df), len(names)
    probs = _Problems(n, blank)
    hint = (
        next(k for k, v in DATE_FORMATS.items() if v == date_format)
        if date_format in DATE_FORMATS.values()
        else str(date_format)
    )

    source = df[scol].str.strip()
    probs.add((source == "").to_numpy(), scol, "no source name")

    dates = np.empty((n, S), dtype="datetime64[s]")
    reached = np.zeros((n, S), dtype=bool)
    for j, c in enumerate(stage_cols):
        dates[:, j], bad, reached[:, j] = _parse_dates(df[c], date_format)
        probs.add_values(bad, df[c], c, "not a date (e.g. {value}); expected " + hint)
    stamp = np.where(reached, dates.astype(np.int64), np.iinfo(np.int64).min)
    running = np.maximum.accumulate(stamp, axis=1)
    for j in range(1, S):
        probs.add(
            reached[:, j] & (stamp[:, j] < running[:, j - 1]),
            stage_cols[j],
            f"the {names[j]} date is before an earlier stage's date (stage dates out of order)",
        )
    if ccol is not None:
        created, bad, has_created = _parse_dates(df[ccol], date_format)
        probs.add_values(bad, df[ccol], ccol, "not a date (e.g. {value}); expected " + hint)
        first_stamp = np.where(reached, stamp, np.iinfo(np.int64).max).min(axis=1)
        probs.add(
            has_created & reached.any(axis=1) & (created.astype(np.int64) > first_stamp),
            ccol,
            "created after the lead reached its first stage (dates out of order)",
        )

    amounts = np.full(n, np.nan)
    if acol is not None:
        values, present = _money(df[acol])
        bad_a = present & ~np.isfinite(values)
        probs.add_values(bad_a, df[acol], acol, "not an amount (e.g. {value})")
        probs.add(present & (values < 0), acol, "negative amount")
        amounts = np.where(present & np.isfinite(values), values, np.nan)

    # A source's funnel starts at the first stage any of its leads reached; a lead must then
    # reach stages without gaps (a later date with an earlier one missing is a skipped stage).
    in_funnel = reached.any(axis=1)
    first = np.where(in_funnel, reached.argmax(axis=1), S)
    last = np.where(in_funnel, S - 1 - reached[:, ::-1].argmax(axis=1), -1)
    codes, labels = pd.factorize(source)
    ok_rows = ~probs.bad & ~blank & in_funnel
    start = np.full(len(labels), S)
    np.minimum.at(start, codes[ok_rows], first[ok_rows])
    lead_start = np.where(codes >= 0, start[np.maximum(codes, 0)], S)
    for j in range(S):
        probs.add(
            ~reached[:, j] & in_funnel & (j >= lead_start) & (j < last) & ~probs.bad,
            stage_cols[j],
            f"empty, but the lead reached a later stage (skipped {names[j]})",
        )
    probs.raise_unless(skip_bad_rows, int((~blank).sum()))

    dropped = list(probs.items)
    outside = ~blank & ~probs.bad & ~in_funnel
    if outside.any():
        dropped.append(
            Problem(
                tuple((np.flatnonzero(outside) + 2).tolist()),
                None,
                "no stage dates (never entered the funnel), not counted",
            )
        )
    use = ~blank & ~probs.bad & in_funnel
    cohort_stamp = dates[np.arange(n), np.minimum(lead_start, S - 1)]
    years = cohort_stamp.astype("datetime64[Y]").astype(np.int64) + 1970
    months = cohort_stamp.astype("datetime64[M]").astype(np.int64) % 12
    qidx = years * 4 + months // 3

    won_any = reached[:, S - 1]
    if acol is not None:
        zero = use & won_any & (amounts == 0)
        missing = use & won_any & np.isnan(amounts)
        stray = use & ~won_any & np.isfinite(amounts) & (amounts > 0)
        if zero.any() or missing.any():
            notes.append(
                f"{int(zero.sum() + missing.sum()):,} won leads have no amount (or 0); "
                "the deal size uses the others."
            )
        if stray.any():
            notes.append(f"Amounts on {int(stray.sum()):,} leads that were not won are ignored.")

    sources: list[SourceHistory] = []
    for code, name in enumerate(labels):
        mine = use & (codes == code)
        if not mine.any():
            continue
        f = int(start[code])
        stages = tuple(names[f:])
        if len(stages) < 2:
            notes.append(
                f"{name}'s leads start at the last stage ({names[-1]}); a rate needs two "
                "stages, so it is left out."
            )
            continue
        q = qidx[mine]
        q0, q1 = int(q.min()), int(q.max())
        Q = q1 - q0 + 1
        flat = (q - q0)[:, None] * len(stages) + np.arange(len(stages))[None, :]
        counts = np.bincount(flat[reached[mine][:, f:]], minlength=Q * len(stages))
        won = mine & won_any & np.isfinite(amounts) & (amounts > 0)
        day = dates[mine][:, f:].astype("datetime64[D]").astype(np.int64).astype(float)
        sources.append(
            SourceHistory(
                name=str(name),
                stages=stages,
                quarters=tuple(quarter_label(i) for i in range(q0, q1 + 1)),
                counts=counts.reshape(Q, len(stages)).astype(np.int64),
                amounts=amounts[won],
                days=np.where(reached[mine][:, f:], day, np.nan),
                cohort=(q - q0).astype(np.int64),
            )
        )
    if not sources:
        raise CalibrationError(
            "file: no usable leads (none reached two stages of a funnel)", dropped
        )
    if blank.any():
        notes.append(f"{int(blank.sum()):,} blank rows skipped.")
    seen = np.where(reached & use[:, None], stamp, np.iinfo(np.int64).min)
    latest = int(seen.max()) if use.any() else None
    return History(
        "leads",
        int((~blank).sum()),
        int(use.sum()),
        tuple(dropped),
        tuple(notes),
        tuple(sources),
        cols,
        as_of=None if latest is None else str(np.datetime64(latest, "s").astype("datetime64[D]")),
    )


# ---- Fitting -----------------------------------------------------------------------------------


def recency_weights(quarters: Sequence[str], latest: str, half_life: float | None) -> np.ndarray:
    """Weight of each quarter: 1 for all without a half-life, else halving every `half_life`
    quarters back from `latest`."""
    if half_life is None:
        return np.ones(len(quarters))
    age = np.array([quarter_index(latest) - quarter_index(q) for q in quarters], dtype=float)
    return np.asarray(0.5 ** (age / half_life))


def fit_rate(
    leads: np.ndarray, converted: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Beta posterior (alpha, beta) of a rate from per-quarter counts, Jeffreys prior."""
    w = np.ones(len(leads)) if weights is None else weights
    k = float(np.dot(w, converted))
    n = float(np.dot(w, leads))
    return PRIOR[0] + k, PRIOR[1] + n - k


def fit_volume(
    counts: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float, float | None]:
    """(mean, variance, cv) of first-stage volume; cv None when the spread is Poisson's or less.

    Method of moments for the gamma-mixed Poisson: variance = m + (cv * m)^2.
    """
    x = np.asarray(counts, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    v1, v2 = w.sum(), (w**2).sum()
    mean = float(np.dot(w, x) / v1)
    if len(x) < 2 or v1 - v2 / v1 <= 0:
        return mean, math.nan, None
    var = float(np.dot(w, (x - mean) ** 2) / (v1 - v2 / v1))
    if mean <= 0 or var <= mean * (1 + 1e-9):
        return mean, var, None
    cv = math.sqrt((var - mean) / mean**2)
    return mean, var, min(cv, MAX_CV) if cv >= 1e-3 else None


def fit_deal_amounts(amounts: np.ndarray) -> tuple[float, float | None]:
    """(mean, cv) of won deal sizes; the engine draws them from the Gamma with these moments."""
    mean = float(np.mean(amounts))
    if len(amounts) < 2 or mean <= 0:
        return mean, None
    return mean, min(float(np.std(amounts, ddof=1)) / mean, MAX_CV)


def fit_deal_totals(bookings: np.ndarray, wins: np.ndarray) -> tuple[float, float | None]:
    """(mean, cv) of deal size from per-quarter bookings and wins.

    The average deal of a quarter with W wins has variance sigma^2 / W, so
    sum W (average - mean)^2 / (groups - 1) estimates sigma^2 without bias.
    """
    mean = float(bookings.sum() / wins.sum())
    if len(wins) < 2 or mean <= 0:
        return mean, None
    var = float(np.sum(wins * (bookings / wins - mean) ** 2) / (len(wins) - 1))
    return mean, min(math.sqrt(var) / mean, MAX_CV)


@dataclass(frozen=True, slots=True)
class RateFit:
    """A stage rate's Beta posterior with the per-quarter counts behind it."""

    source: str
    from_stage: str
    to_stage: str
    quarters: tuple[str, ...]
    leads: tuple[int, ...]
    converted: tuple[int, ...]
    alpha: float
    beta: float
    # With the step's lag fitted: per quarter, the leads counted by the share of their time to
    # move on they had had by the export day (young cohorts count less, sim.lags.exposure).
    effective: tuple[float, ...] | None = None

    @property
    def label(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @property
    def evidence(self) -> float:
        """The scenario's `n` for this rate: alpha + beta of the posterior."""
        return self.alpha + self.beta

    @property
    def has_data(self) -> bool:
        return sum(self.leads) > 0

    def interval(self, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
        lo, hi = stats.beta.ppf([(1 - level) / 2, (1 + level) / 2], self.alpha, self.beta)
        return float(lo), float(hi)

    def rate(self) -> Rate:
        return Rate(mean=round(self.mean, 4), n=round(min(self.evidence, MAX_EVIDENCE), 1))

    def to_dict(self, level: float = DEFAULT_LEVEL) -> dict[str, Any]:
        lo, hi = self.interval(level)
        return {
            "step": self.label,
            "mean": self.mean,
            "n": self.evidence,
            "low": lo,
            "high": hi,
            "leads": sum(self.leads),
            "converted": sum(self.converted),
            **({"effective_leads": sum(self.effective)} if self.effective is not None else {}),
            "per_quarter": [
                {"quarter": q, "leads": n, "converted": k}
                for q, n, k in zip(self.quarters, self.leads, self.converted, strict=True)
            ],
        }


@dataclass(frozen=True, slots=True)
class VolumeFit:
    """First-stage volume per quarter and the Poisson or negative binomial law fitted to it."""

    source: str
    stage: str
    quarters: tuple[str, ...]
    counts: tuple[int, ...]
    mean: float
    variance: float
    cv: float | None

    @property
    def dist(self) -> Literal["poisson", "negbin"]:
        return "poisson" if self.cv is None else "negbin"

    def volume(self) -> Volume:
        cv = None if self.cv is None else round(self.cv, 3)
        return Volume(mean=round(min(self.mean, MAX_VOLUME), 1), dist=self.dist, cv=cv)

    def interval(self, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
        """Range of a quarter's volume under the fitted law (for the trend chart's band)."""
        q = [(1 - level) / 2, (1 + level) / 2]
        if self.cv is None:
            lo, hi = stats.poisson.ppf(q, self.mean)
        else:
            shape = 1 / self.cv**2
            lo, hi = stats.nbinom.ppf(q, shape, shape / (shape + self.mean))
        return float(lo), float(hi)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "mean": self.mean,
            "dist": self.dist,
            "cv": self.cv,
            "per_quarter": dict(zip(self.quarters, self.counts, strict=True)),
        }


@dataclass(frozen=True, slots=True)
class DealHistogram:
    """Won deal sizes binned as a density, and the fitted Gamma density to draw over them."""

    edges: np.ndarray
    density: np.ndarray
    x: np.ndarray
    pdf: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class DealSizeFit:
    """Deal size (Gamma with this mean and CV, as engine.draw_bookings draws it)."""

    mean: float
    cv: float | None
    deals: int
    basis: Literal["deals", "quarter totals"]
    amounts: np.ndarray = field(repr=False)

    def histogram(self, bins: int = 30) -> DealHistogram:
        amounts = self.amounts
        top = float(amounts.max()) if len(amounts) else self.mean * 3
        edges = np.linspace(0.0, top * 1.0001 if top > 0 else 1.0, bins + 1)
        density = (
            np.histogram(amounts, bins=edges, density=True)[0] if len(amounts) else np.zeros(bins)
        )
        x = np.linspace(0.0, edges[-1], 200)
        if self.cv is None or self.cv == 0:
            pdf = np.zeros_like(x)
        else:
            shape = 1 / self.cv**2
            pdf = stats.gamma.pdf(x, shape, scale=self.mean / shape)
        return DealHistogram(edges=edges, density=density, x=x, pdf=pdf)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "cv": self.cv, "deals": self.deals, "basis": self.basis}


@dataclass(frozen=True, slots=True, eq=False)
class SourceFit:
    name: str
    stages: tuple[str, ...]
    volume: VolumeFit
    rates: tuple[RateFit, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Calibration:
    """What `calibrate` returns; `to_dict()` is the CLI's `calibrate --json` output."""

    history: History
    half_life: float | None
    level: float
    sources: tuple[SourceFit, ...]
    deal_size: DealSizeFit | None

    def source(self, name: str) -> SourceFit:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        h = self.history
        return {
            "format": h.format,
            "rows_read": h.rows_read,
            "rows_used": h.rows_used,
            "dropped": [p.to_dict() for p in h.dropped],
            "notes": list(h.notes),
            "columns": h.columns.to_dict(),
            "half_life": self.half_life,
            "level": self.level,
            "quarters": list(h.quarters),
            "sources": [
                {
                    "name": s.name,
                    "stages": list(s.stages),
                    "volume": s.volume.to_dict(),
                    "rates": [r.to_dict(self.level) for r in s.rates],
                }
                for s in self.sources
            ],
            "deal_size": None if self.deal_size is None else self.deal_size.to_dict(),
        }


def check_half_life(half_life: float | None) -> float | None:
    if half_life is None:
        return None
    if isinstance(half_life, bool) or not isinstance(half_life, int | float):
        raise CalibrationError(f"half_life: must be a number of quarters (got {half_life!r})")
    if not 0.25 <= half_life <= 100:
        raise CalibrationError(
            f"half_life: must be between 0.25 and 100 quarters (got {half_life})"
        )
    return float(half_life)


def calibrate(
    history: History,
    *,
    half_life: float | None = None,
    level: float = DEFAULT_LEVEL,
    lags: LagCalibration | None = None,
) -> Calibration:
    """Fit every source of a history: rates, volume, and the deal size over all sources.

    `half_life` (in quarters) weights recent quarters more: a quarter that many quarters before
    the latest counts half. Weighting lowers the evidence, so intervals widen honestly.
    With `lags` (sim.lags.fit_lags of a lead export), a lead counts toward its step's rate by
    the share of its time to move on it has had, so young cohorts no longer read as low rates.
    """
    half_life = check_half_life(half_life)
    if not 0.5 <= level < 1:
        raise CalibrationError(f"level: must be at least 0.5 and below 1 (got {level})")
    latest = history.quarters[-1]
    fits: list[SourceFit] = []
    for s in history.sources:
        w = recency_weights(s.quarters, latest, half_life)
        fitted = lags.sources.get(s.name) if lags is not None and s.days is not None else None
        rates = tuple(
            _rate_fit(s, j, w, None if fitted is None else fitted[j], lags)
            for j in range(len(s.stages) - 1)
        )
        mean, var, cv = fit_volume(s.counts[:, 0], w)
        volume = VolumeFit(
            source=s.name,
            stage=s.stages[0],
            quarters=s.quarters,
            counts=tuple(int(v) for v in s.counts[:, 0]),
            mean=mean,
            variance=var,
            cv=cv,
        )
        fits.append(SourceFit(name=s.name, stages=s.stages, volume=volume, rates=rates))
    return Calibration(
        history=history,
        half_life=half_life,
        level=level,
        sources=tuple(fits),
        deal_size=_fit_deals(history),
    )


def _rate_fit(
    s: SourceHistory,
    j: int,
    weights: np.ndarray,
    lag: LagFit | None = None,
    lags: LagCalibration | None = None,
) -> RateFit:
    effective = None
    leads = s.counts[:, j].astype(float)
    if lag is not None and lags is not None:
        as_of = float(np.datetime64(lags.as_of, "D").astype(np.int64))
        leads = np.maximum(exposure(s, j, lag, as_of), s.counts[:, j + 1])
        effective = tuple(float(v) for v in leads)
    alpha, beta = fit_rate(leads, s.counts[:, j + 1], weights)
    return RateFit(
        source=s.name,
        from_stage=s.stages[j],
        to_stage=s.stages[j + 1],
        quarters=s.quarters,
        leads=tuple(int(v) for v in s.counts[:, j]),
        converted=tuple(int(v) for v in s.counts[:, j + 1]),
        alpha=alpha,
        beta=beta,
        effective=effective,
    )


def _fit_deals(history: History) -> DealSizeFit | None:
    if history.format == "leads":
        amounts = np.concatenate([s.amounts for s in history.sources])
        if len(amounts) == 0:
            return None
        mean, cv = fit_deal_amounts(amounts)
        return DealSizeFit(mean=mean, cv=cv, deals=len(amounts), basis="deals", amounts=amounts)
    groups = [
        (b, w)
        for s in history.sources
        if s.bookings is not None
        for b, w in zip(s.bookings, s.counts[:, -1], strict=True)
        if np.isfinite(b) and w > 0
    ]
    if not groups:
        return None
    bookings, wins = (np.array(v, dtype=float) for v in zip(*groups, strict=True))
    mean, cv = fit_deal_totals(bookings, wins)
    return DealSizeFit(
        mean=mean, cv=cv, deals=int(wins.sum()), basis="quarter totals", amounts=np.zeros(0)
    )


# ---- Applying a calibration to a scenario ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applied:
    """The calibrated scenario (validated) and, in words, what changed and what was kept."""

    scenario: Scenario
    changes: tuple[str, ...]
    skipped: tuple[str, ...]


def _rate_text(rate: dict[str, Any]) -> str:
    r = Rate(**rate)
    if not r.uncertain:
        return f"{r.mean:.1%} (known exactly)"
    lo, hi = r.interval(DEFAULT_LEVEL)
    return f"{r.mean:.1%} (80% range {lo:.0%}–{hi:.0%})"


def _volume_text(volume: dict[str, Any]) -> str:
    kind = {"fixed": "exactly", "poisson": "Poisson", "negbin": "good and bad quarters"}
    cv = f", CV {volume['cv']:.2f}" if volume.get("cv") else ""
    return f"{volume['mean']:,.1f} ({kind[volume['dist']]}{cv})"


def _new_source(fit: SourceFit, owner: Owner) -> dict[str, Any]:
    return {
        "name": fit.name,
        "owner": owner,
        "stages": list(fit.stages),
        "volume": fit.volume.volume().model_dump(exclude_none=True),
        "rates": [r.rate().model_dump(exclude_none=True) for r in fit.rates],
    }


def apply_calibration(
    scenario: Scenario,
    calibration: Calibration,
    *,
    parts: Collection[str] = PARTS,
    sources: Collection[str] | None = None,
    owners: Mapping[str, Owner] | None = None,
) -> Applied:
    """A new, validated scenario with the calibrated assumptions written in.

    Sources are matched by name (case ignored). `parts` picks what to write: stage `rates`,
    first-stage `volume` (the historical mean), its `spread` (Poisson or negbin CV) and the
    `deal_size`. A history source missing from the plan is added when `owners` names its owner.
    When the history's stages differ from the plan's, the source's funnel is replaced whole.
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ScenarioError(f"parts: unknown {', '.join(unknown)} (choose from {', '.join(PARTS)})")
    data = scenario.to_dict()
    by_name = {s["name"].strip().casefold(): s for s in data["sources"]}
    changes: list[str] = []
    skipped: list[str] = []
    for fit in calibration.sources:
        if sources is not None and fit.name not in sources:
            continue
        src = by_name.get(fit.name.strip().casefold())
        empty = [r.label for r in fit.rates if not r.has_data]
        if src is None:
            owner = (owners or {}).get(fit.name)
            if owner is None:
                skipped.append(f"{fit.name}: not in the plan; choose its owner to add it")
            elif empty:
                skipped.append(f"{fit.name}: no leads for {', '.join(empty)}; not added")
            else:
                data["sources"].append(_new_source(fit, owner))
                changes.append(f"{fit.name}: added as a {owner} source ({' → '.join(fit.stages)})")
            continue
        label = src["name"]
        if [s.casefold() for s in src["stages"]] != [s.casefold() for s in fit.stages]:
            if not {"rates", "volume", "spread"} <= set(parts):
                skipped.append(
                    f"{label}: the history's stages ({', '.join(fit.stages)}) differ from the "
                    f"plan's ({', '.join(src['stages'])}); apply rates and volume together to "
                    "replace the funnel"
                )
            elif empty:
                skipped.append(f"{label}: no leads for {', '.join(empty)}; funnel kept")
            else:
                new = _new_source(fit, src["owner"])
                src.update(stages=new["stages"], volume=new["volume"], rates=new["rates"])
                changes.append(
                    f"{label}: funnel replaced by the history's ({' → '.join(fit.stages)})"
                )
                for key, what in (("lags", "times to convert"), ("opening", "pipeline in hand")):
                    if src.pop(key, None) is not None:  # they were the old funnel's stages'
                        changes.append(f"{label}: its {what} removed with the old funnel")
            continue
        if "rates" in parts:
            for j, rf in enumerate(fit.rates):
                step = f"{src['stages'][j]} → {src['stages'][j + 1]}"
                if not rf.has_data:
                    skipped.append(f"{label} · {step}: no leads in the history; kept the plan's")
                    continue
                old, new_rate = src["rates"][j], rf.rate().model_dump(exclude_none=True)
                if old != new_rate:
                    src["rates"][j] = new_rate
                    changes.append(
                        f"{label} · {step} rate: {_rate_text(old)} → {_rate_text(new_rate)}, "
                        f"from {sum(rf.leads):,} {plural(src['stages'][j])}"
                    )
        volume = dict(src["volume"])
        fitted = fit.volume.volume()
        if "volume" in parts:
            volume["mean"] = fitted.mean
        if "spread" in parts:
            volume["dist"] = fitted.dist
            volume.pop("cv", None)
            if fitted.cv is not None:
                volume["cv"] = fitted.cv
        if volume["dist"] == "fixed":
            volume["mean"] = round(volume["mean"])
        if volume != src["volume"]:
            changes.append(
                f"{label} · {plural(src['stages'][0])} per quarter: {_volume_text(src['volume'])} → "
                f"{_volume_text(volume)}"
            )
            src["volume"] = volume
    deal = calibration.deal_size
    if "deal_size" in parts and deal is not None and deal.mean > 0:
        old_deal = data.get("deal_size")
        cv = deal.cv if deal.cv is not None else (old_deal or {}).get("cv", 0.6)
        new_deal = {"mean": round(deal.mean, 2), "cv": round(cv, 3)}
        if deal.cv is None:
            skipped.append("Deal size CV: needs two or more quarters with bookings; kept")
        if new_deal != old_deal:
            before = f"{old_deal['mean']:,.0f} (CV {old_deal['cv']:.2f})" if old_deal else "none"
            changes.append(
                f"Deal size: {before} → {new_deal['mean']:,.0f} (CV {new_deal['cv']:.2f})"
            )
            data["deal_size"] = new_deal
    return Applied(scenario=parse_scenario(data), changes=tuple(changes), skipped=tuple(skipped))


def comparison_table(calibration: Calibration, scenario: Scenario) -> list[dict[str, str]]:
    """Rows of text: each calibrated assumption beside the plan's current value (for a table)."""
    level = calibration.level
    plan = {s.name.strip().casefold(): s for s in scenario.sources}
    rows: list[dict[str, str]] = []
    for fit in calibration.sources:
        src = plan.get(fit.name.strip().casefold())
        same = src is not None and [s.casefold() for s in src.stages] == [
            s.casefold() for s in fit.stages
        ]
        v = fit.volume
        lo, hi = v.interval(level)
        rows.append(
            {
                "Source": fit.name,
                "Assumption": f"{plural(v.stage)} per quarter",
                "From history": f"{v.mean:,.1f}"
                + (" (Poisson)" if v.cv is None else f" (CV {v.cv:.2f})"),
                "Range": f"{level:.0%} of quarters {lo:,.0f}–{hi:,.0f}",
                "Evidence": f"{len(v.quarters)} quarters",
                "In the plan now": _volume_text(src.volume.model_dump(exclude_none=True))
                if src is not None and same
                else "not in the plan",
            }
        )
        for j, r in enumerate(fit.rates):
            lo, hi = r.interval(level)
            rows.append(
                {
                    "Source": fit.name,
                    "Assumption": f"{r.label} rate",
                    "From history": f"{r.mean:.1%}" if r.has_data else "no leads",
                    "Range": f"{lo:.1%}–{hi:.1%}" if r.has_data else "",
                    "Evidence": f"{sum(r.leads):,} {plural(r.from_stage)}",
                    "In the plan now": _rate_text(src.rates[j].model_dump(exclude_none=True))
                    if src is not None and same
                    else "not in the plan",
                }
            )
    deal = calibration.deal_size
    if deal is not None:
        cv = "" if deal.cv is None else f" (CV {deal.cv:.2f})"
        now = scenario.deal_size
        rows.append(
            {
                "Source": "all",
                "Assumption": "Deal size",
                "From history": f"{deal.mean:,.0f}{cv}",
                "Range": "",
                "Evidence": f"{deal.deals:,} won deals"
                + (" (quarter totals)" if deal.basis == "quarter totals" else ""),
                "In the plan now": f"{now.mean:,.0f} (CV {now.cv:.2f})" if now else "none",
            }
        )
    return rows
