"""The quarter in time: when first-stage leads arrive, how long each step takes, and the pipeline
already in hand on day one (docs/engine.md, "The quarter in time").

A lead counts for the quarter only if it reaches the last stage by the quarter's last day.
Whether a lead goes all the way (the product of its step rates) and how long its steps take
(its lags) are independent, so the time is a known chance per lead that thins it:
- a lead arriving in week w finishes in time with t_w = P(arrival day + total lag <= last day),
  its arrival day spread evenly over the week;
- a lead of the opening pipeline sitting in stage k for `age` days finishes with
  o = P(what is left of its step-k lag + the later lags <= last day), the rest of its lag being
  the lag law given that it is longer than `age`. It converts with the stage's rate: its age
  only tells how much of its time to convert has passed.

Lags live on a grid of GRID cells per day spanning the quarter: each lag's law is rounded to
the nearest cell (lags of whole days land exactly), sums of lags are exact convolutions of the
grid laws, and the chance over a week of even arrivals is integrated exactly against them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .models import DEFAULT_WEEKS, Lag, OpeningLeads, Scenario, Source

GRID = 8  # cells per day: three hours
DAYS_PER_WEEK = 7
DEFAULT_USEFUL = 0.5  # "last useful week": an arriving lead still has half its chance to close
OVERDUE = 1e-12  # a lead older than its lag law allows is treated as due now


def quarter_days(weeks: int) -> int:
    return DAYS_PER_WEEK * weeks


@lru_cache(maxsize=2048)
def _lag_grid(lag_json: str | None, cells: int, age: float) -> np.ndarray:
    """Law of a lag on cells 0..cells-1 (cell i holds the days rounded to i / GRID).

    With `age` > 0 it is the law of what is left of the lag for a lead that has already waited
    `age` days: the lag minus `age`, given it is longer. Mass beyond the grid is left out."""
    if lag_json is None:
        out = np.zeros(cells)
        out[0] = 1.0
        return out
    lag = Lag.model_validate_json(lag_json)
    edges = age + (np.arange(cells + 1) - 0.5) / GRID
    edges[0] = age
    sf = np.asarray(lag.sf(edges), dtype=float)
    if age <= 0:
        sf[0] = 1.0  # a lead that just arrived: nothing is known yet (a lag of 0 is possible)
    if sf[0] <= OVERDUE:
        out = np.zeros(cells)
        out[0] = 1.0
        return out
    mass: np.ndarray = np.maximum(sf[:-1] - sf[1:], 0.0) / sf[0]
    mass.flags.writeable = False
    return mass


def _integrated_cdf(pmf: np.ndarray) -> np.ndarray:
    """I[i] = E[(i / GRID - S)+] for the grid law of S: the days a lead had at stage by day i/GRID,
    integrated; arrivals spread evenly over a week reach the stage in time with
    (I(X - start) - I(X - end)) / 7."""
    y = np.arange(len(pmf)) / GRID
    out: np.ndarray = y * np.cumsum(pmf) - np.cumsum(pmf * y)
    return out


def _cdf_of_sum_at(first: np.ndarray, second: np.ndarray, at: np.ndarray) -> np.ndarray:
    """P(A + B <= at[v] / GRID) for grid laws A (`first`) and B (`second`), at cell indices."""
    cdf_a = np.cumsum(first)
    out = np.empty(len(at))
    for v, i in enumerate(at):
        out[v] = float(second[: i + 1] @ cdf_a[i::-1]) if i >= 0 else 0.0
    return out


class Clock:
    """One source's lags on the grid for a quarter of `weeks` weeks, with the sums it needs."""

    def __init__(self, source: Source, weeks: int) -> None:
        self.source = source
        self.weeks = weeks
        self.cells = quarter_days(weeks) * GRID + 1
        steps = len(source.rates)
        self._lag_json: list[str | None] = (
            [lag.model_dump_json() for lag in source.lags] if source.lags else [None] * steps
        )
        self.weights = np.asarray(
            source.arrivals.weights(weeks) if source.arrivals else [1.0 / weeks] * weeks
        )
        self._sums: dict[tuple[int, int], np.ndarray] = {}
        self._integrated: dict[int, np.ndarray] = {}

    def step(self, j: int, age: float = 0.0) -> np.ndarray:
        return _lag_grid(self._lag_json[j], self.cells, float(age))

    def sum_of_steps(self, a: int, b: int) -> np.ndarray:
        """Grid law of the lags of steps a..b-1 added up (no lag at all when a == b)."""
        key = (a, b)
        if key not in self._sums:
            law = _lag_grid(None, self.cells, 0.0)
            for j in range(a, b):
                if self._lag_json[j] is not None:
                    law = np.convolve(law, self.step(j))[: self.cells]
            self._sums[key] = law
        found: np.ndarray = self._sums[key]
        return found

    def arrival_factors(self, stage: int, days: float) -> np.ndarray:
        """For leads arriving in each week, the chance one that goes as far as `stage` gets there
        by day `days` of the quarter (1 for a week wholly before it when there are no lags)."""
        if stage not in self._integrated:
            self._integrated[stage] = _integrated_cdf(self.sum_of_steps(0, stage))
        integ = self._integrated[stage]
        x = round(days * GRID)
        week = DAYS_PER_WEEK * GRID
        starts = x - week * np.arange(self.weeks)
        ends = starts - week
        hi = np.where(starts > 0, integ[np.clip(starts, 0, self.cells - 1)], 0.0)
        lo = np.where(ends > 0, integ[np.clip(ends, 0, self.cells - 1)], 0.0)
        out: np.ndarray = (hi - lo) / DAYS_PER_WEEK
        return out

    def opening_factors(self, row: OpeningLeads, stage: int, days: np.ndarray) -> np.ndarray:
        """For a lead of the opening pipeline that goes as far as `stage`, the chance it gets
        there by each of `days` (its current step's remaining lag, then the later ones)."""
        k = self.source.stages.index(row.stage)
        rest = self.step(k, row.age)
        later = self.sum_of_steps(k + 1, stage)
        at = np.round(np.asarray(days) * GRID).astype(int)
        return _cdf_of_sum_at(rest, later, np.minimum(at, self.cells - 1))


