"""Scenario store: every save appends a version; nothing is overwritten or lost.

SQLAlchemy Core over any URL; SQLite by default (WAL mode, one file, no setup). The schema is
versioned: `MIGRATIONS` run in order, in one locked transaction, recorded in `pact_meta`.
Concurrent editors use optimistic concurrency: a save names the version it was based on and is
refused with `StaleVersionError` when someone else saved in between.
"""

from __future__ import annotations

import os
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from .models import Scenario, ScenarioError, content_hash, scenario_from_json
from .review import Actuals, check_actuals

MIGRATIONS: list[list[str]] = [
    [  # 1: scenarios and their append-only versions
        """CREATE TABLE pact_scenarios (
            id VARCHAR(32) PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            quarter VARCHAR(16) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            deleted_at VARCHAR(40),
            head INTEGER NOT NULL)""",
        """CREATE TABLE pact_versions (
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            number INTEGER NOT NULL,
            author VARCHAR(200) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (scenario_id, number))""",
    ],
    [  # 2: agreements (the locked, agreed plan of a quarter)
        """CREATE TABLE pact_agreements (
            id VARCHAR(32) PRIMARY KEY,
            quarter VARCHAR(16) NOT NULL,
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            version INTEGER NOT NULL,
            agreed_by VARCHAR(400) NOT NULL,
            agreed_at VARCHAR(40) NOT NULL,
            content_hash VARCHAR(64) NOT NULL,
            superseded_at VARCHAR(40))""",
    ],
    [  # 3: actuals kept with the plan version they were reviewed against (append-only)
        """CREATE TABLE pact_actuals (
            id VARCHAR(32) PRIMARY KEY,
            scenario_id VARCHAR(32) NOT NULL REFERENCES pact_scenarios(id),
            version INTEGER NOT NULL,
            quarter VARCHAR(16) NOT NULL,
            week INTEGER NOT NULL,
            weeks INTEGER NOT NULL,
            author VARCHAR(200) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            body TEXT NOT NULL)""",
        "CREATE INDEX pact_actuals_quarter ON pact_actuals (quarter, created_at)",
    ],
]


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
        """Bring the schema up to date in one transaction, one process at a time."""
        with self.engine.connect() as c:
            if self.engine.dialect.name == "sqlite":
                # pysqlite would run each CREATE outside any transaction; take the write lock
                # first so the whole upgrade commits or rolls back as one, and two processes
                # opening a new store wait for each other.
                c.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.engine.dialect.name == "postgresql":
                c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            c.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS pact_meta (key VARCHAR(40) PRIMARY KEY, "
                    "value VARCHAR(200) NOT NULL)"
                )
            )
            row = c.execute(text("SELECT value FROM pact_meta WHERE key='schema'")).first()
            done = int(row[0]) if row else 0
            if done > len(MIGRATIONS):
                raise StoreError(
                    f"database: schema {done} is newer than this app knows "
                    f"({len(MIGRATIONS)}); upgrade Pipeline Pact"
                )
            for number in range(done + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[number - 1]:
                    c.execute(text(statement))
                c.execute(text("DELETE FROM pact_meta WHERE key='schema'"))
                c.execute(
                    text("INSERT INTO pact_meta (key, value) VALUES ('schema', :v)"),
                    {"v": str(number)},
                )
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
        self, c: Any, sid: str, number: int, scenario: Scenario, author: str, now: str
    ) -> VersionInfo:
        info = VersionInfo(
            sid, number, _column(author).strip()[:200] or "unnamed", now, content_hash(scenario)
        )
        c.execute(
            text(
                "INSERT INTO pact_versions (scenario_id, number, author, created_at, "
                "content_hash, body) VALUES (:s, :n, :a, :t, :h, :b)"
            ),
            {
                "s": sid,
                "n": number,
                "a": info.author,
                "t": now,
                "h": info.content_hash,
                "b": scenario.to_json(),
            },
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
                return self._insert_version(c, sid, based_on + 1, scenario, author, now)
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

    def versions(self, sid: str) -> list[VersionInfo]:
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT number, author, created_at, content_hash FROM "
                    "pact_versions WHERE scenario_id=:s ORDER BY number"
                ),
                {"s": sid},
            ).all()
        return [VersionInfo(sid, r.number, r.author, r.created_at, r.content_hash) for r in rows]

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
