"""Which assumption moves the chance of hitting the number: tornado, heatmap, confidence plan.

Tornado and heatmap re-simulate the scenario with one or two assumptions moved, reusing the
engine's uniforms (common random numbers: same trials, same seed). Each bar end and each
cell is therefore exactly the P(hit) that `simulate(moved, trials, seed)` reports, and cells
change smoothly instead of re-rolling noise. Only the moved source's win law is rebuilt.

Confidence planning solves for the one lever the user picks (an owner's first-stage volume or
a stage rate) with everything else fixed, using the exact probabilities of `sim.plan`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special, stats

from . import timing
from .calibrate import plural
from .engine import (
    BOOKINGS_STREAM,
    HIT_TOLERANCE,
    check_seed,
    check_trials,
    draw_source_wins,
    source_pmf,
)
from .models import (
    MAX_VOLUME,
    OWNERS,
    DealSize,
    Owner,
    Rate,
    Scenario,
    ScenarioError,
    Source,
    Volume,
)
from .plan import (
    check_confidence,
    owner_hit_probability,
    scale_sources,
    volume_for_confidence,
    volume_for_expectation,
)

DEFAULT_TRIALS = 20_000
DEFAULT_LEVEL = 0.8
FIXED_MOVE = 0.10  # an assumption known exactly is moved by ±10%
HEATMAP_SIZE = 20
RATE_SPAN = 0.25  # heatmap rate axis: current ± 25 points
VOLUME_SPAN = (0.5, 1.5)  # heatmap volume axis: half to one and a half times the current
NEVER = 2**40  # more wins than any scenario can have: a trial that misses even then never hits
BOOKINGS_CACHE_CELLS = 2_000_000  # remembered Gamma quantiles per owner (16 MB)
Goal = Literal["share", "total"]

_KEY = re.compile(
    r"^(?:sources\[(?P<i>\d+)\]\.(?:(?P<vol>volume)\.mean|rates\[(?P<j>\d+)\]\.mean)"
    r"|deal_size\.(?P<deal>mean|cv))$"
)


def possessive(name: str) -> str:
    """ "marketing" -> "marketing's", "sales" -> "sales'"."""
    return name + ("'" if name.endswith("s") else "'s")


# ---- Assumptions --------------------------------------------------------------------------------


def step_owner(source: Source, step: int) -> Owner:
    """Who answers for a stage rate: marketing up to the MQL, sales from the MQL on.

    The talk's accountability rule: marketing delivers MQLs; what happens to them after
    (follow-up, qualification, closing) is sales' job, whoever sourced the lead.
    """
    stages = [s.casefold() for s in source.stages]
    mql = stages.index("mql") if "mql" in stages else 0
    return "marketing" if source.owner == "marketing" and step + 1 <= mql else "sales"


@dataclass(frozen=True, slots=True)
class Assumption:
    """One number of the scenario that can be moved: its value and the ends of its range."""

    key: str  # the scenario field, e.g. "sources[0].rates[1].mean"
    label: str
    owner: Owner
    kind: Literal["volume", "rate", "deal_mean", "deal_cv"]
    value: float
    low: float
    high: float
    basis: str  # "80% range" or "±10%"

    def fmt(self, value: float) -> str:
        if self.kind == "rate":
            return (
                f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.1%}"
            )
        if self.kind == "deal_cv":
            return f"{value:.2f}"
        return f"{value:,.0f}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "owner": self.owner,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "basis": self.basis,
        }


def _ends(value: float, dist: Any, level: float) -> tuple[float, float, str]:
    if dist is None:
        return value * (1 - FIXED_MOVE), value * (1 + FIXED_MOVE), f"±{FIXED_MOVE:.0%}"
    lo, hi = dist.ppf([(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi), f"{level:.0%} range"


def assumptions(scenario: Scenario, level: float = DEFAULT_LEVEL) -> tuple[Assumption, ...]:
    """Every movable assumption: each source's volume and rates, and the deal size for bookings.

    An uncertain one moves to the ends of its central `level` interval (a rate's Beta; a negbin
    volume's gamma-distributed mean); one known exactly moves ±10%.
    """
    out: list[Assumption] = []
    for i, s in enumerate(scenario.sources):
        v = s.volume
        mixing = (
            stats.gamma(1 / v.cv**2, scale=v.mean * v.cv**2)
            if v.dist == "negbin" and v.cv and v.mean > 0
            else None
        )
        lo, hi, basis = _ends(v.mean, mixing, level)
        if v.dist == "fixed":
            lo, hi = float(round(lo)), float(round(hi))
        out.append(
            Assumption(
                key=f"sources[{i}].volume.mean",
                label=f"{s.name} · {plural(s.stages[0])} per quarter",
                owner=s.owner,
                kind="volume",
                value=v.mean,
                low=max(lo, 0.0),
                high=min(hi, MAX_VOLUME),
                basis=basis,
            )
        )
        for j, (step, r) in enumerate(zip(s.step_labels(), s.rates, strict=True)):
            lo, hi, basis = _ends(r.mean, r.dist(), level)
            out.append(
                Assumption(
                    key=f"sources[{i}].rates[{j}].mean",
                    label=f"{s.name} · {step} rate",
                    owner=step_owner(s, j),
                    kind="rate",
                    value=r.mean,
                    low=max(lo, 0.0),
                    high=min(hi, 1.0),
                    basis=basis,
                )
            )
    deal = scenario.deal_size
    if scenario.metric == "bookings" and deal is not None:
        for kind, value, label in (
            ("deal_mean", deal.mean, "Average deal size"),
            ("deal_cv", deal.cv, "Deal size variation (CV)"),
        ):
            lo, hi, basis = _ends(value, None, level)
            out.append(
                Assumption(
                    key=f"deal_size.{'mean' if kind == 'deal_mean' else 'cv'}",
                    label=label,
                    owner="sales",
                    kind=kind,  # type: ignore[arg-type]
                    value=value,
                    low=lo,
                    high=min(hi, 5.0) if kind == "deal_cv" else hi,
                    basis=basis,
                )
            )
    return tuple(out)


def find_assumption(scenario: Scenario, key: str, level: float = DEFAULT_LEVEL) -> Assumption:
    for a in assumptions(scenario, level):
        if a.key == key:
            return a
    choices = ", ".join(a.key for a in assumptions(scenario, level))
    raise ScenarioError(f"assumption: {key!r} is not one of this scenario's ({choices})")


def move(scenario: Scenario, key: str, value: float) -> Scenario:
    """The scenario with one assumption set to `value` (clipped into its valid range)."""
    m = _KEY.match(key)
    if m is None:
        raise ScenarioError(f"assumption: {key!r} is not a movable field")
    if m.group("deal"):
        deal = scenario.deal_size or DealSize(mean=30000, cv=0.6)
        if m.group("deal") == "mean":
            deal = DealSize(mean=min(max(value, 1e-6), 1e9), cv=deal.cv)
        else:
            deal = DealSize(mean=deal.mean, cv=min(max(value, 0.0), 5.0))
        return scenario.model_copy(update={"deal_size": deal})
    i = int(m.group("i"))
    if i >= len(scenario.sources):
        raise ScenarioError(
            f"assumption: {key!r}: the scenario has {len(scenario.sources)} sources"
        )
    source = scenario.sources[i]
    if m.group("vol"):
        v = source.volume
        mean = min(max(value, 0.0), MAX_VOLUME)
        volume = Volume(mean=round(mean) if v.dist == "fixed" else mean, dist=v.dist, cv=v.cv)
        new = source.model_copy(update={"volume": volume})
    else:
        j = int(m.group("j"))
        if j >= len(source.rates):
            raise ScenarioError(f"assumption: {key!r}: {source.name} has {len(source.rates)} rates")
        r = source.rates[j]
        lo, hi = (1e-6, 1 - 1e-6) if r.uncertain else (0.0, 1.0)
        rates = list(source.rates)
        rates[j] = Rate(mean=min(max(value, lo), hi), n=r.n)
        new = source.model_copy(update={"rates": rates})
    sources = list(scenario.sources)
    sources[i] = new
    return scenario.model_copy(update={"sources": sources})


# ---- Fast exact win laws and common-random-number re-simulation ---------------------------------


class _Bookings:
    """An owner's bookings per trial, as engine.draw_bookings computes them from the same
    uniforms; Gamma quantiles are remembered per (wins, trial) so re-simulations reuse them."""

    def __init__(self, u: np.ndarray) -> None:
        self.u = u
        self._tables: dict[float, np.ndarray] = {}  # shape -> (max wins + 1, trials), NaN = unknown

    def _table(self, shape: float, top: int) -> np.ndarray | None:
        table = self._tables.get(shape)
        if table is not None and len(table) > top:
            return table
        most = BOOKINGS_CACHE_CELLS // len(self.u)
        if top + 1 > most:
            return None
        rows = min(max(top + 1, 2 * len(table) if table is not None else 0), most)
        grown = np.full((rows, len(self.u)), np.nan)
        if table is not None:
            grown[: len(table)] = table
        self._tables[shape] = grown
        return grown

    def of(self, wins: np.ndarray, deal: DealSize) -> np.ndarray:
        if deal.cv == 0:
            return wins * deal.mean
        shape = 1.0 / deal.cv**2
        scale = deal.mean * deal.cv**2
        out = np.zeros(len(wins))
        idx = np.flatnonzero(wins > 0)
        table = self._table(shape, int(wins.max()) if len(wins) else 0)
        if table is None:
            out[idx] = scale * special.gammaincinv(wins[idx] * shape, self.u[idx])
            return out
        w = wins[idx]
        q = table[w, idx]
        missing = np.isnan(q)
        if missing.any():
            m, wm = idx[missing], w[missing]
            q[missing] = table[wm, m] = special.gammaincinv(wm * shape, self.u[m])
        out[idx] = scale * q
        return out


class _Uniforms:
    """One source's uniforms, sorted once, so the inverse CDF of a new law is a short search
    of the law's steps among them instead of a search per trial."""

    def __init__(self, u: np.ndarray) -> None:
        self.order = np.argsort(u, kind="stable")
        self.sorted = u[self.order]

    def inverse_cdf(self, pmf: np.ndarray) -> np.ndarray:
        """Same values as np.searchsorted(cdf, u, side="right"), capped at len(pmf) - 1."""
        cdf = np.cumsum(pmf)
        cdf /= cdf[-1]
        edges = np.searchsorted(self.sorted, cdf, side="left")  # trials with u < cdf[k]
        counts = np.diff(edges, prepend=0)
        counts[-1] += len(self.sorted) - edges[-1]  # u >= cdf[-1] is capped at the top value
        wins = np.empty(len(self.sorted), dtype=np.int64)
        wins[self.order] = np.repeat(np.arange(len(pmf)), counts)
        return wins


class Resimulator:
    """P(hit) of variants of one scenario with the engine's uniforms for (trials, seed).

    `p_hit(variant)` equals `simulate(variant, trials, seed).p_hit` exactly, for any variant
    with the same number of sources; what did not change is not redrawn.
    """

    def __init__(self, scenario: Scenario, trials: int = DEFAULT_TRIALS, seed: int = 0) -> None:
        self.scenario = scenario
        self.trials, self.seed = check_trials(trials), check_seed(seed)
        self._n = len(scenario.sources)
        streams = self._streams()
        self._u = [_Uniforms(streams[2 + i].random(self.trials)) for i in range(self._n)]
        self._bookings = {
            o: _Bookings(streams[BOOKINGS_STREAM[o]].random(self.trials)) for o in OWNERS
        }
        self._wins: dict[tuple[int, str], np.ndarray] = {}
        self._owner_out: dict[tuple[Any, ...], np.ndarray] = {}
        self._needed: dict[Any, np.ndarray] = {}
        self._base = {o: tuple((i, k) for i, _, k in self._mine(scenario, o)) for o in OWNERS}

    def _streams(self) -> list[np.random.Generator]:
        return np.random.default_rng(self.seed).spawn(2 + self._n)

    def _source_wins(self, i: int, source: Source, key: str) -> np.ndarray:
        wins = self._wins.get((i, key))
        if wins is None:
            weeks = self.scenario.quarter_weeks
            pmf = source_pmf(source, weeks=weeks)
            if pmf is None:  # too large to tabulate: the engine's direct draw, same stream
                wins = draw_source_wins(source, self._streams()[2 + i], self.trials, weeks=weeks)
            else:
                wins = self._u[i].inverse_cdf(pmf)
            if len(self._wins) >= 64:
                self._wins.clear()
            self._wins[(i, key)] = wins
        return wins

    def _mine(self, variant: Scenario, owner: Owner) -> list[tuple[int, Source, str]]:
        return [
            (i, s, s.model_dump_json()) for i, s in enumerate(variant.sources) if s.owner == owner
        ]

    def _owner_wins(self, mine: list[tuple[int, Source, str]]) -> np.ndarray:
        wins = np.zeros(self.trials, dtype=np.int64)
        for i, s, k in mine:
            wins = wins + self._source_wins(i, s, k)
        return wins

    def _owner_outcome(
        self, mine: list[tuple[int, Source, str]], owner: Owner, deal: DealSize | None
    ) -> np.ndarray:
        key = (owner, tuple((i, k) for i, _, k in mine), deal)
        out = self._owner_out.get(key)
        if out is None:
            wins = self._owner_wins(mine)
            out = wins if deal is None else self._bookings[owner].of(wins, deal)
            if len(self._owner_out) >= 64:
                self._owner_out.clear()
            self._owner_out[key] = out
        return out

    def _wins_needed(
        self, owner: Owner, deal: DealSize, target: float, other: np.ndarray, key: Any
    ) -> np.ndarray:
        """Per trial, the fewest wins of `owner` that hit the target with the other owner's
        bookings fixed. Bookings grow with wins for a fixed uniform, so a trial hits exactly
        when its wins reach this number; found by doubling, then bisection, for all trials at
        once with the same float operations as engine.draw_bookings."""
        needed = self._needed.get(key)
        if needed is not None:
            return needed
        shape, scale = 1.0 / deal.cv**2, deal.mean * deal.cv**2
        u = self._bookings[owner].u
        limit = target - HIT_TOLERANCE

        def hit(w: np.ndarray, idx: np.ndarray) -> np.ndarray:
            out = np.zeros(len(idx))
            pos = w > 0
            out[pos] = scale * special.gammaincinv(w[pos] * shape, u[idx[pos]])
            return np.asarray(out + other[idx] >= limit)

        needed = np.zeros(self.trials, dtype=np.int64)
        rest = np.flatnonzero(~hit(np.zeros(self.trials, dtype=np.int64), np.arange(self.trials)))
        low, high = np.zeros(len(rest), dtype=np.int64), np.ones(len(rest), dtype=np.int64)
        ok = hit(high, rest)
        while not ok.all():  # invariant: low misses; double high until it hits
            grow = ~ok & (high < NEVER)
            if not grow.any():
                break
            low[grow], high[grow] = high[grow], high[grow] * 2
            ok[grow] = hit(high[grow], rest[grow])
        high[~ok] = np.iinfo(np.int64).max
        while (active := np.flatnonzero(high - low > 1)).size:
            mid = (low[active] + high[active]) // 2
            hits = hit(mid, rest[active])
            high[active[hits]] = mid[hits]
            low[active[~hits]] = mid[~hits]
        needed[rest] = high
        self._needed[key] = needed
        return needed

    def p_hit(self, variant: Scenario) -> float:
        if len(variant.sources) != self._n:
            raise ScenarioError("sources: a variant must keep the scenario's sources")
        mine = {o: self._mine(variant, o) for o in OWNERS}
        deal = variant.deal_size if variant.metric == "bookings" else None
        if deal is not None and deal.cv > 0:
            keys = {o: tuple((i, k) for i, _, k in mine[o]) for o in OWNERS}
            moved = [o for o in OWNERS if keys[o] != self._base[o]]
            if len(moved) == 1:  # one owner's wins changed: compare them with the wins needed
                owner = moved[0]
                other: Owner = "sales" if owner == "marketing" else "marketing"
                fixed = self._owner_outcome(mine[other], other, deal)
                key = (owner, keys[other], deal, variant.target)
                needed = self._wins_needed(owner, deal, variant.target, fixed, key)
                wins = self._owner_wins(mine[owner])
                return float(np.count_nonzero(wins >= needed) / self.trials)
        total = self._owner_outcome(mine["marketing"], "marketing", deal) + self._owner_outcome(
            mine["sales"], "sales", deal
        )
        return float(np.count_nonzero(total >= variant.target - HIT_TOLERANCE) / self.trials)


# ---- Tornado ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TornadoBar:
    """P(hit) with one assumption at the low and at the high end of its range."""

    assumption: Assumption
    p_low: float
    p_high: float

    @property
    def swing(self) -> float:
        return abs(self.p_high - self.p_low)

    def to_dict(self) -> dict[str, Any]:
        return {**self.assumption.to_dict(), "p_low": self.p_low, "p_high": self.p_high}


@dataclass(frozen=True, slots=True)
class Tornado:
    """What `tornado` returns: bars sorted by swing, biggest first."""

    p_hit: float
    trials: int
    seed: int
    level: float
    bars: tuple[TornadoBar, ...]

    def summary(self) -> str:
        """One line: which assumption moves the number most, and the runner-up."""
        moving = [b for b in self.bars if b.swing > 0]
        if not moving:
            return (
                f"No single assumption moves the chance of hitting the number ({self.p_hit:.0%})."
            )
        top = moving[0]
        a = top.assumption
        lo, hi = sorted((top.p_low, top.p_high))
        line = (
            f"{a.label} ({a.owner}) moves the number most: the chance to hit goes from {lo:.0%} "
            f"to {hi:.0%} across its {a.basis} ({a.fmt(a.low)}–{a.fmt(a.high)})"
        )
        if len(moving) > 1:
            nxt = moving[1]
            lo2, hi2 = sorted((nxt.p_low, nxt.p_high))
            line += f"; next is {nxt.assumption.label} ({lo2:.0%}–{hi2:.0%})"
        return line + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_hit": self.p_hit,
            "trials": self.trials,
            "seed": self.seed,
            "level": self.level,
            "summary": self.summary(),
            "bars": [b.to_dict() for b in self.bars],
        }


