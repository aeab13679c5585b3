"""SLA terms: firmographics only for the MQL; optional key keeps schema v1 files valid."""

from __future__ import annotations

import json

import pytest
from unit_helpers import ROOT

from sim import ScenarioError, parse_scenario
from sim.sla import SLA, FollowUp, MQLDefinition, SQLDefinition

SEED = json.loads((ROOT / "examples" / "seed-sla.json").read_text())


@pytest.mark.parametrize(
    "criterion",
    [
        "VP or above",
        "Director of IT",
        "C-level",
        "Has a need for the product",
        "Buying intent",
        "Requested a demo",
        "senior manager",
        "budget approved",
    ],
)
def test_person_and_need_criteria_are_refused_with_the_reason(criterion: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario({**SEED, "sla": {"mql": {"sectors": ["Retail", criterion]}}})
    message = str(err.value)
    assert message.startswith("sla.mql.sectors[1]:")
    assert "firmographics only" in message
    assert "SQL" in message


@pytest.mark.parametrize("key", ["role", "job_title", "seniority", "intent"])
def test_person_keys_are_refused(key: str) -> None:
    with pytest.raises(ScenarioError, match=f"^sla.mql.{key}: not an MQL criterion"):
        parse_scenario({**SEED, "sla": {"mql": {key: ["VP"]}}})


@pytest.mark.parametrize("sector", ["Manufacturing", "Logistics", "Financial services", "Retail"])
def test_firmographic_sectors_are_fine(sector: str) -> None:
    s = parse_scenario({**SEED, "sla": {"mql": {"sectors": [sector], "regions": ["Canada"]}}})
    assert s.sla is not None
    assert s.sla.mql.sectors == [sector]


def test_ranges_must_be_ordered() -> None:
    with pytest.raises(ScenarioError, match=r"^sla.mql.employees_max: 10 is below employees_min"):
        parse_scenario({**SEED, "sla": {"mql": {"employees_min": 50, "employees_max": 10}}})


def test_follow_up_bounds_are_named() -> None:
    with pytest.raises(
        ScenarioError, match=r"^sla.follow_up.first_touch_hours: must be at least 1"
    ):
        parse_scenario({**SEED, "sla": {"follow_up": {"first_touch_hours": 0}}})


def test_words() -> None:
    mql = MQLDefinition(regions=["Canada"], employees_min=200, revenue_max=5e7, sectors=["Retail"])
    assert mql.criteria() == [
        "Located in Canada",
        "Employees at least 200",
        "Annual revenue at most 50,000,000",
        "Sector: Retail",
    ]
    assert MQLDefinition().criteria() == ["Any company (no firmographic criteria set)"]
    assert SQLDefinition(timing=False).required() == ["Budget", "Authority", "Need"]
    terms = FollowUp(first_touch_hours=2, min_attempts=5, over_days=7).terms()
    assert terms[0] == "First touch within 2 business hours of the MQL"
    assert terms[1] == "At least 5 attempts over 7 days"
    assert SLA().mql == MQLDefinition()


def test_schema_v1_without_sla_is_unchanged() -> None:
    s = parse_scenario(SEED)
    assert s.sla is None
    assert "sla" not in s.to_dict()
