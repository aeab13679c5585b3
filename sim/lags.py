"""Calibrate the time each step takes from a lead export's stage dates (docs/calibration.md).

Per source and step, every lead that reached the stage either moved on (its lag: the days
between the two dates) or has not yet: censored at its age on the export day (it may still
move on, or never). The model is the engine's: a lead moves on with the step's rate r and, if
it does, after a lag with law F (gamma or log-normal, by median and CV), so the share of the
leads that moved on within t days is r F(t). Fitted by maximum likelihood on whole days
(a lag of d days: F(d + 1/2) - F(d - 1/2); still waiting after a days: 1 - r F(a + 1/2)), the
family with the higher likelihood kept; the median's interval from the observed information
(Wald, on the log of the median). Beside it, the Kaplan-Meier estimate of the same share: the
history the fit is drawn against.

The same fit corrects the rates for young cohorts: a lead that has had a days to move on would
have done so with chance r F(a), so it counts as F(a) of a lead (`exposure`).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import optimize, special, stats

from .models import Lag, Scenario, ScenarioError, parse_scenario

if TYPE_CHECKING:
    from .calibrate import History, SourceHistory

Family = Literal["gamma", "lognormal"]
FAMILIES: tuple[Family, ...] = ("gamma", "lognormal")
MIN_MOVED = 5  # fewer leads that moved on than this: no fit
DEFAULT_LEVEL = 0.8


@dataclass(frozen=True, slots=True)
class StepData:
    """One step's leads: lags of those that moved on (whole days) and ages of those waiting."""

    moved: np.ndarray
    waiting: np.ndarray

    @property
    def leads(self) -> int:
        return len(self.moved) + len(self.waiting)


def step_data(s: SourceHistory, j: int, as_of: float) -> StepData:
    """Leads that reached stage j: moved to j+1 (lag in days) or still waiting (age on as_of)."""
    assert s.days is not None
    start, end = s.days[:, j], s.days[:, j + 1]
    came = np.isfinite(start) & (start <= as_of)
    moved = came & np.isfinite(end) & (end <= as_of)
    return StepData(
        moved=np.maximum(end[moved] - start[moved], 0.0),
        waiting=np.maximum(as_of - start[came & ~moved], 0.0),
    )


def _cdf(family: Family, median: float, cv: float, x: np.ndarray) -> np.ndarray:
    """The lag's CDF straight from scipy.special (the likelihood calls it thousands of times)."""
    if family == "gamma":
        shape = 1 / cv**2
        out: np.ndarray = special.gammainc(shape, x * special.gammaincinv(shape, 0.5) / median)
        return out
    sigma = math.sqrt(math.log1p(cv**2))
    with np.errstate(divide="ignore"):
        return np.asarray(special.ndtr((np.log(x) - math.log(median)) / sigma))


BOUNDS = np.array(
    [(-12.0, 12.0), (math.log(0.05), math.log(3650.0)), (math.log(0.02), math.log(5.0))]
)


def _neg_loglik(theta: np.ndarray, family: Family, data: _Grouped) -> float:
    theta = np.clip(theta, BOUNDS[:, 0], BOUNDS[:, 1])
    r = special.expit(theta[0])
    median, cv = math.exp(theta[1]), math.exp(theta[2])
    hi = _cdf(family, median, cv, data.moved_days + 0.5)
    lo = _cdf(family, median, cv, np.maximum(data.moved_days - 0.5, 0.0))
    p_move = np.maximum(r * (hi - lo), 1e-300)
    p_wait = np.maximum(1 - r * _cdf(family, median, cv, data.waiting_days + 0.5), 1e-300)
    total = data.moved_n @ np.log(p_move) + data.waiting_n @ np.log(p_wait)
    return float(-total)


@dataclass(frozen=True, slots=True)
class _Grouped:
    """Leads grouped by whole day: the likelihood needs each distinct day once."""

    moved_days: np.ndarray
    moved_n: np.ndarray
    waiting_days: np.ndarray
    waiting_n: np.ndarray

    @classmethod
    def of(cls, data: StepData) -> _Grouped:
        md, mn = np.unique(np.round(data.moved), return_counts=True)
        wd, wn = np.unique(np.round(data.waiting), return_counts=True)
        return cls(md, mn.astype(float), wd, wn.astype(float))