def tornado(
    scenario: Scenario,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    resimulator: Resimulator | None = None,
) -> Tornado:
    """Each assumption to the low and high end of its range, the others as they are."""
    sim = resimulator or Resimulator(scenario, trials, seed)
    bars = [
        TornadoBar(
            assumption=a,
            p_low=sim.p_hit(move(scenario, a.key, a.low)),
            p_high=sim.p_hit(move(scenario, a.key, a.high)),
        )
        for a in assumptions(scenario, level)
    ]
    bars.sort(key=lambda b: (-b.swing, b.assumption.label))
    return Tornado(
        p_hit=sim.p_hit(scenario),
        trials=sim.trials,
        seed=sim.seed,
        level=level,
        bars=tuple(bars),
    )


# ---- Heatmap ------------------------------------------------------------------------------------


def default_heatmap_keys(scenario: Scenario) -> tuple[str, str]:
    """MQL volume × MQL→SQL rate of the first marketing source (else the first source)."""
    order = sorted(
        range(len(scenario.sources)),
        key=lambda i: (
            scenario.sources[i].owner != "marketing",
            scenario.sources[i].stages[0].casefold() != "mql",
            i,
        ),
    )
    i = order[0]
    return f"sources[{i}].volume.mean", f"sources[{i}].rates[0].mean"


