"""The live room on the Plan page (ui/room.py): who is here, what changed last, the projector
follows read-only and takes the wheel, invite links."""

from __future__ import annotations

from app_helpers import ROOT, run_page
from streamlit.testing.v1 import AppTest


def captions(at: AppTest) -> str:
    """The captions as a leader reads them (markdown escapes removed)."""
    return " | ".join(c.value for c in at.caption).replace("\\", "")


def link_of(at: AppTest) -> str:
    sid = at.query_params["scenario"]
    return sid[0] if isinstance(sid, list) else sid


def open_link(sid: str, author: str | None = None, *, follow: bool = False) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["scenario"] = sid
    if follow:
        at.query_params["follow"] = "1"
    at.run()
    assert not at.exception, at.exception
    if author:
        at.text_input(key="author").set_value(author).run()
    return at


def test_a_plan_is_shared_from_its_first_change() -> None:
    at = run_page()
    assert "Not shared yet" in captions(at)
    at.slider(key="plan_s0_rate0").set_value(70).run()
    assert "Live" in captions(at)
    assert "nobody else here yet" in captions(at)
    code = " ".join(c.value for c in at.code)
    sid = link_of(at)
    assert f"?scenario={sid}" in code  # the invite for another leader
    assert f"?scenario={sid}&follow=1" in code  # ... and for the projector


def test_who_is_here_and_what_changed_last() -> None:
    maya = run_page()
    maya.text_input(key="author").set_value("Maya").run()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    sam = open_link(link_of(maya), "Sam")
    sam.slider(key="plan_marketing_share").set_value(40).run()
    projector = open_link(link_of(maya), follow=True)
    maya.run()
    line = captions(maya)
    assert "with Sam, someone (following)" in line
    assert "last change: Sam: Marketing's share 50% → 40%" in line
    assert maya.slider(key="plan_marketing_share").value == 40  # caught up
    assert "with Maya, Sam" in captions(projector)


def test_the_projector_follows_read_only_and_can_take_the_wheel() -> None:
    maya = run_page()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    projector = open_link(link_of(maya), follow=True)
    assert projector.toggle(key="presentation").value is True
    assert not [s for s in projector.slider if s.key == "plan_s0_rate0"]  # nothing to edit
    assert "Following the room" in captions(projector)
    maya.slider(key="plan_s0_rate0").set_value(80).run()
    projector.run()  # its live bar found the new version
    follow_hit = next(m.value for m in projector.metric if m.label == "Chance we hit the number")
    assert follow_hit == next(m.value for m in maya.metric if m.label == "Chance we hit the number")
    next(b for b in projector.button if b.label == "Take the wheel").click().run()
    assert projector.toggle(key="presentation").value is False
    assert projector.slider(key="plan_s0_rate0").value == 80
    projector.slider(key="plan_s0_rate0").set_value(82).run()  # the former projector edits
    maya.run()
    assert maya.slider(key="plan_s0_rate0").value == 82
