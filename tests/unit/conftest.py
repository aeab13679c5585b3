"""Fixtures and the hypothesis profile for unit tests of sim/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine
from unit_helpers import SEED_FILE

import sim.store
from sim.models import Scenario, load_scenario
from sim.store import Store
from tests.postgres_db import throwaway_database

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


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test; dropped after it
    (tests/postgres_db.py: skipped without a server, except under CI=true, where it fails)."""
    with throwaway_database() as url:
        yield url


# ---- the store, on every backend ----------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'pact.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(autouse=True)
def close_every_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Closes the connections of every Store made in the test, pass or fail.

    Needed even for a refused store: Store() disposes its engine when the database is damaged,
    but not when the schema is newer, and PostgreSQL connections left to the garbage collector
    raise ResourceWarning (an error here).
    """
    engines: list[Engine] = []

    def tracked(*args: Any, **kwargs: Any) -> Engine:
        engines.append(create_engine(*args, **kwargs))
        return engines[-1]

    monkeypatch.setattr(sim.store, "create_engine", tracked)
    yield
    for engine in engines:
        engine.dispose()


@pytest.fixture
def store(store_url: str) -> Store:
    return Store(store_url)
