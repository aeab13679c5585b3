"""Monte Carlo engine: every trial draws a whole quarter of every source's funnel.

How a source is drawn (docs/engine.md has the derivation):
- Thinning composes: Bin(Bin(n, a), b) ~ Bin(n, a*b), Poisson(l) thinned by p ~ Poisson(l*p),
  and a gamma-mixed Poisson (negbin) thinned by p is negbin with the mean scaled. So every
  rate known exactly folds into the volume law in closed form.
- An uncertain rate Beta(a, b) is drawn once per trial and applied to every lead in that
  trial; marginally the count moves from k to Beta-binomial(k, a, b). Chaining those
  transitions gives the exact law of the source's wins.
- Each trial then takes its wins from that exact law by inverse CDF of one uniform per source
  (common random numbers): moving a slider moves every trial's outcome the same way.
Sources too large to tabulate are drawn directly: volume by inverse CDF, uncertain rates by
the Beta inverse CDF, then a binomial draw.

Time (optional; sim.timing): a lead counts only if it reaches the last stage by the quarter's
last day. That chance is known per lead (its arrival week, or its stage and age in the opening
pipeline) and independent of the rates, so it thins the count like a known rate: a Poisson or
negbin volume keeps its law with the mean scaled, a fixed volume becomes a sum of binomials
over its weeks, and the opening pipeline's leads join the chain at their own stage, before the
uncertain rates they still have to pass (each rate drawn once per trial, shared by all).

A scenario's team (sim/team.py) changes a source through one `Drive`: the SDRs' volume law
replaces the typed first-stage volume (with lags, thinned by the chance of each week's bookings
to close in time), and AE overload adds one exact transition before the last step (untimed
sources). Without a team every source is drawn exactly as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special, stats

from . import timing
from .models import (
    DEFAULT_WEEKS,
    OWNERS,
    DealSize,
    Owner,
    Scenario,
    ScenarioError,
    Source,
    Volume,
)
from .team import Drive, drives

DEFAULT_TRIALS = 50_000
MIN_TRIALS = 100
MAX_TRIALS = 5_000_000
TABLE_CELLS = 4_000_000  # Beta-binomial transition entries above which a source is drawn directly
MIX_CELLS_PER_CELL = 5  # a team's volume law costs about a fifth of a transition entry per cell
TAIL = 1e-13  # probability mass left out of a tabulated law
QUANTILES = (0.10, 0.50, 0.90)
HIT_TOLERANCE = 1e-9
BOOKINGS_STREAM = {"marketing": 0, "sales": 1}  # source i draws from stream 2 + i


def volume_law(volume: Volume, thin: float = 1.0) -> Any:
    """The scipy law of a first-stage volume thinned by a known probability."""
    mean = volume.mean * thin
    if volume.dist == "fixed":
        return stats.binom(int(volume.mean), thin)
    if volume.dist == "poisson":
        return stats.poisson(mean)
    shape = 1.0 / (volume.cv or 1.0) ** 2  # gamma-mixed Poisson: variance = m + (cv * m)^2
    return stats.nbinom(shape, shape / (shape + mean))


def folded_pmf(volume: Volume, thin: float = 1.0) -> np.ndarray:
    """pmf on 0..K of a volume thinned by a known probability, K leaving out at most TAIL."""
    mean = volume.mean * thin
    law: Any
    args: tuple[float, ...]
    if volume.dist == "fixed":
        law, args = stats.binom, (int(volume.mean), thin)
    elif volume.dist == "poisson":
        law, args = stats.poisson, (mean,)
    else:
        shape = 1.0 / (volume.cv or 1.0) ** 2
        law, args = stats.nbinom, (shape, shape / (shape + mean))
    top = int(law.isf(TAIL, *args)) + 1 if mean > 0 else 0
    if volume.dist == "fixed":
        top = min(top, int(volume.mean))
    pmf = law.pmf(np.arange(top + 1), *args)
    return np.asarray(pmf / pmf.sum())


def _trim(pmf: np.ndarray) -> np.ndarray:
    tail = np.cumsum(pmf[::-1])[::-1]
    keep = max(int(np.searchsorted(-tail, -TAIL, side="right")), 1)
    kept: np.ndarray = pmf[:keep] / pmf[:keep].sum()
    return kept


_TRANSITIONS: dict[tuple[float, float], np.ndarray] = {}
_TRANSITIONS_KEPT = 16
_CACHED_CELLS = 1_500_000  # largest whole matrix kept per rate (12 MB)


def _low_end(pmf: np.ndarray) -> int:
    """First count that matters: below it the law holds less than TAIL of its mass."""
    return int(np.searchsorted(np.cumsum(pmf), TAIL, side="right"))


def _transition_rows(alpha: float, beta: float, low: int, size: int) -> np.ndarray:
    """Rows low..size-1 of the Beta-binomial transition matrix (row k: converts among k leads).

    Small matrices are built once per rate at the largest size seen and sliced, so moving a
    volume slider reuses them; large ones are built only for the rows the law needs.
    """
    t = _TRANSITIONS.get((alpha, beta))
    if (t is None or len(t) < size) and size * size <= _CACHED_CELLS:
        grow = size if t is None else max(size, 2 * len(t))
        k = np.arange(min(grow, math.isqrt(_CACHED_CELLS)))  # still >= size
        t = stats.betabinom.pmf(k[None, :], k[:, None], alpha, beta)
        if len(_TRANSITIONS) >= _TRANSITIONS_KEPT:
            _TRANSITIONS.pop(next(iter(_TRANSITIONS)))
        _TRANSITIONS[(alpha, beta)] = t
    if t is not None and len(t) >= size:
        return t[low:size, :size]
    k = np.arange(size)
    return np.asarray(stats.betabinom.pmf(k[None, :], k[low:, None], alpha, beta))


def step_cells(pmf: np.ndarray) -> int:
    """Work of one uncertain step: the rows the law needs times the counts they can reach."""
    return (len(pmf) - _low_end(pmf)) * len(pmf)


def beta_binomial_step(pmf: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Law of the count after one uncertain step: k leads -> Beta-binomial(k, alpha, beta)."""
    low = _low_end(pmf)
    return _trim(pmf[low:] @ _transition_rows(alpha, beta, low, len(pmf)))