def _hessian(f: Any, x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of f at x."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for k in range(i, n):
            ei, ek = np.eye(n)[i] * step, np.eye(n)[k] * step
            h[i, k] = h[k, i] = (
                f(x + ei + ek) - f(x + ei - ek) - f(x - ei + ek) + f(x - ei - ek)
            ) / (4 * step * step)
    return h


@dataclass(frozen=True, slots=True)
class _Fit:
    family: Family
    theta: np.ndarray
    loglik: float
    cov: np.ndarray | None


def _fit_family(family: Family, grouped: _Grouped, data: StepData) -> _Fit | None:
    moved = data.moved
    med0 = max(float(np.median(moved)), 0.5)
    cv0 = float(np.clip(np.std(moved) / max(np.mean(moved), 0.5), 0.2, 3.0))
    share = len(moved) / max(data.leads, 1)
    theta0 = np.array(
        [special.logit(min(max(share * 1.05, 0.02), 0.98)), math.log(med0), math.log(cv0)]
    )

    def f(t: np.ndarray) -> float:
        return _neg_loglik(t, family, grouped)

    res = optimize.minimize(f, theta0, method="BFGS")
    if not np.isfinite(res.fun):
        return None
    cov: np.ndarray | None
    try:
        cov = np.linalg.inv(_hessian(f, res.x))
        if not np.all(np.isfinite(cov)) or cov[1, 1] <= 0:
            cov = None
    except np.linalg.LinAlgError:
        cov = None
    return _Fit(family, res.x, -float(res.fun), cov)


def kaplan_meier(data: StepData) -> tuple[np.ndarray, np.ndarray]:
    """(days, share moved on within that many days): 1 - the Kaplan-Meier survival, a lead
    still waiting counting as at risk through its age."""
    moved = np.round(data.moved).astype(np.int64)
    waiting = np.round(data.waiting).astype(np.int64)
    top = int(max(moved.max(initial=0), waiting.max(initial=0)))
    events = np.bincount(moved, minlength=top + 1).astype(float)
    lost = np.bincount(waiting, minlength=top + 1).astype(float)
    at_risk = (events + lost)[::-1].cumsum()[::-1]  # still there at the start of day t
    with np.errstate(invalid="ignore", divide="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, 0.0)
    survival = np.cumprod(1 - hazard)
    return np.arange(top + 1, dtype=float), 1 - survival


@dataclass(frozen=True, slots=True, eq=False)
class LagFit:
    """The fitted time of one step, its interval, and the history it was fitted to."""

    source: str
    from_stage: str
    to_stage: str
    family: Family
    median: float
    cv: float
    low: float  # the median's interval at `level`
    high: float
    level: float
    rate: float  # the share that moves on eventually, young cohorts corrected
    leads: int
    moved: int
    waiting: int
    km_days: np.ndarray = field(repr=False)
    km_moved: np.ndarray = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"

    def lag(self) -> Lag:
        """The scenario's lag for this step (median to 0.1 day, CV to 0.01)."""
        return Lag(dist=self.family, median=max(round(self.median, 1), 0.1), cv=round(self.cv, 2))

    def cdf(self, days: Any) -> Any:
        """The fitted lag's P(lag <= days), for those that move on."""
        return _cdf(self.family, self.median, self.cv, np.asarray(days, dtype=float))

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.label,
            "dist": self.family,
            "median": self.median,
            "cv": self.cv,
            "low": self.low,
            "high": self.high,
            "rate": self.rate,
            "leads": self.leads,
            "moved": self.moved,
            "waiting": self.waiting,
        }


@dataclass(frozen=True, slots=True, eq=False)
class LagCalibration:
    """Every step's fitted time, per source (None where too few leads moved on)."""

    as_of: str
    level: float
    sources: dict[str, tuple[LagFit | None, ...]]
    stages: dict[str, tuple[str, ...]]

    def fits(self) -> list[LagFit]:
        return [f for fits in self.sources.values() for f in fits if f is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "level": self.level,
            "sources": [
                {
                    "name": name,
                    "lags": [None if f is None else f.to_dict() for f in fits],
                }
                for name, fits in self.sources.items()
            ],
        }


def _day(iso: str) -> float:
    return float(np.datetime64(iso, "D").astype(np.int64))


def fit_step(
    s: SourceHistory,
    j: int,
    as_of: float,
    *,
    level: float = DEFAULT_LEVEL,
    families: Collection[Family] = FAMILIES,
) -> LagFit | None:
    """Fit one step's lag (the family with the higher likelihood among `families`)."""
    data = step_data(s, j, as_of)
    if len(data.moved) < MIN_MOVED:
        return None
    grouped = _Grouped.of(data)
    fits = [f for fam in families if (f := _fit_family(fam, grouped, data)) is not None]
    if not fits:
        return None
    best = max(fits, key=lambda f: f.loglik)
    median = math.exp(best.theta[1])
    z = float(stats.norm.ppf((1 + level) / 2))
    se = math.sqrt(best.cov[1, 1]) if best.cov is not None else math.inf
    km_days, km_moved = kaplan_meier(data)
    return LagFit(
        source=s.name,
        from_stage=s.stages[j],
        to_stage=s.stages[j + 1],
        family=best.family,
        median=median,
        cv=math.exp(best.theta[2]),
        low=median * math.exp(-z * se) if math.isfinite(se) else 0.0,
        high=median * math.exp(z * se) if math.isfinite(se) else math.inf,
        level=level,
        rate=float(special.expit(best.theta[0])),
        leads=data.leads,
        moved=len(data.moved),
        waiting=len(data.waiting),
        km_days=km_days,
        km_moved=km_moved,
    )


def fit_lags(
    history: History, *, as_of: str | None = None, level: float = DEFAULT_LEVEL
) -> LagCalibration:
    """The time each step takes, per source, from a lead export (see the module doc).

    `as_of` is the export day (ISO date; default: the latest date in the file)."""
    if history.format != "leads" or any(s.days is None for s in history.sources):
        raise ScenarioError(
            "history: the time each step takes needs a lead export with stage dates "
            "(quarterly counts have no dates)"
        )
    day = as_of or history.as_of
    if day is None:
        raise ScenarioError("as_of: the export has no dates")
    try:
        cut = _day(day)
    except ValueError:
        raise ScenarioError(f"as_of: {day!r} is not a date like 2027-01-10") from None
    return LagCalibration(
        as_of=str(np.datetime64(day, "D")),
        level=level,
        sources={
            s.name: tuple(fit_step(s, j, cut, level=level) for j in range(len(s.stages) - 1))
            for s in history.sources
        },
        stages={s.name: s.stages for s in history.sources},
    )


def exposure(s: SourceHistory, j: int, fit: LagFit, as_of: float) -> np.ndarray:
    """Per quarter, the leads that reached stage j, each counted by the share of its time to
    move on it has had by the export day (F(age)): what the rate's evidence should be."""
    assert s.days is not None
    assert s.cohort is not None
    start = s.days[:, j]
    came = np.isfinite(start) & (start <= as_of)
    ages = np.maximum(as_of - start[came], 0.0) + 0.5
    weights = np.asarray(fit.cdf(ages), dtype=float)
    return np.bincount(s.cohort[came], weights=weights, minlength=len(s.quarters))


@dataclass(frozen=True, slots=True)
class LagsApplied:
    scenario: Scenario
    changes: tuple[str, ...]
    skipped: tuple[str, ...]


def apply_lags(
    scenario: Scenario, lags: LagCalibration, *, sources: Collection[str] | None = None
) -> LagsApplied:
    """A new, validated scenario with the fitted lags written into the sources whose stages
    match the history's (by name, case ignored); a step without a fit keeps the plan's lag."""
    data = scenario.to_dict()
    changes: list[str] = []
    skipped: list[str] = []
    by_name = {name.strip().casefold(): name for name in lags.sources}
    for src in data["sources"]:
        name = by_name.get(src["name"].strip().casefold())
        if name is None or (sources is not None and name not in sources):
            continue
        if [st.casefold() for st in src["stages"]] != [st.casefold() for st in lags.stages[name]]:
            skipped.append(
                f"{src['name']}: the history's stages ({', '.join(lags.stages[name])}) differ "
                f"from the plan's ({', '.join(src['stages'])}); lags kept"
            )
            continue
        old = src.get("lags")
        new = []
        for j, fit in enumerate(lags.sources[name]):
            if fit is None:
                keep = old[j] if old else {"dist": "fixed", "days": 0}
                skipped.append(f"{src['name']} · step {j + 1}: too few leads moved on; kept")
                new.append(keep)
                continue
            new.append(fit.lag().model_dump(exclude_none=True))
            changes.append(f"{src['name']} · {fit.label}: {fit.lag().describe()}")
        src["lags"] = new
    return LagsApplied(parse_scenario(data), tuple(changes), tuple(skipped))
