"""Planning: the deterministic reverse funnel and the back-solve of first-stage volume.

For each owner, its sources are scaled together (each keeps its share of the owner's
committed first-stage volume) and the smallest whole total volume is found that reaches the
owner's share of the target in expectation, and with a chosen probability. Probabilities come
from the exact law of the owner's outcome (engine.source_pmf), so the answer has no Monte
Carlo noise; sources too large to tabulate fall back to a fixed-seed simulation.

With time (sim.timing), only the wins that land by the quarter's last day count: a lead that
arrives late is worth less, and the opening pipeline delivers its part whatever the volume.

With a team (sim/team.py) the chances use what the SDRs book and AE overload; the volume
back-solve keeps AE overload and asks what volume is needed whoever books it; and sales' answer
is also given in people: the SDRs to add on the quarter's first day, or the weeks earlier the
planned hires must start (`people_needed`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from . import timing
from .engine import HIT_TOLERANCE, draw_bookings, draw_source_wins, expected_counts, source_pmf
from .models import MAX_VOLUME, OWNERS, Owner, Scenario, ScenarioError, Source
from .roster import Member
from .team import MAX_EXTRA_SDRS, MAX_WEEKS_EARLIER, Drive, drives, quarter_start, sdr_source

Drives = Mapping[str, Drive]

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


def owner_hit_probability(
    scenario: Scenario, sources: list[Source], target: float, drives: Drives | None = None
) -> float:
    """P(these sources together reach `target`) in the scenario's metric; `drives` is what the
    team changes per source name (none: the sources as typed)."""
    if target <= HIT_TOLERANCE:
        return 1.0
    law = np.ones(1)
    for source in sources:
        drive = (drives or {}).get(source.name)
        pmf = source_pmf(source, weeks=scenario.quarter_weeks, drive=drive)
        if pmf is None:
            return _simulated_hit_probability(scenario, sources, target, drives)
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


def _simulated_hit_probability(
    scenario: Scenario, sources: list[Source], target: float, drives: Drives | None = None
) -> float:
    streams = np.random.default_rng(0).spawn(len(sources) + 1)
    wins = np.zeros(FALLBACK_TRIALS, dtype=np.int64)
    for source, gen in zip(sources, streams[1:], strict=True):
        drive = (drives or {}).get(source.name)
        wins += draw_source_wins(
            source, gen, FALLBACK_TRIALS, weeks=scenario.quarter_weeks, drive=drive
        )
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
class PeopleNeeded:
    """Sales' answer in people when SDRs book its volume."""

    p_hit: float  # sales' chance with the team as planned
    confidence: float
    extra_sdrs: int | None  # SDRs starting on the quarter's first day; None: more than the cap
    weeks_earlier: int | None  # how much earlier every planned hire must start; None: no hires
    # or not enough even a year earlier
    hires: int  # people in the planned hires (SDRs starting on or after the quarter's first day)
    ramp_weeks: float  # the added SDRs' ramp and pace: those of the latest SDR cohort
    productivity: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "p_hit": self.p_hit,
            "confidence": self.confidence,
            "extra_sdrs": self.extra_sdrs,
            "weeks_earlier": self.weeks_earlier,
            "hires": self.hires,
            "ramp_weeks": self.ramp_weeks,
            "productivity": self.productivity,
        }

    def sentence(self, stage: str = "lead") -> str:
        """What it takes, in people, in one sentence."""
        sure = f"{self.confidence:.0%} sure"
        if self.extra_sdrs == 0:
            return f"The team as planned is already {sure} of sales' share."
        if self.extra_sdrs is None:
            text = f"even {MAX_EXTRA_SDRS:,} more SDRs would not make sales {sure}"
        else:
            n = self.extra_sdrs
            text = (
                f"{n} more SDR{'s' * (n != 1)} from the quarter's first day "
                f"({self.ramp_weeks:g} weeks' ramp, {self.productivity:g} {stage}s a week)"
            )
        if self.weeks_earlier is not None:
            w = self.weeks_earlier
            text += f", or the planned hires starting {w} week{'s' * (w != 1)} earlier"
        elif self.hires:
            h = self.hires
            text += f"; starting the {h} planned hire{'s' * (h != 1)} earlier is not enough"
        return f"To be {sure} of sales' share: {text}."


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
    people: PeopleNeeded | None = None

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
            "people_needed": None if self.people is None else self.people.to_dict(),
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


