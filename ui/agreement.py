"""Locking a saved version as the quarter's agreed plan: the controls and the record, shared by
the Compare and Scenarios pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from sim.store import Store, StoreError
from ui import auth, storage
from ui.text import md_text


@dataclass(frozen=True, slots=True)
class Candidate:
    """A saved version that could be agreed, with how to show it."""

    label: str
    scenario_id: str
    version: int
    quarter: str


def agree_controls(s: Store, candidates: Sequence[Candidate], key: str) -> None:
    """Pick a version, type the names, lock it. Errors name what is missing."""
    if notice := st.session_state.pop(f"{key}_notice", None):
        st.success(notice)
    if not candidates:
        st.info("Save a scenario first; only saved versions can be agreed.")
        return
    by_key = {f"{c.scenario_id}:{c.version}": c for c in candidates}  # stable as versions come
    picked = st.selectbox(
        "Version to agree on",
        list(by_key),
        format_func=lambda k: by_key[k].label,
        key=f"{key}_which",
    )
    chosen = by_key[picked]
    signed_in = auth.identity()
    if signed_in is None:
        names = st.text_input(
            "Who agrees (names, comma separated)",
            key=f"{key}_names",
            max_chars=300,
            placeholder="Maya (marketing), Sam (sales)",
        )
    else:  # signed in: the agreement carries the identity provider's name and e-mail
        names = signed_in.author
        refusal = auth.agreement_refusal()
        st.caption(
            f"You agree as {md_text(names)}."
            if refusal is None
            else f"Only {md_text(', '.join(auth.agree_rules()))} may agree a plan; you can propose."
        )
    if st.button(f"Agree: lock it as the plan for {chosen.quarter}", key=f"{key}_button"):
        if (refusal := auth.agreement_refusal()) is not None:
            st.error(f"Not agreed: {md_text(refusal)}.")
            return
        if not names.replace(",", "").strip():
            st.error("Who agrees: type the names of the leaders who agree, comma separated.")
            return
        try:
            who = [names] if signed_in is not None else names.split(",")
            agreement = s.agree(chosen.scenario_id, chosen.version, who)
        except StoreError as exc:
            st.error(f"Not agreed: {exc}.")
        else:
            storage.feed(s).agreed(agreement.quarter, agreement.id)  # this process's screens
            st.session_state[f"{key}_notice"] = (
                f"Agreed by {md_text(agreement.agreed_by)}: version {agreement.version} is the plan "
                f"for {agreement.quarter} (content hash {agreement.content_hash[:12]}). "
                "It is locked; editing it starts a new draft."
            )
            st.rerun()


def agreements_table(s: Store) -> pd.DataFrame:
    """Every agreement ever made, newest first, with what superseded what."""
    names = {info.id: info.name for info in s.scenarios() + s.scenarios(deleted=True)}
    rows = [
        {
            "Quarter": a.quarter,
            "Scenario": names.get(a.scenario_id, a.scenario_id),
            "Version": a.version,
            "Agreed by": a.agreed_by,
            "Agreed at": storage.when(a.agreed_at),
            "Content hash": a.content_hash[:12],
            "Status": "current"
            if a.superseded_at is None
            else f"superseded {storage.when(a.superseded_at)}",
        }
        for a in reversed(s.agreements())
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "Quarter",
            "Scenario",
            "Version",
            "Agreed by",
            "Agreed at",
            "Content hash",
            "Status",
        ],
    )
