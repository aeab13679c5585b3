"""Planning: the deterministic reverse funnel and the back-solve of first-stage volume.

For each owner, its sources are scaled together (each keeps its share of the owner's
committed first-stage volume) and the smallest whole total volume is found that reaches the
owner's share of the target in expectation, and with a chosen probability. Probabilities come
from the exact law of the owner's outcome (engine.source_pmf), so the answer has no Monte
Carlo noise; sources too large to tabulate fall back to a fixed-seed simulation.

With time (sim.timing), only the wins that land by the quarter's last day count: a lead that
arrives late is worth less, and the opening pipeline delivers its part whatever the volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from . import timing
from .engine import HIT_TOLERANCE, draw_bookings, draw_source_wins, source_pmf
from .models import MAX_VOLUME, OWNERS, Owner, Scenario, ScenarioError, Source

DEFAULT_CONFIDENCE = 0.8
FALLBACK_TRIALS = 20_000


def check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ScenarioError(f"confidence: must be a number (got {confidence!r})")
    if not 0.01 <= confidence <= 0.999:
        raise ScenarioError(f"confidence: must be between 0.01 and 0.999 (got {confidence})")
    return float(confidence)


def _weights(sources: list[Source]) -> list[float]:
    total = sum(s.volume.mean for s in sources)
    if total == 0:
        return [1 / len(sources)] * len(sources)
    return [s.volume.mean / total for s in sources]


def scale_sources(sources: list[Source], total_volume: float) -> list[Source]:
    """The owner's sources with their first-stage volumes scaled to add up to `total_volume`."""
    return [
        s.model_copy(update={"volume": _with_mean(s, w * total_volume)})
        for s, w in zip(sources, _weights(sources), strict=True)
    ]


def _with_mean(source: Source, mean: float) -> Any:
    mean = min(mean, MAX_VOLUME)
    if source.volume.dist == "fixed":
        mean = float(round(mean))
    return source.volume.model_copy(update={"mean": mean})


def owner_hit_probability(scenario: Scenario, sources: list[Source], target: float) -> float:
    """P(these sources together reach `target`) in the scenario's metric."""
    if target <= HIT_TOLERANCE:
        return 1.0
    law = np.ones(1)
    for source in sources:
        pmf = source_pmf(source, weeks=scenario.quarter_weeks)
        if pmf is None:
            return _simulated_hit_probability(scenario, sources, target)
        law = np.convolve(law, pmf)
    wins = np.arange(len(law))
    if scenario.metric == "customers":
        return float(law[wins >= target - HIT_TOLERANCE].sum())
    deal = scenario.deal_size
    assert deal is not None
    if deal.cv == 0:
        return float(law[wins * deal.mean >= target - HIT_TOLERANCE].sum())
    shape, scale = 1 / deal.cv**2, deal.mean * deal.cv**2
    sf = np.zeros(len(law))
    sf[1:] = stats.gamma.sf(target / scale, wins[1:] * shape)
    return float(law @ sf)


def _simulated_hit_probability(scenario: Scenario, sources: list[Source], target: float) -> float:
    streams = np.random.default_rng(0).spawn(len(sources) + 1)
    wins = np.zeros(FALLBACK_TRIALS, dtype=np.int64)
    for source, gen in zip(sources, streams[1:], strict=True):
        wins += draw_source_wins(source, gen, FALLBACK_TRIALS, weeks=scenario.quarter_weeks)
    if scenario.deal_size is None or scenario.metric == "customers":
        return float(np.mean(wins >= target - HIT_TOLERANCE))
    bookings = draw_bookings(wins, scenario.deal_size, streams[0])
    return float(np.mean(bookings >= target - HIT_TOLERANCE))


@dataclass(frozen=True, slots=True)
class StagePlan:
    stage: str
    committed: float
    needed_expected: float
    needed_at_confidence: float | None


@dataclass(frozen=True, slots=True)
class SourcePlan:
    name: str
    owner: Owner
    committed_volume: float
    needed_volume_expected: float | None
    needed_volume_at_confidence: float | None
    stages: tuple[StagePlan, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "committed_volume": self.committed_volume,
            "needed_volume_expected": self.needed_volume_expected,
            "needed_volume_at_confidence": self.needed_volume_at_confidence,
            "stages": [
                {
                    "stage": st.stage,
                    "committed": st.committed,
                    "needed_expected": st.needed_expected,
                    "needed_at_confidence": st.needed_at_confidence,
                }
                for st in self.stages
            ],
        }


@dataclass(frozen=True, slots=True)
class OwnerPlan:
    owner: Owner
    share: float
    target: float
    first_stage: str | None
    committed_volume: float
    expected_outcome: float
    p_hit: float
    needed_volume_expected: int | None
    needed_volume_at_confidence: int | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "share": self.share,
            "target": self.target,
            "first_stage": self.first_stage,
            "committed_volume": self.committed_volume,
            "expected_outcome": self.expected_outcome,
            "p_hit": self.p_hit,
            "needed_volume_expected": self.needed_volume_expected,
            "needed_volume_at_confidence": self.needed_volume_at_confidence,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class PlanResult:
    """What `plan` returns; `to_dict()` is exactly the CLI's --json output."""

    scenario: str
    quarter: str
    metric: str
    target: float
    confidence: float
    owners: dict[Owner, OwnerPlan]
    sources: tuple[SourcePlan, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "quarter": self.quarter,
            "metric": self.metric,
            "target": self.target,
            "confidence": self.confidence,
            "owners": {o: self.owners[o].to_dict() for o in OWNERS},
            "sources": [s.to_dict() for s in self.sources],
        }


