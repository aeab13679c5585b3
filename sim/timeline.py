"""The Plan page's weekly timeline: leads in, wins landing, the cumulative outcome against the
target with its P10-P90 band, what the opening pipeline delivers and what spills over.

The band is exact, not simulated: the law of each source's wins by the end of week v is the
engine's law with the quarter cut at that week (`engine.source_pmf(..., by_week=v)`), sources
convolve, and for bookings each count of wins carries its Gamma sum of deal sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special

from . import timing
from .engine import HIT_TOLERANCE, source_pmf
from .models import OWNERS, DealSize, Lag, Owner, Scenario, Source, scenario_from_json

BAND = (0.10, 0.90)


def clocked(source: Source) -> Source:
    """The source with lags of no time when it has none, so that its law can be cut by week."""
    if source.lags is not None:
        return source
    return source.model_copy(update={"lags": [Lag(dist="fixed", days=0)] * len(source.rates)})


def quantiles(law: np.ndarray, qs: tuple[float, ...], deal: DealSize | None) -> list[float]:
    """Quantiles of the outcome: wins with law `law`, or their bookings with Gamma deals."""
    cdf = np.cumsum(law)
    if deal is None:
        return [float(np.searchsorted(cdf, q - 1e-12)) for q in qs]
    wins = np.arange(len(law))
    if deal.cv == 0:
        return [float(np.searchsorted(cdf, q - 1e-12)) * deal.mean for q in qs]
    shape, scale = 1 / deal.cv**2, deal.mean * deal.cv**2

    def below(x: float) -> float:  # P(bookings <= x)
        inside = np.where(wins > 0, special.gammainc(np.maximum(wins, 1) * shape, x / scale), 1.0)
        return float(law @ inside)

    out = []
    for q in qs:
        lo, hi = 0.0, max(float(len(law)), 1.0) * deal.mean * 4
        if below(0.0) >= q:
            out.append(0.0)
            continue
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if below(mid) >= q else (mid, hi)
        out.append(hi)
    return out


def _p_hit(law: np.ndarray, target: float, deal: DealSize | None) -> float:
    wins = np.arange(len(law))
    if deal is None:
        return float(law[wins >= target - HIT_TOLERANCE].sum())
    if deal.cv == 0:
        return float(law[wins * deal.mean >= target - HIT_TOLERANCE].sum())
    shape, scale = 1 / deal.cv**2, deal.mean * deal.cv**2
    sf = np.where(wins > 0, special.gammaincc(np.maximum(wins, 1) * shape, target / scale), 0.0)
    return float(law @ sf)


@dataclass(frozen=True, slots=True, eq=False)
class Timeline:
    """The quarter week by week (index v = 0..weeks: by the end of week v)."""

    scenario: str
    metric: str
    target: float
    weeks: int
    first_stages: dict[Owner, str]  # each owner's first stage(s), e.g. "MQL"
    arrivals: dict[Owner, np.ndarray]  # first-stage leads expected to arrive each week
    won: np.ndarray  # expected outcome by the end of each week (customers or bookings)
    low: np.ndarray | None  # P10 of the outcome by each week (None: too large to tabulate)
    high: np.ndarray | None
    p_hit: float | None  # exact chance of hitting the number this quarter
    opening: float  # expected outcome from the opening pipeline this quarter
    spill: float  # expected outcome of this quarter's leads that lands next quarter
    paces: tuple[timing.SourcePace, ...]

    @property
    def weekly_won(self) -> np.ndarray:
        out: np.ndarray = np.diff(self.won)
        return out

    @property
    def opening_share(self) -> float:
        return self.opening / self.won[-1] if self.won[-1] > 0 else 0.0

    def last_useful(
        self, chance: float = timing.DEFAULT_USEFUL
    ) -> list[tuple[str, str, int | None]]:
        """(source, first stage, last useful week) for every source with volume: the last week
        a newly arriving lead keeps `chance` of its chance to close landing this quarter."""
        return [
            (p.name, p.stages[0], p.last_useful_week(chance))
            for p in self.paces
            if p.arrivals.sum() > 0
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "weeks": self.weeks,
            "target": self.target,
            "expected_by_week": self.won.tolist(),
            "p10_by_week": None if self.low is None else self.low.tolist(),
            "p90_by_week": None if self.high is None else self.high.tolist(),
            "p_hit": self.p_hit,
            "opening": self.opening,
            "spill": self.spill,
            "arrivals_by_week": {o: a.tolist() for o, a in self.arrivals.items()},
        }


def timeline(scenario: Scenario) -> Timeline:
    """The scenario's weekly timeline (cached by its JSON)."""
    return _timeline(scenario.to_json())


@lru_cache(maxsize=32)
def _timeline(scenario_json: str) -> Timeline:
    scenario = scenario_from_json(scenario_json)
    weeks = scenario.quarter_weeks
    deal = scenario.deal_size if scenario.metric == "bookings" else None
    value = deal.mean if deal is not None else 1.0
    paces = tuple(timing.source_pace(s, weeks) for s in scenario.sources)
    won = value * sum((p.reached[-1] for p in paces), np.zeros(weeks + 1))
    arrivals = {
        o: sum((p.arrivals for p in paces if p.owner == o), np.zeros(weeks)) for o in OWNERS
    }
    clocks = [clocked(s) for s in scenario.sources]
    low, high = np.zeros(weeks + 1), np.zeros(weeks + 1)
    p_hit: float | None = None
    tabulated = True
    for v in range(1, weeks + 1):
        law = np.ones(1)
        for source in clocks:
            pmf = source_pmf(source, weeks=weeks, by_week=v)
            if pmf is None:
                tabulated = False
                break
            law = np.convolve(law, pmf)
        if not tabulated:
            break
        low[v], high[v] = quantiles(law, BAND, deal)
        if v == weeks:
            p_hit = _p_hit(law, scenario.target, deal)
    return Timeline(
        scenario=scenario.name,
        metric=scenario.metric,
        target=scenario.target,
        weeks=weeks,
        first_stages={
            o: " / ".join(dict.fromkeys(s.stages[0] for s in scenario.owner_sources(o)))
            for o in OWNERS
        },
        arrivals=arrivals,
        won=won,
        low=low if tabulated else None,
        high=high if tabulated else None,
        p_hit=p_hit,
        opening=value * sum(p.won_from_opening for p in paces),
        spill=value * sum(p.spill for p in paces),
        paces=paces,
    )
