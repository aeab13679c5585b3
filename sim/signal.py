"""Signal or noise: has a stage rate really moved, and which quarter-to-quarter moves stand out.

Two questions, two guarantees (docs/calibration.md, section 4):
- **Alarms**, the question a leader asks ("is this quarter's rate different from before?"):
  per rate, the latest quarter against all earlier quarters pooled (Fisher's exact mid-p),
  with Holm's correction over every rate checked. On a history where nothing changed, the
  chance that any rate raises an alarm is at most `alpha` (5%), however many sources and
  steps the history has.
- **Exploration**: every quarter against the one before, with Benjamini–Hochberg q-values over
  all those comparisons. A move is marked "worth a look" when q < `fdr`: among the moves
  marked, on average at most that share is noise. These are not alarms.
Per quarter a trend also has the observed rate, its credible band (Jeffreys Beta posterior)
and Shewhart p-chart control limits around the pooled rate.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special

from .calibrate import PRIOR, Calibration, RateFit, plural

DEFAULT_ALPHA = 0.05  # family-wise: chance of any alarm on a stable history
DEFAULT_FDR = 0.05  # exploration: expected share of noise among the moves marked
SIGMAS = 3.0
QUADRATURE = 2000  # points on the first posterior's quantile scale for P(real drop)

Kind = Literal["alarm", "scan", "single"]

EXPLAINER = (
    "Alarms compare each rate's latest quarter with all its earlier quarters together. The "
    "{rates} rates are checked as one family (Holm's correction): on a history where nothing "
    "changed, the chance that any of them raises an alarm is at most {alpha:.0%} (about 1 "
    "upload in {one_in}), however many sources and stages it has. “How sure” is the "
    "probability, from the evidence, that the rate really moved."
)
SCAN_EXPLAINER = (
    "For exploring, not alarms: every quarter against the one before ({comparisons} "
    "comparisons). A move is marked worth a look when its false discovery rate q is under "
    "{fdr:.0%} (Benjamini–Hochberg): of the moves marked, on average at most about 1 in "
    "{one_in} is noise."
)


def probability_of_drop(k1: int, n1: int, k2: int, n2: int) -> float:
    """P(rate in the second period < rate in the first | both periods' counts), Jeffreys priors.

    Midpoint rule on the first posterior's quantile scale: E[F2(Q1(U))] with U uniform, which
    stays accurate when either posterior is narrow or has a pole at 0 or 1.
    """
    u = (np.arange(QUADRATURE) + 0.5) / QUADRATURE
    x = special.betaincinv(k1 + PRIOR[0], n1 - k1 + PRIOR[1], u)
    return float(np.mean(special.betainc(k2 + PRIOR[0], n2 - k2 + PRIOR[1], x)))


def mid_p_value(k1: Any, n1: Any, k2: Any, n2: Any) -> Any:
    """Two-sided mid-p-value of Fisher's exact test: k1 of n1 converted against k2 of n2.

    Conditional on the total converted, the second period's count is hypergeometric; the
    p-value doubles the smaller tail, counting the observed table half (Lancaster's mid-p).
    Unlike the two-proportion z-test it does not over-alarm on small counts or extreme rates,
    and unlike Fisher's plain p-value it is not far below its nominal level (exact sizes in
    tests/unit/test_signal.py). Elementwise on arrays; 1 when there is nothing to compare.
    """
    k1, n1, k2, n2 = (np.asarray(v, dtype=np.int64) for v in (k1, n1, k2, n2))
    k1, n1, k2, n2 = np.broadcast_arrays(k1, n1, k2, n2)
    total = k1 + k2
    lo = np.maximum(0, total - n1)
    hi = np.minimum(n2, total)
    width = int((hi - lo).max(initial=0)) + 1
    x = lo[..., None] + np.arange(width)
    inside = x <= hi[..., None]
    x = np.where(inside, x, lo[..., None])
    log_fact = special.gammaln(np.arange(int((n1 + n2).max(initial=0)) + 1) + 1.0)
    # log pmf up to a constant: -log x! - log (T-x)! - log (n2-x)! - log (n1-T+x)!
    log_pmf = -(
        log_fact[x]
        + log_fact[total[..., None] - x]
        + log_fact[n2[..., None] - x]
        + log_fact[n1[..., None] - total[..., None] + x]
    )
    log_pmf = np.where(inside, log_pmf, -np.inf)
    pmf = np.exp(log_pmf - log_pmf.max(axis=-1, keepdims=True))
    pmf /= pmf.sum(axis=-1, keepdims=True)
    at = (k2 - lo)[..., None]
    offset = np.arange(width)
    observed = np.take_along_axis(pmf, at, axis=-1)[..., 0]
    below = np.where(offset < at, pmf, 0.0).sum(axis=-1)
    above = np.where(offset > at, pmf, 0.0).sum(axis=-1)
    p = np.minimum(1.0, 2 * np.minimum(below, above) + observed)
    return float(p) if np.ndim(p) == 0 else p


def latest_vs_earlier(
    leads: Any, converted: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A rate's latest quarter with leads against all earlier quarters pooled.

    Quarters are the last axis (any leading axes: many rates or many histories at once).
    Returns (latest index, earlier leads, earlier converted, latest leads, latest converted,
    p-value); the p-value is NaN (no test) without leads both before and in the latest quarter.
    """
    n = np.asarray(leads, dtype=float)
    k = np.asarray(converted, dtype=float)
    quarter = np.arange(n.shape[-1])
    latest = np.where(n > 0, quarter, -1).max(axis=-1)
    earlier = quarter < latest[..., None]
    n0 = np.where(earlier, n, 0.0).sum(axis=-1)
    k0 = np.where(earlier, k, 0.0).sum(axis=-1)
    at = np.maximum(latest, 0)[..., None]
    n1 = np.take_along_axis(n, at, axis=-1)[..., 0]
    k1 = np.take_along_axis(k, at, axis=-1)[..., 0]
    tested = (latest >= 0) & (n0 > 0)
    p = np.where(tested, mid_p_value(k0, n0, k1, n1), np.nan)
    return latest, n0, k0, n1, k1, np.asarray(p, dtype=float)


def _sorted(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """p-values ascending along the last axis (NaN last), the order, the ranks, the counts."""
    valid = ~np.isnan(p)
    order = np.argsort(np.where(valid, p, np.inf), axis=-1, kind="stable")
    ps = np.take_along_axis(np.where(valid, p, np.inf), order, axis=-1)
    m = valid.sum(axis=-1, keepdims=True)
    return ps, order, np.arange(1, p.shape[-1] + 1), m


def _unsort(adjusted: np.ndarray, order: np.ndarray, p: np.ndarray) -> np.ndarray:
    out = np.empty_like(adjusted)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.where(np.isnan(p), np.nan, out)


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values along the last axis (NaN: not tested, left out).

    The i-th smallest of m p-values becomes max over j <= i of (m - j + 1)·p_(j), capped at 1;
    rejecting where the adjusted value is below alpha keeps the family-wise error <= alpha
    under any dependence between the tests (Holm 1979).
    """
    p = np.asarray(p_values, dtype=float)
    ps, order, rank, m = _sorted(p)
    with np.errstate(invalid="ignore"):
        scaled = np.where(rank <= m, (m - rank + 1) * ps, np.inf)
    adjusted = np.minimum(1.0, np.maximum.accumulate(scaled, axis=-1))
    return _unsort(adjusted, order, p)


def benjamini_hochberg(p_values: Any) -> np.ndarray:
    """Benjamini–Hochberg q-values along the last axis (NaN: not tested, left out).

    The i-th smallest of m p-values becomes min over j >= i of m·p_(j)/j, capped at 1;
    marking where q is below `fdr` keeps the expected share of false discoveries <= fdr for
    independent (or positively dependent) tests (Benjamini & Hochberg 1995).
    """
    p = np.asarray(p_values, dtype=float)
    ps, order, rank, m = _sorted(p)
    with np.errstate(invalid="ignore"):
        scaled = np.where(rank <= m, m * ps / rank, np.inf)
    q = np.minimum(1.0, np.minimum.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1])
    return _unsort(q, order, p)


@dataclass(frozen=True, slots=True)
class Change:
    """Two periods' counts compared: a rate's latest quarter against its earlier quarters pooled
    (`kind` "alarm"), one quarter against the one before ("scan"), or any two ("single").

    `adjusted` is the p-value allowing for the other `tests` in the family: Holm's for alarms,
    the Benjamini–Hochberg q-value for the scan; a single comparison is its own family.
    """

    before_quarters: tuple[str, ...]
    after_quarter: str
    before_leads: int
    before_converted: int
    after_leads: int
    after_converted: int
    p_value: float
    alpha: float = DEFAULT_ALPHA
    kind: Kind = "single"
    adjusted: float | None = None
    tests: int = 1

    @property
    def before_quarter(self) -> str:
        """The earlier period as a label: one quarter, or the first and last of several."""
        q = self.before_quarters
        return q[0] if len(q) == 1 else f"{q[0]}–{q[-1]}"

    @property
    def p_adjusted(self) -> float:
        return self.p_value if self.adjusted is None else self.adjusted

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
        """Alarm (or single comparison): flagged. Scan: worth a look."""
        return self.p_adjusted < self.alpha

    @property
    def direction(self) -> str:
        if self.after < self.before:
            return "drop"
        return "rise" if self.after > self.before else "no change"

    @property
    def p_real(self) -> float:
        """Probability that the rate really moved the way it appears to have moved."""
        return self.p_drop if self.direction != "rise" else 1 - self.p_drop

    def sentence(self, step: str = "The rate", unit: str = "leads") -> str:
        """One plain sentence: the move, how sure it is real, and what the test concludes."""
        if self.kind == "alarm":
            quarters = len(self.before_quarters)
            move = (
                f"{step} was {self.before:.0%} of {self.before_leads:,} {unit} over "
                f"{self.before_quarter} ({quarters} quarter{'s' if quarters > 1 else ''}) and "
                f"{self.after:.0%} of {self.after_leads:,} in {self.after_quarter}"
            )
        else:
            move = (
                f"{step} went from {self.before:.0%} of {self.before_leads:,} {unit} in "
                f"{self.before_quarter} to {self.after:.0%} of {self.after_leads:,} in "
                f"{self.after_quarter}"
            )
        verb = "rose" if self.direction == "rise" else "fell"
        sure = f"{sure_text(self.p_real)} sure it really {verb}"
        chance = f"a gap this large happens by chance {sure_text(self.p_value)} of the time"
        if self.kind == "scan":
            q = f"false discovery rate q = {sure_text(self.p_adjusted)}"
            if self.flagged:
                return f"{move}: {sure}; {chance} ({q}), so it is worth a look."
            return f"{move}: {sure}; {chance} ({q}), so it does not stand out from noise."
        if self.kind == "alarm" and self.tests > 1:
            chance += f", {sure_text(self.p_adjusted)} allowing for the {self.tests} rates checked"
        if self.flagged:
            return f"{move}: {sure}; {chance}, so it is flagged as a real {self.direction}."
        return f"{move}: {sure}, but {chance}, so it is not flagged (could be noise)."

    def to_dict(self) -> dict[str, Any]:
        """JSON of one comparison; the keys depend on the kind (docs/cli.md)."""
        counts = {
            "before": {"leads": self.before_leads, "converted": self.before_converted},
            "after": {"leads": self.after_leads, "converted": self.after_converted},
        }
        if self.kind == "alarm":
            head: dict[str, Any] = {
                "latest_quarter": self.after_quarter,
                "earlier_quarters": list(self.before_quarters),
                "earlier": counts["before"],
                "latest": counts["after"],
            }
        else:
            head = {
                "before_quarter": self.before_quarter,
                "after_quarter": self.after_quarter,
                **counts,
            }
        tail: dict[str, Any] = {"p_drop": self.p_drop, "p_value": self.p_value}
        if self.kind == "alarm":
            tail |= {"p_holm": self.p_adjusted, "flagged": self.flagged}
        elif self.kind == "scan":
            tail |= {"q_value": self.p_adjusted, "worth_a_look": self.flagged}
        else:
            tail |= {"flagged": self.flagged}
        return head | tail | {"direction": self.direction}


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
    """Compare two periods' counts (k converted of n leads each), on their own."""
    for name, k, n in (("first", k1, n1), ("second", k2, n2)):
        if n <= 0 or not 0 <= k <= n:
            raise ValueError(f"{name} period: need 0 <= converted <= leads and leads > 0")
    return Change(
        before_quarters=(quarters[0],),
        after_quarter=quarters[1],
        before_leads=n1,
        before_converted=k1,
        after_leads=n2,
        after_converted=k2,
        p_value=float(mid_p_value(k1, n1, k2, n2)),
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
    """A rate over the quarters: points, centre line, the alarm test and the quarter scan."""

    source: str
    step: str
    from_stage: str
    level: float
    centre: float
    points: tuple[QuarterPoint, ...]
    alarm: Change | None  # latest quarter against the earlier ones; None without both
    changes: tuple[Change, ...]  # every quarter against the one before (exploration)

    @property
    def flagged(self) -> bool:
        return self.alarm is not None and self.alarm.flagged

    @property
    def worth_a_look(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.flagged)

    @property
    def unit(self) -> str:
        return plural(self.from_stage)

    def summary(self) -> str:
        """The alarm test in one sentence (or why there is none)."""
        if self.alarm is None:
            return f"{self.source} · {self.step}: fewer than two quarters with leads to compare."
        return f"{self.source} · " + self.alarm.sentence(self.step, self.unit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "step": self.step,
            "level": self.level,
            "centre": self.centre,
            "points": [p.to_dict() for p in self.points],
            "alarm": None if self.alarm is None else self.alarm.to_dict(),
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
    fdr: float = DEFAULT_FDR,
    sigmas: float = SIGMAS,
) -> RateTrend:
    """Trend of one rate on its own: bands, p-chart limits, the alarm test and the scan.

    Alone, the rate is its own family (adjusted = raw p-value); `all_trends` adjusts for the
    others. Quarters without leads are shown empty and skipped by the comparisons.
    """
    n = np.asarray(leads, dtype=float)
    k = np.asarray(converted, dtype=float)
    centre = float(k.sum() / n.sum()) if n.sum() > 0 else math.nan
    lo, hi = (
        special.betaincinv(k + PRIOR[0], n - k + PRIOR[1], q)
        for q in ((1 - level) / 2, (1 + level) / 2)
    )
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
        dataclasses.replace(
            compare(
                a.converted,
                a.leads,
                b.converted,
                b.leads,
                alpha=fdr,
                quarters=(a.quarter, b.quarter),
            ),
            kind="scan",
        )
        for a, b in itertools.pairwise(seen)
    )
    latest, n0, k0, n1, k1, p = latest_vs_earlier(n, k)
    alarm = None
    if not math.isnan(float(p)):
        alarm = Change(
            before_quarters=tuple(pt.quarter for pt in points[: int(latest)] if pt.leads > 0),
            after_quarter=points[int(latest)].quarter,
            before_leads=int(n0),
            before_converted=int(k0),
            after_leads=int(n1),
            after_converted=int(k1),
            p_value=float(p),
            alpha=alpha,
            kind="alarm",
        )
    return RateTrend(
        source=source,
        step=step,
        from_stage=from_stage,
        level=level,
        centre=centre,
        points=points,
        alarm=alarm,
        changes=changes,
    )


def fit_trend(
    fit: RateFit, *, level: float = 0.8, alpha: float = DEFAULT_ALPHA, fdr: float = DEFAULT_FDR
) -> RateTrend:
    """The trend of one calibrated rate, on its own (no adjustment for other rates). Young
    cohorts count by the time they have had when the calibration fitted the step's lag
    (RateFit.effective, sim.lags)."""
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
        fdr=fdr,
    )


def adjust(trends: Sequence[RateTrend]) -> tuple[RateTrend, ...]:
    """The trends with each alarm Holm-adjusted over all alarms, each scan change given its
    Benjamini–Hochberg q-value over all scan changes."""
    alarms = [t.alarm for t in trends if t.alarm is not None]
    holm_p = iter(holm([a.p_value for a in alarms]).tolist())
    scans = [c for t in trends for c in t.changes]
    q_values = iter(benjamini_hochberg([c.p_value for c in scans]).tolist())
    out = []
    for t in trends:
        alarm = t.alarm
        if alarm is not None:
            alarm = dataclasses.replace(alarm, adjusted=next(holm_p), tests=len(alarms))
        changes = tuple(
            dataclasses.replace(c, adjusted=next(q_values), tests=len(scans)) for c in t.changes
        )
        out.append(dataclasses.replace(t, alarm=alarm, changes=changes))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Signals:
    """Every rate's trend, adjusted as one family: the alarms and the exploration scan."""

    trends: tuple[RateTrend, ...]
    alpha: float
    fdr: float

    @property
    def checked(self) -> tuple[RateTrend, ...]:
        """Rates with an alarm test (leads in the latest quarter and before it)."""
        return tuple(t for t in self.trends if t.alarm is not None)

    @property
    def flags(self) -> tuple[RateTrend, ...]:
        return tuple(t for t in self.trends if t.flagged)

    @property
    def comparisons(self) -> int:
        return sum(len(t.changes) for t in self.trends)

    @property
    def worth_a_look(self) -> tuple[tuple[RateTrend, Change], ...]:
        return tuple((t, c) for t in self.trends for c in t.worth_a_look)

    def alarm_sentences(self) -> list[str]:
        return [t.summary() for t in self.flags]

    def scan_sentences(self) -> list[str]:
        return [f"{t.source} · {c.sentence(t.step, t.unit)}" for t, c in self.worth_a_look]

    def explainer(self) -> str:
        return EXPLAINER.format(
            alpha=self.alpha, rates=len(self.checked), one_in=round(1 / self.alpha)
        )

    def scan_explainer(self) -> str:
        return SCAN_EXPLAINER.format(
            comparisons=self.comparisons, fdr=self.fdr, one_in=round(1 / self.fdr)
        )

    def to_dict(self) -> dict[str, Any]:
        """The `calibrate --json` keys `flags`, `alarms` and `exploration` (docs/cli.md)."""

        def entry(t: RateTrend, c: Change) -> dict[str, Any]:
            return {"source": t.source, "step": t.step, **c.to_dict()}

        checks = [entry(t, t.alarm) for t in self.trends if t.alarm is not None]
        return {
            "flags": [c for c in checks if c["flagged"]],
            "alarms": {
                "method": "holm",
                "alpha": self.alpha,
                "rates_checked": len(checks),
                "checks": checks,
            },
            "exploration": {
                "method": "benjamini-hochberg",
                "fdr": self.fdr,
                "comparisons": self.comparisons,
                "changes": [entry(t, c) for t in self.trends for c in t.changes],
            },
        }


def all_trends(
    calibration: Calibration, *, alpha: float = DEFAULT_ALPHA, fdr: float = DEFAULT_FDR
) -> tuple[RateTrend, ...]:
    """Every rate of every source, in the calibration's order, adjusted as one family."""
    return adjust(
        [
            fit_trend(r, level=calibration.level, alpha=alpha, fdr=fdr)
            for s in calibration.sources
            for r in s.rates
        ]
    )


def signals(
    calibration: Calibration, *, alpha: float = DEFAULT_ALPHA, fdr: float = DEFAULT_FDR
) -> Signals:
    """The alarms and the exploration scan of a calibrated history."""
    return Signals(trends=all_trends(calibration, alpha=alpha, fdr=fdr), alpha=alpha, fdr=fdr)