def _per_win_value(scenario: Scenario) -> float:
    if scenario.metric == "bookings":
        assert scenario.deal_size is not None
        return scenario.deal_size.mean
    return 1.0


def volume_for_expectation(scenario: Scenario, owner: Owner) -> int | None:
    """Smallest whole first-stage volume whose expected outcome reaches the owner's share."""
    sources = scenario.owner_sources(owner)
    target = scenario.owner_target(owner)
    if target <= HIT_TOLERANCE:
        return 0
    if not sources:
        return None
    if not any(s.timed for s in sources):
        per_unit = _per_win_value(scenario) * sum(
            w * s.win_probability for s, w in zip(sources, _weights(sources), strict=True)
        )
        if per_unit <= 0:
            return None
        needed = math.ceil(target / per_unit - 1e-9)
        return needed if needed <= MAX_VOLUME * len(sources) else None
    yields = [timing.volume_yield(s, scenario.quarter_weeks) for s in sources]
    value = _per_win_value(scenario)
    in_hand = value * sum(opening for _, opening in yields)  # the opening pipeline's part
    if in_hand >= target - HIT_TOLERANCE:
        return 0
    per_unit = value * sum(
        w * per_lead for (per_lead, _), w in zip(yields, _weights(sources), strict=True)
    )
    if per_unit <= 0:
        return None
    needed = math.ceil((target - in_hand) / per_unit - 1e-9)
    return needed if needed <= MAX_VOLUME * len(sources) else None


def volume_for_confidence(scenario: Scenario, owner: Owner, confidence: float) -> int | None:
    """Smallest whole first-stage volume with P(owner reaches its share) >= confidence."""
    confidence = check_confidence(confidence)
    sources = scenario.owner_sources(owner)
    target = scenario.owner_target(owner)
    if target <= HIT_TOLERANCE:
        return 0
    if not sources:
        return None

    def ok(total: int) -> bool:
        p = owner_hit_probability(scenario, scale_sources(sources, total), target)
        return p >= confidence - 1e-12  # a tie within rounding counts as reached

    if any(s.timed for s in sources) and ok(0):
        return 0  # the opening pipeline alone is enough
    if all(s.win_probability == 0 for s in sources):
        return None
    limit = MAX_VOLUME * len(sources)
    high = max(1, volume_for_expectation(scenario, owner) or 1)
    while not ok(high):
        if high >= limit:
            return None
        high = min(high * 2, limit)
    low = 0  # invariant: not ok(low) (target > 0 needs at least one lead), ok(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def _owner_note(owner: Owner, sources: list[Source], needed_conf: int | None, target: float) -> str:
    if target <= HIT_TOLERANCE:
        return f"{owner.capitalize()} has no share of the target."
    if not sources:
        return f"{owner.capitalize()} has no sources in this scenario, so its share cannot be met."
    if needed_conf is None:
        return (
            f"No volume up to {MAX_VOLUME:,} per source reaches {owner}'s share with these rates."
        )
    return ""


def plan(scenario: Scenario, confidence: float = DEFAULT_CONFIDENCE) -> PlanResult:
    """The reverse funnel and the needed first-stage volume of each owner (see module doc)."""
    confidence = check_confidence(confidence)
    owners: dict[Owner, OwnerPlan] = {}
    source_plans: dict[str, SourcePlan] = {}
    for owner in OWNERS:
        sources = scenario.owner_sources(owner)
        target = scenario.owner_target(owner)
        need_exp = volume_for_expectation(scenario, owner)
        need_conf = volume_for_confidence(scenario, owner, confidence)
        stage_names = {s.stages[0] for s in sources}
        owners[owner] = OwnerPlan(
            owner=owner,
            share=scenario.share(owner),
            target=target,
            first_stage=stage_names.pop() if len(stage_names) == 1 else None,
            committed_volume=sum(s.volume.mean for s in sources),
            expected_outcome=_per_win_value(scenario)
            * sum(timing.expected_wins(s, scenario.quarter_weeks) for s in sources),
            p_hit=owner_hit_probability(scenario, sources, target)
            if sources
            else float(target <= 0),
            needed_volume_expected=need_exp,
            needed_volume_at_confidence=need_conf,
            note=_owner_note(owner, sources, need_conf, target),
        )
        weights = _weights(sources) if sources else []
        for source, w in zip(sources, weights, strict=True):
            exp_v = None if need_exp is None else w * need_exp
            conf_v = None if need_conf is None else w * need_conf
            funnel = np.cumprod([1.0, *(r.mean for r in source.rates)])
            source_plans[source.name] = SourcePlan(
                name=source.name,
                owner=owner,
                committed_volume=source.volume.mean,
                needed_volume_expected=exp_v,
                needed_volume_at_confidence=conf_v,
                stages=tuple(
                    StagePlan(
                        stage=stage,
                        committed=source.volume.mean * f,
                        needed_expected=(exp_v or 0.0) * f,
                        needed_at_confidence=None if conf_v is None else conf_v * f,
                    )
                    for stage, f in zip(source.stages, funnel, strict=True)
                ),
            )
    return PlanResult(
        scenario=scenario.name,
        quarter=scenario.quarter,
        metric=scenario.metric,
        target=scenario.target,
        confidence=confidence,
        owners=owners,
        sources=tuple(source_plans[s.name] for s in scenario.sources),
    )
