"""Scenario file, schema v1: frozen pydantic models that validate every field.

The models are the public contract of a plan (see docs/scenario.md). Unknown keys are
rejected and every number is range-checked; `ScenarioError` carries messages that name the
field path as the user wrote it (`sources[1].rates[2].mean`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .roster import Team
from .sla import SLA

Owner = Literal["marketing", "sales"]
OWNERS: tuple[Owner, Owner] = ("marketing", "sales")

MAX_VOLUME = 1_000_000
MAX_EVIDENCE = 1_000_000
MAX_SOURCES = 20
MAX_STAGES = 10
MAX_FILE_BYTES = 1_000_000
DEFAULT_WEEKS = 13  # a quarter's weeks when the scenario does not say
MAX_WEEKS = 53
MAX_DAYS = 3650  # longest lag or age, in days (ten years)
MAX_OPENING = 200  # opening-pipeline rows per source

Probability = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, max_length=80)]
Days = Annotated[float, Field(ge=0, le=MAX_DAYS)]


class ScenarioError(ValueError):
    """A scenario (or one of its inputs) is invalid; the message names the field."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Volume(_Frozen):
    """First-stage volume of a source per quarter."""

    mean: Annotated[float, Field(ge=0, le=MAX_VOLUME, description="Expected volume")]
    dist: Literal["fixed", "poisson", "negbin"] = Field(
        description="fixed: exactly `mean`; poisson: Poisson(mean); negbin: overdispersed"
    )
    cv: Annotated[float, Field(gt=0, le=5)] | None = Field(
        default=None,
        description="negbin only: coefficient of variation of the expected volume from "
        "quarter to quarter (gamma mixing); variance = mean + (cv * mean)^2",
    )

    @model_validator(mode="after")
    def _check(self) -> Volume:
        if self.dist == "negbin" and self.cv is None:
            raise ValueError("cv: required when dist is negbin")
        if self.dist != "negbin" and self.cv is not None:
            raise ValueError(f"cv: only used when dist is negbin (dist is {self.dist})")
        if self.dist == "fixed" and self.mean != int(self.mean):
            raise ValueError(f"mean: a fixed volume must be a whole number (got {self.mean:g})")
        return self

    @property
    def variance(self) -> float:
        if self.dist == "fixed":
            return 0.0
        if self.dist == "poisson":
            return self.mean
        return self.mean + (self.cv or 0.0) ** 2 * self.mean**2

    def scaled(self, factor: float) -> Volume:
        """The same law with its mean scaled (a fixed volume stays a whole number)."""
        mean = self.mean * factor
        if self.dist == "fixed":
            mean = float(round(mean))
        return self.model_copy(update={"mean": min(mean, MAX_VOLUME)})


class Rate(_Frozen):
    """Conversion rate of one step: known exactly, or Beta(mean * n, (1 - mean) * n)."""

    mean: Probability
    n: Annotated[float, Field(gt=0, le=MAX_EVIDENCE)] | None = Field(
        default=None,
        description="Evidence behind the rate, in leads seen (e.g. 57 of 100 converted: "
        "mean 0.57, n 100). Omit for a rate known exactly.",
    )

    @model_validator(mode="after")
    def _check(self) -> Rate:
        if self.n is not None and not 0 < self.mean < 1:
            raise ValueError("mean: an uncertain rate (with n) must be strictly between 0 and 1")
        return self

    @property
    def uncertain(self) -> bool:
        return self.n is not None

    @property
    def alpha(self) -> float:
        return self.mean * (self.n or 0.0)

    @property
    def beta(self) -> float:
        return (1 - self.mean) * (self.n or 0.0)

    def dist(self) -> Any:
        """The frozen scipy Beta of an uncertain rate (None when the rate is known)."""
        if self.n is None:
            return None
        from scipy import stats  # here, not at the top: loading a scenario stays fast

        return stats.beta(self.alpha, self.beta)

    def interval(self, level: float = 0.8) -> tuple[float, float]:
        """Central credible interval; a known rate is its own interval."""
        dist = self.dist()
        if dist is None:
            return (self.mean, self.mean)
        lo, hi = dist.ppf([(1 - level) / 2, (1 + level) / 2])
        return (float(lo), float(hi))


