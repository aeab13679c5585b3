"""Quarter review: actuals against the plan, the gap traced to stage and owner, re-forecast.

- Attribution: the plan's expected outcome is, per source, deal size x volume x product of
  rates. The gap to the actual outcome is split with Shapley values over those factors: the
  parts add up exactly to the gap and do not depend on any ordering (docs/review.md).
- Signal or noise: each actual stage count against the plan's own predictive distribution
  given the count that entered the stage (Binomial, or Beta-binomial for an uncertain rate).
- Re-forecast at week k of W: what is in each stage continues down the funnel with the time
  left, the rest of the first-stage volume is pro-rated over the weeks left.
- With time in the plan (sim.timing), "the plan by week k" is the lagged expectation: what the
  plan expected to have reached each stage by then, and the re-forecast lets each waiting lead
  finish by its age and the lag law.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import special, stats

from . import timing
from .engine import HIT_TOLERANCE, check_seed, check_trials, source_pmf, volume_law
from .models import (
    OWNERS,
    Lag,
    Owner,
    Rate,
    Scenario,
    ScenarioError,
    Source,
    describe_validation_error,
)

DEFAULT_WEEKS = 13
MAX_CSV_BYTES = 5_000_000
SIGNAL_LEVEL = 0.05  # two-sided: outside the central 95% of what the plan allowed


class SourceActuals(BaseModel):
    """Counts reached at each stage of one source (cumulative to date), and its bookings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    counts: dict[str, Annotated[int, Field(ge=0)]]
    bookings: Annotated[float, Field(ge=0)] | None = None


class Actuals(BaseModel):
    """What happened: for the whole quarter (week = weeks) or to date at week `week`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    week: Annotated[int, Field(ge=0)] = DEFAULT_WEEKS
    weeks: Annotated[int, Field(ge=1, le=53)] = DEFAULT_WEEKS
    sources: list[SourceActuals]

    @model_validator(mode="after")
    def _check(self) -> Actuals:
        if self.week > self.weeks:
            raise ValueError(f"week: {self.week} is outside the quarter's {self.weeks} weeks")
        return self

    def for_source(self, name: str) -> SourceActuals | None:
        return next((s for s in self.sources if s.name == name), None)


def check_actuals(actuals: Actuals, scenario: Scenario) -> Actuals:
    """Actuals must name the plan's sources and stages and shrink down the funnel."""
    plan_sources = {s.name: s for s in scenario.sources}
    given = {sa.name for sa in actuals.sources}
    if missing := [name for name in plan_sources if name not in given]:
        raise ScenarioError(
            f"sources: no actuals for {', '.join(missing)} (every source is needed)"
        )
    for i, sa in enumerate(actuals.sources):
        source = plan_sources.get(sa.name)
        if source is None:
            raise ScenarioError(
                f"sources[{i}].name: the plan has no source {sa.name!r} "
                f"(it has {', '.join(plan_sources)})"
            )
        for stage in sa.counts:
            if stage not in source.stages:
                raise ScenarioError(
                    f"{sa.name}.{stage}: the plan's {sa.name} has no stage {stage!r} "
                    f"(its stages: {', '.join(source.stages)})"
                )
        counts = [sa.counts.get(st) for st in source.stages]
        if any(c is None for c in counts):
            missing = [st for st, c in zip(source.stages, counts, strict=True) if c is None]
            raise ScenarioError(f"{sa.name}: missing counts for {', '.join(missing)}")
        sitting = _sitting(source)
        for j, (a, b) in enumerate(itertools.pairwise(source.stages)):
            c1, c2 = counts[j], counts[j + 1]
            assert c1 is not None
            assert c2 is not None
            if c2 > c1 + sitting[j]:
                held = f" and {sitting[j]} were in it on day one" if sitting[j] else ""
                raise ScenarioError(
                    f"{sa.name}.{b}: {c2} reached {b} but only {c1} reached {a}{held}; "
                    "counts cannot grow down the funnel"
                )
    if scenario.timed and actuals.weeks != scenario.quarter_weeks:
        raise ScenarioError(
            f"weeks: the plan's quarter has {scenario.quarter_weeks} weeks, the actuals say "
            f"{actuals.weeks}"
        )
    return actuals


def _sitting(source: Source) -> list[int]:
    """Opening-pipeline leads sitting at each stage on day one (zeros without one)."""
    out = [0] * len(source.stages)
    for row in source.opening or []:
        out[source.stages.index(row.stage)] += row.count
    return out


