"""Signal or noise: a stage rate's quarter-by-quarter trend, and which changes are real.

Per quarter: the observed rate, its credible band (Jeffreys Beta posterior) and Shewhart
p-chart control limits around the pooled rate. Between consecutive quarters: the probability
that the rate really dropped (two independent Beta posteriors) and a two-proportion z-test;
a change is flagged when the test's p-value is below `alpha`, so on stable rates about
`alpha` of quarter-to-quarter comparisons are flagged (docs/calibration.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from .calibrate import PRIOR, Calibration, RateFit, plural

DEFAULT_ALPHA = 0.05
SIGMAS = 3.0
QUADRATURE = 2000  # points on the first posterior's quantile scale for P(real drop)

EXPLAINER = (
    "A change is flagged only when a gap that large would happen by chance less than "
    "{alpha:.0%} of the time if the rate had not moved (two-proportion test); “how sure” is "
    "the probability that the rate really fell, from both quarters' evidence."
)


def probability_of_drop(k1: int, n1: int, k2: int, n2: int) -> float:
    """P(rate in the second period < rate in the first | both periods' counts), Jeffreys priors.

    Midpoint rule on the first posterior's quantile scale: E[F2(Q1(U))] with U uniform, which
    stays accurate when either posterior is narrow or has a pole at 0 or 1.
    """
    u = (np.arange(QUADRATURE) + 0.5) / QUADRATURE
    x = special.betaincinv(k1 + PRIOR[0], n1 - k1 + PRIOR[1], u)
    return float(np.mean(special.betainc(k2 + PRIOR[0], n2 - k2 + PRIOR[1], x)))


def two_proportion_p_value(k1: Any, n1: Any, k2: Any, n2: Any) -> Any:
    """Two-sided p-value of the pooled two-proportion z-test (1 when there is no spread).

    Works elementwise on arrays too (the tests sum it over every outcome of two quarters).
    """
    k1, n1, k2, n2 = (np.asarray(v, dtype=float) for v in (k1, n1, k2, n2))
    pooled = (k1 + k2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (k2 / n2 - k1 / n1) / se, 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    return float(p) if np.ndim(p) == 0 else p


@dataclass(frozen=True, slots=True)
class Change:
    """One quarter against the quarter before it."""

    before_quarter: str
    after_quarter: str
    before_leads: int
    before_converted: int
    after_leads: int
    after_converted: int
    p_value: float
    alpha: float

    @property
    def p_drop(self) -> float:
        """Probability that the rate really fell (computed when asked: about a millisecond)."""
        return probability_of_drop(
            self.before_converted, self.before_leads, self.after_converted, self.after_leads
        )

    @property
    def before(self) -> float:
        return self.before_converted / self.before_leads

    @property
    def after(self) -> float:
        return self.after_converted / self.after_leads

    @property
    def flagged(self) -> bool:
        return self.p_value < self.alpha

    @property
    def direction(self) -> str:
        if self.after < self.before:
            return "drop"
        return "rise" if self.after > self.before else "no change"

    def sentence(self, step: str = "The rate", unit: str = "leads") -> str:
        """One plain sentence: the move, how sure it is real, and whether it is flagged."""
        move = (
            f"{step} went from {self.before:.0%} of {self.before_leads:,} {unit} in "
            f"{self.before_quarter} to {self.after:.0%} of {self.after_leads:,} in "
            f"{self.after_quarter}"
        )
        real = self.p_drop if self.direction != "rise" else 1 - self.p_drop
        sure = f"{sure_text(real)} sure it really {'fell' if self.direction != 'rise' else 'rose'}"
        chance = f"a gap this large happens by chance {sure_text(self.p_value)} of the time"
        if self.flagged:
            return f"{move}: {sure}; {chance}, so it is flagged as a real {self.direction}."
        return f"{move}: {sure}, but {chance}, so it is not flagged (could be noise)."

    def to_dict(self) -> dict[str, Any]:
        return {
            "before_quarter": self.before_quarter,
            "after_quarter": self.after_quarter,
            "before": {"leads": self.before_leads, "converted": self.before_converted},
            "after": {"leads": self.after_leads, "converted": self.after_converted},
            "p_drop": self.p_drop,
            "p_value": self.p_value,
            "flagged": self.flagged,
            "direction": self.direction,
        }


def sure_text(p: float) -> str:
    """A probability as sentences show it: 99.6%, 78%, 'over 99.9%'."""
    if p < 0.001:
        return "under 0.1%"
    if p > 0.999:
        return "over 99.9%"
    return f"{p:.1%}" if p < 0.1 or p > 0.9 else f"{p:.0%}"


def compare(
    k1: int,
    n1: int,
    k2: int,
    n2: int,
    *,
    alpha: float = DEFAULT_ALPHA,
    quarters: tuple[str, str] = ("before", "after"),
) -> Change:
    """Compare two periods' counts (k converted of n leads each)."""
    for name, k, n in (("first", k1, n1), ("second", k2, n2)):
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"{name} period: need 0 <= converted <= leads and leads > 0")
    return Change(
        before_quarter=quarters[0],
        after_quarter=quarters[1],
        before_leads=n1,
        before_converted=k1,
        after_leads=n2,
        after_converted=k2,
        p_value=float(two_proportion_p_value(k1, n1, k2, n2)),
        alpha=alpha,
    )


