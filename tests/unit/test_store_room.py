"""The live room in the store: moves merged by field, conflicts named, presence, change notices.
Each test taking `store` runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_helpers import SEED_FILE

from sim.merge import FieldChange
from sim.models import ScenarioError, load_scenario
from sim.room import ChangeFeed
from sim.store import LockedError, Store

SEED = load_scenario(SEED_FILE)
MQL_SQL = ("sources", 0, "rates", 0, "mean")
SHARE = ("marketing_share",)
VOLUME = ("sources", 0, "volume", "mean")


def move(path, before, after) -> list[FieldChange]:
    return [FieldChange(path, before, after)]


def test_moves_on_different_fields_both_land_in_order(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    maya = store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Maya", seen=1)
    sam = store.apply(sid, move(SHARE, 0.5, 0.45), "Sam", seen=1)  # Sam's screen shows v1
    assert (maya.info.number, sam.info.number) == (2, 3)
    assert sam.replaced == ()  # different fields: no conflict
    latest, info = store.load(sid)
    assert latest.sources[0].rates[0].mean == 0.7
    assert latest.marketing_share == 0.45
    assert [(v.author, v.changes) for v in store.versions(sid)[1:]] == [
        ("Maya", (FieldChange(MQL_SQL, 0.75, 0.7),)),
        ("Sam", (FieldChange(SHARE, 0.5, 0.45),)),
    ]
    assert store.head_info(sid) == info
    assert store.head_info(sid).changes == (FieldChange(SHARE, 0.5, 0.45),)


def test_same_field_the_later_move_wins_and_names_what_it_replaced(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Sam", seen=1)
    mine = store.apply(sid, move(MQL_SQL, 0.75, 0.72), "Maya", seen=1)  # Maya saw v1 only
    (replaced,) = mine.replaced
    assert (replaced.value, replaced.author) == (0.7, "Sam")
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.72
    back = store.apply(sid, [replaced.undo()], "Maya", seen=mine.info.number)
    assert back.replaced == ()
    assert back.scenario.sources[0].rates[0].mean == 0.7
    assert [v.number for v in store.versions(sid)] == [1, 2, 3, 4]  # every move kept


def test_a_field_changed_before_my_screen_updated_is_not_a_conflict(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Sam", seen=1)
    mine = store.apply(sid, move(MQL_SQL, 0.7, 0.72), "Maya", seen=2)  # Maya's screen showed v2
    assert mine.replaced == ()


def test_a_move_that_changes_nothing_saves_nothing(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Sam", seen=1)
    same = store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Maya", seen=1)
    assert same.info.number == 2
    assert store.head(sid) == 2


def test_an_invalid_result_is_refused_naming_the_field_and_nothing_is_saved(
    store: Store,
) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    with pytest.raises(ScenarioError, match=r"sources\[0\]\.rates\[0\]\.mean"):
        store.apply(sid, move(MQL_SQL, 0.75, 1.4), "Maya", seen=1)
    assert store.head(sid) == 1


def test_the_agreed_plan_refuses_moves(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.agree(sid, 1, ["Maya", "Sam"])
    with pytest.raises(LockedError, match="agreed plan"):
        store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Maya", seen=1)


def test_threads_moving_different_fields_at_once_all_land(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    fields = [MQL_SQL, SHARE, VOLUME, ("sources", 1, "rates", 0, "mean")]
    values = [[0.6 + 0.01 * k for k in range(8)] for _ in fields]
    values[2] = [150 + k for k in range(8)]
    errors: list[BaseException] = []

    def leader(i: int) -> None:
        try:
            for v in values[i]:
                store.apply(sid, [FieldChange(fields[i], None, v)], f"L{i}", seen=1)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=leader, args=(i,)) for i in range(len(fields))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    versions = store.versions(sid)
    assert [v.number for v in versions] == list(range(1, 2 + 4 * 8))  # no move lost
    data = store.load(sid)[0].to_dict()
    from sim.merge import get

    assert [get(data, f) for f in fields] == [vs[-1] for vs in values]


def test_presence_lists_who_said_they_are_here_recently(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.touch_presence(sid, "a", "Maya", "drive")
    store.touch_presence(sid, "b", "Projector", "follow")
    store.touch_presence(sid, "a", "Maya K.", "drive")  # the same session, renamed
    assert [(p.name, p.mode) for p in store.presence(sid)] == [
        ("Maya K.", "drive"),
        ("Projector", "follow"),
    ]
    assert store.presence(sid, within=-1) == []  # nobody was seen in the future
    store.leave(sid, "b")
    assert [p.session_id for p in store.presence(sid)] == ["a"]


def test_the_change_feed_sees_a_save_from_another_store_object(store: Store) -> None:
    """Two app processes are two Store objects on one database: a save through one reaches
    the other's feed (LISTEN/NOTIFY on PostgreSQL, a poll of the head on SQLite)."""
    sid = store.create(SEED, "Maya").scenario_id
    other = Store(store.url)
    feed = ChangeFeed(other)
    try:
        assert feed.head(sid) == 1
        store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Maya", seen=1)
        assert feed.wait_for(sid, 2, timeout=5) == 2
        assert feed.head("no-such-scenario") is None
    finally:
        feed.close()
        other.engine.dispose()


