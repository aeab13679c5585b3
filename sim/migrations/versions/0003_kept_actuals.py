"""Actuals kept with the plan version they were reviewed against, append-only (schema 3).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from sim.migrations import record_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE pact_actuals (
            id VARCHAR(32) PRIMARY KEY,
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            version INTEGER NOT NULL,
            quarter VARCHAR(16) NOT NULL,
            week INTEGER NOT NULL,
            weeks INTEGER NOT NULL,
            author VARCHAR(200) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            body TEXT NOT NULL)"""
    )
    op.execute("CREATE INDEX pact_actuals_quarter ON pact_actuals (quarter, created_at)")
    record_schema(3)


def downgrade() -> None:
    op.execute("DROP INDEX pact_actuals_quarter")
    op.execute("DROP TABLE pact_actuals")
    record_schema(2)