def _expected_outcome(scenario: Scenario, sources: list[Source], drives: Drives | None) -> float:
    """Expected outcome of these sources; where the team changes a source, from its exact law
    (AE overload is not linear in volume)."""
    weeks = scenario.quarter_weeks
    total = 0.0
    for s in sources:
        drive = (drives or {}).get(s.name)
        pmf = source_pmf(s, weeks=weeks, drive=drive) if drive is not None else None
        if drive is None:
            total += timing.expected_wins(s, weeks)
        elif pmf is not None:
            total += float(np.arange(len(pmf)) @ pmf)
        else:  # too large to tabulate: the expected funnel
            total += expected_counts(s, drive)[-1]
    return _per_win_value(scenario) * total


def _smallest(ok: Callable[[int], bool], start: int, limit: int, low: int = 0) -> int | None:
    """Smallest whole x in (low, limit] with ok(x), for ok monotone and not ok(low)."""
    high = max(low + 1, start)
    while not ok(high):
        if high >= limit:
            return None
        low, high = high, min(high * 2, limit)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def volume_for_expectation(
    scenario: Scenario, owner: Owner, drives: Drives | None = None
) -> int | None:
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
        return _with_overload(scenario, sources, target, needed, drives)
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
    return _with_overload(scenario, sources, target, needed, drives)


def _with_overload(
    scenario: Scenario, sources: list[Source], target: float, needed: int, drives: Drives | None
) -> int | None:
    """The volume whose expected outcome reaches `target`: `needed` when it is linear in the
    volume; with AE overload (a drive on these sources), more: overload only lowers it."""
    limit = MAX_VOLUME * len(sources)
    if not any(s.name in (drives or {}) for s in sources):
        return needed if needed <= limit else None
    return _smallest(
        lambda v: _expected_outcome(scenario, scale_sources(sources, v), drives) >= target - 1e-9,
        needed,
        limit,
        low=needed - 1,
    )


def volume_for_confidence(
    scenario: Scenario, owner: Owner, confidence: float, drives: Drives | None = None
) -> int | None:
    """Smallest whole first-stage volume with P(owner reaches its share) >= confidence."""
    confidence = check_confidence(confidence)
    sources = scenario.owner_sources(owner)
    target = scenario.owner_target(owner)
    if target <= HIT_TOLERANCE:
        return 0
    if not sources:
        return None

    def ok(total: int) -> bool:
        p = owner_hit_probability(scenario, scale_sources(sources, total), target, drives)
        return p >= confidence - 1e-12  # a tie within rounding counts as reached

    if any(s.timed for s in sources) and ok(0):
        return 0  # the opening pipeline alone is enough
    if all(s.win_probability == 0 for s in sources):
        return None
    limit = MAX_VOLUME * len(sources)
    high = max(1, volume_for_expectation(scenario, owner, drives) or 1)
    while not ok(high):
        if high >= limit:
            return None
        high = min(high * 2, limit)
    low = 0  # invariant: not ok(low) (target > 0 needs at least one lead), ok(high)
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if ok(mid) else (mid, high)
    return high


def _sales_chance(scenario: Scenario) -> float:
    sources = scenario.owner_sources("sales")
    return owner_hit_probability(
        scenario, sources, scenario.owner_target("sales"), drives(scenario)
    )


def _with_members(scenario: Scenario, members: list[Member]) -> Scenario:
    assert scenario.team is not None
    team = scenario.team.model_copy(update={"members": members})
    return scenario.model_copy(update={"team": team})


