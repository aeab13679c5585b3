"""The live room across server processes: the latest version of each scenario, heard or polled.

Every session open on a scenario asks this process's ChangeFeed, twice a second, whether a new
version exists. On PostgreSQL one LISTEN connection per process hears every save (the store
NOTIFYs on commit) and the answer comes from memory; the head is re-read from the database
every few seconds anyway, so a notice lost while reconnecting costs seconds, not the room. On
SQLite (one file on one machine) the answer is a primary-key lookup of the head, shared by all
sessions of the process for POLL_S. Either way two app processes on one database form one room.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

from .store import NOTIFY_CHANNEL, Presence, Store

POLL_S = 0.2  # SQLite: how long one read of a head serves every session of the process
RECHECK_S = 5.0  # PostgreSQL: re-read a head from the database this often even when listening
RECONNECT_S = 1.0
KEPT_MAX = 10_000  # entries a feed keeps before it forgets the ones not learnt lately
FORGET_S = 10.0  # longer than RECHECK_S: a forgotten head is read again, never wrong


class ChangeFeed:
    """The head version of each scenario, as fresh as this process can know it cheaply."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._heads: dict[str, tuple[int | None, float]] = {}  # id -> (head, when learnt)
        self._agreed: dict[str, tuple[str, float]] = {}  # quarter -> (agreement id, when read)
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._listening = False
        self._thread: threading.Thread | None = None
        if store.engine.dialect.name == "postgresql":
            self._thread = threading.Thread(target=self._listen, name="pact-feed", daemon=True)
            self._thread.start()

    @property
    def listening(self) -> bool:
        """True while a PostgreSQL LISTEN connection is up (notices arrive as they happen)."""
        return self._listening

    def head(self, sid: str) -> int | None:
        """The latest version number of a scenario (None: no such scenario)."""
        fresh_for = RECHECK_S if self._listening else POLL_S
        with self._changed:
            known = self._heads.get(sid)
            if known is not None and time.monotonic() - known[1] < fresh_for:
                return known[0]
        return self._learn(sid, self._store.head(sid))

    def saved(self, sid: str, number: int) -> None:
        """This process saved version `number`: every session of the process knows it at once
        (not after the next read of the head)."""
        self._learn(sid, number)

    def agreement(self, quarter: str) -> str:
        """The id of the quarter's agreed plan now ("" when none): an agreement adds no version,
        so screens ask this beside the head. One read serves the process for POLL_S (it is not
        announced on PostgreSQL: agreeing is rare, and a short poll costs one small query)."""
        with self._changed:
            known = self._agreed.get(quarter)
            if known is not None and time.monotonic() - known[1] < POLL_S:
                return known[0]
        asked = time.monotonic()
        current = self._store.current_agreement(quarter)
        return self.agreed(quarter, current.id if current is not None else "", asked)

    def agreed(self, quarter: str, agreement_id: str, asked: float | None = None) -> str:
        """This process agreed (or read, at `asked`) the quarter's plan: its sessions know it at
        once. A read that started before a newer answer was learnt does not replace it."""
        with self._changed:
            known = self._agreed.get(quarter)
            if asked is not None and known is not None and known[1] > asked:
                return known[0]
            _prune(self._agreed)
            self._agreed[quarter] = (agreement_id, time.monotonic())
        return agreement_id

    def _learn(self, sid: str, head: int | None) -> int | None:
        with self._changed:
            known = self._heads.get(sid)
            if known is not None and known[0] is not None and (head is None or head < known[0]):
                head = known[0]  # versions only ever grow; a slower read never goes back
            _prune(self._heads)
            self._heads[sid] = (head, time.monotonic())
            self._changed.notify_all()
        return head

    def wait_for(self, sid: str, number: int, timeout: float) -> int | None:
        """Block until the scenario reaches version `number` (or the timeout); the head."""
        deadline = time.monotonic() + timeout
        while True:
            head = self.head(sid)
            left = deadline - time.monotonic()
            if (head is not None and head >= number) or left <= 0:
                return head
            with self._changed:
                self._changed.wait(min(left, POLL_S))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ---- PostgreSQL ------------------------------------------------------------------------
    def _listen(self) -> None:
        engine = self._store.engine
        while not self._stop.is_set():
            conn: Any = None
            try:
                cargs, cparams = engine.dialect.create_connect_args(engine.url)
                conn = engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
                conn.autocommit = True
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                with self._changed:  # anything missed while not listening: read again
                    self._heads = {sid: (h, 0.0) for sid, (h, _) in self._heads.items()}
                self._listening = True
                while not self._stop.is_set():
                    for notice in conn.notifies(timeout=0.5):
                        sid, _, number = notice.payload.rpartition(":")
                        if sid and number.isdigit():
                            self._learn(sid, int(number))
            except Exception:  # noqa: BLE001 (the server went away: poll until it is back)
                self._listening = False
                self._stop.wait(RECONNECT_S)
            finally:
                self._listening = False
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()


def _prune(known: dict[str, tuple[Any, float]]) -> None:
    """Keep a feed's memory bounded (the head route answers anyone holding one scenario's link
    and names the ids and quarters it is asked about): past KEPT_MAX entries, those not learnt
    in the last FORGET_S go (they are read again when asked)."""
    if len(known) >= KEPT_MAX:
        now = time.monotonic()
        for key in [k for k, (_, at) in known.items() if now - at > FORGET_S]:
            del known[key]


# ---- Words for the room --------------------------------------------------------------------
def ago(iso: str, now: datetime | None = None) -> str:
    """'4 s ago', '3 min ago', '2 h ago' for a stored UTC time."""
    try:
        then = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86_400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} d ago"


def others(people: list[Presence], me: str) -> list[str]:
    """Who else is in the room, as the names they typed ('Sam', 'someone (following)'), one per
    session."""
    out = []
    for p in people:
        if p.session_id == me:
            continue
        name = "someone" if p.name == "unnamed" else p.name
        out.append(f"{name} (following)" if p.mode == "follow" else name)
    return out
