"""Stores as the hand-written migrations made them, before the store moved to Alembic: the SQL
and the upgrade of sim/store.py at commit 8553b1a, kept verbatim so tests can make a store at any
of schemas 1-4 and check that today's store upgrades it in place."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

LEGACY_MIGRATIONS: list[list[str]] = [
    [  # 1: scenarios and their append-only versions
        """CREATE TABLE pact_scenarios (
            id VARCHAR(32) PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            quarter VARCHAR(16) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            deleted_at VARCHAR(40),
            head INTEGER NOT NULL)""",
        """CREATE TABLE pact_versions (
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            number INTEGER NOT NULL,
            author VARCHAR(200) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (scenario_id, number))""",
    ],
    [  # 2: agreements (the locked, agreed plan of a quarter)
        """CREATE TABLE pact_agreements (
            id VARCHAR(32) PRIMARY KEY,
            quarter VARCHAR(16) NOT NULL,
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            version INTEGER NOT NULL,
            agreed_by VARCHAR(400) NOT NULL,
            agreed_at VARCHAR(40) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            superseded_at VARCHAR(40))""",
    ],
    [  # 3: actuals kept with the plan version they were reviewed against (append-only)
        """CREATE TABLE pact_actuals (
            id VARCHAR(32) PRIMARY KEY,
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            version INTEGER NOT NULL,
            quarter VARCHAR(16) NOT NULL,
            week INTEGER NOT NULL,
            weeks INTEGER NOT NULL,
            author VARCHAR(200) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            body TEXT NOT NULL)""",
        "CREATE INDEX pact_actuals_quarter ON pact_actuals (quarter, created_at)",
    ],
    [  # 4: the live room: what each version changed (field by field), who is in the room
        "ALTER TABLE pact_versions ADD COLUMN changes TEXT",
        """CREATE TABLE pact_presence (
            scenario_id VARCHAR(32) NOT NULL,
            session_id VARCHAR(64) NOT NULL,
            name VARCHAR(200) NOT NULL,
            mode VARCHAR(16) NOT NULL,
            seen_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (scenario_id, session_id))""",
    ],
]


def make_legacy_store(url: str, upto: int) -> Engine:
    """An empty store at schema `upto`, made as the hand-written migrations made it."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("BEGIN IMMEDIATE")
        c.execute(
            text(
                "CREATE TABLE IF NOT EXISTS pact_meta (key VARCHAR(40) PRIMARY KEY, "
                "value VARCHAR(200) NOT NULL)"
            )
        )
        for number in range(1, upto + 1):
            for statement in LEGACY_MIGRATIONS[number - 1]:
                c.execute(text(statement))
            c.execute(text("DELETE FROM pact_meta WHERE key='schema'"))
            c.execute(
                text("INSERT INTO pact_meta (key, value) VALUES ('schema', :v)"),
                {"v": str(number)},
            )
        c.commit()
    return engine