def people_needed(scenario: Scenario, confidence: float) -> PeopleNeeded | None:
    """Sales' share in people: SDRs to add on the quarter's first day (like the latest SDR
    cohort), or the weeks earlier the planned hires must start. None unless SDRs book a source.
    """
    confidence = check_confidence(confidence)
    team = scenario.team
    if team is None or sdr_source(scenario) is None:
        return None
    if team.ae_overload_win_factor >= 1 or not team.of_role("ae"):
        # Sales' chance then depends on sales' sources alone: a marketing move reuses the answer.
        scenario = scenario.model_copy(update={"sources": scenario.owner_sources("sales")})
    return _people_needed(scenario.model_dump_json(), confidence)


@lru_cache(maxsize=128)
def _people_needed(scenario_json: str, confidence: float) -> PeopleNeeded:
    scenario = Scenario.model_validate_json(scenario_json)
    team = scenario.team
    assert team is not None
    sdrs = team.of_role("sdr")
    latest = max(sdrs, key=lambda m: m.start_date)
    first = quarter_start(scenario.quarter)
    members = list(team.members)
    p_now = _sales_chance(scenario)

    def sure(candidate: Scenario) -> bool:
        return _sales_chance(candidate) >= confidence - 1e-12

    def extra(k: int) -> Scenario:
        name = "Extra SDRs"
        while any(m.name == name for m in members):
            name += "+"
        added = Member(
            name=name,
            role="sdr",
            people=min(k, 1000),
            start=first.isoformat(),
            ramp_weeks=latest.ramp_weeks,
            productivity=latest.productivity,
        )
        return _with_members(scenario, [*members, added])

    reached = p_now >= confidence - 1e-12
    extra_sdrs = 0 if reached else _smallest(lambda k: sure(extra(k)), 1, MAX_EXTRA_SDRS)
    hires = [i for i, m in enumerate(members) if m.role == "sdr" and m.start_date >= first]

    def earlier(weeks: int) -> Scenario:
        moved = [
            m.model_copy(update={"start": (m.start_date - timedelta(weeks=weeks)).isoformat()})
            if i in hires
            else m
            for i, m in enumerate(members)
        ]
        return _with_members(scenario, moved)

    weeks_earlier: int | None = None
    if reached:
        weeks_earlier = 0
    elif hires and sure(earlier(MAX_WEEKS_EARLIER)):
        weeks_earlier = _smallest(lambda w: sure(earlier(w)), 1, MAX_WEEKS_EARLIER)
    return PeopleNeeded(
        p_hit=p_now,
        confidence=confidence,
        extra_sdrs=extra_sdrs,
        weeks_earlier=weeks_earlier,
        hires=sum(members[i].people for i in hires),
        ramp_weeks=latest.ramp_weeks,
        productivity=latest.productivity,
    )


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
    driven = drives(scenario)  # what the team books and carries: the chances
    typed = drives(scenario, sdr_volume=False)  # the volume back-solve keeps only AE load
    for owner in OWNERS:
        sources = scenario.owner_sources(owner)
        target = scenario.owner_target(owner)
        need_exp = volume_for_expectation(scenario, owner, typed)
        need_conf = volume_for_confidence(scenario, owner, confidence, typed)
        stage_names = {s.stages[0] for s in sources}
        owners[owner] = OwnerPlan(
            owner=owner,
            share=scenario.share(owner),
            target=target,
            first_stage=stage_names.pop() if len(stage_names) == 1 else None,
            committed_volume=sum(s.volume.mean for s in sources),
            expected_outcome=_expected_outcome(scenario, sources, driven),
            p_hit=owner_hit_probability(scenario, sources, target, driven)
            if sources
            else float(target <= 0),
            needed_volume_expected=need_exp,
            needed_volume_at_confidence=need_conf,
            note=_owner_note(owner, sources, need_conf, target),
            people=people_needed(scenario, confidence) if owner == "sales" else None,
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
