"""SLA: the words both sides sign (MQL and SQL definitions, follow-up), a lead-list check,
and the agreed plan as a document."""

from __future__ import annotations

import re
from datetime import date

import streamlit as st

from sim import ScenarioError
from sim.export import SignOff
from sim.leads import MAX_BYTES as MAX_LEAD_BYTES
from sim.models import content_hash
from sim.sla import SLA, WHY
from ui import editor, room, shell, sla_form, storage
from ui.results import cached_lead_check, export_bytes

shell.setup_page("SLA")
scenario = shell.current_scenario()
if (undo := room.pending_undo()) is not None:  # "Put back Sam's 24 h" (a clash on the terms)
    scenario = shell.set_scenario(editor.with_change(scenario, undo))
    sla_form.refill()
sla = scenario.sla or SLA()
st.title(f"The agreement · {shell.md_text(scenario.name)} · {scenario.quarter}")
live = st.container()  # the room's status line (drawn last: after an apply has saved)
st.caption(
    "The numbers come from the Plan page; here are the words both leaders sign. "
    f"{WHY[0].upper()}{WHY[1:]}."
)

# ---- Terms editor: nothing changes until the form is applied and valid -------------------------
# The form's fields are filled from the plan when the page opens and after each apply. An apply
# saves the fields this leader changed in the form, on top of the latest version: terms another
# leader applied meanwhile stay, and a term both changed is a clash, named with a put-back.
sla_form.fill(sla)
with st.form("sla_form"):
    o1, o2 = st.columns(2)
    o1.text_input("Marketing leader", max_chars=80, key="sla_marketing_owner")
    o2.text_input("Sales leader", max_chars=80, key="sla_sales_owner")

    st.markdown("**What counts as an MQL** (where the company is, how big, which sector)")
    m1, m2 = st.columns(2)
    m1.text_input("Countries or regions (comma separated)", key="sla_regions")
    m2.text_input(
        "Sectors (comma separated)", key="sla_sectors", help="Industries, never roles or needs."
    )
    e1, e2, r1, r2 = st.columns(4)
    e1.number_input("Employees from", min_value=0, step=50, key="sla_employees_min")
    e2.number_input("Employees up to", min_value=0, step=50, key="sla_employees_max")
    r1.number_input(
        "Annual revenue from", min_value=0.0, step=1e6, format="%.0f", key="sla_revenue_min"
    )
    r2.number_input(
        "Annual revenue up to", min_value=0.0, step=1e6, format="%.0f", key="sla_revenue_max"
    )
    st.text_area("Note on the MQL definition", max_chars=1000, key="sla_mql_note")

    st.markdown("**What makes an SQL** (sales confirms on a call: BANT)")
    b = st.columns(4)
    b[0].checkbox("Budget", key="sla_budget")
    b[1].checkbox("Authority", key="sla_authority")
    b[2].checkbox("Need", key="sla_need")
    b[3].checkbox("Timing", key="sla_timing")
    st.text_input("Note on the SQL definition", max_chars=1000, key="sla_sql_note")

    st.markdown("**What sales owes every MQL**")
    f = st.columns(4)
    f[0].number_input("First touch within (business hours)", 1, 240, key="sla_first_touch")
    f[1].number_input("At least this many attempts", 1, 50, key="sla_attempts")
    f[2].number_input("Over this many days", 1, 90, key="sla_days")
    f[3].number_input("Unworked MQL returns to marketing after (days)", 1, 365, key="sla_recycle")
    st.checkbox("Personalization required", key="sla_personal")
    st.text_input("What personalization means", max_chars=1000, key="sla_personal_text")
    applied = st.form_submit_button("Apply to the plan", type="primary")

if applied:
    if (problem := sla_form.apply(scenario)) is not None:
        st.error(f"Not applied: {problem}.")
    else:
        st.rerun()  # the fields show the plan's terms as saved (others' included)
if sla_form.just_applied():
    st.success("The SLA terms are part of the plan now.")
