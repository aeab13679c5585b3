"""Backups (scripts/backup): dump a PostgreSQL store, drop its database, restore the dump;
every scenario, version, agreement and kept actuals come back with equal content hashes."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool
from unit_helpers import ROOT, SEED_FILE

from sim import parse_scenario
from sim.models import content_hash, load_scenario
from sim.review import actuals_from_csv
from sim.store import Store

SEED = load_scenario(SEED_FILE)
ACTUALS = ROOT / "examples" / "actuals-2027-Q1.csv"


def variant(volume: float, name: str):
    data = SEED.to_dict()
    data["sources"][0]["volume"]["mean"] = volume
    data["name"] = name
    return parse_scenario(data)


def snapshot(store: Store) -> dict[str, object]:
    """Everything a leader saved, with a hash of each stored body."""
    with store.engine.connect() as c:
        versions = c.execute(
            text(
                "SELECT scenario_id, number, author, created_at, content_hash, body FROM "
                "pact_versions ORDER BY scenario_id, number"
            )
        ).all()
        tables = {
            table: c.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            for table in ("pact_scenarios", "pact_agreements", "pact_actuals", "pact_meta")
        }
    return {
        "versions": [(*v[:5], hashlib.sha256(v.body.encode()).hexdigest()) for v in versions],
        **{k: [tuple(r) for r in rows] for k, rows in tables.items()},
    }


def backup(command: str, target: Path, url: str) -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "backup"), command, str(target)],
        env={**os.environ, "PACT_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_dump_drop_restore_brings_every_version_back(postgres_url: str, tmp_path: Path) -> None:
    store = Store(postgres_url)
    first = store.create(SEED, "Maya").scenario_id
    for k in range(5):
        store.save(first, variant(165 + k, "Seed plan"), "Sam" if k % 2 else "Maya", based_on=k + 1)
    proposal = variant(190, "Sales' proposal")
    second = store.create(proposal, "Sam").scenario_id
    store.agree(second, 1, ["Maya", "Sam"])
    store.keep_actuals(second, 1, actuals_from_csv(ACTUALS.read_bytes(), proposal), "Sam")
    store.set_deleted(first, True)
    before = snapshot(store)
    store.engine.dispose()

    dump = Path(backup("dump", tmp_path / "backups", postgres_url))
    assert dump.parent == tmp_path / "backups"
    assert dump.stat().st_size > 0

    url = make_url(postgres_url)
    admin = create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE "{url.database}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    empty = create_engine(postgres_url, poolclass=NullPool)
    with empty.connect() as c:  # really gone
        assert c.execute(text("SELECT to_regclass('pact_versions')")).scalar() is None
    empty.dispose()

    backup("restore", dump, postgres_url)
    restored = Store(postgres_url)
    assert snapshot(restored) == before
    for sid in (first, second):
        for v in restored.versions(sid):
            scenario, info = restored.load(sid, v.number)
            assert content_hash(scenario) == info.content_hash
    assert restored.current_agreement(SEED.quarter) is not None
    assert len(restored.kept_actuals(second)) == 1
    assert [s.id for s in restored.scenarios(deleted=True)] == [first]


def test_old_dumps_are_rotated(postgres_url: str, tmp_path: Path) -> None:
    Store(postgres_url).engine.dispose()
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 5):  # older dumps, by modification time
        old = folder / f"pact-2026010{day}-021500.dump"
        old.write_bytes(b"old")
        os.utime(old, (1_700_000_000 + day, 1_700_000_000 + day))
    done = subprocess.run(
        [str(ROOT / "scripts" / "backup"), "dump", str(folder), "3"],
        env={**os.environ, "PACT_DATABASE_URL": postgres_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [
        "pact-20260103-021500.dump",
        "pact-20260104-021500.dump",
        Path(done.stdout.strip()).name,
    ]
