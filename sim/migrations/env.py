"""Alembic environment of the scenario store.

Run by `sim.store.Store` when it opens a store (it passes its own connection, already holding
the migration lock, in `config.attributes["connection"]`), or by the `alembic` command, which
opens the store the app would use (PACT_DATABASE_URL, else database_url in
.streamlit/secrets.toml, else data/pact.db) and takes the same lock. A store made before Alembic
(schema number in pact_meta, no alembic_version table) is adopted at its number first.
"""

from __future__ import annotations

from logging.config import fileConfig
from pathlib import Path

from alembic import context
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.pool import NullPool

from sim.store import configured_url, take_migration_lock

ROOT = Path(__file__).resolve().parents[2]


def legacy_schema(connection: Connection) -> int:
    """The schema number a store made by the hand-written migrations recorded (0: none)."""
    if not inspect(connection).has_table("pact_meta"):
        return 0
    value = connection.execute(text("SELECT value FROM pact_meta WHERE key='schema'")).scalar()
    return int(value) if value else 0


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        migration = context.get_context()
        if migration.get_current_revision() is None and (number := legacy_schema(connection)):
            migration.stamp(context.script, f"{number:04d}")
        context.run_migrations()


if context.config.config_file_name is not None:  # the alembic command: its log settings
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    context.configure(url=configured_url(ROOT), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := context.config.attributes.get("connection")) is not None:
    run(given)
else:
    engine = create_engine(configured_url(ROOT), poolclass=NullPool)
    with engine.connect() as connection:
        take_migration_lock(connection)
        run(connection)
        connection.commit()
    engine.dispose()