# ---- Time (optional keys; a scenario without them has no clock: docs/scenario.md) -------------


class Arrivals(_Frozen):
    """How a source's first-stage volume spreads over the weeks of the quarter."""

    shape: Literal["flat", "ramp", "weekly"] = Field(
        description="flat: the same every week; ramp: a straight line from the first week to "
        "the last; weekly: one relative number per week"
    )
    ratio: Annotated[float, Field(gt=0, le=100)] | None = Field(
        default=None,
        description="ramp only: the last week's volume divided by the first week's "
        "(2 doubles over the quarter, 0.5 halves)",
    )
    weekly: (
        Annotated[list[Annotated[float, Field(ge=0, le=MAX_VOLUME)]], Field(max_length=MAX_WEEKS)]
        | None
    ) = Field(
        default=None,
        description="weekly only: relative volume of each week of the quarter, one number "
        "per week (any scale; 10, 10, 20 means the third week brings half)",
    )

    @model_validator(mode="after")
    def _check(self) -> Arrivals:
        if self.shape == "ramp" and self.ratio is None:
            raise ValueError("ratio: required when shape is ramp")
        if self.shape != "ramp" and self.ratio is not None:
            raise ValueError(f"ratio: only used when shape is ramp (shape is {self.shape})")
        if self.shape == "weekly" and self.weekly is None:
            raise ValueError("weekly: required when shape is weekly")
        if self.shape != "weekly" and self.weekly is not None:
            raise ValueError(f"weekly: only used when shape is weekly (shape is {self.shape})")
        if self.weekly is not None and not sum(self.weekly) > 0:
            raise ValueError("weekly: at least one week must have some volume")
        return self

    def weights(self, weeks: int) -> tuple[float, ...]:
        """Share of the quarter's volume arriving in each week (adds up to 1)."""
        if self.shape == "weekly":
            assert self.weekly is not None  # checked above; the length by the scenario
            raw = list(self.weekly)
        elif self.shape == "ramp" and weeks > 1:
            ratio = self.ratio or 1.0
            raw = [1 + (ratio - 1) * w / (weeks - 1) for w in range(weeks)]
        else:
            raw = [1.0] * weeks
        total = math.fsum(raw)
        return tuple(r / total for r in raw)


