"""What every screen shares: page config, navigation, the working scenario, presentation mode.

Session state names (documented in docs/app.md):
- "scenario": the last valid working Scenario (never replaced by an invalid one);
- "scenario_rev": bumped whenever a scenario is loaded, so editors re-read it;
- "presentation": presentation mode on/off;
- "store_id", "store_version": the saved scenario this session edits and the version it is on
  (autosave appends the next one; see ui/storage.py); "author": the name on those versions.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from sim.models import Scenario, load_scenario
from ui import auth, storage
from ui.text import md_text  # noqa: F401  (pages call shell.md_text)

ROOT = Path(__file__).resolve().parents[1]
SEED_FILE = ROOT / "examples" / "seed-sla.json"
PAGES_DIR = ROOT / "pages"
PAINT_PAUSE_S = 0.12

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
    st.set_page_config(page_title=f"{title} · Pipeline Pact", layout="wide")
    auth.gate()  # with sign-in configured, nothing below runs for a signed-out visitor
    for key in ("author", "presentation"):  # the sidebar's settings follow the user across pages
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
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
                max_chars=80,
                help="Written next to every version you save, in the scenario's history.",
            )
            if not str(st.session_state.get("author") or "").strip():
                st.caption("Until you type it, your changes are saved as 'unnamed'.")
        st.toggle(
            "Presentation mode",
            key="presentation",
            help="Large numbers for a projector; hides the editing controls.",
        )
    if presentation_mode():
        st.html(_PRESENTATION_CSS)
    storage.conflict_choices(reload_saved)


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


def current_scenario() -> Scenario:
    """The working scenario; the seed plan until the user loads or edits another."""
    if "scenario" not in st.session_state:
        st.session_state["scenario"] = storage.resume() or load_scenario(SEED_FILE)
        st.session_state["scenario_rev"] = 0
    if (sid := st.session_state.get("store_id")) and st.query_params.get("scenario") != sid:
        st.query_params["scenario"] = sid  # the link survives moving between pages
    scenario: Scenario = st.session_state["scenario"]
    return scenario


def set_scenario(scenario: Scenario, *, reload_editors: bool = True, save: bool = True) -> None:
    """Replace the working scenario and save it as a new version (autosave); editors re-read it
    unless they produced it."""
    st.session_state["scenario"] = scenario
    if reload_editors:
        st.session_state["scenario_rev"] = st.session_state.get("scenario_rev", 0) + 1
    if save:
        storage.autosave(scenario)


def reload_saved() -> None:
    """Take the latest saved version of the working scenario (after someone else saved)."""
    s, sid = storage.store(), st.session_state.get("store_id")
    if s is None or sid is None:
        return
    scenario, info = s.load(sid)
    st.session_state["store_version"] = info.number
    set_scenario(scenario, save=False)


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