_BINOMIAL: dict[float, np.ndarray] = {}


def _binomial_matrix(rows: np.ndarray, size: int, p: float) -> np.ndarray:
    """P(Bin(k, p) = j) for k in rows, j in 0..size-1, from log-gammas (scipy's binom.pmf is
    several times slower, and this is on the path of every team with AE overload)."""
    j = np.arange(size)
    k = rows[:, None]
    if p in (0.0, 1.0):  # all the mass at j = 0, or at j = k
        at = np.zeros_like(k) if p == 0 else k
        return np.asarray(j[None, :] == at, dtype=float)
    lg = special.gammaln(np.arange(max(size, int(rows.max(initial=0)) + 1)) + 1.0)  # log(i!)
    inside = j[None, :] <= k
    kj = np.where(inside, k - j[None, :], 0)
    log_pmf = lg[k] - lg[j][None, :] - lg[kj] + j[None, :] * math.log(p) + kj * math.log1p(-p)
    return np.asarray(np.exp(np.where(inside, log_pmf, -np.inf)))


def _binomial_rows(p: float, low: int, size: int) -> np.ndarray:
    """Rows low..size-1 of the Binomial(k, p) transition matrix, kept per p like the
    Beta-binomial ones."""
    t = _BINOMIAL.get(p)
    if (t is None or len(t) < size) and size * size <= _CACHED_CELLS:
        grow = size if t is None else max(size, 2 * len(t))
        n = min(grow, math.isqrt(_CACHED_CELLS))
        t = _binomial_matrix(np.arange(n), n, p)
        if len(_BINOMIAL) >= _TRANSITIONS_KEPT:
            _BINOMIAL.pop(next(iter(_BINOMIAL)))
        _BINOMIAL[p] = t
    if t is not None and len(t) >= size:
        return t[low:size, :size]
    return _binomial_matrix(np.arange(low, size), size, p)


def binomial_step(pmf: np.ndarray, p: float) -> np.ndarray:
    """Law of the count after one known step: k leads -> Binomial(k, p)."""
    low = _low_end(pmf)
    return _trim(pmf[low:] @ _binomial_rows(p, low, len(pmf)))


