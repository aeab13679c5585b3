"""The team: SDRs who book sales' first-stage volume, AEs who work the opportunities.

The team itself (the scenario's optional `team` key) is sim/roster.py; this module works out
what it can do (docs/team.md has the derivation):
- A member's work in week t of the quarter is weighted by a linear ramp r(x) = min(x / R, 1),
  x the weeks since their start; a person leaves at a constant hazard from the annual attrition
  share (h = -ln(1 - a) / 52 per week), from their start or the quarter's first day.
- Sales-sourced volume given the team is Poisson(pace x sum over SDRs of productivity x
  ramp-weighted weeks worked). Who leaves and when is random per person; the pace multiplier
  (mean 1, CV `sdr_pace_cv`) and the attrition share (Beta, when measured on `n` people) are
  drawn once per quarter and shared by every SDR, like a stage rate. The law of the volume is a
  mixture over a grid of the team's work of Poissons (negative binomials with a pace
  uncertainty), `VolumeMix`; the engine thins it by the source's rates like any first-stage
  volume.
- AE load: opportunities beyond what the AEs carry win at `ae_overload_win_factor` times the
  rate (k opportunities -> min(k, C) + Bin(max(k - C, 0), f) worked at the full rate; the
  engine's `overload_step`).
- Follow-up: the touches the SLA's terms owe for the committed MQLs against what the SDRs can
  make, for the quarter as one period (the MQLs are spread evenly over its weeks).
Time follows the scenario (sim.timing): the quarter is `weeks` weeks (13 unless it says) from
its first day. A lead the SDRs book late in the quarter has less time to close when the source
has lags. Follow-up is checked week by week when marketing's MQLs have a weekly profile, else
for the quarter as one period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special, stats

from .roster import Attrition, Member, Team

if TYPE_CHECKING:
    from .models import Scenario, Source

QUARTER_WEEKS = 13  # a quarter's weeks when the scenario does not say (models.DEFAULT_WEEKS)
WEEKS_PER_YEAR = 52
BUSINESS_HOURS_PER_WEEK = 40  # Monday to Friday, 8 hours (as sim.compliance counts them)
ATTRITION_NODES = 8  # equal-probability strata of an uncertain attrition share
MIX_NODES = 256  # most Poisson means in a volume law (more are merged on a grid)
LAW_GRID = 2048  # grid points for the law of the SDRs' ramp-weighted work
SUBSTEPS = 56  # quadrature points per week for expected headcount (8 per day)
MIN_RAMP = 1e-6  # weeks: a shorter ramp is no ramp (and would overflow x^2 / 2R)
TAIL = 1e-13
MAX_EXTRA_SDRS = 1000
MAX_WEEKS_EARLIER = 52


def attrition_strata(attrition: Attrition) -> tuple[np.ndarray, np.ndarray]:
    """(annual shares, weights): the mean, or the conditional means of equal-probability
    strata of the Beta (they keep its mean exactly)."""
    if attrition.n is None:
        return np.array([attrition.mean]), np.array([1.0])
    a, b = attrition.mean * attrition.n, (1 - attrition.mean) * attrition.n
    edges = special.betaincinv(a, b, np.linspace(0, 1, ATTRITION_NODES + 1))
    upper = special.betainc(a + 1, b, edges)  # E[X; X < x] / mean
    means = attrition.mean * np.diff(upper) * ATTRITION_NODES
    return means, np.full(ATTRITION_NODES, 1 / ATTRITION_NODES)


def hazard(annual_share: float | np.ndarray) -> Any:
    """Weekly leaving hazard whose one-year survival is 1 - annual share."""
    return -np.log1p(-np.asarray(annual_share, dtype=float)) / WEEKS_PER_YEAR


# ---- time -------------------------------------------------------------------------------------


def quarter_start(quarter: str) -> date:
    """'2027-Q1' -> 2027-01-01."""
    year, q = int(quarter[:4]), int(quarter[-1])
    return date(year, 3 * (q - 1) + 1, 1)


def week_starts(quarter: str, weeks: int = QUARTER_WEEKS) -> list[date]:
    """The first day of each week of the quarter (it runs `weeks` weeks from its first day)."""
    first = quarter_start(quarter)
    return [first + timedelta(weeks=w) for w in range(weeks)]


def start_week(member: Member, quarter: str) -> float:
    """The member's start in weeks from the quarter's first day (negative: before it)."""
    return (member.start_date - quarter_start(quarter)).days / 7


def ramp_integral(x: Any, ramp: float) -> Any:
    """G(x) = integral of the ramp r(u) = min(u / R, 1) from 0 to x (0 for x <= 0)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    if ramp <= MIN_RAMP:
        return x
    return np.where(x <= ramp, x * x / (2 * ramp), x - ramp / 2)