elif sla_form.newer_terms(sla):
    st.info(
        "Someone applied other terms since this form was filled: the definition below is the "
        "plan's. Applying saves only the fields you change."
    )
room.replaced_notices()

# ---- The definition in words ----------------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.markdown("**MQL definition**")
    st.markdown("\n".join(f"- {shell.md_text(c)}" for c in sla.mql.criteria()))
with right:
    st.markdown("**Sales follow-up**")
    st.markdown("\n".join(f"- {shell.md_text(t)}" for t in sla.follow_up.terms()))

# ---- Lead-list check ------------------------------------------------------------------------------
st.subheader("Does the definition deliver the committed MQLs?")
leads = st.file_uploader(
    "Check a lead list (CSV: company, country, employees, annual_revenue, sector, created)",
    type=["csv"],
    key="sla_leads",
    max_upload_size=50,
)
if leads is not None:
    try:
        check = cached_lead_check(leads.getvalue()[: MAX_LEAD_BYTES + 1], scenario.to_json())
    except ScenarioError as exc:
        st.error(f"Could not check {leads.name}: {exc}.")
    else:
        (st.success if check.attainable else st.warning)(check.verdict())
        c = st.columns(3)
        c[0].metric("Leads passing", f"{check.passing:,}", help=f"of {check.valid:,} valid rows")
        worst = max(check.removed_by, key=check.removed_by.get) if check.removed_by else None
        c[1].metric(
            "Criterion removing the most",
            worst or "none",
            help="Leads failing each criterion: "
            + ", ".join(f"{k} {v:,}" for k, v in check.removed_by.items()),
        )
        c[2].metric(
            "Per quarter at the recent pace",
            f"{check.recent_per_quarter:,.0f}",
            delta=f"{check.recent_per_quarter - check.committed:+,.0f} vs committed",
        )
        if check.dropped:
            st.info(
                "Rows left out: " + "; ".join(f"{n:,} where {r}" for r, n in check.dropped.items())
            )
        st.bar_chart(check.weekly.set_index("week")[["leads", "passing"]], stack=False)
        st.dataframe(check.monthly, hide_index=True)

# ---- Export -----------------------------------------------------------------------------------------
st.subheader("The agreed plan as a document")
store = storage.store()
agreement = store.agreement_of(scenario) if store else None
signoff = (
    SignOff(agreement.agreed_by, storage.when(agreement.agreed_at), agreement.version)
    if agreement
    else None
)
st.caption(
    f"Content hash of this plan: `{content_hash(scenario)[:16]}…` (the same plan always "
    "has the same hash). "
    + (
        f"This is the agreed plan for {scenario.quarter}: "
        f"{shell.md_text(signoff.sentence())}; the documents carry the agreement."
        if signoff
        else f"Not agreed yet for {scenario.quarter}: the documents say so. Agree on the "
        "Scenarios or Compare page."
        if store is None or (current := store.current_agreement(scenario.quarter)) is None
        else f"This is not the agreed plan for {scenario.quarter} (that is version "
        f"{current.version} of another scenario or an earlier version of this one, agreed by "
        f"{shell.md_text(current.agreed_by)}); the documents say 'Not agreed yet'. Open it from "
        "the Scenarios page to export the agreed plan."
    )
)
stem = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{scenario.name}-{scenario.quarter}")
mime = {
    "json": "application/json",
    "md": "text/markdown",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
cols = st.columns(4)
labels = {
    "html": "Web page (HTML)",
    "xlsx": "Spreadsheet (XLSX)",
    "md": "Markdown",
    "json": "Scenario file (JSON)",
}
as_json, today = scenario.to_json(), date.today().isoformat()
for col, fmt in zip(cols, ("html", "xlsx", "md", "json"), strict=True):
    col.download_button(
        labels[fmt],
        data=lambda f=fmt: export_bytes(as_json, f, today, signoff),
        file_name=f"{stem}.{fmt}",
        mime=mime[fmt],
        key=f"sla_download_{fmt}",
        on_click="ignore",
    )

with live:
    room.live_bar()
