"""The scenario store: append-only versions, stale saves refused, agreed plans locked,
concurrent writers and killed processes lose nothing, migrations upgrade in place.

Every test that takes `store` or `store_url` runs twice: on a SQLite file and on a fresh
PostgreSQL database (PACT_TEST_POSTGRES_URL, set by scripts/test; see the `postgres_url` fixture
in conftest.py: skipped when unset, failing under CI=true)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from legacy_schema import make_legacy_store
from sqlalchemy import create_engine, inspect, text
from unit_helpers import ROOT, SEED_FILE, write_release_one_rows

import sim.store
from sim.models import load_scenario
from sim.review import actuals_from_csv
from sim.store import LockedError, StaleVersionError, Store, StoreError, latest_schema

SEED = load_scenario(SEED_FILE)
ACTUALS_FILE = ROOT / "examples" / "actuals-2027-Q1.csv"


def moved(volume: float):  # a scenario that differs from the seed in one number
    data = SEED.to_dict()
    data["sources"][0]["volume"]["mean"] = volume
    from sim import parse_scenario

    return parse_scenario(data)


def test_the_store_runs_on_the_backend_it_was_given(
    store: Store, request: pytest.FixtureRequest
) -> None:
    backend = request.node.callspec.params["store_url"]
    with store.engine.connect() as c:
        if backend == "postgresql":
            assert (
                c.execute(text("SELECT current_database()")).scalar_one().startswith("pact_test_")
            )
        else:
            assert c.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert store.engine.dialect.name == backend
    assert store.scenarios() == []  # every test starts from an empty store


def test_versions_append_and_load_back(store: Store) -> None:
    first = store.create(SEED, "Maya")
    second = store.save(first.scenario_id, moved(170), "Sam", based_on=1)
    assert (first.number, second.number) == (1, 2)
    assert [v.author for v in store.versions(first.scenario_id)] == ["Maya", "Sam"]
    assert store.load(first.scenario_id, 1)[0] == SEED
    assert store.load(first.scenario_id)[0] == moved(170)
    assert store.schema_version() == latest_schema()


def test_stale_save_is_refused_and_nothing_is_lost(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.save(sid, moved(170), "Maya", based_on=1)
    with pytest.raises(StaleVersionError, match="save yours as a new scenario, or reload"):
        store.save(sid, moved(180), "Sam", based_on=1)
    assert [v.number for v in store.versions(sid)] == [1, 2]
    copy = store.duplicate(sid, "Sam", name="Sam's proposal")
    assert store.load(copy.scenario_id)[0].name == "Sam's proposal"


def test_agreed_version_is_locked_and_a_new_agreement_supersedes(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    first = store.agree(sid, 1, ["Maya", "Sam", " "])
    assert first.agreed_by == "Maya, Sam"
    with pytest.raises(LockedError, match="agreed plan"):
        store.save(sid, moved(170), "Maya", based_on=1)
    other = store.create(moved(175), "Sam").scenario_id
    second = store.agree(other, 1, ["Maya", "Sam"])
    record = store.agreements(SEED.quarter)
    assert [a.id for a in record] == [first.id, second.id]
    assert record[0].superseded_at is not None
    assert record[1].superseded_at is None
    with pytest.raises(StoreError, match="agreed_by"):
        store.agree(other, 1, [])


def test_soft_delete_and_restore(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.set_deleted(sid, True)
    assert [s.id for s in store.scenarios()] == []
    assert [s.id for s in store.scenarios(deleted=True)] == [sid]
    store.set_deleted(sid, False)
    assert [s.id for s in store.scenarios()] == [sid]
    assert store.load(sid)[0] == SEED


def test_threads_saving_at_once_lose_nothing(store: Store) -> None:
    sid = store.create(SEED, "start").scenario_id
    saved: list[int] = []
    refused = 0
    lock = threading.Lock()

    def writer(name: str) -> None:
        nonlocal refused
        for k in range(15):
            while True:
                head = store.load(sid)[1].number
                try:
                    v = store.save(sid, moved(100 + k), name, based_on=head)
                except StaleVersionError:
                    with lock:
                        refused += 1
                    continue
                with lock:
                    saved.append(v.number)
                break

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [v.number for v in store.versions(sid)]
    assert numbers == list(range(1, 62))
    assert sorted(saved) == list(range(2, 62))


WRITER = """
import sys
from sim.models import load_scenario
from sim.store import StaleVersionError, Store
store = Store(sys.argv[1]); sid = sys.argv[2]; name = sys.argv[3]
seed = load_scenario("examples/seed-sla.json")
done = 0
while done < int(sys.argv[4]):
    head = store.load(sid)[1].number
    try:
        store.save(sid, seed, name, based_on=head)
        done += 1
    except StaleVersionError:
        pass
    print(done, flush=True)