def _presence(member: Member, s: float, h: float, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(on the team, ramp-weighted) for one person at times t: expected under attrition."""
    t0 = max(s, 0.0)
    on = (t >= s).astype(float) * np.exp(-h * np.maximum(t - t0, 0.0))
    ramp = member.ramp_weeks
    x = t - s
    r = np.ones_like(t) if ramp <= MIN_RAMP else np.clip(x / ramp, 0.0, 1.0)
    return on, on * r


def by_week(
    members: list[Member],
    quarter: str,
    attrition: Attrition | None,
    weeks: int = QUARTER_WEEKS,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected people on the team, and ramp-weighted people (person-weeks), in each week of
    the quarter, averaged over the week."""
    h = float(hazard(attrition.mean)) if attrition is not None else 0.0
    t = (np.arange(weeks * SUBSTEPS) + 0.5) / SUBSTEPS
    people = np.zeros(weeks)
    ramped = np.zeros(weeks)
    for m in members:
        on, weighted = _presence(m, start_week(m, quarter), h, t)
        people += m.people * on.reshape(weeks, SUBSTEPS).mean(axis=1)
        ramped += m.people * weighted.reshape(weeks, SUBSTEPS).mean(axis=1)
    return people, ramped


# ---- the law of sales-sourced volume ------------------------------------------------------------


def _person_work(
    member: Member, s: float, hs: np.ndarray, span: float
) -> tuple[np.ndarray, np.ndarray]:
    """Ramp-weighted weeks one person works in the quarter, for each weekly hazard in `hs`:
    (values, probabilities with one row per hazard).

    Leaving is drawn by day (at mid-day); staying to the end has the rest of the probability.
    The values do not depend on the hazard, only their probabilities do.
    """
    t0 = max(s, 0.0)
    if t0 >= span:  # starts after the quarter: adds nothing
        return np.zeros(1), np.ones((len(hs), 1))
    ramp = member.ramp_weeks
    done = float(ramp_integral(t0 - s, ramp))  # ramp worked before the quarter
    full = float(ramp_integral(span - s, ramp)) - done
    if not np.any(hs > 0):
        return np.array([full]), np.ones((len(hs), 1))
    days = math.ceil((span - t0) * 7 - 1e-9)
    ends = np.minimum(t0 + np.arange(days + 1) / 7, span)
    survive = np.exp(-hs[:, None] * (ends - t0)[None, :])
    leave = -np.diff(survive, axis=1)
    mid = (ends[:-1] + ends[1:]) / 2
    values = np.append(ramp_integral(mid - s, ramp) - done, full)
    return values, np.concatenate([leave, survive[:, -1:]], axis=1)


def _bin(values: np.ndarray, probs: np.ndarray, step: float, size: int) -> np.ndarray:
    """Probabilities on the grid 0, step, 2*step, ...; each value split between its two
    neighbours so that the mean is kept exactly."""
    pos = np.clip(values / step, 0, size)
    low = np.minimum(np.floor(pos).astype(np.int64), size - 1)
    frac = pos - low
    out = np.bincount(low, probs * (1 - frac), minlength=size + 1)
    out += np.bincount(low + 1, probs * frac, minlength=size + 1)
    return out


def _work_laws(
    members: list[Member], quarter: str, hs: np.ndarray, weeks: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Law of the SDRs' expected output (sum of productivity x ramp-weighted weeks), for each
    weekly hazard in `hs`: [(values, probabilities)], one FFT convolution for all hazards."""
    span = float(weeks)
    parts = []
    for m in members:
        v, p = _person_work(m, start_week(m, quarter), hs, span)
        parts.append((m.people, v * m.productivity, p))
    if all(len(v) == 1 for _, v, _ in parts):
        total = np.array([sum(n * v[0] for n, v, _ in parts)])
        return [(total, np.ones(1)) for _ in hs]
    top = sum(n * v.max() for n, v, _ in parts)
    step = top / LAW_GRID if top > 0 else 1.0
    size = int(2 ** math.ceil(math.log2(LAW_GRID + 2)))  # room for every sum on the grid
    spectrum = np.ones((len(hs), size // 2 + 1), dtype=complex)
    rows = np.arange(len(hs))[:, None] * size
    for n, v, p in parts:
        # Each value split between its two grid neighbours (the mean is kept exactly), for all
        # hazards at once: one bincount over (hazard, grid point).
        pos = np.clip(v / step, 0, size - 2)
        low = np.minimum(np.floor(pos).astype(np.int64), size - 2)
        frac = pos - low
        grid = np.bincount((rows + low).ravel(), (p * (1 - frac)).ravel(), len(hs) * size)
        grid += np.bincount((rows + low + 1).ravel(), (p * frac).ravel(), len(hs) * size)
        spectrum *= np.fft.rfft(grid.reshape(len(hs), size), axis=1) ** n
    laws = np.clip(np.fft.irfft(spectrum, size, axis=1), 0.0, None)
    out = []
    for law in laws:
        law[law < TAIL * 1e-3] = 0.0
        keep = np.flatnonzero(law)
        out.append((keep * step, law[keep] / law[keep].sum()))
    return out


@dataclass(frozen=True, slots=True)
class VolumeMix:
    """A first-stage volume drawn as Poisson(pace x m): m from a discrete law (the team's work,
    who leaves and when), pace a Gamma multiplier with mean 1 and CV `pace_cv` (0: none).

    Given m, a Gamma-mixed Poisson is negative binomial, so the law is exact per node.
    """

    means: tuple[float, ...]
    weights: tuple[float, ...]
    pace_cv: float = 0.0

    @property
    def pace_shape(self) -> float | None:
        """Gamma shape of the pace (None: no pace uncertainty, or so little that the law is
        Poisson to the precision of the arithmetic)."""
        return None if self.pace_cv < 1e-4 else 1 / self.pace_cv**2

    @property
    def mean(self) -> float:
        return float(np.dot(self.means, self.weights))

    def _laws(self, thin: float) -> tuple[Any, tuple[Any, ...], np.ndarray]:
        """(scipy law, its arguments per node, weights) of the volume thinned by `thin`."""
        mu = np.maximum(np.asarray(self.means) * thin, 0.0)
        shape = self.pace_shape
        if shape is None:
            return stats.poisson, (mu,), np.asarray(self.weights)
        return stats.nbinom, (shape, shape / (shape + mu)), np.asarray(self.weights)

    def top(self, thin: float = 1.0) -> int:
        """The largest count the tabulated law keeps (beyond it less than TAIL of the mass):
        that of the node with the largest mean (the laws grow with their mean)."""
        biggest = max(self.means) * thin
        shape = self.pace_shape
        if biggest <= 0:
            return 0
        if shape is None:
            return int(stats.poisson.isf(TAIL, biggest)) + 1
        return int(stats.nbinom.isf(TAIL, shape, shape / (shape + biggest))) + 1

    def cells(self, thin: float = 1.0) -> int:
        """The work of tabulating the law: nodes times counts."""
        return len(self.means) * (self.top(thin) + 1)

    def cdf(self, x: Any, thin: float = 1.0) -> Any:
        law, args, w = self._laws(thin)
        x = np.asarray(x, dtype=float)
        per_node = law.cdf(x[..., None], *(np.asarray(a) for a in args))
        return per_node @ w

    def quantile(self, q: float, thin: float = 1.0) -> int:
        """Smallest whole volume v with P(volume <= v) >= q (bisection on the exact CDF)."""
        low, high = -1, self.top(thin)  # cdf(low) < q <= cdf(high)
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (low, mid) if self.cdf(mid, thin) >= q else (mid, high)
        return high

    def pmf(self, thin: float = 1.0) -> np.ndarray:
        """The law on 0..K of the volume thinned by a known probability."""
        mu = np.asarray(self.means) * thin
        w = np.asarray(self.weights)
        out = np.zeros(1)
        zero = mu <= 0
        idle = float(w[zero].sum())  # no work at all: no volume
        mu, w = mu[~zero], w[~zero]
        shape = self.pace_shape
        if len(mu):
            top = self.top(thin)
            k = np.arange(top + 1)
            out = np.zeros(top + 1)
            if shape is not None:
                base = special.gammaln(k + shape) - special.gammaln(shape) - special.gammaln(k + 1)
                head = shape * np.log(shape / (shape + mu))
                slope = np.log(mu / (shape + mu))
            else:
                base = -special.gammaln(k + 1)
                head, slope = -mu, np.log(mu)
            rows = max(1, 2_000_000 // (top + 1))  # bounded memory for large laws
            for i in range(0, len(mu), rows):
                logp = head[i : i + rows, None] + slope[i : i + rows, None] * k + base
                out += w[i : i + rows] @ np.exp(logp)
        out[0] += idle
        return np.asarray(out / out.sum())

    def draw(self, u: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        """Volumes for uniforms u (the work by inverse CDF); pace and Poisson noise from gen."""
        cdf = np.cumsum(self.weights)
        idx = np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(cdf) - 1)
        mean = np.asarray(self.means)[idx]
        if (shape := self.pace_shape) is not None:
            mean = mean * gen.gamma(shape, 1 / shape, len(u))
        return gen.poisson(mean)


def _merge(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most MIX_NODES points: exact when few, else on a grid that keeps the mean."""
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if len(values) <= MIX_NODES:
        uniq, inv = np.unique(values, return_inverse=True)
        merged = np.bincount(inv, weights)
    else:
        lo, hi = float(values.min()), float(values.max())
        step = (hi - lo) / (MIX_NODES - 1)
        merged = _bin(values - lo, weights, step, MIX_NODES - 1)
        uniq = lo + step * np.arange(MIX_NODES)
        keep = merged > 0
        uniq, merged = uniq[keep], merged[keep]
    return uniq, merged / merged.sum()


@lru_cache(maxsize=256)
def _sdr_mix_cached(team_json: str, quarter: str, weeks: int) -> VolumeMix | None:
    team = Team.model_validate_json(team_json)
    sdrs = team.of_role("sdr")
    if not sdrs:
        return None
    attrition = team.sdr_attrition or Attrition(mean=0.0)
    shares, share_w = attrition_strata(attrition)
    values, weights = [], []
    for (work, work_w), sw in zip(
        _work_laws(sdrs, quarter, hazard(shares), weeks), share_w, strict=True
    ):
        values.append(work)
        weights.append(work_w * sw)
    means, probs = _merge(np.concatenate(values), np.concatenate(weights))
    return VolumeMix(
        tuple(float(v) for v in means), tuple(float(w) for w in probs), team.sdr_pace_cv
    )


def sdr_volume_mix(team: Team, quarter: str, weeks: int = QUARTER_WEEKS) -> VolumeMix | None:
    """Law of the first-stage volume the SDRs book this quarter (None without SDRs)."""
    return _sdr_mix_cached(team.model_dump_json(), quarter, weeks)


def draw_sdr_volume(
    team: Team, quarter: str, gen: np.random.Generator, trials: int, weeks: int = QUARTER_WEEKS
) -> np.ndarray:
    """The same volume drawn directly, trial by trial (continuous leaving times): the check on
    `sdr_volume_mix` in the tests."""
    sdrs = team.of_role("sdr")
    attrition = team.sdr_attrition or Attrition(mean=0.0)
    if attrition.n is None:
        share = np.full(trials, attrition.mean)
    else:
        a, b = attrition.mean * attrition.n, (1 - attrition.mean) * attrition.n
        share = special.betaincinv(a, b, gen.random(trials))
    h = hazard(share)
    if team.sdr_pace_cv > 0:
        shape = 1 / team.sdr_pace_cv**2
        pace = special.gammaincinv(shape, gen.random(trials)) / shape
    else:
        pace = np.ones(trials)
    span = float(weeks)
    work = np.zeros(trials)
    for m in sdrs:
        s = start_week(m, quarter)
        t0 = max(s, 0.0)
        if t0 >= span:
            continue
        done = ramp_integral(t0 - s, m.ramp_weeks)
        exposure = gen.exponential(size=(trials, m.people))
        with np.errstate(divide="ignore", over="ignore"):  # no attrition: nobody leaves
            leave = t0 + exposure / h[:, None]
        end = np.minimum(leave, span)
        work += m.productivity * (ramp_integral(end - s, m.ramp_weeks) - done).sum(axis=1)
    volume: np.ndarray = gen.poisson(pace * work)
    return volume


# ---- how the team drives the engine -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Drive:
    """What the team changes in one source's funnel (hashable: the engine caches by it).

    volume: the first-stage volume law when the SDRs book it (replaces the typed volume);
    weights: the share of it booked in each week of the quarter (with lags, a lead booked late
    has less time to close); ae_capacity: opportunities of this source the AEs carry at the
    full win rate; beyond it the last step's rate is multiplied by ae_factor.
    """

    volume: VolumeMix | None = None
    ae_capacity: int | None = None
    ae_factor: float = 1.0
    weights: tuple[float, ...] | None = None

    @property
    def overloads(self) -> bool:
        return self.ae_capacity is not None and self.ae_factor < 1


def sdr_source(scenario: Scenario) -> Source | None:
    """The sales source the SDRs book (the team's `source`, else the first sales source)."""
    team = scenario.team
    if team is None or not team.of_role("sdr"):
        return None
    for s in scenario.sources:
        if s.owner == "sales" and (team.source is None or s.name == team.source):
            return s
    return None


def ae_capacity(scenario: Scenario) -> float | None:
    """Opportunities the AEs can carry this quarter: each AE's carry times their ramp-weighted
    share of the quarter (expected, under the AE attrition's mean)."""
    team = scenario.team
    if team is None or not team.of_role("ae"):
        return None
    weeks = scenario.quarter_weeks
    total = 0.0
    for m in team.of_role("ae"):
        _, ramped = by_week([m], scenario.quarter, team.ae_attrition, weeks)
        total += m.productivity * float(ramped.mean())
    return total


def _expected_opportunities(source: Source, volume_mean: float) -> float:
    """Expected count at the stage before the last (the AEs' opportunities)."""
    return volume_mean * math.prod(r.mean for r in source.rates[:-1])


def drives(scenario: Scenario, *, sdr_volume: bool = True) -> dict[str, Drive]:
    """Per source name, what the team changes; empty without a team (the engine is unchanged).

    `sdr_volume=False` keeps the typed volume of the SDRs' source (the plan's volume back-solve
    asks what volume is needed, whoever books it). AE capacity is split across sources in
    proportion to their expected opportunities in the plan as given.
    """
    team = scenario.team
    if team is None:
        return {}
    booked = sdr_source(scenario) if sdr_volume else None
    weeks = scenario.quarter_weeks
    mix = sdr_volume_mix(team, scenario.quarter, weeks) if booked else None
    weights = _booking_weights(team, scenario.quarter, weeks) if mix is not None else None
    volumes = {s.name: s.volume.mean for s in scenario.sources}
    if booked is not None and mix is not None:
        volumes[booked.name] = mix.mean
    capacity = ae_capacity(scenario)
    caps: dict[str, int] = {}
    if capacity is not None and team.ae_overload_win_factor < 1:
        opps = {s.name: _expected_opportunities(s, volumes[s.name]) for s in scenario.sources}
        total = sum(opps.values())
        for name, o in opps.items():
            caps[name] = round(capacity * o / total) if total > 0 else round(capacity)
    out: dict[str, Drive] = {}
    for s in scenario.sources:
        vol = mix if booked is not None and s.name == booked.name else None
        cap = caps.get(s.name)
        if vol is not None or cap is not None:
            factor = team.ae_overload_win_factor if cap is not None else 1.0
            out[s.name] = Drive(vol, cap, factor, weights if vol is not None else None)
    return out


def _booking_weights(team: Team, quarter: str, weeks: int) -> tuple[float, ...] | None:
    """Share of the SDRs' expected bookings in each week (ramp, hires and attrition)."""
    booked = np.zeros(weeks)
    for m in team.of_role("sdr"):
        booked += m.productivity * by_week([m], quarter, team.sdr_attrition, weeks)[1]
    total = float(booked.sum())
    return None if total <= 0 else tuple(float(b / total) for b in booked)


# ---- follow-up feasibility -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowUpCheck:
    """Can the SDRs follow up the committed MQLs within the SLA's terms?

    By week when the plan says when the MQLs arrive (`weekly`); otherwise for the quarter as
    one period, the MQLs spread evenly over its weeks."""

    mqls: float
    attempts: int
    over_days: int
    first_touch_hours: int
    touches_per_sdr: float
    weekly: bool  # the verdict week by week (the MQLs' weekly profile is known)
    owed_by_week: tuple[float, ...]
    capacity_by_week: tuple[float, ...]
    first_touch_burst: int  # MQLs arriving within the first-touch window, 95th percentile
    first_touch_capacity: float  # touches the SDRs can make in that window

    @property
    def owed(self) -> float:
        return float(sum(self.owed_by_week))

    @property
    def capacity(self) -> float:
        return float(sum(self.capacity_by_week))

    @property
    def load(self) -> float:
        """Touches owed over touches the team can make, for the quarter."""
        if self.capacity <= 0:
            return math.inf if self.owed > 0 else 0.0
        return self.owed / self.capacity

    @property
    def _missing(self) -> list[float]:
        """Touches the team cannot make: each week's, or the quarter's as one period."""
        pairs = zip(self.owed_by_week, self.capacity_by_week, strict=True)
        if self.weekly:
            return [max(o - c, 0.0) for o, c in pairs]
        return [max(self.owed - self.capacity, 0.0) / len(self.owed_by_week)] * len(
            self.owed_by_week
        )

    @property
    def short_mqls(self) -> float:
        """Committed MQLs the team cannot follow up within the SLA this quarter."""
        return sum(self._missing) / self.attempts

    @property
    def workable_mqls(self) -> float:
        """MQLs the team can follow up within the SLA this quarter (at the plan's pace)."""
        if self.weekly:
            return self.mqls - self.short_mqls
        return self.capacity / self.attempts

    @property
    def extra_sdrs(self) -> int:
        """Ramped SDRs to add for the team to follow up every committed MQL (in the busiest
        week when the verdict is weekly)."""
        return math.ceil(max(self._missing, default=0.0) / self.touches_per_sdr - 1e-9)

    @property
    def short_weeks(self) -> tuple[int, ...]:
        """Weeks (1-based) when the team cannot make the touches owed that week."""
        return tuple(
            w + 1
            for w, (o, c) in enumerate(zip(self.owed_by_week, self.capacity_by_week, strict=True))
            if o > c + 1e-9
        )

    @property
    def first_touch_ok(self) -> bool:
        return self.first_touch_capacity >= self.first_touch_burst

    @property
    def feasible(self) -> bool:
        return self.short_mqls <= 1e-9 and self.first_touch_ok

    def sentence(self) -> str:
        terms = f"{self.attempts} attempts over {self.over_days} days"
        if self.short_mqls > 1e-9:
            return (
                f"The SDRs can follow up about {self.workable_mqls:,.0f} MQLs this quarter "
                f"within the SLA ({terms}); marketing commits {self.mqls:,.0f}: "
                f"{self.short_mqls:,.0f} more than the team can work. "
                f"{self.extra_sdrs} more ramped SDR{'s' * (self.extra_sdrs != 1)} would cover it."
            )
        if not self.first_touch_ok:
            return (
                f"In {self.first_touch_hours} business hours up to {self.first_touch_burst} MQLs "
                f"arrive (1 time in 20), but the SDRs make only about "
                f"{self.first_touch_capacity:,.1f} touches in that time: first touches will be late."
            )
        late = (
            f" Weeks {_weeks_text(self.short_weeks)} are short while hires ramp."
            if self.short_weeks
            else ""
        )
        return (
            f"The SDRs can follow up the {self.mqls:,.0f} committed MQLs within the SLA "
            f"({terms}): {self.load:.0%} of their follow-up time.{late}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mqls": self.mqls,
            "attempts": self.attempts,
            "over_days": self.over_days,
            "first_touch_hours": self.first_touch_hours,
            "touches_per_sdr": self.touches_per_sdr,
            "weekly": self.weekly,
            "owed_by_week": list(self.owed_by_week),
            "capacity_by_week": list(self.capacity_by_week),
            "owed": self.owed,
            "capacity": self.capacity,
            "load": self.load if math.isfinite(self.load) else None,
            "workable_mqls": self.workable_mqls,
            "short_mqls": self.short_mqls,
            "extra_sdrs": self.extra_sdrs,
            "short_weeks": list(self.short_weeks),
            "first_touch_burst": self.first_touch_burst,
            "first_touch_capacity": self.first_touch_capacity,
            "feasible": self.feasible,
        }


def _weeks_text(weeks: tuple[int, ...]) -> str:
    runs: list[str] = []
    start = prev = weeks[0]
    for w in (*weeks[1:], None):
        if w is not None and w == prev + 1:
            prev = w
            continue
        runs.append(f"{start}" if start == prev else f"{start}–{prev}")
        if w is not None:
            start = prev = w
    return ", ".join(runs)


def committed_mqls(scenario: Scenario) -> float:
    """The MQLs marketing commits: the first-stage volume of its sources."""
    return float(sum(s.volume.mean for s in scenario.owner_sources("marketing")))


def follow_up_check(scenario: Scenario) -> FollowUpCheck | None:
    """The touches the SLA owes for the committed MQLs against the SDRs' touches; None when the
    scenario has no team or the team gives no touches per SDR.

    When marketing's sources say when their MQLs arrive (`arrivals`), week by week; otherwise
    the MQLs are spread evenly and the verdict is for the quarter as one period.
    """
    from .sla import FollowUp  # the SLA's default terms when the scenario has none

    team = scenario.team
    if team is None or team.follow_up_touches is None:
        return None
    terms = scenario.sla.follow_up if scenario.sla is not None else FollowUp()
    weeks = scenario.quarter_weeks
    marketing = scenario.owner_sources("marketing")
    arriving = np.zeros(weeks)
    for source in marketing:
        shares = source.arrivals.weights(weeks) if source.arrivals else (1 / weeks,) * weeks
        arriving += source.volume.mean * np.asarray(shares)
    owed = arriving * terms.min_attempts  # steady state: last quarter's MQLs owe the first weeks
    _, ramped = by_week(team.of_role("sdr"), scenario.quarter, team.sdr_attrition, weeks)
    capacity = ramped * team.follow_up_touches
    window = terms.first_touch_hours / BUSINESS_HOURS_PER_WEEK
    mqls = committed_mqls(scenario)
    burst = int(stats.poisson.ppf(0.95, float(arriving.max()) * window)) if mqls > 0 else 0
    return FollowUpCheck(
        mqls=mqls,
        attempts=terms.min_attempts,
        over_days=terms.over_days,
        first_touch_hours=terms.first_touch_hours,
        touches_per_sdr=team.follow_up_touches,
        weekly=any(s.arrivals is not None for s in marketing),
        owed_by_week=tuple(float(x) for x in owed),
        capacity_by_week=tuple(float(x) for x in capacity),
        first_touch_burst=burst,
        first_touch_capacity=float(capacity.min()) * window,
    )


# ---- what the Plan page and the exports show --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sourced:
    """The first-stage volume the SDRs book, against sales' commitment."""

    source: str
    stage: str
    committed: float
    mean: float
    p10: float
    p50: float
    p90: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stage": self.stage,
            "committed": self.committed,
            "mean": self.mean,
            "p10": self.p10,
            "p50": self.p50,
            "p90": self.p90,
        }


@dataclass(frozen=True, slots=True)
class AELoad:
    """Opportunities expected against what the AEs carry."""

    opportunities: float
    capacity: float
    factor: float
    wins_lost: float  # expected wins lost to overload (exact laws)

    @property
    def excess(self) -> float:
        return max(self.opportunities - self.capacity, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "opportunities": self.opportunities,
            "capacity": self.capacity,
            "excess": self.excess,
            "factor": self.factor,
            "wins_lost": self.wins_lost,
        }


@dataclass(frozen=True, slots=True)
class TeamReport:
    """The Team section: the hiring plan by week, what the team sources and works, warnings."""

    weeks: tuple[date, ...]
    sdr_people: tuple[float, ...]
    sdr_ramped: tuple[float, ...]
    ae_people: tuple[float, ...]
    ae_ramped: tuple[float, ...]
    sourced_by_week: tuple[float, ...]  # expected first-stage volume the SDRs book each week
    sourced: Sourced | None
    follow_up: FollowUpCheck | None
    ae_load: AELoad | None
    hires: tuple[str, ...]  # members who start on or after the quarter's first day
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks": [w.isoformat() for w in self.weeks],
            "sdr_people": list(self.sdr_people),
            "sdr_ramped": list(self.sdr_ramped),
            "ae_people": list(self.ae_people),
            "ae_ramped": list(self.ae_ramped),
            "sourced_by_week": list(self.sourced_by_week),
            "sourced": None if self.sourced is None else self.sourced.to_dict(),
            "follow_up": None if self.follow_up is None else self.follow_up.to_dict(),
            "ae_load": None if self.ae_load is None else self.ae_load.to_dict(),
            "hires": list(self.hires),
            "warnings": list(self.warnings),
        }


