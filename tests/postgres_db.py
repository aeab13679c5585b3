"""A throwaway PostgreSQL database for one test, shared by the unit and browser layers.

PACT_TEST_POSTGRES_URL names a server and a database to connect to first (scripts/test starts a
throwaway server and sets it); its user must be allowed to create databases. Unset, the test is
skipped, except under CI=true, where it fails: CI must run the PostgreSQL tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

POSTGRES_URL_VARIABLE = "PACT_TEST_POSTGRES_URL"


@contextmanager
def throwaway_database(prefix: str = "pact_test") -> Iterator[str]:
    """The URL of a new, empty database on the test server; dropped afterwards."""
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{POSTGRES_URL_VARIABLE} is not set: under CI=true the PostgreSQL tests must run "
                "(scripts/test starts a server and sets it)"
            )
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_URL_VARIABLE} or run scripts/test")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:  # FORCE: also ends connections a test left open (PG 13+)
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
