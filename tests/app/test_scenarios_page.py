"""Scenarios page: save a proposal, see its history and what changed, restore, agree, delete."""

from __future__ import annotations

from app_helpers import run_page
from streamlit.testing.v1 import AppTest

from ui.storage import _open, default_url


def scenarios_page(moves: tuple[int, ...] = (70,)) -> AppTest:
    """A session that moved the first MQL -> SQL slider through `moves`, now on Scenarios."""
    at = run_page()
    at.text_input(key="author").set_value("Maya").run()
    for value in moves:
        at.slider(key="plan_s0_rate0").set_value(value).run()
    at.switch_page("pages/5_Scenarios.py").run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def test_history_lists_every_version_and_what_changed() -> None:
    at = scenarios_page(moves=(70, 65, 60))
    sid = at.session_state["store_id"]
    history = at.dataframe[1].value
    assert list(history["Version"]) == [3, 2, 1]
    assert set(history["Saved by"]) == {"Maya"}
    changes = at.dataframe[2].value
    assert list(changes["Assumption"]) == ["Inbound · MQL → SQL rate"]
    assert list(changes["Version 2"]) == ["65.0% · known exactly"]
    assert list(changes["Version 3"]) == ["60.0% · known exactly"]
    at.selectbox(key=f"scenarios_from_{sid}").set_value(1).run()
    assert list(at.dataframe[2].value["Version 1"]) == ["70.0% · known exactly"]
    at.selectbox(key=f"scenarios_from_{sid}").set_value(3).run()
    assert any("assume exactly the same" in c.value for c in at.caption)


def test_restore_brings_an_old_version_back_as_the_newest() -> None:
    at = scenarios_page(moves=(70, 60))
    sid = at.session_state["store_id"]
    at.selectbox(key=f"scenarios_restore_{sid}").set_value(1).run()
    button(at, "Restore").click().run()
    assert not at.exception
    assert any("Version 1 restored as version 3" in s.value for s in at.success)
    store = _open(default_url())
    assert [v.number for v in store.versions(sid)] == [1, 2, 3]
    assert store.load(sid)[0].sources[0].rates[0].mean == 0.70
    assert at.session_state["store_version"] == 3
    at.switch_page("app.py").run()
    assert at.slider(key="plan_s0_rate0").value == 70  # the Plan page follows the restore


def test_save_as_new_proposal_and_open_another_one() -> None:
    at = scenarios_page()
    first = at.session_state["store_id"]
    at.text_input(key="scenarios_new_name").set_value("Sales' proposal")  # a form: sent on submit
    button(at, "Save as a new scenario").click().run()
    second = at.session_state["store_id"]
    assert second != first
    store = _open(default_url())
    assert sorted(s.name for s in store.scenarios()) == ["Sales' proposal", "Seed plan"]
    assert "Sales' proposal" in at.markdown[0].value.replace("\\", "")
    at.selectbox(key="scenarios_pick").set_value(first).run()
    button(at, "Open on the Plan page").click().run()
    assert at.session_state["store_id"] == first
    assert at.query_params["scenario"] in (first, [first])


def test_an_empty_new_name_is_refused() -> None:
    at = scenarios_page()
    button(at, "Save as a new scenario").click().run()
    assert any(e.value.startswith("Name:") for e in at.error)
    assert len(_open(default_url()).scenarios()) == 1


def test_a_name_with_html_is_kept_and_shown_as_text() -> None:
    at = scenarios_page()
    sid = at.session_state["store_id"]
    at.text_input(key=f"scenarios_rename_{sid}").set_value("<script>alert(1)</script> **Q1**")
    button(at, "Rename").click().run()
    assert _open(default_url()).load(sid)[0].name == "<script>alert(1)</script> **Q1**"
    shown = [m.value for m in at.markdown if "script" in m.value]
    assert shown
    assert all("\\<script\\>" in v and "\\*\\*Q1\\*\\*" in v for v in shown)


def test_agree_locks_the_version_and_an_edit_starts_a_draft() -> None:
    at = scenarios_page()
    sid = at.session_state["store_id"]
    button(at, "Agree: lock it as the plan for 2027-Q1").click().run()
    assert any("Who agrees: type the names" in e.value for e in at.error)  # names are required
    at.text_input(key=f"scenarios_agree_{sid}_names").set_value("Maya, Sam").run()
    button(at, "Agree: lock it as the plan for 2027-Q1").click().run()
    assert any("Agreed by Maya, Sam: version 1" in s.value for s in at.success)
    record = at.dataframe[-1].value
    assert list(record["Agreed by"]) == ["Maya, Sam"]
    assert list(record["Status"]) == ["current"]
    store = _open(default_url())
    locked = store.load(sid)[0]

    at.switch_page("app.py").run()
    assert any("🔒 The agreed plan for 2027-Q1" in c.value for c in at.caption)
    at.slider(key="plan_s0_rate0").set_value(50).run()
    assert not at.exception
    assert any("started a new draft" in i.value for i in at.info)
    draft = at.session_state["store_id"]
    assert draft != sid
    assert store.load(sid)[0] == locked  # the agreed plan did not move
    assert store.load(draft)[0].name == "Seed plan (draft)"
    assert store.load(draft)[0].sources[0].rates[0].mean == 0.50


def test_delete_is_restorable() -> None:
    at = scenarios_page()
    sid = at.session_state["store_id"]
    button(at, "Delete (restorable)").click().run()
    store = _open(default_url())
    assert store.scenarios() == []
    assert "store_id" not in at.session_state
    assert any("Nothing saved yet" in i.value for i in at.info)
    # a new change saves a new scenario; the deleted one waits in the expander
    at.switch_page("app.py").run()
    at.slider(key="plan_s0_rate0").set_value(66).run()
    at.switch_page("pages/5_Scenarios.py").run()
    at.selectbox(key="scenarios_deleted_pick").set_value(sid).run()
    button(at, "Restore this scenario").click().run()
    assert sid in [s.id for s in store.scenarios()]


def test_the_agreed_version_cannot_be_renamed_from_here() -> None:
    at = scenarios_page()
    sid = at.session_state["store_id"]
    at.text_input(key=f"scenarios_agree_{sid}_names").set_value("Maya, Sam").run()
    button(at, "Agree: lock it as the plan for 2027-Q1").click().run()
    at.text_input(key=f"scenarios_rename_{sid}").set_value("Quietly changed")
    button(at, "Rename").click().run()
    assert any("Rename: the latest version is the agreed plan" in e.value for e in at.error)
    assert _open(default_url()).load(sid)[0].name == "Seed plan"
