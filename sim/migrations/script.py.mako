"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from alembic import op

from sim.migrations import record_schema

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
    record_schema(int(revision))


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
    record_schema(int(revision) - 1)
