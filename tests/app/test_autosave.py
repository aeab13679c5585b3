"""Every change is saved as a version; the link (?scenario=) reopens exactly that state; two
leaders on one link both land their moves (field by field), and a same-field overwrite can be
put back."""

from __future__ import annotations

from app_helpers import ROOT, percent, run_page
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from ui import editor
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


def open_link(sid: str, author: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["scenario"] = sid
    at.run()
    at.text_input(key="author").set_value(author).run()
    return at


def two_leaders() -> tuple[AppTest, AppTest, str]:
    maya = run_page()
    maya.text_input(key="author").set_value("Maya").run()
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    sid = maya.query_params["scenario"]
    sid = sid[0] if isinstance(sid, list) else sid
    return maya, open_link(sid, "Sam"), sid


def test_two_leaders_moving_different_sliders_both_land() -> None:
    maya, sam, sid = two_leaders()
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.slider(key="plan_marketing_share").set_value(45).run()  # Sam's screen still shows 70%
    store = _open(default_url())
    latest = store.load(sid)[0]
    assert latest.sources[0].rates[0].mean == 0.71
    assert latest.marketing_share == 0.45
    assert sam.slider(key="plan_s0_rate0").value == 71  # Sam's screen shows Maya's move too
    assert not sam.warning
    assert [v.author for v in store.versions(sid)][-2:] == ["Maya", "Sam"]
    maya.run()  # Maya's screen catches up with Sam's move
    assert maya.slider(key="plan_marketing_share").value == 45


def test_same_slider_the_later_move_wins_and_can_be_put_back() -> None:
    maya, sam, sid = two_leaders()
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.slider(key="plan_s0_rate0").set_value(90).run()  # Sam had not seen Maya's 71% yet
    store = _open(default_url())
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.90  # the later move wins
    (notice,) = [w.value for w in sam.warning]
    assert "replacing Maya's 71%" in notice
    assert "Inbound MQL → SQL rate" in notice
    next(b for b in sam.button if b.label == "Put back Maya's 71%").click().run()
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.71
    assert sam.slider(key="plan_s0_rate0").value == 71
    assert not sam.warning
    history = [(v.author, [c.after for c in v.changes or ()]) for v in store.versions(sid)]
    assert history[-3:] == [("Maya", [0.71]), ("Sam", [0.9]), ("Sam", [0.71])]  # nothing lost


def test_a_move_cut_short_before_its_save_is_saved_by_the_next_run(monkeypatch) -> None:
    """A newer request can interrupt the run that read a move before it saved it (a leader moving
    two sliders quickly); the next run reports the same value, and the move must still land."""
    import streamlit as st

    import ui.results

    at = run_page()
    at.slider(key="plan_s0_rate0").set_value(62).run()  # the first save makes the room
    sid = at.query_params["scenario"]
    sid = sid[0] if isinstance(sid, list) else sid
    store = _open(default_url())
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.62

    real, cut = ui.results.headline_numbers, []

    def cut_once(*args, **kwargs):
        if not cut:
            cut.append(True)
            st.stop()  # the run ends here: after reading the move, before saving it
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.results, "headline_numbers", cut_once)
    at.slider(key="plan_s0_rate0").set_value(66).run()
    assert cut, "the run was not cut short"
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.62  # not saved yet
    at.run()  # the next run: the browser reports the same 66%
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.66
    assert at.slider(key="plan_s0_rate0").value == 66


def test_a_browser_reporting_an_older_update_does_not_undo_the_room() -> None:
    """A follower's browser may report a value the server wrote two updates ago (its requests
    crossed two quick moves on the way); that is not a move, and the widget is set back to the
    latest value."""
    maya, sam, sid = two_leaders()  # both screens at 70%
    store = _open(default_url())
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.slider(key="plan_s0_rate0").set_value(70)  # Sam's browser has not shown 71% yet...
    sam.run()  # ... and the page catches up to 71%
    maya.slider(key="plan_s0_rate0").set_value(72).run()
    sam.slider(key="plan_s0_rate0").set_value(70)
    sam.run()  # caught up to 72%; the browser still reports 70%
    sam.slider(key="plan_s0_rate0").set_value(71)  # it now shows 71% (the first update)
    sam.run()
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.72  # Maya's move stands
    assert [v.author for v in store.versions(sid)][-1] == "Maya"
    assert sam.slider(key="plan_s0_rate0").value == 72
    sam.slider(key="plan_s0_rate0").set_value(65).run()  # and Sam's own moves still land
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.65


