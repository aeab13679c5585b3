"""What every screen shares: page config, navigation, the working scenario, presentation mode.

Session state names (documented in docs/app.md):
- "scenario": the last valid working Scenario (never replaced by an invalid one);
- "scenario_rev": bumped whenever a scenario is loaded, so editors re-read it;
- "presentation": presentation mode on/off;
- "store_id", "store_version": the saved scenario this session edits and the version its screen
  shows (a change is applied on top of the latest version; see ui/storage.py); "author": the name
  on those versions; "room_*": the live room (ui/room.py).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from sim.models import Scenario, load_scenario
from ui import auth, room, runtime_fix, storage
from ui.text import md_text  # noqa: F401  (pages call shell.md_text)

ROOT = Path(__file__).resolve().parents[1]
SEED_FILE = ROOT / "examples" / "seed-sla.json"
PAGES_DIR = ROOT / "pages"
# The pause after the Plan page's headline (let_browser_paint); PACT_PAINT_PAUSE_MS overrides it
# for bench/core.py's comparison of pauses.
PAINT_PAUSE_S = float(os.environ.get("PACT_PAINT_PAUSE_MS", "40")) / 1000

# Static CSS only (no user data): large headline numbers for a projector.
_PRESENTATION_CSS = """
<style>
[data-testid="stMetricValue"] { font-size: 3rem; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem; white-space: normal; }
</style>
"""


def page_label(path: Path) -> str:
    """'pages/2_Compare.py' -> 'Compare' (the number only orders the navigation)."""
    return re.sub(r"^\d+_", "", path.stem).replace("_", " ")


def setup_page(title: str) -> None:
    """Call first on every page: config, navigation, presentation toggle."""
    runtime_fix.install()  # once per server process, before the first rerun can race
    st.set_page_config(page_title=f"{title} · Pipeline Pact", layout="wide")
    auth.gate()  # with sign-in configured, nothing below runs for a signed-out visitor
    st.session_state.pop(room.ALSO, None)  # what the last page also watched (room.watch_also)
    # The sidebar's settings follow the user across pages. Widget state alone does not: after a
    # fragment rerun, Streamlit forgot "Your name" on the next page. So each is also kept under
    # a plain key ("kept_author", "kept_presentation") and written back before its widget.
    for key in KEPT:
        if f"kept_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"kept_{key}"]
    if "kept_presentation" not in st.session_state and st.query_params.get("follow") == "1":
        keep("presentation", True)  # a projector opened with the follow link
    with st.sidebar:
        st.markdown("### Pipeline Pact")
        st.page_link(str(ROOT / "app.py"), label="Plan")
        for page in sorted(PAGES_DIR.glob("*.py")):
            st.page_link(str(page), label=page_label(page))
        auth.signed_in_sidebar()
        if not auth.enabled():  # signed in, the identity provider names the author
            st.text_input(
                "Your name",
                key="author",
                on_change=_kept,
                args=("author",),
                max_chars=80,
                help="Written next to every version you save, in the scenario's history.",
            )
            if not str(st.session_state.get("author") or "").strip():
                st.caption("Until you type it, your changes are saved as 'unnamed'.")
        st.toggle(
            "Presentation mode",
            key="presentation",
            on_change=_kept,
            args=("presentation",),
            help="For the projector: follows the room read-only (always the latest version), "
            "large numbers, no editing controls. 'Take the wheel' edits again.",
        )
        share_links()
    if presentation_mode():
        st.html(_PRESENTATION_CSS)
    storage.notices()


KEPT = ("author", "presentation")


def keep(key: str, value: object) -> None:
    """Set a sidebar setting (before its widget is drawn, or from a callback)."""
    st.session_state[key] = st.session_state[f"kept_{key}"] = value


def _kept(key: str) -> None:
    st.session_state[f"kept_{key}"] = st.session_state.get(key)


def share_links() -> None:
    """The links that bring another leader, or the projector, into this room."""
    sid = st.session_state.get("store_id")
    if not sid:
        return
    base = str(st.context.url or "").split("?")[0]
    with st.popover("Invite to this plan", width="stretch"):
        st.caption("Another leader (edits with you):")
        st.code(f"{base}?scenario={sid}", language=None)
        st.caption("The projector (follows, read-only, large numbers):")
        st.code(f"{base}?scenario={sid}&follow=1", language=None)


def let_browser_paint() -> None:
    """Pause briefly after the headline numbers so the browser paints them before the charts.

    Redrawing a Plotly chart blocks the browser for 150-200 ms here; when the charts arrive
    right behind the headline, the new chance of hitting the number waits for them. Measured
    (bench/core.py, docs/performance.md): no pause 383 ms median; 60 ms: 127-136 ms median,
    p95 251-260 ms; 120 ms: 105-108 ms median, p95 129-138 ms, the whole page about 40 ms later.
    The pause sleeps (no CPU), so other sessions run meanwhile.
    """
    time.sleep(PAINT_PAUSE_S)


def presentation_mode() -> bool:
    return bool(st.session_state.get("presentation", False))


def drawn_version() -> int | None:
    """The saved version the screen shows: read before current_scenario() catches up, it is the
    version the leader saw when pressing a button (every catch-up redraws the whole page)."""
    version = st.session_state.get("store_version")
    return int(version) if version else None


def current_scenario(*, catch_up: bool = True) -> Scenario:
    """The working scenario: the one in the link, else the seed plan until the user loads or
    edits another. With `catch_up`, the latest saved version when another screen saved one (a
    page that reads its editors first catches up after, so a move is never overwritten)."""
    if "scenario" not in st.session_state:
        st.session_state["scenario"] = storage.resume() or load_scenario(SEED_FILE)
        st.session_state["scenario_rev"] = 0
    if (sid := st.session_state.get("store_id")) and st.query_params.get("scenario") != sid:
        st.query_params["scenario"] = sid  # the link survives moving between pages
    if catch_up:
        catch_up_with_room()
    scenario: Scenario = st.session_state["scenario"]
    return scenario


def catch_up_with_room() -> bool:
    """Show the latest saved version if another screen saved one since this one showed it."""
    s, sid = storage.store(), st.session_state.get("store_id")
    if s is None or sid is None:
        return False
    head = room.feed(s).head(sid)
    if head is None or head <= int(st.session_state.get("store_version") or 0):
        return False
    latest = storage.latest(s, sid)
    if latest is None:
        return False
    st.session_state["scenario"] = latest
    st.session_state["scenario_rev"] = scenario_rev() + 1
    return True


def set_scenario(
    scenario: Scenario, *, reload_editors: bool = True, save: bool = True, drawn: int | None = None
) -> Scenario:
    """Make `scenario` the working one and save what changed (field by field, on top of the
    latest version). Returns the working scenario as saved: with other leaders' changes merged
    in. Editors re-read it unless they produced it and nothing else changed. `drawn`: the
    version the screen showed when the leader acted (drawn_version), if older than this run's."""
    saved = scenario
    if save:
        saved, replaced = storage.autosave(scenario, st.session_state.get("scenario"), drawn=drawn)
        room.remember_replaced(replaced, saved.to_dict())
    st.session_state["scenario"] = saved
    if reload_editors or saved != scenario:
        st.session_state["scenario_rev"] = scenario_rev() + 1
    return saved


