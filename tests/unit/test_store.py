"""The scenario store: append-only versions, stale saves refused, agreed plans locked,
concurrent writers and killed processes lose nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from unit_helpers import ROOT, SEED_FILE

from sim.models import load_scenario
from sim.store import MIGRATIONS, LockedError, StaleVersionError, Store, StoreError

SEED = load_scenario(SEED_FILE)


def moved(volume: float):  # a scenario that differs from the seed in one number
    data = SEED.to_dict()
    data["sources"][0]["volume"]["mean"] = volume
    from sim import parse_scenario

    return parse_scenario(data)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'pact.db'}")


def test_versions_append_and_load_back(store: Store) -> None:
    first = store.create(SEED, "Maya")
    second = store.save(first.scenario_id, moved(170), "Sam", based_on=1)
    assert (first.number, second.number) == (1, 2)
    assert [v.author for v in store.versions(first.scenario_id)] == ["Maya", "Sam"]
    assert store.load(first.scenario_id, 1)[0] == SEED
    assert store.load(first.scenario_id)[0] == moved(170)
    assert store.schema_version() == len(MIGRATIONS)


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
