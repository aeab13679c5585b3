"""Scenarios and their append-only versions (schema 1).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from sim.migrations import record_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE IF NOT EXISTS pact_meta (key VARCHAR(40) PRIMARY KEY, "
        "value VARCHAR(200) NOT NULL)"
    )
    op.execute(
        """CREATE TABLE pact_scenarios (
            id VARCHAR(32) PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            quarter VARCHAR(16) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            deleted_at VARCHAR(40),
            head INTEGER NOT NULL)"""
    )
    op.execute(
        """CREATE TABLE pact_versions (
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            number INTEGER NOT NULL,
            author VARCHAR(200) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (scenario_id, number))"""
    )
    record_schema(1)


def downgrade() -> None:
    op.execute("DROP TABLE pact_versions")
    op.execute("DROP TABLE pact_scenarios")
    op.execute("DROP TABLE pact_meta")
