"""Scenario store: every save appends a version; nothing is overwritten or lost.

SQLAlchemy Core over any URL; SQLite by default (WAL mode, one file, no setup). The schema is
versioned with Alembic (sim/migrations): opening a store upgrades it in one locked transaction.
Concurrent editors use optimistic concurrency: a save names the version it was based on and is
refused with `StaleVersionError` when someone else saved in between.
"""

from __future__ import annotations

import functools
import json
import os
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from .merge import FieldChange, apply_changes, changes_between, get, touches
from .models import Scenario, ScenarioError, content_hash, parse_scenario, scenario_from_json
from .review import Actuals, check_actuals

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")  # the Alembic environment


class StoreError(ValueError):
    """The store cannot do what was asked; the message says why in a leader's words."""


class StaleVersionError(StoreError):
    """Someone saved this scenario after the version this edit started from."""


class LockedError(StoreError):
    """The version is part of an agreed plan and cannot change."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    scenario_id: str
    number: int
    author: str
    created_at: str
    content_hash: str
    # The fields this version changed from the one before (None: the first version, or saved
    # before the store recorded changes).
    changes: tuple[FieldChange, ...] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Replaced:
    """A value someone else had set, replaced by a later move on the same field."""

    change: FieldChange  # the move that replaced it
    value: Any  # what it replaced (ABSENT: the field was not there)
    author: str  # who had set it
    at: str  # when they saved it

    def undo(self) -> FieldChange:
        """The move that puts their value back."""
        return self.change.undo(self.value)


@dataclass(frozen=True, slots=True)
class Applied:
    """The result of applying moves on top of the latest version."""

    scenario: Scenario
    info: VersionInfo
    replaced: tuple[Replaced, ...] = ()


@dataclass(frozen=True, slots=True)
class Presence:
    """A session in a scenario's room, as it last said (at most PRESENCE_SECONDS ago)."""

    session_id: str
    name: str
    mode: str  # "drive" or "follow"
    seen_at: str


@dataclass(frozen=True, slots=True)
class ScenarioInfo:
    id: str
    name: str
    quarter: str
    head: int
    created_at: str
    deleted: bool
    updated_at: str  # when its newest version was saved


@dataclass(frozen=True, slots=True)
class Agreement:
    id: str
    quarter: str
    scenario_id: str
    version: int
    agreed_by: str
    agreed_at: str
    content_hash: str
    superseded_at: str | None


@dataclass(frozen=True, slots=True)
class KeptActuals:
    """Actuals kept with the plan version they were reviewed against."""

    id: str
    scenario_id: str
    version: int
    quarter: str
    week: int
    weeks: int
    author: str
    created_at: str
    actuals: Actuals

    @property
    def final(self) -> bool:
        return self.week >= self.weeks


_MIGRATION_LOCK = 7_402_211  # PostgreSQL advisory lock taken while the schema is upgraded


def take_migration_lock(c: Connection) -> None:
    """Start the schema upgrade's transaction under a lock held until it ends, so that several
    servers starting on one database upgrade it once (the others then find it up to date)."""
    if c.dialect.name == "sqlite":
        # pysqlite would run each CREATE outside any transaction; take the write lock first so
        # the whole upgrade commits or rolls back as one, and two processes opening a new store
        # wait for each other.
        c.exec_driver_sql("BEGIN IMMEDIATE")
    elif c.dialect.name == "postgresql":
        c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})


@functools.cache
def _script(location: str) -> ScriptDirectory:
    from alembic.script import ScriptDirectory  # imported when a store is opened, not before

    return ScriptDirectory(location)


def latest_schema() -> int:
    """The schema number this app upgrades stores to (its newest Alembic revision)."""
    head = _script(str(MIGRATIONS_DIR)).get_current_head()
    return int(head) if head else 0


NOTIFY_CHANNEL = "pact_room"  # PostgreSQL: every new version is announced as "<id>:<number>"
PRESENCE_SECONDS = 30  # a session counts as in the room this long after it last said so
_APPLY_TRIES = 50


