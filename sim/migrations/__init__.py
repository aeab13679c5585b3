"""The store's schema history as an Alembic environment (env.py, versions/).

Revision "0001" ... "0004" are the store's schema numbers 1-4 (the hand-written migrations they
replace, same SQL); each upgrade also records its number in `pact_meta` (key `schema`), so an
older app that still reads that number refuses a store newer than it knows. `sim.store.Store`
runs them when it opens a store; operators can run them with the `alembic` command
(alembic.ini in the project root; docs/deploy.md).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text


def record_schema(number: int) -> None:
    """Write the schema number into pact_meta (what the hand-written migrations kept there)."""
    op.execute(text("DELETE FROM pact_meta WHERE key='schema'"))
    if number > 0:
        op.execute(
            text("INSERT INTO pact_meta (key, value) VALUES ('schema', :v)").bindparams(
                v=str(number)
            )
        )