@lru_cache(maxsize=256)
def _deciles(mix: VolumeMix) -> tuple[float, float, float]:
    """P10, P50, P90 of the volume (kept per law: a move elsewhere does not redo them)."""
    p10, p50, p90 = (float(mix.quantile(q)) for q in (0.1, 0.5, 0.9))
    return p10, p50, p90


def _wins_lost(scenario: Scenario) -> float:
    """Expected wins the AE overload costs: the exact laws with and without it."""
    from .engine import source_pmf  # the engine imports this module

    def expected(source: Source, drive: Drive | None) -> float:
        pmf = source_pmf(source, drive=drive)
        if pmf is None:
            return 0.0
        return float(np.arange(len(pmf)) @ pmf)

    with_load = drives(scenario)
    lost = 0.0
    for s in scenario.sources:
        d = with_load.get(s.name)
        if d is not None and d.overloads:
            lost += expected(s, Drive(d.volume)) - expected(s, d)
    return lost


def team_report(scenario: Scenario) -> TeamReport | None:
    """Everything the Team section shows; None without a team."""
    team = scenario.team
    if team is None:
        return None
    quarter, weeks = scenario.quarter, scenario.quarter_weeks
    first = quarter_start(quarter)
    sdr_people, sdr_ramped = by_week(team.of_role("sdr"), quarter, team.sdr_attrition, weeks)
    ae_people, ae_ramped = by_week(team.of_role("ae"), quarter, team.ae_attrition, weeks)
    warnings: list[str] = []
    booked = sdr_source(scenario)
    pace = np.zeros(weeks)
    if booked is not None:
        for m in team.of_role("sdr"):
            pace += m.productivity * by_week([m], quarter, team.sdr_attrition, weeks)[1]
    elif team.of_role("sdr"):
        warnings.append(
            "The SDRs book no source: the scenario has no sales source"
            + (f" named {team.source!r}." if team.source else ".")
        )
    sourced = None
    mix = sdr_volume_mix(team, quarter, weeks) if booked is not None else None
    if booked is not None and mix is not None:
        p10, p50, p90 = _deciles(mix)
        stage = booked.stages[0]
        sourced = Sourced(booked.name, stage, booked.volume.mean, mix.mean, p10, p50, p90)
        if sourced.committed > 1.02 * sourced.mean + 0.5:
            warnings.append(
                f"Sales commits {sourced.committed:,.0f} {stage}s from {booked.name}, but the "
                f"SDRs book {sourced.mean:,.0f} on average (P10–P90 {p10:,.0f}–{p90:,.0f}): "
                "the chances use what the team books."
            )
    follow = follow_up_check(scenario)
    if follow is not None and not follow.feasible:
        warnings.append(follow.sentence())
    load = None
    capacity = ae_capacity(scenario)
    if capacity is not None:
        volumes = {s.name: s.volume.mean for s in scenario.sources}
        if booked is not None and mix is not None:
            volumes[booked.name] = mix.mean
        opps = sum(_expected_opportunities(s, volumes[s.name]) for s in scenario.sources)
        load = AELoad(opps, capacity, team.ae_overload_win_factor, _wins_lost(scenario))
        if load.excess > 0.5:
            effect = (
                f"they win at {load.factor:.0%} of the usual rate: about "
                f"{load.wins_lost:,.1f} fewer wins"
                if load.factor < 1
                else "no effect on the win rate is set"
            )
            warnings.append(
                f"{load.opportunities:,.0f} opportunities expected, but the AEs carry "
                f"{load.capacity:,.0f}: {load.excess:,.0f} beyond capacity ({effect})."
            )
    return TeamReport(
        weeks=tuple(week_starts(quarter, weeks)),
        sdr_people=tuple(float(x) for x in sdr_people),
        sdr_ramped=tuple(float(x) for x in sdr_ramped),
        ae_people=tuple(float(x) for x in ae_people),
        ae_ramped=tuple(float(x) for x in ae_ramped),
        sourced_by_week=tuple(float(x) for x in pace),
        sourced=sourced,
        follow_up=follow,
        ae_load=load,
        hires=tuple(m.name for m in team.members if m.start_date >= first),
        warnings=tuple(warnings),
    )