@lru_cache(maxsize=256)
def _clock(source_json: str, weeks: int) -> Clock:
    return Clock(Source.model_validate_json(source_json), weeks)


def clock(source: Source, weeks: int = DEFAULT_WEEKS) -> Clock:
    """The source's lags on the quarter's grid (cached by the source's JSON and the weeks)."""
    return _clock(source.model_dump_json(), weeks)


def whole_weekly_counts(total: int, weights: np.ndarray) -> np.ndarray | None:
    """A fixed volume's leads per week when its profile spells them out in whole leads
    (e.g. 10 a week for 130), else None: then each lead's week is drawn from the profile."""
    raw = total * np.asarray(weights)
    counts: np.ndarray = np.round(raw).astype(np.int64)
    if int(counts.sum()) != total or np.max(np.abs(raw - counts), initial=0.0) > 1e-6:
        return None
    return counts


def known_from(source: Source) -> list[float]:
    """known_from[k]: the product of the rates known exactly from step k on (1 past the end)."""
    out = [1.0] * (len(source.rates) + 1)
    for j in range(len(source.rates) - 1, -1, -1):
        rate = source.rates[j]
        out[j] = out[j + 1] * (1.0 if rate.uncertain else rate.mean)
    return out


# ---- Expectations: the pacing curve, the opening pipeline's part, the spill -------------------


@dataclass(frozen=True, slots=True, eq=False)
class SourcePace:
    """What the plan expects of one source over the quarter's weeks (rates at their means).

    `reached[s, v]`: leads expected to reach stage s during the quarter by the end of week v
    (v = 0..weeks), new arrivals and the opening pipeline together (a lead of the opening
    pipeline counts at the stages it moves to, not at the one it sat in on day one).
    `from_opening[k]`: the part of `reached` coming from the opening leads sitting at stage k.
    `finish[w]`: the chance a lead arriving in week w + 1 that goes all the way closes in time.
    """

    name: str
    owner: str
    stages: tuple[str, ...]
    weeks: int
    arrivals: np.ndarray  # expected first-stage arrivals per week
    finish: np.ndarray
    reached: np.ndarray
    from_opening: dict[int, np.ndarray]
    opening_in_stage: dict[int, int]  # opening leads sitting at stage k on day one
    eventual: float  # expected wins of the quarter's leads and the opening pipeline, any time

    @property
    def won(self) -> float:
        return float(self.reached[-1, -1])

    @property
    def won_from_opening(self) -> float:
        return float(sum(r[-1, -1] for r in self.from_opening.values()))

    @property
    def spill(self) -> float:
        """Expected wins that land after the last day (next quarter's)."""
        return max(self.eventual - self.won, 0.0)

    def last_useful_week(self, chance: float = DEFAULT_USEFUL) -> int | None:
        """The last week (1-based) in which an arriving lead keeps at least `chance` of its
        chance to close landing this quarter; None when no week does."""
        ok = np.flatnonzero(self.finish >= chance - 1e-12)
        return int(ok[-1]) + 1 if len(ok) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "won": self.won,
            "won_from_opening": self.won_from_opening,
            "spill": self.spill,
            "last_useful_week": self.last_useful_week(),
            "finish_by_arrival_week": self.finish.tolist(),
            "arrivals_by_week": self.arrivals.tolist(),
            "reached_by_week": {
                st: row.tolist() for st, row in zip(self.stages, self.reached, strict=True)
            },
        }