class Lag(_Frozen):
    """Days a lead takes to move from one stage to the next, counting only leads that move."""

    dist: Literal["fixed", "gamma", "lognormal", "empirical"] = Field(
        description="fixed: always `days`; gamma or lognormal: by `median` and `cv`; "
        "empirical: a `table` of days and the share moved by then"
    )
    days: Days | None = Field(default=None, description="fixed only: the lag in days")
    median: Annotated[float, Field(gt=0, le=MAX_DAYS)] | None = Field(
        default=None, description="gamma or lognormal: half of the leads move within this many days"
    )
    cv: Annotated[float, Field(gt=0, le=5)] | None = Field(
        default=None,
        description="gamma or lognormal: spread, standard deviation divided by the mean",
    )
    table: (
        Annotated[
            list[tuple[Days, Annotated[float, Field(gt=0, le=1)]]],
            Field(min_length=1, max_length=200),
        ]
        | None
    ) = Field(
        default=None,
        description="empirical only: rows [days, share of the leads that move which have moved "
        "by then], days increasing, the last share 1; linear between rows (from 0 at day 0)",
    )

    @model_validator(mode="after")
    def _check(self) -> Lag:
        wanted = {
            "fixed": {"days"},
            "gamma": {"median", "cv"},
            "lognormal": {"median", "cv"},
            "empirical": {"table"},
        }[self.dist]
        for key in ("days", "median", "cv", "table"):
            given = getattr(self, key) is not None
            if key in wanted and not given:
                raise ValueError(f"{key}: required when dist is {self.dist}")
            if key not in wanted and given:
                raise ValueError(f"{key}: not used when dist is {self.dist}")
        if self.table is not None:
            days = [d for d, _ in self.table]
            shares = [s for _, s in self.table]
            if any(b <= a for a, b in itertools.pairwise(days)):
                raise ValueError("table: days must increase from row to row")
            if any(b < a for a, b in itertools.pairwise(shares)):
                raise ValueError("table: the share moved cannot go down from row to row")
            if abs(shares[-1] - 1) > 1e-9:
                raise ValueError(f"table: the last row's share must be 1 (got {shares[-1]:g})")
        return self

    def dist_law(self) -> Any:
        """The frozen scipy law of a gamma or lognormal lag (None for the others)."""
        if self.dist in ("gamma", "lognormal"):
            assert self.median is not None
            assert self.cv is not None
            return median_cv_law(self.dist, self.median, self.cv)
        return None

    def cdf(self, x: Any) -> Any:
        """P(lag <= x days), elementwise."""
        import numpy as np  # here, not at the top: loading a scenario stays fast

        x = np.asarray(x, dtype=float)
        if self.dist == "fixed":
            return (x >= (self.days or 0.0)).astype(float)
        if self.dist == "empirical":
            assert self.table is not None
            xs = [d for d, _ in self.table]
            ys = [s for _, s in self.table]
            if xs[0] > 0:
                xs, ys = [0.0, *xs], [0.0, *ys]
            return np.where(x < 0, 0.0, np.interp(x, xs, ys))
        return self.dist_law().cdf(x)

    def sf(self, x: Any) -> Any:
        """P(lag > x days), elementwise (accurate far in the tail for gamma and lognormal)."""
        law = self.dist_law()
        if law is None:
            return 1.0 - self.cdf(x)
        import numpy as np

        return law.sf(np.asarray(x, dtype=float))

    @property
    def typical_days(self) -> float:
        """The median lag in days (for sentences and charts)."""
        if self.dist == "fixed":
            return float(self.days or 0.0)
        if self.dist == "empirical":
            assert self.table is not None
            xs = [0.0] + [d for d, _ in self.table]
            ys = [0.0] + [s for _, s in self.table]
            import numpy as np

            return float(np.interp(0.5, ys, xs))
        return float(self.median or 0.0)

    def describe(self) -> str:
        """'about 14 days (gamma, CV 0.8)' for tables and sentences."""
        if self.dist == "fixed":
            return f"{self.typical_days:g} days"
        if self.dist == "empirical":
            return f"median {self.typical_days:.0f} days (table of {len(self.table or [])} rows)"
        return f"median {self.typical_days:g} days ({self.dist}, CV {self.cv:g})"


@lru_cache(maxsize=256)
def median_cv_law(dist: str, median: float, cv: float) -> Any:
    """The frozen scipy gamma or log-normal law with this median and coefficient of variation
    (cached: freezing a scipy law costs a millisecond or two)."""
    from scipy import special, stats  # here, not at the top: loading a scenario stays fast

    if dist == "gamma":
        shape = 1 / cv**2
        return stats.gamma(shape, scale=median / float(special.gammaincinv(shape, 0.5)))
    return stats.lognorm(math.sqrt(math.log1p(cv**2)), scale=median)


class OpeningLeads(_Frozen):
    """Leads already sitting in a stage on the quarter's first day, and how long they have."""

    stage: Annotated[str, Field(min_length=1, max_length=40)]
    count: Annotated[int, Field(ge=0, le=MAX_VOLUME)] = Field(description="How many leads")
    age: Days = Field(description="Days since these leads reached the stage, on day one")


class DealSize(_Frozen):
    """Size of one won deal: Gamma with this mean and coefficient of variation."""

    mean: Annotated[float, Field(gt=0, le=1e9)]
    cv: Annotated[float, Field(ge=0, le=5)]