def later(monkeypatch, seconds: float) -> None:
    """Move the editors' clock (ui.editor.clock) on by `seconds`."""
    start = editor.clock()
    monkeypatch.setattr(editor, "clock", lambda: start + seconds)


def test_a_leader_can_move_back_to_the_value_another_leader_replaced(monkeypatch) -> None:
    """Once a screen shows Sam's 71%, Maya's move back to 70% is a move (70% is an older value
    the server wrote into her widget, but her browser has reported 71% since, and the write of
    71% is more than a moment old)."""
    maya, sam, sid = two_leaders()  # both screens at 70%
    store = _open(default_url())
    sam.slider(key="plan_s0_rate0").set_value(71).run()
    maya.run()  # Maya's screen catches up with Sam's 71%
    maya.run()  # her browser reports 71% (as its next poll does)
    later(monkeypatch, editor.STALE_FOR_S + 1)
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.70
    assert [v.author for v in store.versions(sid)][-1] == "Maya"
    assert maya.slider(key="plan_s0_rate0").value == 70


def test_a_browser_reporting_a_value_replaced_a_moment_ago_does_not_undo_the_room() -> None:
    """A browser can report a value the server wrote into a widget and replaced a moment ago,
    even after it reported the newer one (the two-process browser test: 78%, then 77% a second
    later). Within STALE_FOR_S of the replacement that report is stale: set back, not saved as
    a move that undoes the other leader's change."""
    maya, sam, sid = two_leaders()  # both screens at 70% (written into Sam's at his load)
    store = _open(default_url())
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.run()  # Sam's screen catches up: 71% replaces 70% in his slider
    sam.run()  # his browser reports 71%
    sam.slider(key="plan_s0_rate0").set_value(70)  # ... and then the 70% it showed before
    sam.run()
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.71  # Maya's move stands
    assert [v.author for v in store.versions(sid)][-1] == "Maya"
    assert not sam.warning
    assert sam.slider(key="plan_s0_rate0").value == 71


def test_a_move_back_to_the_leaders_own_value_is_a_move_at_once() -> None:
    """Only the server's writes go stale: Maya moved to 70% herself, so moving straight back to
    it after Sam's 71% arrives is her move, however soon (the browser journey moves it back
    within a second or two)."""
    maya, sam, sid = two_leaders()  # Maya set 70% herself
    store = _open(default_url())
    sam.slider(key="plan_s0_rate0").set_value(71).run()
    maya.run()  # Maya's screen catches up with Sam's 71%
    maya.run()  # her browser reports 71%
    maya.slider(key="plan_s0_rate0").set_value(70).run()
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.70
    assert [v.author for v in store.versions(sid)][-1] == "Maya"
    assert maya.slider(key="plan_s0_rate0").value == 70


def test_a_leader_moving_straight_back_from_her_own_move_makes_a_move() -> None:
    """The value shown before the leader's own move (here the one her page loaded with) is no
    stale report: moving straight back to it lands at once (the Scenarios browser journey)."""
    maya, _, sid = two_leaders()  # Maya moved from the loaded 75% to 70%
    maya.slider(key="plan_s0_rate0").set_value(75).run()
    assert _open(default_url()).load(sid)[0].sources[0].rates[0].mean == 0.75
    assert maya.slider(key="plan_s0_rate0").value == 75


def test_a_widget_the_browser_sent_no_value_for_gets_the_servers_value_again() -> None:
    """Under load a browser can miss the value the server wrote into a widget (the next run drew
    the widget again, without the value, before the browser showed the first). Streamlit then
    shows the widget's default, a target of 0, and reports it as a move. A run whose report has
    no value for a widget sends the server's value with the widget again."""
    at = run_page()
    target = at.number_input(key="plan_target")
    assert target.value == 55
    report = WidgetStates()
    report.widgets.extend(w for w in at._tree.get_widget_states().widgets if w.id != target.id)
    at._run(report)  # the browser's report without the target (it had not drawn it)
    assert not at.exception
    assert not at.error
    again = at.number_input(key="plan_target")
    assert again.proto.set_value
    assert again.value == 55
    at.run()  # a full report: nothing is written again
    assert not at.number_input(key="plan_target").proto.set_value
    assert not at.slider(key="plan_s0_rate0").proto.set_value


