"""Fixes for two races in Streamlit's server (1.67) that lost what a finished run drew.

A session's script runs on a ScriptRunner thread; what it draws reaches the browser through the
server's event loop, which queues it and flushes the queue to the websocket, and which lags
behind the thread under load. Seen in the room journey (tests/e2e/test_room_journey.py) by
decoding every screen's websocket, on a loaded machine:

1. A finished run's tail was dropped. When a run ends and no request waits, the runner stops. A
   rerun request (a click, a key press, the live bar's timer every 0.5 s) that the loop handled
   after the runner stopped but before it delivered the runner's last messages was refused by
   it, and Streamlit started a new runner at once and ignored every message still queued from
   the old one: the rest of the page and its "script finished". After "Put back Sam's 80%" a
   screen got the slider at 80 but kept the caption "78.0%" for good. Fix: the next runner
   starts at the old one's SHUTDOWN event, which the loop handles after all its messages;
   requests that arrive meanwhile are merged as a running runner merges them.
2. A finished run's deltas were cleared from the queue. When a fragment run starts, Streamlit
   clears the queued, not yet flushed deltas of that fragment (meant for a run it interrupted)
   but keeps a queued "finished successfully". If the previous run had finished (a full rerun
   after another screen's save, then the leader's move reruns the page body), the browser got
   its "finished" without the body it drew, cleared the body's elements as stale and forgot its
   widgets; the next run drew them again without their values, so every editor showed its
   default (a target of 0, rates of 0%) and reported it as a move. Fix: a run that finished
   well is kept whole in the queue; only what follows it is cleared as before.

AppSession is patched once per process, only on the Streamlit release this was written for;
tests/app/test_runtime_fix.py reproduces both races with a real session.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.app_session import AppSession, AppSessionState
from streamlit.runtime.scriptrunner import RerunData, ScriptRunnerEvent

WRITTEN_FOR = "1.67."  # the Streamlit release whose internals this was written and tested on
_WAITING = "_pact_waiting_reruns"  # reruns held back until the finished runner's messages are out
_DONE = (  # a run with one of these ends is kept whole in the send queue
    ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY,
    ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
)
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


def _clear_queue(self: AppSession, fragment_ids_this_run: list[str] | None = None) -> None:
    queue = self._browser_queue
    pending = queue._queue
    finished = [i for i, m in enumerate(pending) if m.WhichOneof("type") == "script_finished"]
    if (
        not fragment_ids_this_run
        or not finished
        or pending[finished[-1]].script_finished not in _DONE
    ):
        AppSession._pact_clear_queue(self, fragment_ids_this_run)  # type: ignore[attr-defined]
        return
    # A run that ended well is still queued whole: keep it. Streamlit would drop its deltas in
    # the fragments this run reruns but keep its "finished": the browser then clears that run's
    # stale elements, which are the very ones it never received, and forgets their widgets.
    end = finished[-1] + 1
    done, queue._queue = pending[:end], pending[end:]
    AppSession._pact_clear_queue(self, fragment_ids_this_run)  # type: ignore[attr-defined]
    queue._queue[:0] = done


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
    AppSession._pact_clear_queue = AppSession._clear_queue  # type: ignore[attr-defined]
    AppSession._create_scriptrunner = _create_scriptrunner  # type: ignore[method-assign]
    AppSession._clear_queue = _clear_queue  # type: ignore[method-assign]
    AppSession._handle_scriptrunner_event_on_event_loop = (  # type: ignore[method-assign]
        _handle_scriptrunner_event_on_event_loop
    )