class Source(_Frozen):
    """One lead source: an owner, ordered stages, a first-stage volume, one rate per step."""

    name: Name
    owner: Owner
    stages: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]],
        Field(min_length=2, max_length=MAX_STAGES),
    ]
    volume: Volume
    rates: list[Rate]
    arrivals: Arrivals | None = Field(
        default=None,
        description="Optional: how the first-stage volume spreads over the weeks (default flat)",
    )
    lags: list[Lag] | None = Field(
        default=None,
        description="Optional: the time each step takes, one per step like `rates` (default: "
        "no time at all)",
    )
    opening: Annotated[list[OpeningLeads], Field(max_length=MAX_OPENING)] | None = Field(
        default=None,
        description="Optional: the opening pipeline, leads already in a stage on day one",
    )

    @model_validator(mode="after")
    def _check(self) -> Source:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("stages: stage names must be unique")
        if len(self.rates) != len(self.stages) - 1:
            raise ValueError(
                f"rates: {len(self.stages)} stages need {len(self.stages) - 1} rates "
                f"(one per step), got {len(self.rates)}"
            )
        if self.lags is not None and len(self.lags) != len(self.rates):
            raise ValueError(
                f"lags: {len(self.stages)} stages need {len(self.rates)} lags "
                f"(one per step, like rates), got {len(self.lags)}"
            )
        for k, row in enumerate(self.opening or []):
            if row.stage not in self.stages:
                raise ValueError(
                    f"opening[{k}].stage: {row.stage!r} is not one of the stages "
                    f"({', '.join(self.stages)})"
                )
            if row.stage == self.stages[-1]:
                raise ValueError(
                    f"opening[{k}].stage: leads already at {row.stage} are last quarter's; "
                    "the opening pipeline holds leads still on their way"
                )
        return self

    @property
    def timed(self) -> bool:
        """Whether time changes this source's wins: it has lags or an opening pipeline."""
        return self.lags is not None or bool(self.opening)

    @property
    def win_probability(self) -> float:
        """Expected share of first-stage volume that reaches the last stage."""
        return math.prod(r.mean for r in self.rates)

    def expected_counts(self) -> list[float]:
        """Expected count at every stage (the deterministic funnel)."""
        counts = [self.volume.mean]
        for rate in self.rates:
            counts.append(counts[-1] * rate.mean)
        return counts

    def step_labels(self) -> list[str]:
        return [f"{a} → {b}" for a, b in zip(self.stages, self.stages[1:], strict=False)]