"""


def test_two_processes_lose_nothing(store: Store) -> None:
    sid = store.create(SEED, "start").scenario_id
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store.url, sid, f"p{i}", "20"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    assert [v.number for v in store.versions(sid)] == list(range(1, 42))


def test_killing_a_writer_mid_save_leaves_every_committed_version(store: Store) -> None:
    sid = store.create(SEED, "start").scenario_id
    for _ in range(12):
        p = subprocess.Popen(
            [sys.executable, "-c", WRITER, store.url, sid, "victim", "100000"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert p.stdout is not None
        p.stdout.readline()  # it is saving now
        time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
    fresh = Store(store.url)  # reopen as a restarted server would
    versions = fresh.versions(sid)
    assert [v.number for v in versions] == list(range(1, len(versions) + 1))
    assert len(versions) > 12
    for v in versions[-3:]:
        fresh.load(sid, v.number)  # every committed version reads back


# SQLite only: a PostgreSQL store is a database on a server, not a file someone could point the
# app at by mistake; the newer-schema test below is what "refused, left unchanged" means there.
def test_a_foreign_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not a database" * 100)
    before = junk.read_bytes()
    with pytest.raises(StoreError, match="not a Pipeline Pact store or is damaged"):
        Store(f"sqlite:///{junk}")
    assert junk.read_bytes() == before


def test_unknown_scenario_is_named(store: Store) -> None:
    with pytest.raises(StoreError, match="^scenario: no saved scenario 'nope'"):
        store.load("nope")


def test_rename_and_restore_append_versions(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.save(sid, moved(170), "Sam", based_on=1)
    renamed = store.rename(sid, "Sam's proposal", "Sam", based_on=2)
    assert renamed.number == 3
    assert [s.name for s in store.scenarios()] == ["Sam's proposal"]
    with pytest.raises(StaleVersionError):
        store.restore(sid, 1, "Maya", based_on=2)
    restored = store.restore(sid, 1, "Maya", based_on=3)
    assert store.load(sid)[0] == SEED
    assert restored.content_hash == store.versions(sid)[0].content_hash
    assert [v.number for v in store.versions(sid)] == [1, 2, 3, 4]


def test_kept_actuals_read_back_with_their_plan_version(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.save(sid, moved(170), "Maya", based_on=1)
    to_date = actuals_from_csv(ACTUALS_FILE.read_bytes(), SEED, week=6)
    final = actuals_from_csv(ACTUALS_FILE.read_bytes(), SEED)
    first = store.keep_actuals(sid, 1, to_date, "Maya")
    second = store.keep_actuals(sid, 2, final, "Sam")
    other = store.create(moved(175), "Sam").scenario_id
    kept = store.kept_actuals(sid)
    assert [(k.id, k.version, k.week, k.final) for k in kept] == [
        (first.id, 1, 6, False),
        (second.id, 2, final.weeks, True),
    ]
    assert kept[1].actuals == final
    assert store.kept_actuals(other) == []
    assert len(store.kept_actuals()) == 2


def test_an_older_store_is_migrated_and_keeps_its_data(store_url: str) -> None:
    old = make_legacy_store(store_url, 1)  # as the first release left it: scenarios, versions
    sid, other = "a1", "b2"
    write_release_one_rows(old, sid, SEED, "Maya")
    write_release_one_rows(old, other, moved(175), "Sam")
    old.dispose()
    new = Store(store_url)
    assert new.schema_version() == latest_schema()
    assert {s.id for s in new.scenarios()} == {sid, other}
    assert new.load(sid)[0] == SEED
    assert new.save(sid, moved(170), "Sam", based_on=1).number == 2
    new.agree(sid, 2, ["Maya", "Sam"])  # the tables of the later migrations work
    assert new.kept_actuals() == []
    assert new.versions(sid)[0].changes is None  # saved before changes were recorded
    assert [c.path for c in new.versions(sid)[1].changes] == [("sources", 0, "volume", "mean")]
    new.touch_presence(sid, "s1", "Maya", "drive")
    assert [p.name for p in new.presence(sid)] == ["Maya"]
    assert Store(store_url).schema_version() == latest_schema()  # reopening changes nothing


def test_a_store_from_a_newer_app_is_refused_and_left_unchanged(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    newer = str(latest_schema() + 1)
    with store.engine.begin() as c:
        c.execute(text("UPDATE pact_meta SET value=:v WHERE key='schema'"), {"v": newer})
    with pytest.raises(StoreError, match="newer than this app knows"):
        Store(store.url)
    with store.engine.connect() as c:
        assert c.execute(text("SELECT value FROM pact_meta WHERE key='schema'")).scalar() == newer
        assert (
            c.execute(text("SELECT head FROM pact_scenarios WHERE id=:s"), {"s": sid}).scalar() == 1
        )


APP_MIGRATIONS = sim.store.MIGRATIONS_DIR
NEXT_REVISION = """
from alembic import op
from sim.migrations import record_schema

