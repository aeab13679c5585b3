"""The store's Alembic migrations: stores made by the code before Alembic (tests/unit/data, made
by sim/store.py of commits 7dc5a1e and 8553b1a) upgrade in place with nothing lost, on SQLite and
PostgreSQL; replicas opening an old store at once migrate it once; the alembic command shows the
history and rolls back and forth on the app's store."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool
from unit_helpers import ROOT

from sim.models import content_hash
from sim.store import Store, StoreError, latest_schema

DATA = Path(__file__).parent / "data"
ALEMBIC = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]


def old_store(schema: int, backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a copy of the store the old code made at `schema`."""
    if backend == "sqlite":
        copy = tmp_path / "old.db"
        shutil.copy(DATA / f"store-schema{schema}.db", copy)
        return f"sqlite:///{copy}"
    url: str = request.getfixturevalue("postgres_url")
    libpq = "postgresql://" + url.split("://", 1)[1]
    psql = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    done = subprocess.run(
        [str(psql[-1]) if psql else "psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-", libpq],
        input=(DATA / f"store-schema{schema}.sql").read_text(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return url


def rows(url: str) -> dict[str, Any]:
    """Every row the old schemas had, with a hash of each version's body."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as c:
        tables = set(inspect(c).get_table_names())
        out: dict[str, Any] = {
            "versions": [
                (*r[:5], hashlib.sha256(r.body.encode()).hexdigest())
                for r in c.execute(
                    text(
                        "SELECT scenario_id, number, author, created_at, content_hash, body "
                        "FROM pact_versions ORDER BY scenario_id, number"
                    )
                )
            ]
        }
        for table in ("pact_scenarios", "pact_agreements", "pact_actuals", "pact_presence"):
            if table in tables:
                out[table] = [
                    tuple(r) for r in c.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
                ]
        if "changes" in {col["name"] for col in inspect(c).get_columns("pact_versions")}:
            out["changes"] = c.execute(
                text("SELECT scenario_id, number, changes FROM pact_versions ORDER BY 1, 2")
            ).all()
    engine.dispose()
    return out


@pytest.mark.parametrize("schema", [3, 4])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_store_made_before_alembic_upgrades_with_nothing_lost(
    schema: int, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = old_store(schema, backend, tmp_path, request)
    before = rows(url)
    assert len(before["versions"]) >= 8
    store = Store(url)
    assert store.schema_version() == latest_schema()
    after = rows(url)
    assert {k: after[k] for k in before} == before  # every old row, byte for byte
    for info in store.scenarios() + store.scenarios(deleted=True):
        for v in store.versions(info.id):
            scenario, loaded = store.load(info.id, v.number)
            assert content_hash(scenario) == loaded.content_hash
    assert len(store.agreements()) == 1
    assert len(store.kept_actuals()) == 1
    assert len(store.scenarios(deleted=True)) == 1
    with store.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            f"{latest_schema():04d}"
        )
    sid = store.scenarios()[0].id  # and it works as a store of today
    head = store.head(sid)
    assert head is not None
    store.save(
        sid, store.load(sid)[0].model_copy(update={"name": "Renamed"}), "Maya", based_on=head
    )


OPENER = """
import sys
from sim.store import Store
Store(sys.argv[1]).engine.dispose()
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_replicas_opening_an_old_store_at_once_migrate_it_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = old_store(3, backend, tmp_path, request)
    before = rows(url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.strip().splitlines()[-1:]
    after = rows(url)
    assert {k: after[k] for k in before} == before
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).all() == [
            (f"{latest_schema():04d}",)
        ]
    engine.dispose()


def alembic(url: str, *args: str) -> str:
    done = subprocess.run(
        [*ALEMBIC, *args],
        cwd=ROOT,
        env={**os.environ, "PACT_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_alembic_command_shows_history_and_rolls_back_and_forth(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = old_store(4, backend, tmp_path, request)
    before = rows(url)
    history = alembic(url, "history")
    assert [line.split(",")[0] for line in history.strip().splitlines()] == [
        "0003 -> 0004 (head)",
        "0002 -> 0003",
        "0001 -> 0002",
        "<base> -> 0001",
    ]
    alembic(url, "downgrade", "-1")  # adopts the old store at schema 4, then one step back
    assert alembic(url, "current").split()[0] == "0003"
    old = rows(url)  # back at schema 3, as the app before the live room made it
    assert "changes" not in old
    assert "pact_presence" not in old
    assert old["versions"] == before["versions"]
    assert old["pact_agreements"] == before["pact_agreements"]
    alembic(url, "upgrade", "head")
    store = Store(url)
    assert store.schema_version() == latest_schema()
    assert rows(url)["versions"] == before["versions"]


def test_a_store_at_an_unknown_revision_is_refused_untouched(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pact.db'}"
    Store(url).engine.dispose()
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num='9999'"))
    with pytest.raises(StoreError, match="newer than this app knows"):
        Store(url)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    engine.dispose()
