"""Fixtures and the hypothesis profile for unit tests of sim/."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from unit_helpers import SEED_FILE

from sim.models import Scenario, load_scenario

settings.register_profile(
    "pact",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("pact")


@pytest.fixture
def seed() -> Scenario:
    return load_scenario(SEED_FILE)


@pytest.fixture
def seed_dict() -> dict[str, Any]:
    return load_scenario(SEED_FILE).to_dict()
