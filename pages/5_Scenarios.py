"""Scenarios: every saved proposal, its history (who changed what, when), restore, agreement."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from sim.diff import diff
from sim.store import LockedError, Store, StoreError, VersionInfo
from ui import room, shell, storage
from ui.agreement import Candidate, agree_controls, agreements_table

shell.setup_page("Scenarios")
working = shell.current_scenario()
st.title("Saved scenarios")
s = storage.store()
if s is None:
    st.stop()  # storage.store() has shown why and how to start a fresh store
room.live_bar()  # the working scenario's versions and agreement, live
store: Store = s
if notice := st.session_state.pop("scenarios_notice", None):
    st.success(notice)


def act(what: str, fn) -> bool:  # type: ignore[no-untyped-def]
    """Run a store action; a refusal is shown, never raised."""
    try:
        fn()
    except StoreError as exc:
        st.error(f"{what}: {exc}.")
        return False
    return True


# ---- This session's scenario -------------------------------------------------------------------
working_sid = st.session_state.get("store_id")
st.markdown(
    f"**Working on:** {shell.md_text(working.name)} · {working.quarter}"
    + (
        f" · version {st.session_state.get('store_version')}"
        if working_sid
        else " · not saved yet (it is saved on your first change)"
    )
)
with st.form("scenarios_new", border=False):
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    new_name = c1.text_input(
        "Save the working scenario as a new proposal, named",
        max_chars=80,
        key="scenarios_new_name",
        placeholder="Sales' proposal",
    )
    if c2.form_submit_button("Save as a new scenario"):
        if not new_name.strip():
            st.error("Name: type a name for the new scenario.")
        else:
            copy = working.model_copy(update={"name": new_name.strip()})
            info = store.create(copy, storage.author())
            storage.open_saved(info.scenario_id, info.number, copy)
            st.session_state["scenarios_pick_next"] = info.scenario_id
            st.session_state["scenarios_notice"] = f"Saved as {shell.md_text(copy.name)}."
            st.rerun()

# ---- All saved scenarios ------------------------------------------------------------------------
scenarios = store.scenarios()
agreed = {(a.scenario_id, a.version): a for a in store.agreements() if a.superseded_at is None}
if not scenarios:
    st.info("Nothing saved yet. Every change on the Plan page is saved here as a version.")
    st.stop()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Name": info.name,
                "Quarter": info.quarter,
                "Versions": info.head,
                "Last saved": storage.when(info.updated_at),
                "Agreed plan": ", ".join(
                    f"v{v} for {a.quarter}" for (sid, v), a in agreed.items() if sid == info.id
                ),
                "This session": "●" if info.id == working_sid else "",
            }
            for info in scenarios
        ]
    ),
    hide_index=True,
    width="stretch",
)
ids = [info.id for info in scenarios]
by_id = {info.id: info for info in scenarios}
labels = storage.scenario_labels(scenarios)
if "scenarios_pick_next" in st.session_state:  # set by an action on the last run
    st.session_state["scenarios_pick"] = st.session_state.pop("scenarios_pick_next")
if st.session_state.get("scenarios_pick") not in ids:
    st.session_state["scenarios_pick"] = working_sid if working_sid in ids else ids[0]
sid = st.selectbox("Scenario", ids, format_func=labels.__getitem__, key="scenarios_pick")
info = by_id[sid]
head = info.head


def new_version(what: str, fn: Callable[[], VersionInfo], notice: str = "") -> None:
    """Rename or restore: append a version to the picked scenario; a refusal is shown."""
    try:
        made = fn()
    except LockedError:
        st.error(
            f"{what}: the latest version is the agreed plan and cannot change; duplicate the "
            "scenario to work on a copy."
        )
        return
    except StoreError as exc:  # a stale view or a bad name
        st.error(f"{what}: {exc}.")
        return
    if sid == working_sid:  # the Plan page follows
        storage.open_saved(sid, made.number, store.load(sid)[0])
    st.session_state["scenarios_pick_next"] = sid  # the picker keeps this scenario
    for key in (f"scenarios_from_{sid}", f"scenarios_to_{sid}"):  # show the newest change
        st.session_state.pop(key, None)
    if notice:
        st.session_state["scenarios_notice"] = notice.format(number=made.number)
    st.rerun()


b1, b2, b3 = st.columns(3)
if b1.button("Open on the Plan page", key="scenarios_open", type="primary"):
    scenario, version = store.load(sid)
    storage.open_saved(sid, version.number, scenario)
    st.switch_page("app.py", query_params={"scenario": sid})
if b2.button("Duplicate", key="scenarios_duplicate"):
    copy_name: str = f"{info.name[:70]} (copy)"
    try:
        made = store.duplicate(sid, storage.author(), name=copy_name)
    except StoreError as exc:
        st.error(f"Duplicate: {exc}.")
    else:
        st.session_state["scenarios_pick_next"] = made.scenario_id
        st.session_state["scenarios_notice"] = f"Duplicated as {shell.md_text(copy_name)}."
        st.rerun()
if b3.button("Delete (restorable)", key="scenarios_delete") and act(
    "Delete", lambda: store.set_deleted(sid, True)
):
    if sid == working_sid:  # the working copy stays in the session, unsaved
        for k in ("store_id", "store_version"):
            st.session_state.pop(k, None)
        st.query_params.pop("scenario", None)
    st.session_state["scenarios_pick_next"] = None  # back to this session's or the first
    st.session_state["scenarios_notice"] = (
        f"Deleted {shell.md_text(info.name)}; restore it from 'Deleted scenarios' below."
    )
    st.rerun()

with st.form("scenarios_rename", border=False):
    r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
    rename_to = r1.text_input(
        "Rename to", value=info.name, max_chars=80, key=f"scenarios_rename_{sid}"
    )
    if r2.form_submit_button("Rename") and rename_to.strip() != info.name:
        new_version(
            "Rename",
            lambda: store.rename(sid, rename_to.strip(), storage.author(), based_on=head),
            "Renamed (version {number}).",
        )

# ---- History: every version, what changed, restore ----------------------------------------------
st.subheader(f"History of {shell.md_text(info.name)}")
versions = store.versions(sid)
st.dataframe(
    pd.DataFrame(
        [
            {
                "Version": v.number,
                "Saved by": v.author,
                "Saved at": storage.when(v.created_at),
                "Content hash": v.content_hash[:12],
                "Agreed": f"agreed for {agreed[(sid, v.number)].quarter}"
                if (sid, v.number) in agreed
                else "",
            }
            for v in reversed(versions)
        ]
    ),
    hide_index=True,
    width="stretch",
)
numbers = [v.number for v in versions]
# What changed in the latest version, unless the leader picked others: a picker on the latest
# version (or the one before it) moves on when a new one is saved, here or on another screen.
shell.follow_latest(
    numbers, {f"scenarios_from_{sid}": 2, f"scenarios_to_{sid}": 1}, f"scenarios_numbers_{sid}"
)
d1, d2 = st.columns(2)
frm = d1.selectbox("What changed from version", numbers, key=f"scenarios_from_{sid}")
to = d2.selectbox("to version", numbers, key=f"scenarios_to_{sid}")
changes = diff(store.load(sid, frm)[0], store.load(sid, to)[0])
if changes:
    st.dataframe(
        pd.DataFrame(
            [
                {"Assumption": c.label, f"Version {frm}": c.before, f"Version {to}": c.after}
                for c in changes
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption(f"Versions {frm} and {to} assume exactly the same.")

r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
back_to = r1.selectbox(
    "Restore an earlier version (it becomes the newest; nothing is removed)",
    numbers[:-1][::-1] or numbers,
    key=f"scenarios_restore_{sid}",
)
if r2.button("Restore", key="scenarios_restore_button", disabled=len(numbers) < 2):
    new_version(
        "Restore",
        lambda: store.restore(sid, back_to, storage.author(), based_on=head),
        f"Version {back_to} restored as version {{number}}.",
    )

# ---- Agreement -----------------------------------------------------------------------------------
st.subheader("Agree on the plan")
st.caption(
    "Locks one version as the quarter's agreed plan, with who agreed, when and a content hash. "
    "One agreed plan per quarter: a new agreement supersedes the old one, and both stay on record."
)
agree_controls(
    store,
    [
        Candidate(f"{info.name} · {info.quarter} · version {n}", sid, n, info.quarter)
        for n in reversed(numbers)
    ],
    key=f"scenarios_agree_{sid}",
)
record = agreements_table(store)
if len(record):
    st.dataframe(record, hide_index=True, width="stretch")

# ---- Deleted ----------------------------------------------------------------------------------------
deleted = store.scenarios(deleted=True)
if deleted:
    with st.expander(f"Deleted scenarios ({len(deleted)})"):
        gone = {d.id: d for d in deleted}
        pick = st.selectbox(
            "Deleted scenario",
            list(gone),
            format_func=storage.scenario_labels(deleted).__getitem__,
            key="scenarios_deleted_pick",
        )
        if st.button("Restore this scenario", key="scenarios_undelete") and act(
            "Restore", lambda: store.set_deleted(pick, False)
        ):
            st.session_state["scenarios_pick_next"] = pick
            st.session_state["scenarios_notice"] = f"{shell.md_text(gone[pick].name)} is back."
            st.rerun()
