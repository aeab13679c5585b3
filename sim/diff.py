"""What a scenario assumes, line by line, and what changed between two of them.

Every assumption a leader can move becomes one labelled line ("Inbound · MQL → SQL rate":
"75.0% · known exactly"). The history view diffs two versions line by line; the Compare page
lays two to four scenarios side by side on the same lines and marks the lines that differ.
Sources are matched by name, so reordering sources is not a change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .models import Rate, Scenario, Source, Volume
from .roster import ROLE_NAMES, Attrition, Member, Team

MISSING = "—"
_VOLUME_LAW = {
    "fixed": "exactly this many",
    "poisson": "random around it (Poisson)",
    "negbin": "random, good and bad quarters",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One assumption that differs: its label, and the value before and after."""

    label: str
    before: str
    after: str


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _rate(rate: Rate) -> str:
    if rate.n is None:
        return f"{rate.mean:.1%} · known exactly"
    return f"{rate.mean:.1%} · measured on {_number(rate.n)} leads"


def _volume_law(volume: Volume) -> str:
    law = _VOLUME_LAW[volume.dist]
    return f"{law}, CV {volume.cv:g}" if volume.cv is not None else law


def _source_lines(source: Source) -> Iterator[tuple[str, str]]:
    head = source.name
    yield f"{head} · owner", source.owner
    yield f"{head} · stages", " → ".join(source.stages)
    yield f"{head} · {source.stages[0]}s per quarter", _number(source.volume.mean)
    yield f"{head} · how the volume varies", _volume_law(source.volume)
    for label, rate in zip(source.step_labels(), source.rates, strict=True):
        yield f"{head} · {label} rate", _rate(rate)
    if source.arrivals is not None:  # the optional clock: lines only when the plan has one
        a = source.arrivals
        shape = {"flat": "the same every week", "ramp": f"a ramp, last week × {a.ratio:g}"}
        yield (
            f"{head} · when {source.stages[0]}s arrive",
            shape.get(a.shape, ", ".join(f"{w:g}" for w in a.weekly or [])),
        )
    for label, lag in zip(source.step_labels(), source.lags or [], strict=False):
        yield f"{head} · {label} time to convert", lag.describe()
    for row in source.opening or []:
        yield (
            f"{head} · pipeline in hand at {row.stage}, {row.age:g} days in",
            _number(row.count),
        )


def _member(member: Member, stage: str) -> str:
    role = ROLE_NAMES[member.role] + ("s" if member.people != 1 else "")
    work = (
        f"{_number(member.productivity)} {stage}s a week each"
        if member.role == "sdr"
        else f"carry {_number(member.productivity)} opportunities a quarter each"
    )
    return (
        f"{member.people} {role} from {member.start} · {_number(member.ramp_weeks)} weeks' ramp"
        f" · {work}"
    )


def _attrition(attrition: Attrition | None) -> str:
    if attrition is None:
        return "none"
    if attrition.n is None:
        return f"{attrition.mean:.0%} a year"
    return f"{attrition.mean:.0%} a year · measured on {_number(attrition.n)} people"


def _team_lines(scenario: Scenario, team: Team) -> Iterator[tuple[str, str]]:
    """The team, one line per cohort (matched by name) and one per setting."""
    sales = [s for s in scenario.sources if s.owner == "sales"]
    booked = next((s for s in sales if team.source in (None, s.name)), None)
    stage = booked.stages[0] if booked is not None else "lead"
    for member in team.members:
        yield f"Team · {member.name}", _member(member, stage)
    if team.of_role("sdr"):
        yield "Team · SDRs book", booked.name if booked is not None else MISSING
        yield (
            "Team · SDR pace uncertainty (CV)",
            "known exactly" if team.sdr_pace_cv == 0 else f"{team.sdr_pace_cv:g}",
        )
        yield "Team · SDR attrition", _attrition(team.sdr_attrition)
    if team.of_role("ae"):
        yield "Team · AE attrition", _attrition(team.ae_attrition)
        yield (
            "Team · win rate beyond what the AEs carry",
            "unchanged"
            if team.ae_overload_win_factor == 1
            else f"{team.ae_overload_win_factor:.0%} of the usual",
        )
    if team.follow_up_touches is not None:
        yield "Team · follow-up touches per SDR per week", _number(team.follow_up_touches)


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix} · {str(key).replace('_', ' ')}", inner)
    elif isinstance(value, list):
        yield prefix, ", ".join(str(v) for v in value) if value else MISSING
    elif isinstance(value, float):
        yield prefix, _number(value)
    else:
        yield prefix, str(value)


def assumptions(scenario: Scenario) -> dict[str, str]:
    """Every assumption of a scenario as label -> shown value, in reading order."""
    lines: dict[str, str] = {
        "Name": scenario.name,
        "Quarter": scenario.quarter,
        "What the number counts": scenario.metric,
        "Target": _number(scenario.target),
        "Marketing's share of the number": f"{scenario.marketing_share:.0%}",
    }
    if scenario.deal_size is not None:
        lines["Average deal size"] = _number(scenario.deal_size.mean)
        lines["Deal size variation (CV)"] = f"{scenario.deal_size.cv:g}"
    if scenario.weeks is not None:
        lines["Weeks in the quarter"] = str(scenario.weeks)
    for source in scenario.sources:
        lines.update(_source_lines(source))
    if scenario.sla is not None:
        lines.update(_flatten("SLA", scenario.sla.model_dump(mode="json", exclude_none=True)))
    if scenario.team is not None:
        lines.update(_team_lines(scenario, scenario.team))
    return lines


def _union(tables: Sequence[dict[str, str]]) -> list[str]:
    """All labels, in the order they first appear."""
    return list(dict.fromkeys(label for table in tables for label in table))


def diff(before: Scenario, after: Scenario) -> list[Change]:
    """The assumptions that changed from `before` to `after` (added or removed lines show —)."""
    a, b = assumptions(before), assumptions(after)
    return [
        Change(label, a.get(label, MISSING), b.get(label, MISSING))
        for label in _union([a, b])
        if a.get(label, MISSING) != b.get(label, MISSING)
    ]


def unique_labels(names: Sequence[str]) -> list[str]:
    """Column labels for scenarios that may share a name: 'Plan', 'Plan (2)'."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def side_by_side(scenarios: Sequence[Scenario], labels: Sequence[str]) -> pd.DataFrame:
    """One row per assumption (the name is the column), one column per scenario, and a
    `differs` column."""
    if len(labels) != len(scenarios):
        raise ValueError(f"labels: {len(labels)} labels for {len(scenarios)} scenarios")
    if len(set(labels)) != len(labels):
        raise ValueError("labels: column labels must be unique (see unique_labels)")
    # The names head the columns; the rows are what each scenario assumes.
    tables = [{k: v for k, v in assumptions(s).items() if k != "Name"} for s in scenarios]
    rows = _union(tables)
    frame = pd.DataFrame(
        {
            label: [t.get(row, MISSING) for row in rows]
            for label, t in zip(labels, tables, strict=True)
        },
        index=pd.Index(rows, name="Assumption"),
    )
    frame["differs"] = frame.nunique(axis=1) > 1
    return frame