def axis_values(a: Assumption, size: int = HEATMAP_SIZE) -> np.ndarray:
    """A heatmap axis around the current value, wide enough to show the confident region."""
    if a.kind == "rate":
        lo, hi = max(0.01, a.value - RATE_SPAN), min(0.99, a.value + RATE_SPAN)
    elif a.kind == "volume" and a.value == 0:
        lo, hi = 0.0, 100.0
    elif a.kind == "deal_cv":
        lo, hi = a.value * VOLUME_SPAN[0], min(5.0, max(a.value * VOLUME_SPAN[1], 0.1))
    else:
        lo, hi = a.value * VOLUME_SPAN[0], a.value * VOLUME_SPAN[1]
    return np.linspace(lo, hi, size)


@dataclass(frozen=True, slots=True, eq=False)
class Heatmap:
    """P(hit) over a grid of two assumptions; `p_hit[row, col]` is at (x_values[col], y_values[row])."""

    x: Assumption
    y: Assumption
    x_values: np.ndarray
    y_values: np.ndarray
    p_hit: np.ndarray
    confidence: float
    base_p_hit: float
    trials: int
    seed: int

    def needed_y(self) -> np.ndarray:
        """Per x, the lowest y on the grid's scale reaching the confidence (linear between cells;
        NaN when no y on the grid reaches it)."""
        out = np.full(len(self.x_values), np.nan)
        for c in range(len(self.x_values)):
            col = self.p_hit[:, c]
            hits = np.flatnonzero(col >= self.confidence)
            if len(hits) == 0:
                continue
            r = hits[0]
            if r == 0:
                out[c] = self.y_values[0]
                continue
            p0, p1 = col[r - 1], col[r]
            t = (self.confidence - p0) / (p1 - p0) if p1 != p0 else 1.0
            out[c] = self.y_values[r - 1] + t * (self.y_values[r] - self.y_values[r - 1])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "x": self.x.to_dict(),
            "y": self.y.to_dict(),
            "x_values": self.x_values.tolist(),
            "y_values": self.y_values.tolist(),
            "p_hit": self.p_hit.tolist(),
            "confidence": self.confidence,
            "base_p_hit": self.base_p_hit,
            "trials": self.trials,
            "seed": self.seed,
        }