class Scenario(_Frozen):
    """A quarter's plan: target, split, deal size and sources (schema v1)."""

    schema_version: Literal[1]
    name: Name
    quarter: Annotated[str, Field(pattern=r"^\d{4}-Q[1-4]$", description="e.g. 2027-Q1")]
    metric: Literal["customers", "bookings"]
    target: Annotated[float, Field(gt=0, le=1e12)]
    marketing_share: Probability
    deal_size: DealSize | None = None
    sources: Annotated[list[Source], Field(min_length=1, max_length=MAX_SOURCES)]
    sla: SLA | None = Field(
        default=None, description="Optional: the SLA's terms (MQL and SQL definitions, follow-up)"
    )
    weeks: Annotated[int, Field(ge=1, le=MAX_WEEKS)] | None = Field(
        default=None,
        description=f"Optional: the quarter's weeks (default {DEFAULT_WEEKS}); a lead counts "
        "for the quarter only if it reaches the last stage by the last day",
    )
    team: Team | None = Field(
        default=None,
        description="Optional: the SDRs and AEs behind the plan (capacity, hires, attrition)",
    )

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.metric == "bookings" and self.deal_size is None:
            raise ValueError("deal_size: required when metric is bookings")
        if self.metric == "customers" and self.target > 10_000_000:
            raise ValueError("target: at most 10000000 customers")
        names = [s.name for s in self.sources]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"sources[{i}].name: duplicate source name {name!r}")
        for i, source in enumerate(self.sources):
            weekly = source.arrivals.weekly if source.arrivals else None
            if weekly is not None and len(weekly) != self.quarter_weeks:
                raise ValueError(
                    f"sources[{i}].arrivals.weekly: {len(weekly)} numbers for a quarter of "
                    f"{self.quarter_weeks} weeks (one per week)"
                )
        if self.team is not None and self.team.source is not None:
            sales = [s.name for s in self.sources if s.owner == "sales"]
            if self.team.source not in sales:
                listed = ", ".join(sales) if sales else "none in this scenario"
                raise ValueError(
                    f"team.source: {self.team.source!r} is not a sales source (sales sources: "
                    f"{listed})"
                )
        return self

    @property
    def quarter_weeks(self) -> int:
        """The quarter's weeks: `weeks`, or 13 when the file does not say."""
        return self.weeks or DEFAULT_WEEKS

    @property
    def timed(self) -> bool:
        """Whether the scenario says anything about time (weeks, arrivals, lags, opening)."""
        return self.weeks is not None or any(
            s.timed or s.arrivals is not None for s in self.sources
        )

    def share(self, owner: Owner) -> float:
        return self.marketing_share if owner == "marketing" else 1 - self.marketing_share

    def owner_target(self, owner: Owner) -> float:
        return self.target * self.share(owner)

    def owner_sources(self, owner: Owner) -> list[Source]:
        return [s for s in self.sources if s.owner == owner]

    def to_dict(self) -> dict[str, Any]:
        tidy: dict[str, Any] = _tidy_numbers(self.model_dump(mode="json", exclude_none=True))
        return tidy

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def content_hash(scenario: Scenario) -> str:
    """sha256 of the scenario's canonical JSON: the same plan always has the same hash."""
    canonical = json.dumps(scenario.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _tidy_numbers(value: Any) -> Any:
    """Write whole floats as integers so an exported file reads like the one written by hand."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy_numbers(v) for v in value]
    return value


def field_path(loc: tuple[int | str, ...]) -> str:
    """('sources', 1, 'rates', 2, 'mean') -> 'sources[1].rates[2].mean'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error: Any) -> str:
    path = field_path(tuple(p for p in error["loc"] if p not in ("function-after",)))
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return f"{path}: unknown key (not part of the scenario format)"
    if kind == "missing":
        return f"{path}: required field is missing"
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        head, sep, rest = text.partition(": ")
        if sep and " " not in head:  # the validator named a field relative to this model
            full = f"{path}.{head}" if path and not head.startswith("sources[") else head
            return f"{full}: {rest}"
        return f"{path}: {text}" if path else text
    bounds = {
        "less_than_equal": "le",
        "greater_than_equal": "ge",
        "greater_than": "gt",
        "less_than": "lt",
    }
    words = {"le": "at most", "ge": "at least", "gt": "greater than", "lt": "less than"}
    if kind in bounds:
        key = bounds[kind]
        msg = f"must be {words[key]} {error['ctx'][key]}"
    if kind == "string_pattern_mismatch" and path == "quarter":
        msg = "must be a year and a quarter like 2027-Q1 (Q1 to Q4)"
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
    return f"{path}: {msg[0].lower() + msg[1:]}{shown}" if path else msg


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first bad field, plus a count of the others."""
    errors = exc.errors()
    first = _describe(errors[0])
    more = len(errors) - 1
    return first if more == 0 else f"{first} (and {more} more problem{'s' * (more > 1)})"


def parse_scenario(data: Any) -> Scenario:
    """Validate a decoded JSON value as a scenario, raising ScenarioError on any problem."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario: the file must hold one JSON object")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(describe_validation_error(exc)) from None


def scenario_from_json(text: str | bytes) -> Scenario:
    """Parse scenario JSON text; size-capped, never evaluated."""
    if len(text) > MAX_FILE_BYTES:
        raise ScenarioError(f"file: larger than {MAX_FILE_BYTES // 1000} kB; not a scenario file")
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise ScenarioError("file: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"file: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    return parse_scenario(data)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"file: {p} is larger than {MAX_FILE_BYTES // 1000} kB")
        raw = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"file: cannot read {p}: {exc.strerror}") from None
    return scenario_from_json(raw)


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Pipeline Pact scenario, schema v1"
    return schema
