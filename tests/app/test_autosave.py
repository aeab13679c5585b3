"""Every change is saved as a version; the link (?scenario=) reopens exactly that state;
a stale save from a second leader is refused with a choice."""

from __future__ import annotations

from app_helpers import ROOT, percent, run_page
from streamlit.testing.v1 import AppTest

from ui.storage import _open, default_url


def test_changes_are_saved_and_the_link_reopens_them() -> None:
    at = run_page()
    at.text_input(key="author").set_value("Maya").run()
    at.slider(key="plan_s0_rate0").set_value(62).run()
    sid = at.query_params["scenario"]
    sid = sid[0] if isinstance(sid, list) else sid
    store = _open(default_url())
    versions = store.versions(sid)
    assert versions[-1].author == "Maya"
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.62
    chance = percent(at, "Chance we hit the number")

    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    again.query_params["scenario"] = sid
    again.run()
    assert not again.exception
    assert again.slider(key="plan_s0_rate0").value == 62
    assert percent(again, "Chance we hit the number") == chance


def test_second_leader_on_a_stale_version_is_refused_with_a_choice() -> None:
    first = run_page()
    first.slider(key="plan_s0_rate0").set_value(70).run()
    sid = first.query_params["scenario"]
    sid = sid[0] if isinstance(sid, list) else sid
    second = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    second.query_params["scenario"] = sid
    second.run()
    first.slider(key="plan_s0_rate0").set_value(71).run()  # first saves again
    second.slider(key="plan_s0_rate0").set_value(90).run()  # second is now stale
    assert any("save yours as a new scenario, or reload" in w.value for w in second.warning)
    store = _open(default_url())
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.71  # nothing overwritten
    next(b for b in second.button if b.label == "Save mine as a new scenario").click().run()
    mine = second.session_state["store_id"]
    assert mine != sid
    assert store.load(mine)[0].sources[0].rates[0].mean == 0.90