def heatmap(
    scenario: Scenario,
    x_key: str | None = None,
    y_key: str | None = None,
    *,
    x_values: Sequence[float] | None = None,
    y_values: Sequence[float] | None = None,
    size: int = HEATMAP_SIZE,
    confidence: float = 0.8,
    trials: int = DEFAULT_TRIALS,
    seed: int = 0,
    resimulator: Resimulator | None = None,
) -> Heatmap:
    """P(hit) with two assumptions moved together over a grid (default MQL volume × MQL→SQL)."""
    confidence = check_confidence(confidence)
    if not 2 <= size <= 60:
        raise ScenarioError(f"size: must be between 2 and 60 (got {size})")
    dx, dy = default_heatmap_keys(scenario)
    x, y = find_assumption(scenario, x_key or dx), find_assumption(scenario, y_key or dy)
    if x.key == y.key:
        raise ScenarioError("assumption: pick two different assumptions for the heatmap")
    xs = np.asarray(x_values if x_values is not None else axis_values(x, size), dtype=float)
    ys = np.asarray(y_values if y_values is not None else axis_values(y, size), dtype=float)
    sim = resimulator or Resimulator(scenario, trials, seed)
    grid = np.empty((len(ys), len(xs)))
    for c, xv in enumerate(xs):
        column = move(scenario, x.key, float(xv))
        for r, yv in enumerate(ys):
            grid[r, c] = sim.p_hit(move(column, y.key, float(yv)))
    return Heatmap(
        x=x,
        y=y,
        x_values=xs,
        y_values=ys,
        p_hit=grid,
        confidence=confidence,
        base_p_hit=sim.p_hit(scenario),
        trials=sim.trials,
        seed=sim.seed,
    )