def parse_actuals(data: Any, scenario: Scenario) -> Actuals:
    try:
        actuals = Actuals.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(describe_validation_error(exc)) from None
    return check_actuals(actuals, scenario)


def actuals_from_csv(
    raw: bytes | str, scenario: Scenario, *, week: int | None = None, weeks: int | None = None
) -> Actuals:
    """CSV with columns source, stage, count (and optionally bookings, week); row numbers in errors."""
    if len(raw) > MAX_CSV_BYTES:
        raise ScenarioError(f"file: larger than {MAX_CSV_BYTES // 1_000_000} MB")
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ScenarioError("file: not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in (reader.fieldnames or [])]
    missing = [c for c in ("source", "stage", "count") if c not in columns]
    if missing:
        raise ScenarioError(f"columns: missing {', '.join(missing)} (need source, stage, count)")
    counts: dict[str, dict[str, int]] = {}
    bookings: dict[str, float] = {}
    latest_week: int | None = None
    for n, row in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if row.get("week"):
            try:
                w = int(row["week"])
            except ValueError:
                raise ScenarioError(
                    f"row {n}, week: {row['week']!r} is not a whole number"
                ) from None
            if latest_week is not None and w < latest_week:
                continue
            if latest_week is None or w > latest_week:
                latest_week, counts, bookings = w, {}, {}
        try:
            c = int(row["count"])
        except ValueError:
            raise ScenarioError(f"row {n}, count: {row['count']!r} is not a whole number") from None
        if c < 0:
            raise ScenarioError(f"row {n}, count: {c} is negative")
        counts.setdefault(row["source"], {})[row["stage"]] = c
        if row.get("bookings"):
            try:
                b = float(row["bookings"])
            except ValueError:
                raise ScenarioError(
                    f"row {n}, bookings: {row['bookings']!r} is not a number"
                ) from None
            if b < 0 or not math.isfinite(b):
                raise ScenarioError(f"row {n}, bookings: {b} must be a number >= 0")
            bookings[row["source"]] = bookings.get(row["source"], 0.0) + b
    if not counts:
        raise ScenarioError("file: no rows of actuals")
    weeks = weeks or scenario.quarter_weeks
    chosen = week if week is not None else (latest_week if latest_week is not None else weeks)
    data = {
        "week": chosen,
        "weeks": weeks,
        "sources": [
            {
                "name": name,
                "counts": c,
                **({"bookings": bookings[name]} if name in bookings else {}),
            }
            for name, c in counts.items()
        ],
    }
    return parse_actuals(data, scenario)


# ---- Attribution ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Factor:
    """One driver of the outcome: a source's volume, one of its rates, or deal size."""

    key: str
    label: str
    owner: Owner
    plan: float
    actual: float


def step_label(source: Source, j: int) -> tuple[str, Owner]:
    """(label, who owns it) for rate j of a source, in a leader's words."""
    a, b = source.stages[j], source.stages[j + 1]
    last = j == len(source.rates) - 1
    if source.owner == "marketing" and j == 0:
        return f"{a}→{b} (sales follow-up)", "sales"
    if last:
        return f"{a}→{b} win rate (sales)", "sales"
    return f"{a}→{b} (sales)", "sales"


def _source_factors(source: Source, sa: SourceActuals | None) -> list[Factor]:
    counts = [float(sa.counts[st]) for st in source.stages] if sa else None
    vol_actual = counts[0] if counts else source.volume.mean
    factors = [
        Factor(
            key=f"{source.name}:volume",
            label=f"{source.stages[0]} volume ({source.owner})",
            owner=source.owner,
            plan=source.volume.mean,
            actual=vol_actual,
        )
    ]
    for j, rate in enumerate(source.rates):
        actual = rate.mean
        if counts and counts[j] > 0:
            actual = counts[j + 1] / counts[j]
        label, owner = step_label(source, j)
        factors.append(Factor(f"{source.name}:rate{j}", label, owner, rate.mean, actual))
    return factors


def shapley_product(plan: list[float], actual: list[float]) -> list[float]:
    """Shapley values of the game v(S) = prod(actual for i in S, plan otherwise) - prod(plan).

    Exact enumeration over subsets; the values add up to prod(actual) - prod(plan).
    """
    m = len(plan)
    out = [0.0] * m
    weights = [math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)]
    for i in range(m):
        others = [k for k in range(m) if k != i]
        total = 0.0
        for size in range(m):
            for subset in combinations(others, size):
                chosen = set(subset)
                base = math.prod(actual[k] if k in chosen else plan[k] for k in others)
                total += weights[size] * base * (actual[i] - plan[i])
        out[i] = total
    return out


