"""Edits as field changes: a move changes one field and applies on top of the latest version.

Two leaders moving different sliders both land, in order. Only a change to a field that someone
else changed since this screen last showed it is a conflict: the later move wins, and the value
it replaced is named so it can be put back (docs/room.md).

A field is a path into the scenario's JSON (`("sources", 0, "rates", 1, "mean")`). Dicts and
lists of dicts of the same length are compared item by item; anything else (a list of stage
names, a source added or removed) is one field, replaced whole.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from .models import ScenarioError

Path = tuple[str | int, ...]


class _Absent:
    """The value of a field that is not there (an optional key left out)."""

    _instance: Any = None

    def __new__(cls) -> Self:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        instance: Self = cls._instance
        return instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Absent:
        return self


ABSENT: Any = _Absent()


class MergeError(ScenarioError):
    """A change cannot apply to the latest version (its field no longer exists there)."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field set from `before` to `after` (either may be ABSENT: a key added or removed)."""

    path: Path
    before: Any = field(default=ABSENT)
    after: Any = field(default=ABSENT)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": list(self.path)}
        if self.before is not ABSENT:
            out["before"] = self.before
        if self.after is not ABSENT:
            out["after"] = self.after
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldChange:
        return cls(tuple(data["path"]), data.get("before", ABSENT), data.get("after", ABSENT))

    def undo(self, value: Any) -> FieldChange:
        """The change that puts `value` back where this change wrote."""
        return FieldChange(self.path, self.after, value)


def _same_shape_dicts(a: Any, b: Any) -> bool:
    return (
        isinstance(a, list)
        and isinstance(b, list)
        and len(a) == len(b)
        and all(isinstance(x, dict) for x in a + b)
    )


def _walk(before: Any, after: Any, path: Path) -> Iterator[FieldChange]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in list(before) + [k for k in after if k not in before]:
            yield from _walk(before.get(key, ABSENT), after.get(key, ABSENT), (*path, key))
    elif _same_shape_dicts(before, after):
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from _walk(a, b, (*path, i))
    elif before != after or type(before) is not type(after):
        if before is ABSENT and after is ABSENT:
            return
        yield FieldChange(path, copy.deepcopy(before), copy.deepcopy(after))


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """The field changes that turn `before` into `after` (scenario JSON dicts)."""
    return [
        c
        for c in _walk(before, after, ())
        if not (_number(c.before) and _number(c.after) and c.before == c.after)
    ]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def get(data: Any, path: Path) -> Any:
    """The value at `path`, or ABSENT."""
    for part in path:
        in_dict = isinstance(data, dict) and isinstance(part, str) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_dict or in_list):
            return ABSENT
        data = data[part]
    return data


def apply_changes(data: dict[str, Any], changes: Iterable[FieldChange]) -> dict[str, Any]:
    """A copy of `data` with every change's `after` written at its path, in order.

    Raises MergeError when a path no longer leads anywhere (a source removed meanwhile)."""
    out = copy.deepcopy(data)
    for change in changes:
        if not change.path:
            raise MergeError("scenario: a change must name a field")
        parent = get(out, change.path[:-1])
        last = change.path[-1]
        where = _shown_path(change.path)
        if isinstance(parent, dict) and isinstance(last, str):
            if change.after is ABSENT:
                parent.pop(last, None)
            else:
                parent[last] = copy.deepcopy(change.after)
        elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
            if change.after is ABSENT:
                raise MergeError(f"{where}: a list item cannot be left out")
            parent[last] = copy.deepcopy(change.after)
        else:
            raise MergeError(f"{where}: no longer in the latest version (changed meanwhile)")
    return out