# ---- Confidence planning ------------------------------------------------------------------------


def levers(scenario: Scenario) -> tuple[tuple[str, str], ...]:
    """(key, label) of what confidence planning can solve for: each owner's first-stage volume
    and every stage rate."""
    out: list[tuple[str, str]] = []
    for owner in OWNERS:
        stages = {s.stages[0] for s in scenario.owner_sources(owner)}
        if stages:
            unit = plural(stages.pop()) if len(stages) == 1 else "first-stage leads"
            out.append((f"volume:{owner}", f"{possessive(owner.capitalize())} {unit} per quarter"))
    for i, s in enumerate(scenario.sources):
        for j, step in enumerate(s.step_labels()):
            out.append((f"sources[{i}].rates[{j}].mean", f"{s.name} · {step} rate"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ConfidencePlan:
    """One lever: now, on a point-estimate plan, and what being `confidence` sure needs."""

    lever: str
    label: str
    owner: Owner
    kind: Literal["volume", "rate"]
    goal: Goal
    goal_target: float
    confidence: float
    current: float
    p_hit_current: float
    point_estimate: float | None
    p_hit_point_estimate: float | None
    needed: float | None
    note: str

    def fmt(self, value: float | None) -> str:
        if value is None:
            return "out of reach"
        return f"{value:.1%}" if self.kind == "rate" else f"{value:,.0f}"

    def sentence(self) -> str:
        whose = "the whole number" if self.goal == "total" else f"{possessive(self.owner)} share"
        if self.needed is None:
            return f"{self.label}: {self.note}"
        coin = (
            f"a point-estimate plan sets it at {self.fmt(self.point_estimate)}, which hits "
            f"{whose} only {self.p_hit_point_estimate:.0%} of the time"
            if self.point_estimate is not None and self.p_hit_point_estimate is not None
            else "no point-estimate plan reaches it"
        )
        return (
            f"To be {self.confidence:.0%} sure of {whose}, {self.label} needs to be "
            f"{self.fmt(self.needed)} (now {self.fmt(self.current)}, {self.p_hit_current:.0%} "
            f"sure); {coin}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "lever": self.lever,
            "label": self.label,
            "owner": self.owner,
            "goal": self.goal,
            "goal_target": self.goal_target,
            "confidence": self.confidence,
            "current": self.current,
            "p_hit_current": self.p_hit_current,
            "point_estimate": self.point_estimate,
            "p_hit_point_estimate": self.p_hit_point_estimate,
            "needed": self.needed,
            "note": self.note,
            "sentence": self.sentence(),
        }


def _value_per_win(scenario: Scenario) -> float:
    return scenario.deal_size.mean if scenario.metric == "bookings" and scenario.deal_size else 1.0


def _smallest(ok: Callable[[int], bool], start: int, limit: int) -> int | None:
    """Smallest whole v in [0, limit] with ok(v), for ok monotone; None when none is."""
    high = max(1, start)
    while not ok(high):
        if high >= limit:
            return None
        high = min(high * 2, limit)
    low = -1
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def confidence_plan(
    scenario: Scenario, lever: str, confidence: float = 0.8, goal: Goal = "share"
) -> ConfidencePlan:
    """Solve for one lever so that the goal is reached with probability >= confidence.

    `lever` is "volume:marketing", "volume:sales" or a rate key "sources[i].rates[j].mean";
    `goal` is the lever's owner's share of the target ("share") or the whole number ("total").
    The point-estimate plan is the value whose *expected* outcome just reaches the goal.
    """
    confidence = check_confidence(confidence)
    if goal not in ("share", "total"):
        raise ScenarioError(f"goal: must be share or total (got {goal!r})")
    labels = dict(levers(scenario))
    if lever not in labels:
        raise ScenarioError(f"lever: {lever!r} is not one of {', '.join(labels)}")
    if lever.startswith("volume:"):
        return _volume_plan(scenario, lever, labels[lever], confidence, goal)
    return _rate_plan(scenario, lever, labels[lever], confidence, goal)


def _volume_plan(
    scenario: Scenario, lever: str, label: str, confidence: float, goal: Goal
) -> ConfidencePlan:
    owner: Owner = "marketing" if lever.endswith("marketing") else "sales"
    mine = scenario.owner_sources(owner)
    others = [s for s in scenario.sources if s.owner != owner]
    current = sum(s.volume.mean for s in mine)
    weeks = scenario.quarter_weeks
    yields = [timing.volume_yield(s, weeks) for s in mine]
    per_unit = _value_per_win(scenario) * sum(
        per_lead * s.volume.mean / current if current else per_lead / len(mine)
        for s, (per_lead, _) in zip(mine, yields, strict=True)
    )
    limit = MAX_VOLUME * len(mine)
    if goal == "share":
        target = scenario.owner_target(owner)

        def prob(v: float) -> float:
            return owner_hit_probability(scenario, scale_sources(mine, v), target)

        point = volume_for_expectation(scenario, owner)
        needed = volume_for_confidence(scenario, owner, confidence)
    else:
        target = scenario.target

        def prob(v: float) -> float:
            return owner_hit_probability(scenario, scale_sources(mine, v) + others, target)

        rest = _value_per_win(scenario) * (
            sum(timing.expected_wins(s, weeks) for s in others)
            + sum(opening for _, opening in yields)
        )
        point = max(0, math.ceil((target - rest) / per_unit - 1e-9)) if per_unit > 0 else None
        point = point if point is None or point <= limit else None
        needed = (
            _smallest(lambda v: prob(v) >= confidence, point or 1, limit) if per_unit > 0 else None
        )
    return ConfidencePlan(
        lever=lever,
        label=label,
        owner=owner,
        kind="volume",
        goal=goal,
        goal_target=target,
        confidence=confidence,
        current=current,
        p_hit_current=prob(current),
        point_estimate=None if point is None else float(point),
        p_hit_point_estimate=None if point is None else prob(point),
        needed=None if needed is None else float(needed),
        note="" if needed is not None else "no volume reaches it with these rates.",
    )


def _rate_plan(
    scenario: Scenario, lever: str, label: str, confidence: float, goal: Goal
) -> ConfidencePlan:
    m = _KEY.match(lever)
    assert m is not None
    assert m.group("j") is not None
    i, j = int(m.group("i")), int(m.group("j"))
    source = scenario.sources[i]
    rate = source.rates[j]
    owner = source.owner
    target = scenario.owner_target(owner) if goal == "share" else scenario.target
    keep = [k for k, s in enumerate(scenario.sources) if goal == "total" or s.owner == owner]

    def prob(r: float) -> float:
        moved = move(scenario, lever, r)
        return owner_hit_probability(scenario, [moved.sources[k] for k in keep], target)

    # The expected outcome is linear in one rate: A + B * r (time thins B's leads by a known
    # chance each, so it stays linear).
    value = _value_per_win(scenario)
    weeks = scenario.quarter_weeks
    a = value * sum(timing.expected_wins(scenario.sources[k], weeks) for k in keep if k != i)
    if source.timed:  # the opening pipeline past this step does not depend on it
        r0, r1 = (1e-6, 1 - 1e-6) if rate.uncertain else (0.0, 1.0)
        e0, e1 = (
            timing.expected_wins(move(scenario, lever, r).sources[i], weeks) for r in (r0, r1)
        )
        slope = (e1 - e0) / (r1 - r0)
        a += value * (e0 - slope * r0)
        b = value * slope
    else:
        others = math.prod(r.mean for k, r in enumerate(source.rates) if k != j)
        b = value * source.volume.mean * others
    point = (target - a) / b if b > 0 else None
    point = None if point is None or point > 1 else max(point, 0.0)
    lo, hi = (1e-6, 1 - 1e-6) if rate.uncertain else (0.0, 1.0)
    needed: float | None
    if prob(hi) < confidence:
        needed = None
    elif prob(lo) >= confidence:
        needed = lo
    else:
        for _ in range(40):  # bisection to a hundredth of a percentage point
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if prob(mid) >= confidence else (mid, hi)
            if hi - lo < 1e-4:
                break
        needed = hi
    return ConfidencePlan(
        lever=lever,
        label=label,
        owner=owner,
        kind="rate",
        goal=goal,
        goal_target=target,
        confidence=confidence,
        current=rate.mean,
        p_hit_current=prob(rate.mean),
        point_estimate=point,
        p_hit_point_estimate=None if point is None else prob(point),
        needed=needed,
        note=""
        if needed is not None
        else f"even at 100% this rate cannot make it {confidence:.0%} sure; other levers must move.",
    )