def test_a_move_that_crossed_the_other_leaders_value_on_the_way_names_it() -> None:
    """Sam's screen catches up with Maya's 71% (the server writes it into his slider), but his
    browser had moved the slider from 70% to 60% before it drew 71%: his move was made on 70%,
    so it lands over Maya's 71% with the notice naming it (not silently, as a move made on her
    value would), and the put-back is one click away."""
    maya, sam, sid = two_leaders()
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.run()  # Sam's screen catches up: the server writes 71 into his slider
    store = _open(default_url())
    seen_before = store.head_info(sid).number
    sam.slider(key="plan_s0_rate0").set_value(60).run()  # ... his browser's move from 70
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.60  # the later move wins
    assert store.head_info(sid).number == seen_before + 1
    (notice,) = [w.value for w in sam.warning]
    assert "replacing Maya's 71%" in notice
    assert any(b.label == "Put back Maya's 71%" for b in sam.button)


def test_a_move_made_on_the_other_leaders_value_is_no_clash() -> None:
    """The same move once Sam's browser has drawn (and reported) Maya's 71%: no notice."""
    maya, sam, sid = two_leaders()
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.run()  # catches up: 71 written into his slider
    sam.run()  # his browser reports 71: it has drawn it
    sam.slider(key="plan_s0_rate0").set_value(60).run()
    assert _open(default_url()).load(sid)[0].sources[0].rates[0].mean == 0.60
    assert not sam.warning


def _unread_script() -> None:
    import streamlit as st

    from sim import load_scenario
    from ui import editor
    from ui.shell import SEED_FILE

    st.text(repr(editor.unread_move(load_scenario(SEED_FILE))))


def unread(reported: object, shown: object, written: list[object]) -> str:
    """editor.unread_move for the first rate: the browser reported `reported` last time, holds
    `shown` now, and the server wrote `written` into it since."""
    at = AppTest.from_function(_unread_script)
    at.session_state["plan_reported"] = {"plan_s0_rate0": reported}
    at.session_state["plan_sent"] = {"plan_s0_rate0": written}
    at.session_state["plan_s0_rate0"] = shown
    at.run()
    assert not at.exception, at.exception
    return at.text[0].value


def test_a_press_that_rode_along_with_another_rerun_is_an_unread_move() -> None:
    """The live bar reruns the page when a rerun of the bar carried a press (ui/room.py): the
    browser sends no other request for it, and the editors must still read and save it."""
    from ui.editor import _UNSAVED

    assert unread(75, 76, [75]) == "(('plan_s0_rate0', 76),)"  # a press: read it
    assert unread(75, 75, [75]) == "()"  # nothing moved
    assert unread(75, 70, [70]) == "()"  # the screen shows the server's write: no move
    assert unread(70, 75, [72, 75]) == "()"  # a stale report of an older write: no move
    assert unread(_UNSAVED, 150, [75]) == "()"  # an invalid value, read and shown as an error


def without(at: AppTest, key: str) -> WidgetStates:
    """The browser's report of every widget on the page but the one keyed `key`."""
    wid = at.slider(key=key).id
    report = WidgetStates()
    report.widgets.extend(w for w in at._tree.get_widget_states().widgets if w.id != wid)
    return report


def test_a_run_without_the_browsers_report_does_not_count_as_the_screen_showing_it() -> None:
    """Sam's screen catches up with Maya's 71% (the server writes it into his slider). A run
    whose report has no value for that slider (the browser was redrawing it) says nothing of
    what the screen shows: the 70% his browser reports after it is still a stale report, set
    back, not a move that undoes Maya's change."""
    maya, sam, sid = two_leaders()  # both screens at 70%
    store = _open(default_url())
    maya.slider(key="plan_s0_rate0").set_value(71).run()
    sam.slider(key="plan_s0_rate0").set_value(70)  # Sam's browser has not drawn 71% ...
    sam.run()  # ... and the page catches up to 71%
    sam._run(without(sam, "plan_s0_rate0"))  # a run without the slider's value
    assert not sam.exception
    sam.slider(key="plan_s0_rate0").set_value(70)  # the browser still holds 70%
    sam.run()
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.71  # Maya's move stands
    assert [v.author for v in store.versions(sid)][-1] == "Maya"
    assert not sam.warning
    assert sam.slider(key="plan_s0_rate0").value == 71