def overload_step(pmf: np.ndarray, capacity: int, factor: float) -> np.ndarray:
    """Law of the opportunities worked at the full win rate when the AEs carry `capacity`:
    k -> min(k, C) + Bin(max(k - C, 0), f). Bin(min(k, C), p) + Bin(k - C, p * f) has the law of
    Bin(that count, p), so the step's own rate then applies as usual."""
    if len(pmf) <= capacity + 1:
        return pmf
    excess = pmf[capacity:].copy()  # excess[m] = P(k = C + m)
    out = np.zeros(len(pmf))
    out[:capacity] = pmf[:capacity]
    out[capacity:] = excess @ _binomial_rows(factor, 0, len(excess))
    return out


@lru_cache(maxsize=512)
def _source_pmf_cached(source_json: str, max_cells: int, drive: Drive | None) -> np.ndarray | None:
    source = Source.model_validate_json(source_json)
    cap = drive.ae_capacity if drive is not None and drive.overloads else None
    before = source.rates[:-1] if cap is not None else source.rates  # commute with thinning
    known = math.prod(r.mean for r in before if not r.uncertain)
    if drive is not None and drive.volume is not None:
        if drive.volume.cells(known) > max_cells * MIX_CELLS_PER_CELL:
            return None  # a very large team: drawn directly
        pmf = _trim(drive.volume.pmf(known))
    else:
        pmf = _trim(folded_pmf(source.volume, known))
    cells = 0
    for rate in (r for r in before if r.uncertain):
        cells += step_cells(pmf)
        if cells > max_cells:
            return None
        pmf = beta_binomial_step(pmf, rate.alpha, rate.beta)
    if cap is not None and drive is not None:
        last = source.rates[-1]
        cells += 2 * step_cells(pmf)
        if cells > max_cells:
            return None
        pmf = _trim(overload_step(pmf, cap, drive.ae_factor))
        if last.uncertain:
            pmf = beta_binomial_step(pmf, last.alpha, last.beta)
        else:
            pmf = binomial_step(pmf, last.mean)
    pmf.flags.writeable = False
    return pmf


def source_pmf(
    source: Source,
    max_cells: int = TABLE_CELLS,
    *,
    weeks: int = DEFAULT_WEEKS,
    by_week: int | None = None,
    drive: Drive | None = None,
) -> np.ndarray | None:
    """Exact law of a source's wins as a pmf on 0..K, or None if too large to tabulate.

    With time (lags or an opening pipeline), the wins of a quarter of `weeks` weeks: those that
    reach the last stage by its last day, or by the end of week `by_week` when given. `drive`
    is what the scenario's team changes in this source (sim.team.drives)."""
    if not source.timed:
        return _source_pmf_cached(source.model_dump_json(), max_cells, drive)
    return _timed_pmf_cached(source.model_dump_json(), max_cells, weeks, by_week or weeks, drive)