def _first_line(exc: DatabaseError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig else str(exc).splitlines()[0]


def _column(text_: str) -> str:
    """Text for a plain column (names, authors): PostgreSQL refuses NUL characters. The exact
    scenario, NULs and all, is kept in the version's JSON body."""
    return text_.replace("\x00", "")


DATABASE_URL_VARIABLE = "PACT_DATABASE_URL"
DATA_DIR_VARIABLE = "PACT_DATA_DIR"


def local_url(root: Path) -> str:
    """The no-setup store: SQLite file pact.db in PACT_DATA_DIR (default: data/ under root)."""
    folder = Path(os.environ.get(DATA_DIR_VARIABLE, root / "data"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'pact.db'}"


def configured_url(root: Path) -> str:
    """Where the store lives, as the app finds it: PACT_DATABASE_URL, else `database_url` in
    root/.streamlit/secrets.toml, else local_url(root)."""
    if url := os.environ.get(DATABASE_URL_VARIABLE):
        return url
    secrets = root / ".streamlit" / "secrets.toml"
    if secrets.is_file():
        try:
            url = tomllib.loads(secrets.read_text(encoding="utf-8")).get("database_url")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise StoreError(f"database_url: cannot read {secrets}: {exc}") from None
        if url:
            return str(url)
    return local_url(root)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _changes_json(changes: Sequence[FieldChange]) -> str:
    return json.dumps([ch.to_dict() for ch in changes], ensure_ascii=False)


def _changes_of(raw: str | None) -> tuple[FieldChange, ...] | None:
    if raw is None:
        return None
    return tuple(FieldChange.from_dict(d) for d in json.loads(raw))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """All reads and writes of saved scenarios; each method is one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        shown = make_url(url).render_as_string(hide_password=True)
        connected = False
        try:
            self.engine.connect().close()  # reach the database (server, file, password)
            connected = True
            self._migrate()
        except DatabaseError as exc:
            self.engine.dispose()
            if not connected and isinstance(exc, OperationalError):
                raise StoreError(
                    f"database: cannot open {shown} ({_first_line(exc)}); check the address, "
                    "the server and the password, or start a fresh store"
                ) from None
            raise StoreError(
                f"database: {shown} is not a Pipeline Pact store or is damaged "
                f"({_first_line(exc)}); start a fresh store under another name, the old file "
                "is left untouched"
            ) from None
        except BaseException:
            self.engine.dispose()
            raise

    # ---- schema ----------------------------------------------------------------------------
    def _migrate(self) -> None:
        """Bring the schema up to date (Alembic, sim/migrations) in one transaction, one process
        at a time; a store newer than this app is refused untouched."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as c:
            take_migration_lock(c)
            script = _script(str(MIGRATIONS_DIR))
            head = script.get_current_head()
            current = MigrationContext.configure(c).get_current_revision()
            legacy = 0
            if inspect(c).has_table("pact_meta"):
                value = c.execute(text("SELECT value FROM pact_meta WHERE key='schema'")).scalar()
                legacy = int(value) if value else 0
            latest = latest_schema()
            known = {r.revision for r in script.walk_revisions()}
            if legacy > latest or (current is not None and current not in known):
                raise StoreError(
                    f"database: schema {current or legacy} is newer than this app knows "
                    f"({latest}); upgrade Pipeline Pact"
                )
            if current != head:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS_DIR))
                config.attributes["connection"] = c
                command.upgrade(config, "head")
            c.commit()

    def schema_version(self) -> int:
        with self.engine.connect() as c:
            return int(
                c.execute(text("SELECT value FROM pact_meta WHERE key='schema'")).scalar_one()
            )

    # ---- scenarios ------------------------------------------------------------------------
    def create(self, scenario: Scenario, author: str) -> VersionInfo:
        """A new saved scenario with its first version."""
        sid = uuid.uuid4().hex[:12]
        now = _now()
        with self.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO pact_scenarios (id, name, quarter, created_at, head) "
                    "VALUES (:id, :name, :q, :t, 1)"
                ),
                {"id": sid, "name": _column(scenario.name), "q": scenario.quarter, "t": now},
            )
            return self._insert_version(c, sid, 1, scenario, author, now)

    def _insert_version(
        self,
        c: Any,
        sid: str,
        number: int,
        scenario: Scenario,
        author: str,
        now: str,
        changes: Sequence[FieldChange] | None = None,
    ) -> VersionInfo:
        info = VersionInfo(
            sid,
            number,
            _column(author).strip()[:200] or "unnamed",
            now,
            content_hash(scenario),
            None if changes is None else tuple(changes),
        )
        c.execute(
            text(
                "INSERT INTO pact_versions (scenario_id, number, author, created_at, "
                "content_hash, body, changes) VALUES (:s, :n, :a, :t, :h, :b, :c)"
            ),
            {
                "s": sid,
                "n": number,
                "a": info.author,
                "t": now,
                "h": info.content_hash,
                "b": scenario.to_json(),
                "c": None if changes is None else _changes_json(changes),
            },
        )
        if self.engine.dialect.name == "postgresql":  # delivered when the transaction commits
            c.execute(
                text("SELECT pg_notify(:ch, :p)"), {"ch": NOTIFY_CHANNEL, "p": f"{sid}:{number}"}
            )
        return info

    def save(self, sid: str, scenario: Scenario, author: str, *, based_on: int) -> VersionInfo:
        """Append a version; refused if someone saved after `based_on` or it is agreed."""
        now = _now()
        try:
            with self.engine.begin() as c:
                row = c.execute(
                    text("SELECT head, deleted_at FROM pact_scenarios WHERE id=:id"), {"id": sid}
                ).first()
                if row is None:
                    raise StoreError(f"scenario: no saved scenario {sid!r}")
                if row.head != based_on:
                    raise StaleVersionError(
                        f"scenario: version {row.head} was saved since your version {based_on}; "
                        "save yours as a new scenario, or reload theirs"
                    )
                if self._locked(c, sid, based_on):
                    raise LockedError(
                        f"scenario: version {based_on} is the agreed plan and "
                        "cannot change; editing it starts a new scenario"
                    )
                # The guarded update makes the check-and-append atomic under concurrency.
                moved = c.execute(
                    text(
                        "UPDATE pact_scenarios SET head=:n, name=:name, "
                        "quarter=:q WHERE id=:id AND head=:old"
                    ),
                    {
                        "n": based_on + 1,
                        "name": _column(scenario.name),
                        "q": scenario.quarter,
                        "id": sid,
                        "old": based_on,
                    },
                )
                if moved.rowcount != 1:
                    raise StaleVersionError(
                        "scenario: someone saved at the same moment; "
                        "save yours as a new scenario, or reload theirs"
                    )
                before = self._body(c, sid, based_on)
                changes = changes_between(before, scenario.to_dict())
                return self._insert_version(c, sid, based_on + 1, scenario, author, now, changes)
        except IntegrityError:
            raise StaleVersionError(
                "scenario: someone saved at the same moment; save yours as "
                "a new scenario, or reload theirs"
            ) from None

    def load(self, sid: str, version: int | None = None) -> tuple[Scenario, VersionInfo]:
        with self.engine.connect() as c:
            if version is None:
                head = c.execute(
                    text("SELECT head FROM pact_scenarios WHERE id=:id"), {"id": sid}
                ).scalar()
                if head is None:
                    raise StoreError(f"scenario: no saved scenario {sid!r}")
                version = int(head)
            row = c.execute(
                text(
                    "SELECT number, author, created_at, content_hash, body FROM "
                    "pact_versions WHERE scenario_id=:s AND number=:n"
                ),
                {"s": sid, "n": version},
            ).first()
        if row is None:
            raise StoreError(f"version: scenario {sid!r} has no version {version}")
        info = VersionInfo(sid, row.number, row.author, row.created_at, row.content_hash)
        return scenario_from_json(row.body), info

    def head(self, sid: str) -> int | None:
        """The latest version number of a scenario (None if there is no such scenario)."""
        with self.engine.connect() as c:
            head = c.execute(
                text("SELECT head FROM pact_scenarios WHERE id=:id"), {"id": sid}
            ).scalar()
        return None if head is None else int(head)

    def head_info(self, sid: str) -> VersionInfo | None:
        """The latest version of a scenario with what it changed (one cheap query)."""
        with self.engine.connect() as c:
            r = c.execute(
                text(
                    "SELECT v.number, v.author, v.created_at, v.content_hash, v.changes "
                    "FROM pact_scenarios s JOIN pact_versions v ON v.scenario_id = s.id "
                    "AND v.number = s.head WHERE s.id = :id"
                ),
                {"id": sid},
            ).first()
        if r is None:
            return None
        return VersionInfo(
            sid, r.number, r.author, r.created_at, r.content_hash, _changes_of(r.changes)
        )

    def _body(self, c: Any, sid: str, number: int) -> dict[str, Any]:
        body = c.execute(
            text("SELECT body FROM pact_versions WHERE scenario_id=:s AND number=:n"),
            {"s": sid, "n": number},
        ).scalar_one()
        data: dict[str, Any] = json.loads(body)
        return data

    def _begin_write(self, c: Any) -> None:
        """Take the write lock first: the read of the head and the append are one step."""
        if self.engine.dialect.name == "sqlite":
            c.exec_driver_sql("BEGIN IMMEDIATE")

    def apply(self, sid: str, changes: Sequence[FieldChange], author: str, *, seen: int) -> Applied:
        """Apply field changes on top of the latest version and append the result.

        Never refused for being late: `seen` is the version the author's screen showed, and a
        change to a field someone else changed after it replaces their value, which comes back
        in `Applied.replaced` (with who set it) so it can be put back. Changes that leave the
        latest version as it is save nothing. Raises LockedError when the latest version is
        the agreed plan, ScenarioError (naming the field) when the result would be invalid.
        """
        if not changes:
            raise StoreError("changes: nothing to apply")
        for _ in range(_APPLY_TRIES):
            with self.engine.connect() as c:
                self._begin_write(c)
                lock = " FOR UPDATE" if self.engine.dialect.name == "postgresql" else ""
                row = c.execute(
                    text(f"SELECT head FROM pact_scenarios WHERE id=:id{lock}"), {"id": sid}
                ).first()
                if row is None:
                    raise StoreError(f"scenario: no saved scenario {sid!r}")
                head = int(row.head)
                base = self._body(c, sid, head)
                todo = [ch for ch in changes if get(base, ch.path) != ch.after]
                if not todo:
                    c.rollback()
                    scenario, info = self.load(sid, head)
                    return Applied(scenario, info)
                if self._locked(c, sid, head):
                    raise LockedError(
                        f"scenario: version {head} is the agreed plan and cannot change; "
                        "editing it starts a new scenario"
                    )
                scenario = parse_scenario(apply_changes(base, todo))
                replaced = self._replaced(c, sid, seen, head, base, todo)
                moved = c.execute(
                    text(
                        "UPDATE pact_scenarios SET head=:n, name=:name, quarter=:q "
                        "WHERE id=:id AND head=:old"
                    ),
                    {
                        "n": head + 1,
                        "name": _column(scenario.name),
                        "q": scenario.quarter,
                        "id": sid,
                        "old": head,
                    },
                )
                if moved.rowcount != 1:  # someone appended first: merge on top of theirs
                    c.rollback()
                    continue
                try:
                    info = self._insert_version(c, sid, head + 1, scenario, author, _now(), todo)
                    c.commit()
                except IntegrityError:
                    c.rollback()
                    continue
                return Applied(scenario, info, replaced)
        raise StoreError("scenario: too many saves at the same moment; try the move again")

    def _replaced(
        self,
        c: Any,
        sid: str,
        seen: int,
        head: int,
        base: dict[str, Any],
        changes: Sequence[FieldChange],
    ) -> tuple[Replaced, ...]:
        """Values set after version `seen` by someone else that these changes overwrite."""
        if seen >= head:
            return ()
        rows = c.execute(
            text(
                "SELECT number, author, created_at, changes FROM pact_versions "
                "WHERE scenario_id=:s AND number>:seen ORDER BY number DESC"
            ),
            {"s": sid, "seen": seen},
        ).all()
        out = []
        for change in changes:
            for r in rows:
                theirs = _changes_of(r.changes)
                if theirs is None or any(touches(change.path, t.path) for t in theirs):
                    out.append(Replaced(change, get(base, change.path), r.author, r.created_at))
                    break
        return tuple(out)

    def versions(self, sid: str) -> list[VersionInfo]:
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT number, author, created_at, content_hash, changes FROM "
                    "pact_versions WHERE scenario_id=:s ORDER BY number"
                ),
                {"s": sid},
            ).all()
        return [
            VersionInfo(
                sid, r.number, r.author, r.created_at, r.content_hash, _changes_of(r.changes)
            )
            for r in rows
        ]

    def scenarios(self, *, deleted: bool = False) -> list[ScenarioInfo]:
        """Saved scenarios, the most recently changed first."""
        query = (
            "SELECT s.id, s.name, s.quarter, s.head, s.created_at, s.deleted_at, "
            "v.created_at AS updated_at FROM pact_scenarios s JOIN pact_versions v "
            "ON v.scenario_id = s.id AND v.number = s.head"
        )
        query += " WHERE s.deleted_at IS NOT NULL" if deleted else " WHERE s.deleted_at IS NULL"
        order = " ORDER BY updated_at DESC, s.created_at DESC, s.id"
        with self.engine.connect() as c:
            rows = c.execute(text(query + order)).all()
        return [
            ScenarioInfo(
                r.id,
                r.name,
                r.quarter,
                r.head,
                r.created_at,
                r.deleted_at is not None,
                r.updated_at,
            )
            for r in rows
        ]

    def duplicate(self, sid: str, author: str, name: str | None = None) -> VersionInfo:
        scenario, _ = self.load(sid)
        if name:
            scenario = scenario.model_copy(update={"name": name})
        return self.create(scenario, author)

    def rename(self, sid: str, name: str, author: str, *, based_on: int) -> VersionInfo:
        """A new version that differs only in its name (names are part of the scenario)."""
        scenario, _ = self.load(sid, based_on)
        try:
            renamed = Scenario.model_validate({**scenario.to_dict(), "name": name})
        except ValueError as exc:
            raise StoreError(f"name: {name!r} is not a valid scenario name ({exc})") from None
        return self.save(sid, renamed, author, based_on=based_on)

    def restore(self, sid: str, version: int, author: str, *, based_on: int) -> VersionInfo:
        """Bring back an old version by appending it as the newest; history stays whole."""
        scenario, _ = self.load(sid, version)
        return self.save(sid, scenario, author, based_on=based_on)

    def set_deleted(self, sid: str, deleted: bool) -> None:
        """Soft delete (restorable): the scenario and all its versions stay in the store."""
        with self.engine.begin() as c:
            done = c.execute(
                text("UPDATE pact_scenarios SET deleted_at=:t WHERE id=:id"),
                {"t": _now() if deleted else None, "id": sid},
            )
            if done.rowcount != 1:
                raise StoreError(f"scenario: no saved scenario {sid!r}")

    # ---- the room: who has a scenario open ---------------------------------------------------
    def touch_presence(self, sid: str, session_id: str, name: str, mode: str) -> None:
        """Say that a session has this scenario open (and how); old entries are cleared."""
        now = datetime.now(UTC)
        params = {
            "s": sid,
            "sess": session_id[:64],
            "name": _column(name).strip()[:200] or "unnamed",
            "mode": mode[:16],
            "t": now.isoformat(timespec="microseconds"),
        }
        with self.engine.begin() as c:
            c.execute(
                text("DELETE FROM pact_presence WHERE seen_at < :old"),
                {"old": (now - timedelta(hours=1)).isoformat(timespec="microseconds")},
            )
            moved = c.execute(
                text(
                    "UPDATE pact_presence SET name=:name, mode=:mode, seen_at=:t "
                    "WHERE scenario_id=:s AND session_id=:sess"
                ),
                params,
            )
            if moved.rowcount == 0:
                c.execute(
                    text(
                        "INSERT INTO pact_presence (scenario_id, session_id, name, mode, seen_at) "
                        "VALUES (:s, :sess, :name, :mode, :t)"
                    ),
                    params,
                )

    def leave(self, sid: str, session_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                text("DELETE FROM pact_presence WHERE scenario_id=:s AND session_id=:sess"),
                {"s": sid, "sess": session_id},
            )

    def presence(self, sid: str, within: float = PRESENCE_SECONDS) -> list[Presence]:
        """Sessions that said they have the scenario open in the last `within` seconds."""
        since = (datetime.now(UTC) - timedelta(seconds=within)).isoformat(timespec="microseconds")
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT session_id, name, mode, seen_at FROM pact_presence "
                    "WHERE scenario_id=:s AND seen_at >= :since ORDER BY name, session_id"
                ),
                {"s": sid, "since": since},
            ).all()
        return [Presence(r.session_id, r.name, r.mode, r.seen_at) for r in rows]

    # ---- agreements --------------------------------------------------------------------------
    def _locked(self, c: Any, sid: str, version: int) -> bool:
        return (
            c.execute(
                text("SELECT 1 FROM pact_agreements WHERE scenario_id=:s AND version=:v"),
                {"s": sid, "v": version},
            ).first()
            is not None
        )

    def agree(self, sid: str, version: int, agreed_by: list[str]) -> Agreement:
        """Lock a version as its quarter's agreed plan; an earlier agreement is superseded."""
        names = [_column(n).strip() for n in agreed_by if _column(n).strip()]
        if not names:
            raise StoreError("agreed_by: type the names of the leaders who agree")
        scenario, info = self.load(sid, version)
        now = _now()
        agreement = Agreement(
            uuid.uuid4().hex[:12],
            scenario.quarter,
            sid,
            version,
            ", ".join(names)[:400],
            now,
            info.content_hash,
            None,
        )
        with self.engine.begin() as c:
            c.execute(
                text(
                    "UPDATE pact_agreements SET superseded_at=:t WHERE quarter=:q AND "
                    "superseded_at IS NULL"
                ),
                {"t": now, "q": scenario.quarter},
            )
            c.execute(
                text(
                    "INSERT INTO pact_agreements (id, quarter, scenario_id, version, "
                    "agreed_by, agreed_at, content_hash) VALUES (:id, :q, :s, :v, :by, "
                    ":t, :h)"
                ),
                {
                    "id": agreement.id,
                    "q": agreement.quarter,
                    "s": sid,
                    "v": version,
                    "by": agreement.agreed_by,
                    "t": now,
                    "h": agreement.content_hash,
                },
            )
        return agreement

    def agreements(self, quarter: str | None = None) -> list[Agreement]:
        query = (
            "SELECT id, quarter, scenario_id, version, agreed_by, agreed_at, content_hash, "
            "superseded_at FROM pact_agreements"
        )
        params: dict[str, Any] = {}
        if quarter:
            query += " WHERE quarter=:q"
            params["q"] = quarter
        with self.engine.connect() as c:
            rows = c.execute(text(query + " ORDER BY agreed_at"), params).all()
        return [Agreement(*r) for r in rows]

    def current_agreement(self, quarter: str) -> Agreement | None:
        """The quarter's agreed plan now (the latest agreement, not superseded), if any."""
        return next((a for a in self.agreements(quarter) if a.superseded_at is None), None)

    def agreement_of(self, scenario: Scenario) -> Agreement | None:
        """The current agreement for the scenario's quarter when it locked exactly this plan."""
        current = self.current_agreement(scenario.quarter)
        if current is not None and current.content_hash == content_hash(scenario):
            return current
        return None

    # ---- actuals -----------------------------------------------------------------------------
    def keep_actuals(self, sid: str, version: int, actuals: Actuals, author: str) -> KeptActuals:
        """Keep a quarter's actuals with the plan version they were reviewed against.

        They are checked against that plan first; actuals that do not fit it are never stored.
        """
        scenario, _ = self.load(sid, version)
        try:
            actuals = check_actuals(actuals, scenario)
        except ScenarioError as exc:
            raise StoreError(str(exc)) from None
        kept = KeptActuals(
            uuid.uuid4().hex[:12],
            sid,
            version,
            scenario.quarter,
            actuals.week,
            actuals.weeks,
            _column(author).strip()[:200] or "unnamed",
            _now(),
            actuals,
        )
        with self.engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO pact_actuals (id, scenario_id, version, quarter, week, weeks, "
                    "author, created_at, body) VALUES (:id, :s, :v, :q, :w, :ws, :a, :t, :b)"
                ),
                {
                    "id": kept.id,
                    "s": sid,
                    "v": version,
                    "q": kept.quarter,
                    "w": kept.week,
                    "ws": kept.weeks,
                    "a": kept.author,
                    "t": kept.created_at,
                    "b": actuals.model_dump_json(),
                },
            )
        return kept

    def kept_actuals(self, sid: str | None = None) -> list[KeptActuals]:
        """Kept actuals, oldest first (of one scenario, or all)."""
        query = (
            "SELECT id, scenario_id, version, quarter, week, weeks, author, created_at, body "
            "FROM pact_actuals"
        )
        params: dict[str, Any] = {}
        if sid is not None:
            query += " WHERE scenario_id=:s"
            params["s"] = sid
        with self.engine.connect() as c:
            rows = c.execute(text(query + " ORDER BY created_at, id"), params).all()
        return [
            KeptActuals(
                r.id,
                r.scenario_id,
                r.version,
                r.quarter,
                r.week,
                r.weeks,
                r.author,
                r.created_at,
                Actuals.model_validate_json(r.body),
            )
            for r in rows
        ]
