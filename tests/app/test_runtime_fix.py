"""The fix for Streamlit's race that lost the end of a finished run (ui/runtime_fix.py).

A real AppSession runs a fragment that writes 20 lines. The event loop is held while the run
finishes, as a loaded server's loop lags behind the script thread, so the run's messages are
still queued when the next request (the fragment's rerun, like the live bar's timer) arrives and
the finished runner refuses it. Without the fix Streamlit starts a new runner at once and drops
every queued message of the first run, its "script finished" included; with it, the browser
gets the first run whole, then the second.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from unittest.mock import MagicMock, patch

import pytest
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.script_data import ScriptData
from streamlit.runtime.scriptrunner.script_cache import ScriptCache

from ui import runtime_fix

SCRIPT = """
import streamlit as st

@st.fragment
def lines():
    run = st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    for i in range(20):
        st.write(f"run {run} line {i}")

lines()
"""


async def _two_runs(script: Path, *, flush: bool) -> list[ForwardMsg]:
    sent: list[ForwardMsg] = []
    sessions: list[AppSession] = []

    def deliver() -> None:  # the server flushes the queue to the websocket as messages come
        if flush:
            sent.extend(sessions[0].flush_browser_queue())

    session = AppSession(ScriptData(str(script)), MagicMock(), ScriptCache(), deliver, {})
    sessions.append(session)
    try:
        session.request_rerun(None)
        runner = session._scriptrunner
        assert runner is not None
        runner._script_thread.join(30)  # the loop is held: the run's messages queue up
        (fragment_id,) = session._fragment_storage._fragments  # type: ignore[attr-defined]
        session.request_rerun(ClientState(fragment_id=fragment_id))  # refused: runner finished
        for _ in range(500):
            await asyncio.sleep(0.01)
            if sum(m.WhichOneof("type") == "script_finished" for m in sent) >= 2:
                break
        return sent + session.flush_browser_queue()
    finally:
        session.shutdown()


def _runs(script: Path, *, flush: bool = True) -> list[ForwardMsg]:
    with (
        patch("streamlit.runtime.get_instance", MagicMock()),
        patch("streamlit.runtime.exists", lambda: False),
    ):
        return asyncio.run(_two_runs(script, flush=flush))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "flush",
    [
        pytest.param(True, id="the server flushed the queue as messages came"),
        # Not flushed before the second run starts: Streamlit cleared the first run's deltas in
        # the fragment but kept its "finished", and the browser forgot the fragment's widgets.
        pytest.param(False, id="the first run still queued when the second starts"),
    ],
)
def test_a_rerun_refused_by_a_finished_runner_keeps_that_runs_end(
    script: Path, flush: bool
) -> None:
    runtime_fix.install()
    sent = _runs(script, flush=flush)
    kinds = [m.WhichOneof("type") for m in sent]
    lines = [m.delta.new_element.markdown.body for m in sent if m.HasField("delta")]
    first = [t for t in lines if t.startswith("run 1 ")]
    second = [t for t in lines if t.startswith("run 2 ")]
    assert first == [f"run 1 line {i}" for i in range(20)]  # the first run, whole
    assert second == [f"run 2 line {i}" for i in range(20)]
    assert kinds.count("new_session") == 2
    assert kinds.count("script_finished") == 2
    # ... and in order: the first run ends before the second begins
    second_start = [i for i, k in enumerate(kinds) if k == "new_session"][1]
    assert kinds.index("script_finished") < second_start
    assert max(i for i, m in enumerate(sent) if "run 1 " in str(m)) < second_start


def test_install_is_idempotent() -> None:
    runtime_fix.install()
    patched = AppSession._create_scriptrunner
    runtime_fix.install()
    assert AppSession._create_scriptrunner is patched
    assert AppSession._pact_create is not patched  # type: ignore[attr-defined]