def shapley(
    value: Callable[[list[float]], float], plan: list[float], actual: list[float]
) -> list[float]:
    """Shapley values of the game v(S) = value(actual for i in S, plan otherwise) - value(plan).

    Exact enumeration over all 2^m subsets (m <= 11); the values add up to value(actual) -
    value(plan), and a factor that did not change gets zero."""
    m = len(plan)
    worth = {
        mask: value([actual[i] if mask >> i & 1 else plan[i] for i in range(m)])
        for mask in range(1 << m)
    }
    weights = [math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m) for k in range(m)]
    out = [0.0] * m
    for mask, v in worth.items():
        size = mask.bit_count()
        for i in range(m):
            if not mask >> i & 1:
                out[i] += weights[size] * (worth[mask | 1 << i] - v)
    return out


def _flow(xs: list[float], sitting: list[int], bookings: bool) -> float:
    """Wins of a source from its factors: first-stage leads, then at each step the leads that
    reached the stage plus those sitting in it on day one, times the share that moved on."""
    steps = len(sitting) - 1
    count = xs[0]
    for j in range(steps):
        count = (count + sitting[j]) * xs[1 + j]
    return count * (xs[1 + steps] if bookings else 1.0)


def _lagged_factors(
    source: Source, sa: SourceActuals | None, weeks: int, week: int
) -> list[Factor]:
    """Volume and step factors against the lagged plan: the plan's first-stage leads expected by
    the week, and per step the share of the leads that reached the stage (or sat in it on day
    one) that the plan expected to have moved on by then. Their flow is the plan's wins by the
    week exactly, as the actual factors' flow is the actual wins."""
    pace = timing.source_pace(source, weeks)
    sitting = _sitting(source)
    reached = pace.reached[:, week]
    counts = [float(sa.counts[st]) for st in source.stages] if sa else None
    factors = [
        Factor(
            key=f"{source.name}:volume",
            label=f"{source.stages[0]} volume ({source.owner})",
            owner=source.owner,
            plan=float(reached[0]),
            actual=counts[0] if counts else float(reached[0]),
        )
    ]
    for j in range(len(source.rates)):
        pool = reached[j] + sitting[j]
        plan = float(reached[j + 1] / pool) if pool > 0 else 0.0
        actual = plan
        if counts and counts[j] + sitting[j] > 0:
            actual = counts[j + 1] / (counts[j] + sitting[j])
        label, owner = step_label(source, j)
        factors.append(Factor(f"{source.name}:rate{j}", label, owner, plan, actual))
    return factors


@dataclass(frozen=True, slots=True)
class Contribution:
    key: str
    label: str
    owner: Owner
    source: str | None
    plan: float
    actual: float
    effect: float


@dataclass(frozen=True, slots=True)
class StageSignal:
    source: str
    step: str
    owner: Owner
    entered: int
    converted: int
    actual_rate: float | None
    plan_rate: float
    low: float | None
    high: float | None
    p_value: float | None
    verdict: str

    @property
    def real(self) -> bool:
        return self.p_value is not None and self.p_value < SIGNAL_LEVEL