def test_a_save_in_this_process_is_known_at_once_and_never_goes_back(store: Store) -> None:
    """A version saved by this process reaches the feed without a read of the head (the other
    screens of the process catch up on their next poll), and a stale read cannot undo it."""
    sid = store.create(SEED, "Maya").scenario_id
    feed = ChangeFeed(store)
    try:
        assert feed.head(sid) == 1  # read: serves the process for a while (SQLite)
        number = store.apply(sid, move(MQL_SQL, 0.75, 0.7), "Maya", seen=1).info.number
        feed.saved(sid, number)
        assert feed.head(sid) == 2
        feed.saved(sid, 1)  # an older save reported late
        assert feed.head(sid) == 2
    finally:
        feed.close()


def test_the_change_feed_hears_an_agreement_made_through_another_store_object(
    store: Store, monkeypatch
) -> None:
    """An agreement adds no version, so screens ask the feed for the quarter's agreed plan too:
    one made through another process reaches it within a poll, one of its own at once, and a
    read that started before its own agreement does not replace it."""
    import time

    import sim.room

    sid = store.create(SEED, "Maya").scenario_id
    other = Store(store.url)
    feed = ChangeFeed(other)
    try:
        assert feed.agreement(SEED.quarter) == ""  # none yet
        agreement = store.agree(sid, 1, ["Maya", "Sam"])
        deadline = time.monotonic() + 10
        while feed.agreement(SEED.quarter) == "" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert feed.agreement(SEED.quarter) == agreement.id
        assert feed.agreement("2031-Q4") == ""  # another quarter has none
        monkeypatch.setattr(sim.room, "POLL_S", 3600.0)  # what follows is not a matter of time
        asked = time.monotonic()  # a read starts (it will say: Maya and Sam's agreement) ...
        feed.agreed(SEED.quarter, "0123456789ab")  # ... this process agrees meanwhile ...
        assert feed.agreed(SEED.quarter, agreement.id, asked) == "0123456789ab"  # ... and stays
        assert feed.agreement(SEED.quarter) == "0123456789ab"  # known at once, without a read
    finally:
        feed.close()
        other.engine.dispose()


def test_the_change_feed_forgets_what_it_has_not_heard_of_lately(store: Store, monkeypatch) -> None:
    """The head route answers anyone holding one link, about any ids and quarters they name:
    past KEPT_MAX entries the feed forgets those not learnt in FORGET_S, and a forgotten head is
    read again, right."""
    import sim.room

    sid = store.create(SEED, "Maya").scenario_id
    feed = ChangeFeed(store)
    monkeypatch.setattr(sim.room, "KEPT_MAX", 50)
    monkeypatch.setattr(sim.room, "FORGET_S", 0.0)
    try:
        assert feed.head(sid) == 1
        for i in range(200):
            feed.head(f"{i:012x}")
            feed.agreement(f"{2000 + i}-Q1")
        assert len(feed._heads) <= 50
        assert len(feed._agreed) <= 50
        assert feed.head(sid) == 1
    finally:
        feed.close()


@settings(max_examples=10)
@given(
    st.lists(st.sampled_from([0.55, 0.6, 0.65, 0.7]), min_size=1, max_size=5),
    st.lists(st.sampled_from([0.4, 0.45, 0.5, 0.55]), min_size=1, max_size=5),
    st.randoms(use_true_random=False),
)
def test_any_interleaving_of_two_leaders_on_different_fields_keeps_both(a, b, rnd) -> None:
    """Each leader's screen refreshes only after its own moves (the worst case)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'pact.db'}")
        try:
            sid = store.create(SEED, "Maya").scenario_id
            order = ["Maya"] * len(a) + ["Sam"] * len(b)
            rnd.shuffle(order)
            queue = {"Maya": [(MQL_SQL, v) for v in a], "Sam": [(SHARE, v) for v in b]}
            seen = {"Maya": 1, "Sam": 1}
            current = {MQL_SQL: 0.75, SHARE: 0.5}
            expected = []  # a move to the value already there saves nothing
            for who in order:
                path, value = queue[who].pop(0)
                done = store.apply(sid, [FieldChange(path, None, value)], who, seen=seen[who])
                assert done.replaced == ()
                seen[who] = done.info.number
                if current[path] != value:
                    expected.append((who, value))
                    current[path] = value
            latest = store.load(sid)[0]
            assert latest.sources[0].rates[0].mean == a[-1]
            assert latest.marketing_share == b[-1]
            assert [(v.author, v.changes[0].after) for v in store.versions(sid)[1:]] == expected
        finally:
            store.engine.dispose()
