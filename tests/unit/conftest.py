"""Fixtures and the hypothesis profile for unit tests of sim/."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.pool import NullPool
from unit_helpers import SEED_FILE

import sim.store
from sim.models import Scenario, load_scenario
from sim.store import Store

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


POSTGRES_URL_VARIABLE = "PACT_TEST_POSTGRES_URL"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test; dropped after it.

    PACT_TEST_POSTGRES_URL names a server and a database to connect to first (scripts/test starts
    a throwaway server and sets it); its user must be allowed to create databases. Unset, the
    test is skipped, except under CI=true, where it fails: CI must run the PostgreSQL tests.
    """
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{POSTGRES_URL_VARIABLE} is not set: under CI=true the PostgreSQL store tests "
                "must run (scripts/test starts a server and sets it)"
            )
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_URL_VARIABLE} or run scripts/test")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"pact_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:  # FORCE: also ends connections a test left open (PG 13+)
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