def source_pace(source: Source, weeks: int = DEFAULT_WEEKS) -> SourcePace:
    """The plan's expected pacing of one source (see SourcePace); exact for the model."""
    return _source_pace(source.model_dump_json(), weeks)


@lru_cache(maxsize=256)
def _source_pace(source_json: str, weeks: int) -> SourcePace:
    source = Source.model_validate_json(source_json)
    clk = _clock(source_json, weeks)
    m = len(source.rates)
    means = [r.mean for r in source.rates]
    ends = np.arange(weeks + 1) * DAYS_PER_WEEK
    reached = np.zeros((m + 1, weeks + 1))
    volume = source.volume.mean
    expected = source.expected_counts()  # the timeless funnel, thinned below by time
    for s in range(m + 1):
        if expected[s] == 0:
            continue
        for v, day in enumerate(ends):
            factors = clk.arrival_factors(s, float(day))
            share = factors[0] if np.all(factors == factors[0]) else clk.weights @ factors
            reached[s, v] = expected[s] * float(share)
    from_opening: dict[int, np.ndarray] = {}
    sitting: dict[int, int] = {}
    eventual = expected[-1]
    for row in source.opening or []:
        k = source.stages.index(row.stage)
        sitting[k] = sitting.get(k, 0) + row.count
        part = from_opening.setdefault(k, np.zeros((m + 1, weeks + 1)))
        eventual += row.count * math.prod(means[k:])
        for s in range(k + 1, m + 1):
            through = row.count * math.prod(means[k:s])
            if through > 0:
                part[s] += through * clk.opening_factors(row, s, ends)
    for part in from_opening.values():
        part[:, 0] = 0.0  # nothing moves before the quarter starts (the grid rounds to 1.5 h)
        reached += part
    for arr in (reached, *from_opening.values()):
        arr.flags.writeable = False
    return SourcePace(
        name=source.name,
        owner=source.owner,
        stages=tuple(source.stages),
        weeks=weeks,
        arrivals=volume * clk.weights,
        finish=clk.arrival_factors(m, quarter_days(weeks)),
        reached=reached,
        from_opening=from_opening,
        opening_in_stage=sitting,
        eventual=eventual,
    )


def expected_wins(source: Source, weeks: int = DEFAULT_WEEKS) -> float:
    """Expected wins of the source this quarter (without time: volume times the rates)."""
    if not source.timed:
        return source.expected_counts()[-1]
    return source_pace(source, weeks).won


def volume_yield(source: Source, weeks: int = DEFAULT_WEEKS) -> tuple[float, float]:
    """(expected wins this quarter per first-stage lead, expected wins from the opening
    pipeline): expected wins = volume * first + second."""
    if not source.timed:
        return source.win_probability, 0.0
    pace = source_pace(source, weeks)
    per_lead = source.win_probability * float(pace.finish @ clock(source, weeks).weights)
    return per_lead, pace.won_from_opening


@dataclass(frozen=True, slots=True, eq=False)
class TimeSummary:
    """The quarter in time for `simulate`'s result: pacing, opening pipeline, spill."""

    weeks: int
    sources: tuple[SourcePace, ...]

    @property
    def won(self) -> float:
        return sum(s.won for s in self.sources)

    @property
    def spill(self) -> float:
        return sum(s.spill for s in self.sources)

    @property
    def opening_share(self) -> float:
        """The opening pipeline's share of the wins expected this quarter."""
        won = self.won
        return sum(s.won_from_opening for s in self.sources) / won if won > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "expected_wins": self.won,
            "expected_spill": self.spill,
            "opening_share": self.opening_share,
            "sources": [s.to_dict() for s in self.sources],
        }


