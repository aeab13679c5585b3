"""A fix for a race in Streamlit's server (1.67) that lost the end of a finished script run.

A session's script runs on a ScriptRunner thread; what it draws reaches the browser through the
server's event loop, which can lag behind the thread under load. When a run ends and no request
is waiting, the runner stops. A rerun request (a click, a key press, or the live bar's timer
every 0.5 s) that the event loop handles after the runner stopped but before it delivered the
runner's last messages is refused by that runner, and Streamlit starts a new runner at once. It
then ignores every message still queued from the old runner as coming from a "non-current"
runner: the rest of the page that run drew and its "script finished" never reach the browser.

Seen in the room journey (tests/e2e/test_room_journey.py) by decoding the websocket: after
"Put back Sam's 80%" the run's slider (80) arrived but the caption under it and the run's end
did not, so the screen kept "78.0%" for good; other times the browser kept elements of two runs
side by side, or widgets it had lost came back at their defaults (a target of 0) and were
reported as a leader's move.

The fix: when the current runner refuses a rerun because it has already finished, the rerun
waits until that runner's SHUTDOWN event, which the event loop handles after every message the
runner queued before it; the next runner is started then, with the waiting requests merged as a
running runner would merge them. Every other path (fast reruns of the whole app, which stop a run
that is still going on purpose; the first run; a session shutting down) is Streamlit's own.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.scriptrunner import RerunData, ScriptRunnerEvent

_WAITING = "_pact_waiting_reruns"
_LOGGER = logging.getLogger(__name__)


def _create_scriptrunner(self: AppSession, initial_rerun_data: RerunData) -> None:
    if self._scriptrunner is not None:
        # The current runner refused the rerun: it has finished, and its last messages are still
        # queued on this loop ahead of its SHUTDOWN event. Start the next run after them.
        self.__dict__.setdefault(_WAITING, []).append(initial_rerun_data)
        return
    self.__dict__[_WAITING] = []  # a rerun of the whole app (or the first run) supersedes them
    AppSession._pact_create(self, initial_rerun_data)  # type: ignore[attr-defined]


def _handle_scriptrunner_event_on_event_loop(
    self: AppSession, sender: Any, event: ScriptRunnerEvent, *args: Any, **kwargs: Any
) -> None:
    AppSession._pact_handle(self, sender, event, *args, **kwargs)  # type: ignore[attr-defined]
    waiting: list[RerunData] = self.__dict__.get(_WAITING) or []
    if event != ScriptRunnerEvent.SHUTDOWN or not waiting or self._scriptrunner is not None:
        return
    self.__dict__[_WAITING] = []
    if self._state == AppSessionState.SHUTDOWN_REQUESTED:
        return  # the browser has gone
    AppSession._pact_create(self, waiting[0])  # type: ignore[attr-defined]
    for rerun_data in waiting[1:]:
        runner = self._scriptrunner
        if runner is None or not runner.request_rerun(rerun_data):  # pragma: no cover
            break  # the new runner cannot stop before it has started its first run


WRITTEN_FOR = "1.67."  # the Streamlit release whose internals this was written and tested on


def install() -> None:
    """Patch the server's AppSession class once per process (every session uses the class);
    the originals are kept on the class, so a second import of this module changes nothing.
    On another Streamlit release nothing is patched: its internals may differ (the race test,
    tests/app/test_runtime_fix.py, then says whether that release still needs the fix)."""
    if hasattr(AppSession, "_pact_create"):
        return
    if not streamlit.__version__.startswith(WRITTEN_FOR):
        _LOGGER.warning("Streamlit %s: the runtime fix is not applied", streamlit.__version__)
        return
    AppSession._pact_create = AppSession._create_scriptrunner  # type: ignore[attr-defined]
    AppSession._pact_handle = (  # type: ignore[attr-defined]
        AppSession._handle_scriptrunner_event_on_event_loop
    )
    AppSession._create_scriptrunner = _create_scriptrunner  # type: ignore[method-assign]
    AppSession._handle_scriptrunner_event_on_event_loop = (  # type: ignore[method-assign]
        _handle_scriptrunner_event_on_event_loop
    )
