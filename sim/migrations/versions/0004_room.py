"""The live room: what each version changed, field by field; who is in the room (schema 4).

Revision ID: 0004
Revises: 0003

Downgrading drops the recorded changes (the versions themselves stay whole).
"""

from __future__ import annotations

from alembic import op

from sim.migrations import record_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE pact_versions ADD COLUMN changes TEXT")
    op.execute(
        """CREATE TABLE pact_presence (
            scenario_id VARCHAR(32) NOT NULL,
            session_id VARCHAR(64) NOT NULL,
            name VARCHAR(200) NOT NULL,
            mode VARCHAR(16) NOT NULL,
            seen_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (scenario_id, session_id))"""
    )
    record_schema(4)


def downgrade() -> None:
    op.execute("DROP TABLE pact_presence")
    op.execute("ALTER TABLE pact_versions DROP COLUMN changes")  # SQLite 3.35+, PostgreSQL
    record_schema(3)