def touches(a: Path, b: Path) -> bool:
    """Whether two fields overlap: the same field, or one holds the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _shown_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# ---- Words for a change, as a leader reads it -----------------------------------------------
_TOP = {
    "name": "Scenario name",
    "quarter": "Quarter",
    "metric": "What the number counts",
    "target": "Target",
    "marketing_share": "Marketing's share",
}
_VOLUME_LAW = {
    "fixed": "exactly this many",
    "poisson": "random around it",
    "negbin": "random, good and bad quarters",
}


_SLA = {
    ("marketing_owner",): "SLA marketing leader",
    ("sales_owner",): "SLA sales leader",
    ("mql", "regions"): "MQL countries or regions",
    ("mql", "sectors"): "MQL sectors",
    ("mql", "employees_min"): "MQL employees from",
    ("mql", "employees_max"): "MQL employees up to",
    ("mql", "revenue_min"): "MQL annual revenue from",
    ("mql", "revenue_max"): "MQL annual revenue up to",
    ("mql", "note"): "Note on the MQL definition",
    ("sql", "budget"): "SQL needs budget",
    ("sql", "authority"): "SQL needs authority",
    ("sql", "need"): "SQL needs a need",
    ("sql", "timing"): "SQL needs timing",
    ("sql", "note"): "Note on the SQL definition",
    ("follow_up", "first_touch_hours"): "First touch within (business hours)",
    ("follow_up", "min_attempts"): "Attempts per MQL",
    ("follow_up", "over_days"): "Follow-up days",
    ("follow_up", "personalization_required"): "Personalization required",
    ("follow_up", "personalization"): "What personalization means",
    ("follow_up", "recycle_after_days"): "Unworked MQL returns to marketing after (days)",
}


def _source(scenario: dict[str, Any], i: int) -> dict[str, Any]:
    sources = scenario.get("sources", [])
    return sources[i] if isinstance(sources, list) and 0 <= i < len(sources) else {}


def field_label(path: Path, scenario: dict[str, Any]) -> str:
    """'Inbound MQL → SQL rate' for ('sources', 0, 'rates', 0, 'mean'), and so on."""
    top = str(path[0]) if len(path) == 1 else ""
    if top in _TOP:
        return _TOP[top]
    if path[:1] == ("sla",) and tuple(path[1:]) in _SLA:
        return _SLA[tuple(path[1:])]
    if path[:1] == ("deal_size",):
        return "Deal size variation (CV)" if path[1:] == ("cv",) else "Average deal size"
    if path[:1] == ("sources",) and len(path) >= 2 and isinstance(path[1], int):
        source = _source(scenario, path[1])
        name = str(source.get("name", f"Source {path[1] + 1}"))
        stages = [str(s) for s in source.get("stages", [])]
        rest = path[2:]
        if rest[:1] == ("rates",) and len(rest) >= 2 and isinstance(rest[1], int):
            j = rest[1]
            step = f"{stages[j]} → {stages[j + 1]}" if j + 1 < len(stages) else f"step {j + 1}"
            return f"{name} {step} " + ("evidence" if rest[2:] == ("n",) else "rate")
        if rest[:1] == ("volume",):
            first = stages[0] if stages else "lead"
            what = {"dist": "how the volume varies", "cv": "volume CV"}
            leaf = str(rest[1]) if len(rest) == 2 else ""
            return f"{name} " + what.get(leaf, f"{first}s per quarter")
        return f"{name} {' '.join(str(p).replace('_', ' ') for p in rest)}".strip()
    return " ".join(str(p).replace("_", " ") for p in path).capitalize()


def value_text(path: Path, value: Any) -> str:
    """A field's value as the screen shows it ('75%', '164', 'random around it')."""
    if value is ABSENT or value is None:
        return "none"
    last = path[-1] if path else ""
    percent = last == "marketing_share" or (
        last == "mean" and len(path) >= 3 and path[-3] == "rates"
    )
    if percent and _number(value):
        shown = f"{float(value) * 100:.1f}".rstrip("0").rstrip(".")
        return f"{shown}%"
    if last == "dist" and isinstance(value, str):
        return _VOLUME_LAW.get(value, value)
    if _number(value):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    return "changed"


def describe(change: FieldChange, scenario: dict[str, Any]) -> str:
    """'Inbound MQL → SQL rate 75% → 70%'."""
    label = field_label(change.path, scenario)
    before, after = value_text(change.path, change.before), value_text(change.path, change.after)
    if before == after == "changed":
        return f"{label} changed"
    return f"{label} {before} → {after}"


def describe_all(changes: Sequence[FieldChange], scenario: dict[str, Any], limit: int = 2) -> str:
    """Up to `limit` changes in words, then how many more."""
    shown = "; ".join(describe(c, scenario) for c in changes[:limit])
    more = len(changes) - limit
    return shown + (f" and {more} more change{'s' * (more > 1)}" if more > 0 else "")