def time_summary(scenario: Scenario) -> TimeSummary | None:
    """The scenario's pacing, or None for a scenario that says nothing about time."""
    if not scenario.timed:
        return None
    weeks = scenario.quarter_weeks
    return TimeSummary(weeks=weeks, sources=tuple(source_pace(s, weeks) for s in scenario.sources))


# ---- Leads waiting mid-quarter (the review's re-forecast) ---------------------------------------


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the plan's clock says about leads waiting at a stage at the end of a week (they
    reached it, or sat in it on day one, and have not moved on). With r the step's rate, one
    such lead moves on and reaches the last stage by the last day with chance
    r * moves / (1 - r * moved) times the later rates: of the leads that reach a stage, a share
    1 - r * moved is still waiting after the time they have had (those that will never move,
    and those that will but not yet), and r * moves of them move on in time."""

    moves: float
    moved: float

    def chance(self, rate: Any) -> Any:
        """The chance for a rate (a number, or an array of one rate per trial)."""
        return rate * self.moves / np.maximum(1 - rate * self.moved, 1e-300)


def waiting(source: Source, weeks: int, week: int) -> tuple[Waiting, ...]:
    """Per step j, `Waiting` for the leads waiting at stage j at the end of `week`.

    The waiting leads' ages are those the plan expects: leads that reached the stage on each
    day so far (new arrivals and the opening pipeline moving down), and the opening pipeline's
    leads still in the stage they sat in on day one."""
    return _waiting(source.model_dump_json(), weeks, week)


@lru_cache(maxsize=256)
def _waiting(source_json: str, weeks: int, week: int) -> tuple[Waiting, ...]:
    source = Source.model_validate_json(source_json)
    clk = _clock(source_json, weeks)
    m = len(source.rates)
    x = DAYS_PER_WEEK * week
    left = round((quarter_days(weeks) - x) * GRID)
    means = [r.mean for r in source.rates]
    lags: list[Lag | None] = list(source.lags) if source.lags else [None] * m
    days = np.arange(x + 1, dtype=float)
    out = []
    for j in range(m):
        later = np.cumsum(clk.sum_of_steps(j + 1, m))

        def phi(age: float, j: int = j, later: np.ndarray = later) -> float:
            rest = clk.step(j, age)
            return float(rest[: left + 1] @ later[left::-1])

        def sf(age: float, j: int = j) -> float:
            lag = lags[j]
            if lag is None:
                return 1.0 if age <= 0 else 0.0
            return float(lag.sf(age))

        weights: list[float] = []
        moves: list[float] = []
        moved: list[float] = []
        # Leads that reached stage j on day d of the quarter, now x - d - 1/2 days in it.
        through = source.volume.mean * math.prod(means[:j])
        reached = np.array([through * float(clk.weights @ clk.arrival_factors(j, d)) for d in days])
        for row in source.opening or []:
            k = source.stages.index(row.stage)
            if k < j:
                reached += row.count * math.prod(means[k:j]) * clk.opening_factors(row, j, days)
        for d, entered in enumerate(np.diff(reached)):
            if entered > 0:
                age = x - d - 0.5
                alive = sf(age)
                weights.append(float(entered))
                moves.append(alive * phi(age))
                moved.append(1 - alive)
        # The opening pipeline still in the stage it sat in on day one.
        for row in source.opening or []:
            if source.stages.index(row.stage) == j and row.count > 0:
                start = sf(row.age) if row.age > 0 else 1.0
                alive = 1.0 if x == 0 else sf(row.age + x) / start if start > OVERDUE else 0.0
                weights.append(float(row.count))
                moves.append(alive * phi(row.age + x) if alive > 0 else 0.0)
                moved.append(1 - alive)
        total = math.fsum(weights)
        if total > 0:
            w = np.asarray(weights) / total
            out.append(Waiting(float(w @ moves), float(w @ moved)))
        else:  # the plan expects nobody here by now: read the waiting as half-way through
            alive = sf(x / 2)
            out.append(Waiting(alive * phi(x / 2), 1 - alive))
    return tuple(out)
