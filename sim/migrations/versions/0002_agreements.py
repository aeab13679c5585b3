"""Agreements: the locked, agreed plan of a quarter (schema 2).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from sim.migrations import record_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE pact_agreements (
            id VARCHAR(32) PRIMARY KEY,
            quarter VARCHAR(16) NOT NULL,
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            version INTEGER NOT NULL,
            agreed_by VARCHAR(400) NOT NULL,
            agreed_at VARCHAR(40) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            superseded_at VARCHAR(40))"""
    )
    record_schema(2)


def downgrade() -> None:
    op.execute("DROP TABLE pact_agreements")
    record_schema(1)