# ---- a first team for a plan that has none -------------------------------------------------------

STARTER_SDR_PACE = 2.0  # first-stage leads per ramped SDR per week, before rounding
STARTER_AE_CARRY = 25  # opportunities an AE carries per quarter
STARTER_TOUCHES = 30  # follow-up touches per SDR per week


def starter_team(scenario: Scenario) -> Team:
    """A ramped team that books about what sales commits and carries the plan's opportunities:
    the starting point a leader then edits (hires, ramp, attrition)."""
    span = scenario.quarter_weeks
    a_year_before = (quarter_start(scenario.quarter) - timedelta(days=364)).isoformat()
    sales = [s for s in scenario.sources if s.owner == "sales"]
    booked = sales[0] if sales else None
    committed = booked.volume.mean if booked is not None else 0.0
    people = max(1, math.ceil(committed / (STARTER_SDR_PACE * span)))
    pace = round(committed / (people * span), 1) if committed > 0 else 1.0
    opportunities = sum(_expected_opportunities(s, s.volume.mean) for s in scenario.sources)
    aes = max(1, math.ceil(opportunities / STARTER_AE_CARRY))
    return Team(
        members=[
            Member(
                name="SDR team",
                role="sdr",
                people=people,
                start=a_year_before,
                ramp_weeks=8,
                productivity=max(pace, 0.1),
            ),
            Member(
                name="AE team",
                role="ae",
                people=aes,
                start=a_year_before,
                ramp_weeks=12,
                productivity=STARTER_AE_CARRY,
            ),
        ],
        follow_up_touches=STARTER_TOUCHES,
    )