def _binomial_sum(counts: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """pmf of a sum of independent Binomial(counts[i], probs[i]) (a Poisson-binomial in groups)."""
    pmf = np.ones(1)
    for n, p in zip(counts.tolist(), probs.tolist(), strict=True):
        if n > 0 and p > 0:
            pmf = np.convolve(pmf, stats.binom.pmf(np.arange(n + 1), n, min(p, 1.0)))
    return pmf


@dataclass(frozen=True, slots=True)
class _Thinning:
    """What time does to one source, by week `by_week`: each group of leads, its chance."""

    new: np.ndarray  # per arrival week: chance to reach the last stage in time
    opening: tuple[tuple[int, int, float], ...]  # (stage, count, chance to finish in time)


def _thinning(source: Source, weeks: int, by_week: int) -> _Thinning:
    clk = timing.clock(source, weeks)
    m = len(source.rates)
    days = float(timing.DAYS_PER_WEEK * by_week)
    opening = tuple(
        (
            source.stages.index(row.stage),
            row.count,
            float(clk.opening_factors(row, m, np.array([days]))[0]),
        )
        for row in source.opening or []
    )
    return _Thinning(new=clk.arrival_factors(m, days), opening=opening)


def _booked_in_time(drive: Drive, new: np.ndarray) -> float:
    """Share of the SDRs' bookings that can close in time: each week's chance, weighted by the
    week's share of the bookings (the SDRs' pace by week, from ramp, hires and attrition)."""
    if drive.weights is None or len(drive.weights) != len(new):
        return float(np.mean(new))
    return math.fsum(w * t for w, t in zip(drive.weights, new.tolist(), strict=True))


def _new_leads_pmf(
    source: Source, weeks: int, new: np.ndarray, known: float, drive: Drive | None = None
) -> np.ndarray | None:
    """Law of the first-stage leads that win in time, thinned by every known rate (None: a
    team's volume too large to tabulate)."""
    if drive is not None and drive.volume is not None:
        thin = known * _booked_in_time(drive, new)
        if drive.volume.cells(thin) > TABLE_CELLS * MIX_CELLS_PER_CELL:
            return None
        return _trim(drive.volume.pmf(thin))
    volume = source.volume
    if np.all(new == new[0]):  # no clock for new leads (no lags): exactly the timeless law
        return _trim(folded_pmf(volume, known * float(new[0])))
    weights = timing.clock(source, weeks).weights
    counts = timing.whole_weekly_counts(int(volume.mean), weights)
    if volume.dist == "fixed" and counts is not None:  # exactly these leads each week
        return _trim(_binomial_sum(counts, known * new))
    # Poisson weeks of mean m * w_i thinned by t_i add up to Poisson(m * sum w_i t_i) (negbin:
    # the same with the quarter's gamma-distributed mean); a fixed total whose weeks are drawn
    # from the profile thins each lead by sum w_i t_i.
    return _trim(folded_pmf(volume, known * math.fsum(weights * new)))


@lru_cache(maxsize=512)
def _timed_pmf_cached(
    source_json: str, max_cells: int, weeks: int, by_week: int, drive: Drive | None = None
) -> np.ndarray | None:
    """With time; a team's drive books the new leads (AE overload is not applied with time)."""
    source = Source.model_validate_json(source_json)
    thin = _thinning(source, weeks, by_week)
    known = math.prod(r.mean for r in source.rates if not r.uncertain)
    after = timing.known_from(source)
    new_leads = _new_leads_pmf(source, weeks, thin.new, known, drive)
    if new_leads is None:
        return None
    pmf = new_leads
    waiting = sorted(thin.opening)  # opening leads join before the first rate they still pass
    cells = 0
    for j, rate in enumerate(source.rates):
        if not rate.uncertain:
            continue
        while waiting and waiting[0][0] <= j:
            k, count, chance = waiting.pop(0)
            pmf = _trim(
                np.convolve(pmf, _binomial_sum(np.array([count]), np.array([chance * after[k]])))
            )
        cells += step_cells(pmf)
        if cells > max_cells:
            return None
        pmf = beta_binomial_step(pmf, rate.alpha, rate.beta)
    for k, count, chance in waiting:
        pmf = _trim(
            np.convolve(pmf, _binomial_sum(np.array([count]), np.array([chance * after[k]])))
        )
    pmf.flags.writeable = False
    return pmf


def _inverse_cdf(pmf: np.ndarray, u: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(pmf)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(pmf) - 1)


def _draw_direct(
    source: Source, gen: np.random.Generator, trials: int, drive: Drive | None = None
) -> np.ndarray:
    """Wins for a source too large to tabulate: volume and rates by inverse CDF, then binomial."""
    law = volume_law(source.volume)
    u = gen.random(trials)
    if drive is not None and drive.volume is not None:
        volume = drive.volume.draw(u, gen)
    elif source.volume.dist == "fixed":
        volume = np.full(trials, int(source.volume.mean))
    else:
        low = int(law.ppf(TAIL))
        support = np.arange(low, int(law.isf(TAIL)) + 2)
        volume = low + _inverse_cdf(law.pmf(support), u)
    drawn = [
        special.betaincinv(rate.alpha, rate.beta, gen.random(trials))
        if rate.uncertain
        else rate.mean
        for rate in source.rates
    ]
    if drive is None or not drive.overloads:
        p = np.ones(trials)
        for r in drawn:
            p *= r
        return gen.binomial(volume, p)
    assert drive.ae_capacity is not None
    before = np.ones(trials)
    for r in drawn[:-1]:
        before *= r
    opportunities = gen.binomial(volume, before)
    worked = np.minimum(opportunities, drive.ae_capacity) + gen.binomial(
        np.maximum(opportunities - drive.ae_capacity, 0), drive.ae_factor
    )
    return gen.binomial(worked, drawn[-1])


def _draw_direct_timed(
    source: Source, gen: np.random.Generator, trials: int, weeks: int, drive: Drive | None = None
) -> np.ndarray:
    """The direct draw with time: each group of leads is thinned by its chance to finish."""
    law = volume_law(source.volume)
    u = gen.random(trials)
    booked = drive.volume.draw(u, gen) if drive is not None and drive.volume is not None else None
    thin = _thinning(source, weeks, weeks)
    rates = np.empty((len(source.rates), trials))
    for j, rate in enumerate(source.rates):
        rates[j] = (
            special.betaincinv(rate.alpha, rate.beta, gen.random(trials))
            if rate.uncertain
            else rate.mean
        )
    p = np.prod(rates, axis=0)
    weights = timing.clock(source, weeks).weights
    counts = timing.whole_weekly_counts(int(source.volume.mean), weights)
    if booked is not None and drive is not None:  # the SDRs book the new leads
        wins = gen.binomial(booked, _booked_in_time(drive, thin.new) * p)
    elif source.volume.dist == "fixed" and counts is not None:
        wins = np.zeros(trials, dtype=np.int64)
        for n, t in zip(counts.tolist(), thin.new.tolist(), strict=True):
            if n and t:
                wins += gen.binomial(n, t * p)
    else:
        if source.volume.dist == "fixed":
            volume = np.full(trials, int(source.volume.mean))
        else:
            low = int(law.ppf(TAIL))
            support = np.arange(low, int(law.isf(TAIL)) + 2)
            volume = low + _inverse_cdf(law.pmf(support), u)
        wins = gen.binomial(volume, math.fsum(weights * thin.new) * p)
    for k, count, chance in thin.opening:
        wins += gen.binomial(count, chance * np.prod(rates[k:], axis=0))
    return wins


def draw_source_wins(
    source: Source,
    rng: np.random.Generator | int,
    trials: int,
    max_cells: int = TABLE_CELLS,
    *,
    weeks: int = DEFAULT_WEEKS,
    drive: Drive | None = None,
) -> np.ndarray:
    """Wins of one source in each trial (int64 array of length `trials`); with time, the wins
    of a quarter of `weeks` weeks; `drive`: what the team changes in the source."""
    gen = np.random.default_rng(rng)
    pmf = source_pmf(source, max_cells, weeks=weeks, drive=drive)
    if pmf is None:
        if source.timed:
            return _draw_direct_timed(source, gen, trials, weeks, drive)
        return _draw_direct(source, gen, trials, drive)
    return _inverse_cdf(pmf, gen.random(trials))


def expected_counts(source: Source, drive: Drive | None = None) -> list[float]:
    """Expected count at every stage; with a team, from the SDRs' volume and the exact law of
    the wins (AE overload lowers the last stage)."""
    if drive is None:
        return source.expected_counts()
    first = drive.volume.mean if drive.volume is not None else source.volume.mean
    counts = [first]
    for rate in source.rates:
        counts.append(counts[-1] * rate.mean)
    if drive.overloads and (pmf := source_pmf(source, drive=drive)) is not None:
        counts[-1] = float(np.arange(len(pmf)) @ pmf)
    return counts


def draw_bookings(wins: np.ndarray, deal: DealSize, rng: np.random.Generator | int) -> np.ndarray:
    """Bookings of `wins` deals with Gamma sizes: a sum of w Gamma(k) deals is Gamma(w * k)."""
    gen = np.random.default_rng(rng)
    u = gen.random(len(wins))
    if deal.cv == 0:
        return wins * deal.mean
    shape = 1.0 / deal.cv**2
    scale = deal.mean * deal.cv**2
    out = np.zeros(len(wins))
    won = wins > 0
    out[won] = scale * special.gammaincinv(wins[won] * shape, u[won])
    return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """Summary of one outcome's distribution against its target."""

    target: float
    mean: float
    p10: float
    p50: float
    p90: float
    p_hit: float

    @classmethod
    def of_pmf(cls, pmf: np.ndarray, target: float) -> Outcome:
        """The same summary from an exact law of whole numbers (pmf on 0..K)."""
        cdf = np.cumsum(pmf)
        qs = np.searchsorted(cdf, QUANTILES, side="left").astype(float)
        hit = 0.0
        if math.isfinite(target):
            hit = float(pmf[max(0, math.ceil(target - HIT_TOLERANCE)) :].sum())
        return cls(
            target=float(target),
            mean=float(np.arange(len(pmf)) @ pmf),
            p10=float(qs[0]),
            p50=float(qs[1]),
            p90=float(qs[2]),
            p_hit=hit,
        )

    @classmethod
    def of(cls, values: np.ndarray, target: float) -> Outcome:
        if values.dtype.kind in "iu":
            cdf = np.cumsum(np.bincount(values)) / len(values)
            qs = np.searchsorted(cdf, QUANTILES, side="left").astype(float)
        else:
            qs = np.quantile(values, QUANTILES, method="inverted_cdf")
        return cls(
            target=float(target),
            mean=float(values.mean()),
            p10=float(qs[0]),
            p50=float(qs[1]),
            p90=float(qs[2]),
            p_hit=float(np.mean(values >= target - HIT_TOLERANCE)),
        )

    def to_dict(self) -> dict[str, float]:
        return {
            "target": self.target,
            "mean": self.mean,
            "p10": self.p10,
            "p50": self.p50,
            "p90": self.p90,
            "p_hit": self.p_hit,
        }


@dataclass(frozen=True, slots=True)
class SourceResult:
    name: str
    owner: Owner
    stages: tuple[str, ...]
    expected: tuple[float, ...]
    wins: Outcome

    def to_dict(self) -> dict[str, Any]:
        wins = self.wins.to_dict()
        del wins["target"], wins["p_hit"]
        return {
            "name": self.name,
            "owner": self.owner,
            "expected": dict(zip(self.stages, self.expected, strict=True)),
            "wins": wins,
        }


@dataclass(frozen=True, slots=True, eq=False)
class SimulationResult:
    """What `simulate` returns; `to_dict()` is exactly the CLI's --json output."""

    scenario: str
    quarter: str
    metric: str
    trials: int
    seed: int
    total: Outcome
    owners: dict[Owner, Outcome]
    shares: dict[Owner, float]
    sources: tuple[SourceResult, ...]
    outcomes: np.ndarray = field(repr=False)
    owner_outcomes: dict[Owner, np.ndarray] = field(repr=False)
    pmf: np.ndarray | None = field(default=None, repr=False)  # exact law of the total (see exact)
    time: timing.TimeSummary | None = field(default=None, repr=False)

    @property
    def p_hit(self) -> float:
        return self.total.p_hit

    @property
    def exact(self) -> bool:
        """True when the numbers come from the exact law, with no simulation noise."""
        return self.pmf is not None

    @property
    def p_hit_se(self) -> float:
        """Monte Carlo standard error of P(hit) (0 for an exact result)."""
        if self.pmf is not None:
            return 0.0
        return math.sqrt(self.total.p_hit * (1 - self.total.p_hit) / self.trials)

    def distribution(self, bins: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left edges, right edges, probability) of the outcome, for charts."""
        if self.pmf is not None:
            values = np.arange(len(self.pmf), dtype=float)
            return values, values, self.pmf
        if self.outcomes.dtype.kind in "iu":
            prob = np.bincount(self.outcomes) / self.trials
            values = np.arange(len(prob), dtype=float)
            return values, values, prob
        counts, edges = np.histogram(self.outcomes, bins=bins)
        return edges[:-1], edges[1:], counts / self.trials

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "quarter": self.quarter,
            "metric": self.metric,
            "trials": self.trials,
            "seed": self.seed,
            **self.total.to_dict(),
            "p_hit_se": self.p_hit_se,
            "owners": {o: {"share": self.shares[o], **self.owners[o].to_dict()} for o in OWNERS},
            "sources": [s.to_dict() for s in self.sources],
            **({"time": self.time.to_dict()} if self.time is not None else {}),
        }


def check_trials(trials: int) -> int:
    if isinstance(trials, bool) or not isinstance(trials, int | np.integer):
        raise ScenarioError(f"trials: must be a whole number (got {trials!r})")
    if not MIN_TRIALS <= trials <= MAX_TRIALS:
        raise ScenarioError(f"trials: must be between {MIN_TRIALS} and {MAX_TRIALS} (got {trials})")
    return int(trials)


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ScenarioError(f"seed: must be a whole number >= 0 (got {seed!r})")
    return int(seed)


def simulate(scenario: Scenario, trials: int = DEFAULT_TRIALS, seed: int = 0) -> SimulationResult:
    """Draw the scenario's quarter `trials` times; same scenario and seed give the same result."""
    trials, seed = check_trials(trials), check_seed(seed)
    streams = np.random.default_rng(seed).spawn(2 + len(scenario.sources))
    weeks = scenario.quarter_weeks
    driven = drives(scenario)
    wins = [
        draw_source_wins(source, streams[2 + i], trials, weeks=weeks, drive=driven.get(source.name))
        for i, source in enumerate(scenario.sources)
    ]
    owner_wins = {
        o: sum(
            (w for w, s in zip(wins, scenario.sources, strict=True) if s.owner == o),
            np.zeros(trials, dtype=np.int64),
        )
        for o in OWNERS
    }
    if scenario.metric == "bookings":
        assert scenario.deal_size is not None  # guaranteed by the model
        owner_out = {
            o: draw_bookings(owner_wins[o], scenario.deal_size, streams[BOOKINGS_STREAM[o]])
            for o in OWNERS
        }
    else:
        owner_out = owner_wins
    total = owner_out["marketing"] + owner_out["sales"]
    sources = tuple(
        SourceResult(
            name=s.name,
            owner=s.owner,
            stages=tuple(s.stages),
            expected=tuple(expected_counts(s, driven.get(s.name))),
            wins=Outcome.of(w, math.inf),
        )
        for s, w in zip(scenario.sources, wins, strict=True)
    )
    return SimulationResult(
        scenario=scenario.name,
        quarter=scenario.quarter,
        metric=scenario.metric,
        trials=trials,
        seed=seed,
        total=Outcome.of(total, scenario.target),
        owners={o: Outcome.of(owner_out[o], scenario.owner_target(o)) for o in OWNERS},
        shares={o: scenario.share(o) for o in OWNERS},
        sources=sources,
        outcomes=total,
        owner_outcomes=owner_out,
        time=timing.time_summary(scenario),
    )


def exact(scenario: Scenario) -> SimulationResult | None:
    """The customers outcome from the exact laws, with no simulation noise, or None.

    Each source's law of wins is exact (`source_pmf`); sources are independent, so an owner's
    law and the total's are their convolutions. None for bookings (deal sizes are simulated)
    and when a source is too large to tabulate: use `simulate` then.
    """
    if scenario.metric != "customers":
        return None
    driven = drives(scenario)
    pmfs = [
        source_pmf(s, weeks=scenario.quarter_weeks, drive=driven.get(s.name))
        for s in scenario.sources
    ]
    if any(p is None for p in pmfs):
        return None
    owner_pmf = {o: np.ones(1) for o in OWNERS}
    for source, pmf in zip(scenario.sources, pmfs, strict=True):
        assert pmf is not None
        owner_pmf[source.owner] = np.convolve(owner_pmf[source.owner], pmf)
    total = np.convolve(owner_pmf["marketing"], owner_pmf["sales"])
    empty = np.zeros(0, dtype=np.int64)
    return SimulationResult(
        scenario=scenario.name,
        quarter=scenario.quarter,
        metric=scenario.metric,
        trials=0,
        seed=0,
        total=Outcome.of_pmf(total, scenario.target),
        owners={o: Outcome.of_pmf(owner_pmf[o], scenario.owner_target(o)) for o in OWNERS},
        shares={o: scenario.share(o) for o in OWNERS},
        sources=tuple(
            SourceResult(
                name=s.name,
                owner=s.owner,
                stages=tuple(s.stages),
                expected=tuple(expected_counts(s, driven.get(s.name))),
                wins=Outcome.of_pmf(p, math.inf),
            )
            for s, p in zip(scenario.sources, pmfs, strict=True)
            if p is not None
        ),
        outcomes=empty,
        owner_outcomes={o: empty for o in OWNERS},
        pmf=total,
        time=timing.time_summary(scenario),
    )