@dataclass(frozen=True, slots=True)
class Reforecast:
    week: int
    weeks: int
    p_hit: float
    mean: float
    p10: float
    p90: float
    owners: dict[Owner, float]
    trials: int


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """What `review` returns; `to_dict()` is exactly the CLI's --json output."""

    scenario: str
    quarter: str
    metric: str
    target: float
    week: int
    weeks: int
    plan_expected: float
    actual: float
    contributions: tuple[Contribution, ...]
    signals: tuple[StageSignal, ...]
    reforecast: Reforecast
    verdict: str
    paced_share: float | None = None  # with time: the plan's share of its wins due by the week

    @property
    def gap(self) -> float:
        return self.actual - self.plan_expected

    @property
    def target_by_now(self) -> float:
        """The target as due by this week: pro-rated to the week, or with time in the plan,
        in step with the plan's own pacing of its wins."""
        if self.week >= self.weeks:
            return self.target
        share = self.paced_share if self.paced_share is not None else self.week / self.weeks
        return self.target * share

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "quarter": self.quarter,
            "metric": self.metric,
            "target": self.target,
            "week": self.week,
            "weeks": self.weeks,
            "plan_expected": self.plan_expected,
            "actual": self.actual,
            "gap": self.gap,
            "verdict": self.verdict,
            "contributions": [
                {
                    "factor": c.label,
                    "owner": c.owner,
                    "source": c.source,
                    "plan": c.plan,
                    "actual": c.actual,
                    "effect": c.effect,
                }
                for c in self.contributions
            ],
            "signals": [
                {
                    "source": s.source,
                    "step": s.step,
                    "owner": s.owner,
                    "entered": s.entered,
                    "converted": s.converted,
                    "actual_rate": s.actual_rate,
                    "plan_rate": s.plan_rate,
                    "low": s.low,
                    "high": s.high,
                    "p_value": s.p_value,
                    "verdict": s.verdict,
                }
                for s in self.signals
            ],
            "reforecast": {
                "p_hit": self.reforecast.p_hit,
                "mean": self.reforecast.mean,
                "p10": self.reforecast.p10,
                "p90": self.reforecast.p90,
                "owners": self.reforecast.owners,
                "trials": self.reforecast.trials,
            },
            **({"target_by_now": self.target_by_now} if self.paced_share is not None else {}),
        }


def attribute(scenario: Scenario, actuals: Actuals) -> tuple[float, float, list[Contribution]]:
    """(plan expected, actual, Shapley contributions) over volume, rates and deal size.

    Mid-quarter the plan side is pro-rated to the week, so the gap compares like with like;
    with time in the plan it is what the plan expected to have reached each stage by the week
    (the lagged expectation), the opening pipeline included.
    """
    share = actuals.week / actuals.weeks
    bookings = scenario.metric == "bookings"
    deal = scenario.deal_size.mean if bookings and scenario.deal_size else 1.0
    wins_actual = sum(
        sa.counts[s.stages[-1]]
        for s in scenario.sources
        if (sa := actuals.for_source(s.name)) is not None
    )
    booked = [sa.bookings for sa in actuals.sources if sa.bookings is not None]
    deal_actual = deal
    if bookings and booked and wins_actual > 0:
        deal_actual = sum(booked) / wins_actual
    contributions: dict[str, Contribution] = {}
    plan_total = actual_total = 0.0
    for source in scenario.sources:
        sa = actuals.for_source(source.name)
        if scenario.timed:
            factors = _lagged_factors(source, sa, actuals.weeks, actuals.week)
            plan_v = [f.plan for f in factors]
        else:
            factors = _source_factors(source, sa)
            plan_v = [f.plan * (share if i == 0 else 1.0) for i, f in enumerate(factors)]
        act_v = [f.actual for f in factors]
        if bookings:
            plan_v.append(deal)
            act_v.append(deal_actual)
        if scenario.timed:
            sitting = _sitting(source)

            def value(xs: list[float], sitting: list[int] = sitting) -> float:
                return _flow(xs, sitting, bookings)

            effects = shapley(value, plan_v, act_v)
            plan_total += value(plan_v)
            actual_total += value(act_v)
        else:
            effects = shapley_product(plan_v, act_v)
            plan_total += math.prod(plan_v)
            actual_total += math.prod(act_v)
        for i, f in enumerate(factors):
            contributions[f.key] = Contribution(
                f.key,
                f"{source.name} {f.label}",
                f.owner,
                source.name,
                plan_v[i],
                f.actual,
                effects[i],
            )
        if bookings:
            prev = contributions.get("deal")
            contributions["deal"] = Contribution(
                "deal",
                "deal size (sales)",
                "sales",
                None,
                deal,
                deal_actual,
                effects[-1] + (prev.effect if prev else 0.0),
            )
    ordered = sorted(contributions.values(), key=lambda c: -abs(c.effect))
    return plan_total, actual_total, ordered


def _fmt(value: float, metric: str) -> str:
    return f"{value:,.0f}" if metric == "bookings" else f"{value:,.1f}".replace(".0", "")


