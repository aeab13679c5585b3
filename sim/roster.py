"""The team in the scenario file (the optional `team` key): who is on it, from when, how fast they
ramp and how productive they are once ramped, and how many leave. Pydantic only, so loading a
scenario stays fast; what the team can do is worked out in sim/team.py (docs/team.md).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_MEMBERS = 200
MAX_PEOPLE = 1000

Role = Literal["sdr", "ae"]
ROLE_NAMES: dict[str, str] = {"sdr": "SDR", "ae": "AE"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attrition(_Frozen):
    """Share of the people in a role who leave per year: known, or Beta(mean*n, (1-mean)*n)."""

    mean: Annotated[float, Field(ge=0, lt=1, description="Share leaving per year")]
    n: Annotated[float, Field(gt=0, le=1_000_000)] | None = Field(
        default=None,
        description="Evidence: people observed over a year (7 of 20 left: mean 0.35, n 20). "
        "Omit when known; SDR attrition with n is drawn once per simulated quarter.",
    )

    @model_validator(mode="after")
    def _check(self) -> Attrition:
        if self.n is not None and not 0 < self.mean < 1:
            raise ValueError(
                "mean: an uncertain attrition (with n) must be strictly between 0 and 1"
            )
        return self


class Member(_Frozen):
    """One person or a cohort of people who start on the same day."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    role: Role = Field(description="sdr: books sales' first-stage volume; ae: works opportunities")
    people: Annotated[int, Field(ge=1, le=MAX_PEOPLE)]
    start: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")]
    ramp_weeks: Annotated[float, Field(ge=0, le=104)] = Field(
        default=0, description="Weeks from start to full productivity (linear ramp)"
    )
    productivity: Annotated[float, Field(gt=0, le=100_000)] = Field(
        description="Ramped: SDRs, first-stage leads per week each; AEs, opportunities "
        "each can carry per quarter"
    )

    @model_validator(mode="after")
    def _check(self) -> Member:
        try:
            day = date.fromisoformat(self.start)
        except ValueError:
            raise ValueError(f"start: not a date (got {self.start!r})") from None
        if not date(1990, 1, 1) <= day <= date(2100, 12, 31):
            raise ValueError(f"start: must be between 1990 and 2100 (got {self.start})")
        return self

    @property
    def start_date(self) -> date:
        return date.fromisoformat(self.start)


class Team(_Frozen):
    """The people behind sales' number and marketing's follow-up (optional `team` key)."""

    members: Annotated[list[Member], Field(max_length=MAX_MEMBERS)] = Field(default_factory=list)
    source: Annotated[str, Field(min_length=1, max_length=80)] | None = Field(
        default=None,
        description="The sales source whose first-stage volume the SDRs book "
        "(default: the first sales source)",
    )
    sdr_pace_cv: Annotated[float, Field(ge=0, le=2)] = Field(
        default=0,
        description="Uncertainty of the SDRs' pace this quarter: coefficient of variation of "
        "a multiplier (mean 1) shared by every SDR, drawn once per quarter; 0 = known",
    )
    sdr_attrition: Attrition | None = None
    ae_attrition: Attrition | None = None
    ae_overload_win_factor: Annotated[float, Field(ge=0, le=1)] = Field(
        default=1,
        description="Win rate of opportunities beyond what the AEs can carry, as a share of "
        "the normal win rate; 1 = no effect",
    )
    follow_up_touches: Annotated[float, Field(gt=0, le=100_000)] | None = Field(
        default=None,
        description="Follow-up touches one ramped SDR can make on MQLs per week "
        "(calls, emails); omit to skip the follow-up check",
    )

    @model_validator(mode="after")
    def _check(self) -> Team:
        names = [m.name for m in self.members]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"members[{i}].name: duplicate name {name!r}")
        return self

    def of_role(self, role: Role) -> list[Member]:
        return [m for m in self.members if m.role == role]