def write_changed(values: dict[str, object]) -> None:
    """Write widget values into session state, only those that differ: the browser takes a
    written value over what a leader is typing, so an unchanged field is left alone."""
    for key, value in values.items():
        if key not in st.session_state or st.session_state[key] != value:
            st.session_state[key] = value


def follow_latest(numbers: list[int], picks: dict[str, int], mark: str) -> None:
    """Version pickers that follow the newest versions: `picks` maps a picker's key to which
    version it shows when first drawn (1 the latest, 2 the one before it, ...). A picker still
    on that version when a newer one arrives moves on with it; one the leader moved stays put.
    `mark` keeps the version numbers this screen last drew."""
    before: list[int] = st.session_state.get(mark) or []
    st.session_state[mark] = list(numbers)
    for key, back in picks.items():
        followed = before[-min(back, len(before))] if before and before != numbers else None
        shown = st.session_state.get(key)
        if shown not in numbers or shown == followed:
            st.session_state[key] = numbers[-min(back, len(numbers))]


def scenario_rev() -> int:
    return int(st.session_state.get("scenario_rev", 0))


def fresh_upload(key: str) -> UploadedFile | None:
    """The file in uploader `key` on the first run after it was dropped there, else None.

    An uploader keeps its file across reruns; acting on it only once keeps later edits from
    being overwritten by the same file.
    """
    upload: UploadedFile | None = st.session_state.get(key)
    if upload is None or st.session_state.get(f"{key}_done") == upload.file_id:
        return None
    st.session_state[f"{key}_done"] = upload.file_id
    return upload