def verdict(
    scenario: Scenario,
    actuals: Actuals,
    actual: float,
    plan_expected: float,
    contributions: list[Contribution],
) -> str:
    """One sentence: beat or missed, by how much, and the three biggest causes with owners."""
    unit = "customers" if scenario.metric == "customers" else "in bookings"
    if actuals.week < actuals.weeks:
        head = (
            f"Week {actuals.week} of {actuals.weeks}: {_fmt(actual, scenario.metric)} {unit} "
            f"so far against {_fmt(plan_expected, scenario.metric)} planned by now"
        )
    else:
        diff = actual - scenario.target
        word = "Beat" if diff >= 0 else "Missed"
        by = "customer" if scenario.metric == "customers" and abs(diff) == 1 else unit
        head = f"{word} the number by {_fmt(abs(diff), scenario.metric)} {by}"
        head += f" ({_fmt(actual, scenario.metric)} against a target of "
        head += f"{_fmt(scenario.target, scenario.metric)})"
    top = [c for c in contributions if abs(c.effect) >= 0.05][:3]
    if not top:
        return head + ": every stage ran to plan."
    parts = [f"{'+' if c.effect >= 0 else '−'}{abs(c.effect):,.1f} from {c.label}" for c in top]
    return head + ": " + ", ".join(parts) + "."


# ---- Signal or noise -------------------------------------------------------------------------


def _predictive(rate: Rate, entered: int) -> Any:
    if rate.uncertain:
        return stats.betabinom(entered, rate.alpha, rate.beta)
    return stats.binom(entered, rate.mean)


