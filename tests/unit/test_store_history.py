"""Store history: rename, restore, and actuals kept with the plan they were reviewed against.
Each test taking `store` runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from legacy_schema import make_legacy_store
from sqlalchemy import text
from unit_helpers import SEED_FILE, write_release_one_rows

from sim import parse_scenario
from sim.diff import diff
from sim.models import content_hash, load_scenario
from sim.review import Actuals, parse_actuals
from sim.store import LockedError, StaleVersionError, Store, StoreError, latest_schema

SEED = load_scenario(SEED_FILE)
FULL_QUARTER = {
    "sources": [
        {"name": "Inbound", "counts": {"MQL": 150, "SQL": 100, "Opportunity": 50, "Won": 22}},
        {"name": "Outbound", "counts": {"SQL": 123, "Opportunity": 62, "Won": 28}},
    ]
}


def moved(volume: float):
    data = SEED.to_dict()
    data["sources"][0]["volume"]["mean"] = volume
    return parse_scenario(data)


def test_rename_appends_a_version_that_differs_only_in_its_name(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    v2 = store.rename(sid, "Marketing's proposal", "Maya", based_on=1)
    assert v2.number == 2
    assert store.load(sid)[0].name == "Marketing's proposal"
    assert [c.label for c in diff(store.load(sid, 1)[0], store.load(sid, 2)[0])] == ["Name"]
    assert [s.name for s in store.scenarios()] == ["Marketing's proposal"]


def test_rename_refuses_an_empty_name_and_stores_nothing(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    with pytest.raises(StoreError, match="^name:"):
        store.rename(sid, "", "Maya", based_on=1)
    assert [v.number for v in store.versions(sid)] == [1]


def test_restore_appends_the_old_version_and_keeps_the_history(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.save(sid, moved(170), "Sam", based_on=1)
    store.save(sid, moved(190), "Sam", based_on=2)
    back = store.restore(sid, 1, "Maya", based_on=3)
    assert back.number == 4
    assert store.load(sid)[0] == SEED
    assert [store.load(sid, n)[0] for n in (1, 2, 3)] == [SEED, moved(170), moved(190)]


def test_restore_from_a_stale_view_is_refused(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.save(sid, moved(170), "Sam", based_on=1)
    with pytest.raises(StaleVersionError):
        store.restore(sid, 1, "Maya", based_on=1)
    assert store.head(sid) == 2


def test_rename_of_an_agreed_plan_is_refused(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.agree(sid, 1, ["Maya", "Sam"])
    with pytest.raises(LockedError):
        store.rename(sid, "Quietly changed", "Sam", based_on=1)
    assert store.load(sid)[0].name == SEED.name


def test_actuals_are_kept_with_their_plan_version_and_read_back(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    store.save(sid, moved(170), "Sam", based_on=1)
    to_date = parse_actuals({**FULL_QUARTER, "week": 6}, SEED)
    final = parse_actuals(FULL_QUARTER, SEED)
    first = store.keep_actuals(sid, 1, to_date, "  Priya ")
    second = store.keep_actuals(sid, 1, final, "")
    kept = store.kept_actuals(sid)
    assert [k.id for k in kept] == [first.id, second.id]
    assert (kept[0].version, kept[0].week, kept[0].author, kept[0].final) == (1, 6, "Priya", False)
    assert (kept[1].author, kept[1].final, kept[1].quarter) == ("unnamed", True, "2027-Q1")
    assert kept[1].actuals == final
    assert store.kept_actuals() == kept
    assert store.kept_actuals("someone-else") == []


def test_actuals_that_do_not_fit_the_plan_are_never_stored(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    growing = {
        "sources": [
            {"name": "Inbound", "counts": {"MQL": 100, "SQL": 120, "Opportunity": 50, "Won": 22}},
            {"name": "Outbound", "counts": {"SQL": 123, "Opportunity": 62, "Won": 28}},
        ]
    }
    with pytest.raises(StoreError, match=r"Inbound\.SQL: 120 reached SQL but only 100"):
        store.keep_actuals(sid, 1, Actuals.model_validate(growing), "Maya")
    foreign = {"sources": [{"name": "Partners", "counts": {"MQL": 5}}]}
    with pytest.raises(StoreError, match="sources"):
        store.keep_actuals(sid, 1, Actuals.model_validate(foreign), "Maya")
    with pytest.raises(StoreError, match="'nope'"):
        store.keep_actuals("nope", 1, parse_actuals(FULL_QUARTER, SEED), "Maya")
    assert store.kept_actuals() == []


def test_an_older_store_is_migrated_with_everything_in_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = make_legacy_store(url, 2)
    sid = "a1"
    write_release_one_rows(old, sid, SEED, "Maya")
    with old.begin() as c:  # an agreement as release two wrote it
        c.execute(
            text(
                "INSERT INTO pact_agreements (id, quarter, scenario_id, version, agreed_by, "
                "agreed_at, content_hash) VALUES ('g1', :q, :s, 1, 'Maya, Sam', "
                "'2026-11-02T10:00:00+00:00', :h)"
            ),
            {"q": SEED.quarter, "s": sid, "h": content_hash(SEED)},
        )
    old.dispose()
    new = Store(url)
    assert new.schema_version() == latest_schema() == 4
    assert new.load(sid)[0] == SEED
    assert [a.scenario_id for a in new.agreements()] == [sid]
    new.keep_actuals(sid, 1, parse_actuals(FULL_QUARTER, SEED), "Maya")
    assert len(new.kept_actuals(sid)) == 1


def test_scenarios_are_listed_most_recently_changed_first(store: Store) -> None:
    a = store.create(SEED, "Maya").scenario_id
    time.sleep(0.01)
    b = store.create(moved(170), "Sam").scenario_id
    assert [s.id for s in store.scenarios()] == [b, a]
    time.sleep(0.01)
    store.save(a, moved(180), "Maya", based_on=1)
    listed = store.scenarios()
    assert [s.id for s in listed] == [a, b]
    assert listed[0].updated_at > listed[0].created_at


def test_agreement_of_matches_only_the_exact_agreed_plan(store: Store) -> None:
    sid = store.create(SEED, "Maya").scenario_id
    assert store.current_agreement(SEED.quarter) is None
    assert store.agreement_of(SEED) is None
    first = store.agree(sid, 1, ["Maya", "Sam"])
    assert store.agreement_of(SEED) == first
    assert store.agreement_of(moved(170)) is None  # one number different: not the agreed plan
    other = store.create(moved(170), "Sam").scenario_id
    second = store.agree(other, 1, ["Maya", "Sam", "Ana"])
    assert store.current_agreement(SEED.quarter) == second
    assert store.agreement_of(SEED) is None  # superseded
    assert store.agreement_of(moved(170)) == second
