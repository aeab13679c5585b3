"""The words of the SLA: what an MQL is (firmographics only), what makes an SQL, what sales owes.

Stored under the scenario's optional `sla` key; a schema v1 file without it stays valid.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

ShortText = Annotated[str, Field(max_length=80)]
Note = Annotated[str, Field(max_length=1000)]

# Words that describe the person or their buying intent: BANT territory, not firmographics.
NOT_FIRMOGRAPHIC = re.compile(
    r"\b(role|roles|title|titles|job|seniority|senior|vp|vice president|director|head of|"
    r"c-level|c-suite|ceo|cfo|cto|cmo|coo|founder|manager|intern|decision[- ]maker|"
    r"need|needs|intent|interest|budget|authority|timing|timeline|pain|demo request|"
    r"requested a demo)\b",
    re.IGNORECASE,
)
WHY = (
    "an MQL is defined by firmographics only (where, how big, which sector); role, seniority, "
    "need and intent are what sales qualifies for an SQL"
)
PERSON_KEYS = {
    "role",
    "roles",
    "title",
    "titles",
    "job_title",
    "seniority",
    "need",
    "needs",
    "intent",
    "persona",
    "department",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_firmographic(field: str, values: list[str]) -> None:
    """Refuse criteria that describe the person or their need rather than the company."""
    for i, value in enumerate(values):
        if match := NOT_FIRMOGRAPHIC.search(value):
            raise ValueError(f"{field}[{i}]: {value!r} mentions {match.group(0)!r}: {WHY}")


class MQLDefinition(_Frozen):
    """Which companies count as marketing-qualified: things one can tell without a call."""

    regions: list[ShortText] = Field(default_factory=list, description="Countries or regions")
    employees_min: Annotated[int, Field(ge=0)] | None = None
    employees_max: Annotated[int, Field(ge=0)] | None = None
    revenue_min: Annotated[float, Field(ge=0)] | None = None
    revenue_max: Annotated[float, Field(ge=0)] | None = None
    sectors: list[ShortText] = Field(default_factory=list)
    note: Note = ""

    @model_validator(mode="before")
    @classmethod
    def _no_person_criteria(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if str(key).lower() in PERSON_KEYS:
                    raise ValueError(f"{key}: not an MQL criterion: {WHY}")
        return data

    @model_validator(mode="after")
    def _check(self) -> MQLDefinition:
        check_firmographic("regions", self.regions)
        check_firmographic("sectors", self.sectors)
        lo, hi = self.employees_min, self.employees_max
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"employees_max: {hi} is below employees_min {lo}")
        rlo, rhi = self.revenue_min, self.revenue_max
        if rlo is not None and rhi is not None and rlo > rhi:
            raise ValueError(f"revenue_max: {rhi:g} is below revenue_min {rlo:g}")
        return self

    def criteria(self) -> list[str]:
        """The definition in words, one line per criterion."""
        out = []
        if self.regions:
            out.append("Located in " + ", ".join(self.regions))
        if self.employees_min is not None or self.employees_max is not None:
            out.append("Employees " + _range(self.employees_min, self.employees_max))
        if self.revenue_min is not None or self.revenue_max is not None:
            out.append("Annual revenue " + _range(self.revenue_min, self.revenue_max))
        if self.sectors:
            out.append("Sector: " + ", ".join(self.sectors))
        return out or ["Any company (no firmographic criteria set)"]


def _range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo:,.0f} to {hi:,.0f}"
    return f"at least {lo:,.0f}" if lo is not None else f"at most {hi:,.0f}"


class SQLDefinition(_Frozen):
    """What sales must confirm to call a lead sales-qualified (BANT)."""

    budget: bool = True
    authority: bool = True
    need: bool = True
    timing: bool = True
    note: Note = ""

    def required(self) -> list[str]:
        names = ("budget", "authority", "need", "timing")
        return [n.capitalize() for n in names if getattr(self, n)]


class FollowUp(_Frozen):
    """What sales owes every MQL."""

    first_touch_hours: Annotated[int, Field(ge=1, le=240)] = 4
    min_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    over_days: Annotated[int, Field(ge=1, le=90)] = 10
    personalization_required: bool = True
    personalization: Note = "Reference the company, its sector and what the contact downloaded."
    recycle_after_days: Annotated[int, Field(ge=1, le=365)] = 30

    def terms(self) -> list[str]:
        return [
            f"First touch within {self.first_touch_hours} business hours of the MQL",
            f"At least {self.min_attempts} attempts over {self.over_days} days",
            ("Personalization required: " + self.personalization)
            if self.personalization_required
            else "Personalization optional",
            f"An MQL not worked within {self.recycle_after_days} days returns to marketing",
        ]


class SLA(_Frozen):
    """The agreement's words; the numbers live in the scenario itself."""

    marketing_owner: ShortText = ""
    sales_owner: ShortText = ""
    mql: MQLDefinition = Field(default_factory=MQLDefinition)
    sql: SQLDefinition = Field(default_factory=SQLDefinition)
    follow_up: FollowUp = Field(default_factory=FollowUp)
