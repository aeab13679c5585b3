"""The live room beyond the Plan and SLA pages: Assumptions, Review, Compare and Scenarios show
the latest version, who is here and what changed last; an apply on Assumptions names a value
another leader set after the screen was drawn, with its put-back."""

from __future__ import annotations

import pytest
from app_helpers import run_page
from streamlit.testing.v1 import AppTest
from test_room import captions, link_of, open_link


def shared_plan() -> tuple[AppTest, AppTest]:
    """Maya shares the seed plan with a first move; Sam opens her link on the Plan page."""
    maya = run_page()
    maya.text_input(key="author").set_value("Maya").run()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    return maya, open_link(link_of(maya), "Sam")


def version_shown(at: AppTest) -> int:
    return int(at.session_state["store_version"])


@pytest.mark.parametrize(
    "page",
    ["pages/1_Assumptions.py", "pages/3_Review.py", "pages/4_Compare.py", "pages/5_Scenarios.py"],
)
def test_every_page_shows_the_latest_version_and_who_changed_it(page: str) -> None:
    maya, sam = shared_plan()
    maya.switch_page(page).run()
    assert not maya.exception, maya.exception
    before = version_shown(maya)
    assert "**Live** · with Sam" in captions(maya)
    sam.slider(key="plan_marketing_share").set_value(40).run()
    maya.run()  # the live bar's next look (the browser's watch asks for it)
    assert not maya.exception, maya.exception
    assert version_shown(maya) == before + 1
    assert maya.session_state["scenario"].marketing_share == pytest.approx(0.4)
    assert "last change: Sam: Marketing's share 50% → 40%" in captions(maya)
    if page == "pages/5_Scenarios.py":  # the page says which version it works on
        assert any(f"version {before + 1}" in m.value for m in maya.markdown)


def test_an_apply_from_assumptions_names_a_rate_set_after_the_screen_was_drawn() -> None:
    maya, sam = shared_plan()
    maya.switch_page("pages/1_Assumptions.py").run()
    next(b for b in maya.button if b.label == "Use the example history").click().run()
    sam.slider(key="plan_s0_rate0").set_value(65).run()  # Maya's screen still shows 70%
    next(b for b in maya.button if b.label == "Apply to the plan").click().run()
    assert not maya.exception, maya.exception
    rate = maya.session_state["scenario"].sources[0].rates[0].mean
    assert rate != pytest.approx(0.65)  # the history's rate won ...
    notice = " ".join(w.value for w in maya.warning).replace("\\", "")
    assert "You changed Inbound MQL → SQL rate to" in notice  # ... and the replaced 65% is named
    assert "replacing Sam's 65%" in notice
    next(b for b in maya.button if b.label == "Put back Sam's 65%").click().run()
    assert not maya.exception, maya.exception
    assert maya.session_state["scenario"].sources[0].rates[0].mean == pytest.approx(0.65)
    assert not any("replacing" in w.value for w in maya.warning)
    sam.run()
    assert sam.slider(key="plan_s0_rate0").value == 65  # on every screen
    assert sam.session_state["scenario"].sources[0].rates[1].mean == pytest.approx(
        maya.session_state["scenario"].sources[0].rates[1].mean
    )  # the rest of the history's rates stayed


def test_an_apply_on_a_screen_that_showed_the_latest_version_names_nothing() -> None:
    maya, sam = shared_plan()
    maya.switch_page("pages/1_Assumptions.py").run()
    next(b for b in maya.button if b.label == "Use the example history").click().run()
    sam.slider(key="plan_s0_rate0").set_value(65).run()
    maya.run()  # her screen shows Sam's 65% now
    next(b for b in maya.button if b.label == "Apply to the plan").click().run()
    assert not maya.exception, maya.exception
    assert not any("replacing" in w.value for w in maya.warning)
    assert maya.session_state["scenario"].sources[0].rates[0].mean != pytest.approx(0.65)


def test_the_history_shows_what_the_latest_version_changed_as_versions_arrive() -> None:
    maya, sam = shared_plan()
    sam.slider(key="plan_s0_rate1").set_value(45).run()
    maya.switch_page("pages/5_Scenarios.py").run()
    sid = link_of(maya)
    latest = version_shown(maya)
    assert latest >= 2
    frm, to = (maya.selectbox(key=f"scenarios_{k}_{sid}") for k in ("from", "to"))
    assert (frm.value, to.value) == (latest - 1, latest)
    sam.slider(key="plan_marketing_share").set_value(40).run()
    maya.run()
    frm, to = (maya.selectbox(key=f"scenarios_{k}_{sid}") for k in ("from", "to"))
    assert (frm.value, to.value) == (latest, latest + 1)  # moved on with the new version
    changed = next(d.value for d in maya.dataframe if "Assumption" in d.value.columns)
    assert list(changed["Assumption"]) == ["Marketing's share of the number"]
    frm.set_value(1).run()  # the leader's own pick stays ...
    sam.slider(key="plan_marketing_share").set_value(35).run()
    maya.run()
    frm, to = (maya.selectbox(key=f"scenarios_{k}_{sid}") for k in ("from", "to"))
    assert (frm.value, to.value) == (1, latest + 2)  # ... while "to" follows the latest