@dataclass(frozen=True, slots=True)
class QuarterPoint:
    """A quarter's observed rate, its credible band and the control limits around the centre."""

    quarter: str
    leads: int
    converted: int
    rate: float  # NaN when no leads reached the stage
    low: float
    high: float
    lower_limit: float
    upper_limit: float

    @property
    def outside(self) -> bool:
        return bool(self.leads) and not self.lower_limit <= self.rate <= self.upper_limit

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarter": self.quarter,
            "leads": self.leads,
            "converted": self.converted,
            "rate": None if math.isnan(self.rate) else self.rate,
            "low": self.low,
            "high": self.high,
            "lower_limit": self.lower_limit,
            "upper_limit": self.upper_limit,
            "outside_limits": self.outside,
        }


@dataclass(frozen=True, slots=True)
class RateTrend:
    """A rate over the quarters: points, centre line, and every quarter-to-quarter change."""

    source: str
    step: str
    from_stage: str
    level: float
    centre: float
    points: tuple[QuarterPoint, ...]
    changes: tuple[Change, ...]

    @property
    def flagged(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.flagged)

    def summary(self) -> str:
        """The latest change in one sentence (or why there is none)."""
        if not self.changes:
            return f"{self.source} · {self.step}: fewer than two quarters with leads to compare."
        return f"{self.source} · " + self.changes[-1].sentence(self.step, plural(self.from_stage))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "step": self.step,
            "level": self.level,
            "centre": self.centre,
            "points": [p.to_dict() for p in self.points],
            "changes": [c.to_dict() for c in self.changes],
        }


def rate_trend(
    quarters: Sequence[str],
    leads: Sequence[int],
    converted: Sequence[int],
    *,
    source: str = "",
    step: str = "Rate",
    from_stage: str = "lead",
    level: float = 0.8,
    alpha: float = DEFAULT_ALPHA,
    sigmas: float = SIGMAS,
) -> RateTrend:
    """Trend of one rate: per-quarter bands and p-chart limits, and consecutive changes.

    Quarters without leads are shown empty and skipped by the comparisons.
    """
    n = np.asarray(leads, dtype=float)
    k = np.asarray(converted, dtype=float)
    centre = float(k.sum() / n.sum()) if n.sum() > 0 else math.nan
    lo, hi = stats.beta.ppf([[(1 - level) / 2], [(1 + level) / 2]], k + PRIOR[0], n - k + PRIOR[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        spread = sigmas * np.sqrt(centre * (1 - centre) / n)
    points = tuple(
        QuarterPoint(
            quarter=q,
            leads=int(n[i]),
            converted=int(k[i]),
            rate=float(rate[i]),
            low=float(lo[i]),
            high=float(hi[i]),
            lower_limit=float(max(0.0, centre - spread[i])) if n[i] > 0 else math.nan,
            upper_limit=float(min(1.0, centre + spread[i])) if n[i] > 0 else math.nan,
        )
        for i, q in enumerate(quarters)
    )
    seen = [p for p in points if p.leads > 0]
    changes = tuple(
        compare(
            a.converted, a.leads, b.converted, b.leads, alpha=alpha, quarters=(a.quarter, b.quarter)
        )
        for a, b in itertools.pairwise(seen)
    )
    return RateTrend(
        source=source,
        step=step,
        from_stage=from_stage,
        level=level,
        centre=centre,
        points=points,
        changes=changes,
    )


def fit_trend(fit: RateFit, *, level: float = 0.8, alpha: float = DEFAULT_ALPHA) -> RateTrend:
    """The trend of one calibrated rate (young cohorts counted by the time they have had, when
    the calibration fitted the step's lag: RateFit.effective)."""
    leads = fit.leads
    if fit.effective is not None:
        leads = tuple(max(round(e), k) for e, k in zip(fit.effective, fit.converted, strict=True))
    return rate_trend(
        fit.quarters,
        leads,
        fit.converted,
        source=fit.source,
        step=fit.label,
        from_stage=fit.from_stage,
        level=level,
        alpha=alpha,
    )


def all_trends(calibration: Calibration, *, alpha: float = DEFAULT_ALPHA) -> tuple[RateTrend, ...]:
    """Every rate of every source, in the calibration's order."""
    return tuple(
        fit_trend(r, level=calibration.level, alpha=alpha)
        for s in calibration.sources
        for r in s.rates
    )