def signals(scenario: Scenario, actuals: Actuals) -> list[StageSignal]:
    """Each stage's actual conversion against what the plan's own uncertainty allowed.

    With time in the plan, against what it allowed by the week: the leads that reached a stage
    this quarter had part of their time to move on, those sitting in it on day one theirs."""
    out = []
    for source in scenario.sources:
        sa = actuals.for_source(source.name)
        if sa is None:
            continue
        counts = [sa.counts[st] for st in source.stages]
        sitting = _sitting(source) if scenario.timed else [0] * len(counts)
        pace = timing.source_pace(source, actuals.weeks) if scenario.timed else None
        for j, rate in enumerate(source.rates):
            entered, converted = counts[j], counts[j + 1]
            pool = entered + sitting[j]
            label, owner = step_label(source, j)
            if pool == 0:
                out.append(
                    StageSignal(
                        source.name,
                        label,
                        owner,
                        0,
                        0,
                        None,
                        rate.mean,
                        None,
                        None,
                        None,
                        "no leads reached this stage",
                    )
                )
                continue
            law: Any
            if pace is None:
                law, plan_rate = _predictive(rate, entered), rate.mean
            else:
                law = _lagged_predictive(rate, pace, j, entered, sitting[j], actuals.week)
                plan_rate = law.mean() / pool
            low, high = (float(x) / pool for x in law.ppf([SIGNAL_LEVEL / 2, 1 - SIGNAL_LEVEL / 2]))
            p = float(min(1.0, 2 * min(law.cdf(converted), law.sf(converted - 1))))
            actual_rate = converted / pool
            if p < SIGNAL_LEVEL:
                way = "below" if actual_rate < plan_rate else "above"
                call = f"{way} what the plan allowed: a real {'drop' if way == 'below' else 'rise'}"
                call += " (p < 0.001)" if p < 0.001 else f" (p = {p:.3f})"
            else:
                call = "within what the plan allowed: noise"
            out.append(
                StageSignal(
                    source.name,
                    label,
                    owner,
                    entered,
                    converted,
                    actual_rate,
                    plan_rate,
                    low,
                    high,
                    p,
                    call,
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class _Pmf:
    """A law on 0..len(pmf)-1 with the questions signals() asks (like a frozen scipy law)."""

    pmf: np.ndarray

    def mean(self) -> float:
        return float(np.arange(len(self.pmf)) @ self.pmf)

    def cdf(self, x: int) -> float:
        return float(self.pmf[: max(x + 1, 0)].sum())

    def sf(self, x: int) -> float:
        return float(self.pmf[max(x + 1, 0) :].sum())

    def ppf(self, qs: list[float]) -> np.ndarray:
        cdf = np.cumsum(self.pmf)
        return np.minimum(np.searchsorted(cdf, np.asarray(qs) - 1e-12), len(self.pmf) - 1)


JACOBI_NODES = 256


def _rate_nodes(rate: Rate, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights integrating a polynomial of `degree` in the rate against its law
    (Gauss-Jacobi under the Beta; exact up to degree 2 * JACOBI_NODES - 1)."""
    if not rate.uncertain:
        return np.array([rate.mean]), np.ones(1)
    n = min(max(degree // 2 + 1, 8), JACOBI_NODES)
    t, w = special.roots_jacobi(n, rate.beta - 1, rate.alpha - 1)
    ok = np.isfinite(t) & np.isfinite(w)
    if not ok.all() or n < 1:  # extreme evidence: the Beta's quantiles instead
        u = (np.arange(JACOBI_NODES) + 0.5) / JACOBI_NODES
        return special.betaincinv(rate.alpha, rate.beta, u), np.full(JACOBI_NODES, 1 / JACOBI_NODES)
    return (1 + t) / 2, w / w.sum()


def _lagged_predictive(
    rate: Rate, pace: timing.SourcePace, j: int, entered: int, sitting: int, week: int
) -> _Pmf:
    """Law of the leads that moved from stage j to j+1 by the week: of the `entered` that
    reached j this quarter, each moved with the rate times the plan's share of them that had
    time; of the `sitting` there on day one, each with the rate times their own chance."""
    mean = rate.mean
    new_in = pace.reached[j, week]
    from_sitting = pace.from_opening.get(j)
    sat_moved = float(from_sitting[j + 1, week]) if from_sitting is not None else 0.0
    tau = (pace.reached[j + 1, week] - sat_moved) / (mean * new_in) if mean * new_in > 0 else 0.0
    held = pace.opening_in_stage.get(j, 0)
    own = sat_moved / (mean * held) if mean * held > 0 else 0.0
    tau, own = min(max(float(tau), 0.0), 1.0), min(max(own, 0.0), 1.0)
    nodes, weights = _rate_nodes(rate, entered + sitting)
    k_new, k_sat = np.arange(entered + 1), np.arange(sitting + 1)
    pmf = np.zeros(entered + sitting + 1)
    for r, w in zip(nodes.tolist(), weights.tolist(), strict=True):
        part = stats.binom.pmf(k_new, entered, tau * r)
        if sitting:
            part = np.convolve(part, stats.binom.pmf(k_sat, sitting, own * r))
        pmf += w * part
    return _Pmf(pmf / pmf.sum())


# ---- Re-forecast ------------------------------------------------------------------------------


def reforecast(
    scenario: Scenario, actuals: Actuals, *, trials: int = 20_000, seed: int = 0
) -> Reforecast:
    """P(hit the number) for the rest of the quarter, given the counts to date."""
    trials, seed = check_trials(trials), check_seed(seed)
    left = (actuals.weeks - actuals.week) / actuals.weeks
    gens = np.random.default_rng(seed).spawn(2 + len(scenario.sources))
    owner_wins = {o: np.zeros(trials, dtype=np.int64) for o in OWNERS}
    owner_booked = {o: 0.0 for o in OWNERS}
    for i, source in enumerate(scenario.sources):
        gen = gens[2 + i]
        sa = actuals.for_source(source.name)
        counts = [sa.counts[st] for st in source.stages] if sa else [0] * len(source.stages)
        if sa and sa.bookings is not None:
            owner_booked[source.owner] += sa.bookings
        rates = np.empty((len(source.rates), trials))
        for j, rate in enumerate(source.rates):
            u = gen.random(trials)
            rates[j] = special.betaincinv(rate.alpha, rate.beta, u) if rate.uncertain else rate.mean
        wins = np.full(trials, counts[-1], dtype=np.int64)
        if scenario.timed:
            wins += _lagged_rest(source, counts, rates, gen, actuals)
            owner_wins[source.owner] += wins
            continue
        # Leads waiting at stage j move on with the time left, then through the later stages.
        for j in range(len(source.rates)):
            waiting = counts[j] - counts[j + 1]
            if waiting:
                p = left * np.prod(rates[j:], axis=0)
                wins += gen.binomial(waiting, p)
        # New first-stage leads over the weeks left.
        remaining = source.volume.scaled(left)
        law = volume_law(remaining) if remaining.mean > 0 else None
        if law is not None:
            new = law.ppf(gen.random(trials)).astype(np.int64)
            wins += gen.binomial(new, np.prod(rates, axis=0))
        owner_wins[source.owner] += wins
    if scenario.metric == "bookings" and scenario.deal_size is not None:
        deal = scenario.deal_size
        outcome = {}
        for k, o in enumerate(OWNERS):
            done = 0
            for src in scenario.owner_sources(o):
                if (sa := actuals.for_source(src.name)) is not None:
                    done += sa.counts[src.stages[-1]]
            future = np.maximum(owner_wins[o] - done, 0)
            booked = owner_booked[o] if owner_booked[o] else done * deal.mean
            shape, scale = (1 / deal.cv**2, deal.mean * deal.cv**2) if deal.cv else (0, 0)
            u = gens[k].random(trials)
            extra = np.zeros(trials)
            pos = future > 0
            if deal.cv:
                extra[pos] = scale * special.gammaincinv(future[pos] * shape, u[pos])
            else:
                extra = future * deal.mean
            outcome[o] = booked + extra
    else:
        outcome = {o: owner_wins[o].astype(float) for o in OWNERS}
    total = outcome["marketing"] + outcome["sales"]
    p10, p90 = np.quantile(total, [0.1, 0.9], method="inverted_cdf")
    return Reforecast(
        week=actuals.week,
        weeks=actuals.weeks,
        p_hit=float(np.mean(total >= scenario.target - HIT_TOLERANCE)),
        mean=float(total.mean()),
        p10=float(p10),
        p90=float(p90),
        owners={
            o: float(np.mean(outcome[o] >= scenario.owner_target(o) - HIT_TOLERANCE))
            for o in OWNERS
        },
        trials=trials,
    )


def _lagged_rest(
    source: Source,
    counts: list[int],
    rates: np.ndarray,
    gen: np.random.Generator,
    actuals: Actuals,
) -> np.ndarray:
    """Wins still to come in each trial, with the plan's clock: each waiting lead finishes by its
    age and the lag law (timing.waiting), new leads arrive over the weeks left, each finishing
    in time with the chance of its arrival week."""
    trials = rates.shape[1]
    more = np.zeros(trials, dtype=np.int64)
    if actuals.week >= actuals.weeks:
        return more
    weeks, week = actuals.weeks, actuals.week
    sitting = _sitting(source)
    odds = timing.waiting(source, weeks, week)
    for j, odd in enumerate(odds):
        held = counts[j] + sitting[j] - counts[j + 1]
        if held > 0:
            p = odd.chance(rates[j]) * np.prod(rates[j + 1 :], axis=0)
            more += gen.binomial(held, np.clip(p, 0.0, 1.0))
    clk = timing.clock(source, weeks)
    share = math.fsum(clk.weights[week:])
    if share > 0 and source.volume.mean > 0:
        finish = clk.arrival_factors(len(source.rates), timing.quarter_days(weeks))
        in_time = float(clk.weights[week:] @ finish[week:]) / share
        law = volume_law(source.volume.scaled(share))
        new = law.ppf(gen.random(trials)).astype(np.int64)
        more += gen.binomial(new, np.clip(in_time * np.prod(rates, axis=0), 0.0, 1.0))
    return more


def review(
    scenario: Scenario, actuals: Actuals, *, trials: int = 20_000, seed: int = 0
) -> ReviewResult:
    """The whole quarter review: attribution, verdict, signal or noise, re-forecast."""
    actuals = check_actuals(actuals, scenario)
    plan_expected, actual, contributions = attribute(scenario, actuals)
    return ReviewResult(
        scenario=scenario.name,
        quarter=scenario.quarter,
        metric=scenario.metric,
        target=scenario.target,
        week=actuals.week,
        weeks=actuals.weeks,
        plan_expected=plan_expected,
        actual=actual,
        contributions=tuple(contributions),
        signals=tuple(signals(scenario, actuals)),
        reforecast=reforecast(scenario, actuals, trials=trials, seed=seed),
        verdict=verdict(scenario, actuals, actual, plan_expected, contributions),
        paced_share=_paced_share(scenario, actuals.weeks, actuals.week),
    )


def _paced_share(scenario: Scenario, weeks: int, week: int) -> float | None:
    """With time in the plan: the share of the plan's expected wins due by the week."""
    if not scenario.timed:
        return None
    paces = [timing.source_pace(s, weeks) for s in scenario.sources]
    whole = sum(p.won for p in paces)
    return sum(float(p.reached[-1, week]) for p in paces) / whole if whole > 0 else week / weeks


def pacing(
    scenario: Scenario, actuals: Actuals, source_name: str, stage: str | None = None
) -> dict[str, Any]:
    """Planned cumulative count reaching a stage (the first by default) per week with its
    P10-P90 band, and the actual. With time in the plan, any stage, on the plan's clock."""
    source = next(s for s in scenario.sources if s.name == source_name)
    stage = stage or source.stages[0]
    sa = actuals.for_source(source_name)
    weeks = np.arange(actuals.weeks + 1)
    out = {
        "stage": stage,
        "weeks": weeks.tolist(),
        "actual_week": actuals.week,
        "actual": sa.counts[stage] if sa else None,
    }
    if scenario.timed:
        return out | _lagged_pacing(source, source.stages.index(stage), actuals.weeks)
    planned = source.volume.mean * weeks / actuals.weeks
    low, high = [], []
    for w in weeks:
        part = source.volume.scaled(w / actuals.weeks)
        if part.mean == 0 or part.dist == "fixed":
            low.append(part.mean)
            high.append(part.mean)
            continue
        law = volume_law(part)
        low.append(float(law.ppf(0.1)))
        high.append(float(law.ppf(0.9)))
    return out | {"planned": planned.tolist(), "low": low, "high": high}


def _lagged_pacing(source: Source, stage: int, weeks: int) -> dict[str, Any]:
    """The plan's expected count reaching `stage` by each week, and its P10-P90 from the exact
    law of the source cut at that stage (the engine's law, by week)."""
    pace = timing.source_pace(source, weeks)
    planned = pace.reached[stage]
    first = stage == 0  # the first stage's count: a source of one step that always converts
    cut = Source(
        name=source.name,
        owner=source.owner,
        stages=[*source.stages[: stage + 1], *([f"{source.stages[0]} (counted)"] if first else [])],
        volume=source.volume,
        rates=[Rate(mean=1.0)] if first else source.rates[:stage],
        arrivals=source.arrivals,
        lags=[Lag(dist="fixed", days=0)] if first else (source.lags or _no_lags(source))[:stage],
        opening=[r for r in source.opening or [] if r.stage in source.stages[:stage]] or None,
    )
    low, high = [0.0], [0.0]
    for w in range(1, weeks + 1):
        pmf = source_pmf(cut, weeks=weeks, by_week=w)
        if pmf is None:  # too large to tabulate: the expectation alone
            low.append(float(planned[w]))
            high.append(float(planned[w]))
            continue
        cdf = np.cumsum(pmf)
        low.append(float(np.searchsorted(cdf, 0.1)))
        high.append(float(np.searchsorted(cdf, 0.9)))
    return {"planned": planned.tolist(), "low": low, "high": high}


def _no_lags(source: Source) -> list[Lag]:
    """Lags of no time, for a source without lags in a plan with a clock."""
    return [Lag(dist="fixed", days=0)] * len(source.rates)


def blank_actuals(
    scenario: Scenario, week: int | None = None, weeks: int | None = None
) -> list[dict[str, Any]]:
    """Rows for an editable actuals table: the plan's expected counts by the week (pro-rated,
    or with time in the plan, on its clock); the whole quarter by default."""
    weeks = weeks or scenario.quarter_weeks
    week = weeks if week is None else week
    rows = []
    for source in scenario.sources:
        if scenario.timed:
            expected = timing.source_pace(source, weeks).reached[:, week]
            sitting = _sitting(source)
            whole = [round(float(expected[0]))]
            for j in range(1, len(expected)):  # rounding never makes a stage impossible
                whole.append(min(round(float(expected[j])), whole[-1] + sitting[j - 1]))
            for stage, n in zip(source.stages, whole, strict=True):
                rows.append({"source": source.name, "stage": stage, "count": n})
            continue
        for stage, count in zip(source.stages, source.expected_counts(), strict=True):
            rows.append(
                {"source": source.name, "stage": stage, "count": round(count * week / weeks)}
            )
    return rows


def actuals_from_rows(
    rows: list[dict[str, Any]], scenario: Scenario, *, week: int, weeks: int = DEFAULT_WEEKS
) -> Actuals:
    """Actuals from table rows (source, stage, count), with row numbers in errors."""
    counts: dict[str, dict[str, int]] = {}
    for n, row in enumerate(rows, start=1):
        value = row.get("count")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ScenarioError(f"row {n}, count: missing")
        if float(value) != int(float(value)) or float(value) < 0:
            raise ScenarioError(f"row {n}, count: {value} must be a whole number >= 0")
        counts.setdefault(str(row["source"]), {})[str(row["stage"])] = int(float(value))
    return parse_actuals(
        {
            "week": week,
            "weeks": weeks,
            "sources": [{"name": k, "counts": v} for k, v in counts.items()],
        },
        scenario,
    )