revision = "{number:04d}"
down_revision = "{previous:04d}"
branch_labels = None
depends_on = None


def upgrade() -> None:
{statements}
    record_schema({number})


def downgrade() -> None:
    pass
"""


def with_revision(tmp_path: Path, statements: list[str]) -> Path:
    """A copy of the app's migrations with one more revision running `statements`."""
    import shutil

    folder = tmp_path / f"migrations-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(APP_MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    number = int(ScriptDirectory(str(APP_MIGRATIONS)).get_current_head() or 0) + 1
    body = "\n".join(f"    op.execute({s!r})" for s in statements)
    revision = NEXT_REVISION.format(number=number, previous=number - 1, statements=body)
    (folder / "versions" / f"{number:04d}_next.py").write_text(revision)
    return folder


def test_a_failing_migration_changes_nothing(
    store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    Store(store_url)  # the current schema
    current = latest_schema()
    broken = ["CREATE TABLE pact_partial (a INTEGER)", "CREATE TABLE pact_bad ("]
    monkeypatch.setattr(sim.store, "MIGRATIONS_DIR", with_revision(tmp_path, broken))
    with pytest.raises(StoreError, match="not a Pipeline Pact store or is damaged"):
        Store(store_url)
    engine = create_engine(store_url)
    try:
        assert "pact_partial" not in inspect(engine).get_table_names()
        with engine.connect() as c:
            assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                f"{current:04d}"
            )
    finally:
        engine.dispose()
    fixed = ["CREATE TABLE pact_partial (a INTEGER)"]
    monkeypatch.setattr(sim.store, "MIGRATIONS_DIR", with_revision(tmp_path, fixed))
    upgraded = Store(store_url)  # the corrected release upgrades the same store
    assert upgraded.schema_version() == current + 1


OPENER = """
import sys
from sim.store import Store
Store(sys.argv[1]).engine.dispose()
"""


def test_processes_opening_a_new_store_at_once_all_succeed(store_url: str) -> None:
    """Several servers starting on one empty database: the schema is made once, no refusals."""
    for _ in range(3):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, store_url],
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.strip().splitlines()[-1:]
    assert Store(store_url).schema_version() == latest_schema()


def test_nul_characters_in_names_do_not_break_a_save(store: Store) -> None:
    from sim import parse_scenario

    odd = parse_scenario({**SEED.to_dict(), "name": "Plan\x00Q1"})
    sid = store.create(odd, "Ma\x00ya").scenario_id
    assert store.load(sid)[0].name == "Plan\x00Q1"  # the scenario itself is kept exactly
    assert [s.name for s in store.scenarios()] == ["PlanQ1"]
    assert store.versions(sid)[0].author == "Maya"
    assert store.agree(sid, 1, ["Sam\x00", "Maya"]).agreed_by == "Sam, Maya"


def test_a_server_that_cannot_be_reached_is_named_without_its_password() -> None:
    url = "postgresql+psycopg://pact:s3cret@127.0.0.1:1/pact?connect_timeout=2"
    with pytest.raises(StoreError, match="^database: cannot open") as caught:
        Store(url)
    assert "s3cret" not in str(caught.value)
    assert "***" in str(caught.value)
