"""Makes the stores in this folder with the store code of earlier commits (the hand-written
migrations, before Alembic), for tests/unit/test_migrations.py. Run once from the repository root:

    PACT_TEST_POSTGRES_URL=... .venv/bin/python tests/unit/data/make_legacy_stores.py

store-schema3.{db,sql}: sim/store.py at 7dc5a1e (schema 3: scenarios, agreements, actuals);
store-schema4.{db,sql}: sim/store.py at 8553b1a (schema 4: changes per version, presence).
.db is the SQLite file, .sql a plain pg_dump of the same data saved on PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
HERE = Path(__file__).parent

from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from sim.models import load_scenario, parse_scenario  # noqa: E402
from sim.review import actuals_from_csv  # noqa: E402

COMMITS = {3: "7dc5a1e", 4: "8553b1a"}


def old_store(commit: str) -> Any:
    """sim/store.py as it was at `commit`, imported inside the sim package."""
    source = subprocess.run(
        ["git", "show", f"{commit}:sim/store.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp())
    path = folder / f"store_{commit}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"sim.store_{commit}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "sim"
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fill(module: Any, url: str, schema: int) -> None:
    store = module.Store(url)
    assert store.schema_version() == schema
    seed = load_scenario(ROOT / "examples" / "seed-sla.json")

    def moved(volume: float, name: str = "Seed plan") -> Any:
        data = seed.to_dict()
        data["sources"][0]["volume"]["mean"] = volume
        data["name"] = name
        return parse_scenario(data)

    first = store.create(seed, "Maya").scenario_id
    for k in range(4):
        store.save(first, moved(165 + k), ["Maya", "Sam"][k % 2], based_on=k + 1)
    store.rename(first, "Marketing's proposal", "Maya", based_on=5)
    second = store.create(moved(190, "Sales' proposal"), "Sam").scenario_id
    store.agree(second, 1, ["Maya", "Sam"])
    actuals = (ROOT / "examples" / "actuals-2027-Q1.csv").read_bytes()
    store.keep_actuals(second, 1, actuals_from_csv(actuals, moved(190, "Sales' proposal")), "Sam")
    gone = store.duplicate(first, "Sam", name="Old idea").scenario_id
    store.set_deleted(gone, True)
    store.create(moved(170, "Name with \x00 NUL and ünïcödé"), "Zoë")
    if schema >= 4:
        from sim.merge import FieldChange

        change = FieldChange(("sources", 0, "volume", "mean"), 190.0, 200.0)
        store.apply(gone, [change], "Maya", seen=1)
        store.touch_presence(first, "session-1", "Maya", "drive")
    store.engine.dispose()


def main() -> None:
    pg = os.environ.get("PACT_TEST_POSTGRES_URL")
    for schema, commit in COMMITS.items():
        module = old_store(commit)
        db = HERE / f"store-schema{schema}.db"
        db.unlink(missing_ok=True)
        fill(module, f"sqlite:///{db}", schema)
        engine = create_engine(f"sqlite:///{db}", poolclass=NullPool)
        with engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            c.exec_driver_sql("PRAGMA journal_mode=DELETE")
        engine.dispose()
        for extra in ("-wal", "-shm"):
            Path(f"{db}{extra}").unlink(missing_ok=True)
        if not pg:
            print("PACT_TEST_POSTGRES_URL unset: no PostgreSQL dumps made", file=sys.stderr)
            continue
        admin = create_engine(pg, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        name = f"pact_legacy_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg).set(database=name)
        try:
            fill(module, url.render_as_string(hide_password=False), schema)
            libpq = "postgresql://" + url.render_as_string(hide_password=False).split("://", 1)[1]
            pg_dump = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))
            dump = str(pg_dump[-1]) if pg_dump else shutil.which("pg_dump")
            out = subprocess.run(
                [dump, "--no-owner", "--no-privileges", "--format=plain", libpq],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            (HERE / f"store-schema{schema}.sql").write_text(out)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
