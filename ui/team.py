"""The Plan page's Team section: who books sales' volume and works marketing's MQLs.

`section(scenario, confidence)` draws it (the Plan page calls it once, after its charts). Every
control changes the working scenario in its own callback, so the page's next run already shows
the new chances; a bad value shows an error naming the field and the last good team stays.

Session state (all `plan_team_*`): the table's rows as they were when it was last rebuilt
(`plan_team_base`) and its widget key (`plan_team_table_key`, a new key whenever the scenario is
loaded from elsewhere), the settings widgets, the add-a-hire widgets, and `plan_team_error`.
"""

from __future__ import annotations

import copy
import math
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from sim.models import Scenario, ScenarioError, parse_scenario, scenario_from_json
from sim.roster import ROLE_NAMES, Member, Team
from sim.team import TeamReport, quarter_start, sdr_source, starter_team, team_report
from sim.team_charts import follow_up_chart, hiring_chart
from ui import shell
from ui.results import cached_plan
from ui.text import md_text

SYNCED = "plan_team_synced"
BASE = "plan_team_base"
TABLE_KEY = "plan_team_table_key"
ERROR = "plan_team_error"
LAST_HIRE = "plan_team_last_hire"  # the team after the last hire added, and what was asked
COLUMNS = ("Name", "Role", "People", "Start", "Ramp weeks", "Productivity")
ROLES = {name: role for role, name in ROLE_NAMES.items()}  # "SDR" -> "sdr"


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_team_report(scenario_json: str) -> TeamReport | None:
    """Reports are immutable, so one shared copy serves every session."""
    return team_report(scenario_from_json(scenario_json))


# ---- scenario <-> widgets -------------------------------------------------------------------------


def _rows(team: Team) -> list[dict[str, Any]]:
    return [
        {
            "Name": m.name,
            "Role": ROLE_NAMES[m.role],
            "People": m.people,
            "Start": m.start_date,
            "Ramp weeks": m.ramp_weeks,
            "Productivity": m.productivity,
        }
        for m in team.members
    ]


def _settings(team: Team) -> dict[str, Any]:
    """The settings widgets' display values (whole percents)."""
    sdr, ae = team.sdr_attrition, team.ae_attrition
    return {
        "plan_team_pace_cv": float(team.sdr_pace_cv),
        "plan_team_sdr_attrition": round(100 * sdr.mean) if sdr else 0,
        "plan_team_sdr_evidence": round(sdr.n) if sdr and sdr.n else 0,
        "plan_team_ae_attrition": round(100 * ae.mean) if ae else 0,
        "plan_team_overload": round(100 * team.ae_overload_win_factor),
        "plan_team_touches": float(team.follow_up_touches or 0),
    }


def _sync(scenario: Scenario) -> None:
    """After a load (or the first time), the table and the settings re-read the scenario."""
    rev = shell.scenario_rev()
    if st.session_state.get(SYNCED) == rev and TABLE_KEY in st.session_state:
        return
    team = scenario.team or Team()
    # Only what changed is written again: another leader's move elsewhere in the plan leaves
    # the table (a new key would be a new, empty edit) and a field being typed in as they are.
    rows = _rows(team)
    if st.session_state.get(BASE) != rows or TABLE_KEY not in st.session_state:
        st.session_state[BASE] = rows
        n = int(st.session_state.get("plan_team_table_n", 0)) + 1
        st.session_state["plan_team_table_n"] = n
        st.session_state[TABLE_KEY] = f"plan_team_table_{n}"
    fields = _settings(team)
    sales = [s.name for s in scenario.sources if s.owner == "sales"]
    if sales:
        fields["plan_team_source"] = team.source or sales[0]
    shell.write_changed(fields)
    st.session_state.pop(ERROR, None)
    st.session_state[SYNCED] = rev


def _apply(team: dict[str, Any] | None, *, reload: bool = False) -> None:
    """Make `team` the working scenario's team, or keep the last good one and say why."""
    data = copy.deepcopy(st.session_state["scenario"].to_dict())
    if team is None:
        data.pop("team", None)
    else:
        data["team"] = team
    try:
        scenario = parse_scenario(data)
    except ScenarioError as exc:
        st.session_state[ERROR] = str(exc)
        return
    st.session_state.pop(ERROR, None)
    if scenario != st.session_state["scenario"]:
        shell.set_scenario(scenario, reload_editors=reload)


def _team_dict() -> dict[str, Any]:
    team: Team = st.session_state["scenario"].team or Team()
    return team.model_dump(mode="json", exclude_none=True)


def _cell(value: Any) -> Any:
    """A table cell as the scenario file wants it (dates as YYYY-MM-DD, no NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) and "T" in value:  # an edited date can arrive as a timestamp
        return value.split("T")[0]
    return value


def _members(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows -> members; an empty cell is left out so the error names it as missing, and a
    repeated name gets a number (names match cohorts in Compare)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    keys = {"Name": "name", "People": "people", "Start": "start", "Ramp weeks": "ramp_weeks"}
    keys["Productivity"] = "productivity"
    for row in rows:
        member: dict[str, Any] = {}
        for column, key in keys.items():
            if (value := _cell(row.get(column))) is not None:
                member[key] = value
        if (role := row.get("Role")) is not None:
            member["role"] = ROLES.get(str(role), str(role))
        if isinstance(member.get("people"), float) and member["people"].is_integer():
            member["people"] = int(member["people"])
        name = str(member.get("name", "")).strip()
        if name:
            unique, i = name, 2
            while unique in seen:
                unique, i = f"{name} ({i})", i + 1
            member["name"] = unique
            seen.add(unique)
        out.append(member)
    return out


def _table_edited(table: pd.DataFrame, scenario: Scenario) -> None:
    """Apply the table's edits when they describe another team; rerun so the headline shows it.

    Done after the table is drawn rather than in a callback: the returned table is Streamlit's
    own application of the edits (added rows with their column defaults, dates as dates).
    """
    rows = table.to_dict("records")
    team = scenario.team or Team()
    if _members(rows) == [m.model_dump(mode="json") for m in team.members]:
        st.session_state.pop(ERROR, None)
        return
    before = st.session_state["scenario"]
    _apply({**_team_dict(), "members": _members(rows)})
    if st.session_state["scenario"] is not before:
        st.rerun()


def _setting_changed(key: str) -> None:
    team = _team_dict()
    value = st.session_state[key]
    if key == "plan_team_pace_cv":
        team["sdr_pace_cv"] = float(value)
    elif key in ("plan_team_sdr_attrition", "plan_team_sdr_evidence"):
        mean = st.session_state["plan_team_sdr_attrition"] / 100
        n = st.session_state["plan_team_sdr_evidence"]
        team["sdr_attrition"] = {"mean": mean, **({"n": float(n)} if n else {})}
        if mean == 0 and not n:
            team.pop("sdr_attrition")
    elif key == "plan_team_ae_attrition":
        team["ae_attrition"] = {"mean": value / 100}
        if value == 0:
            team.pop("ae_attrition")
    elif key == "plan_team_overload":
        team["ae_overload_win_factor"] = value / 100
    elif key == "plan_team_touches":
        team["follow_up_touches"] = float(value)
        if not value:
            team.pop("follow_up_touches")
    elif key == "plan_team_source":
        team["source"] = value
    _apply(team)


def _start_team() -> None:
    scenario: Scenario = st.session_state["scenario"]
    _apply(starter_team(scenario).model_dump(mode="json", exclude_none=True), reload=True)
    st.session_state["plan_team_edit"] = True  # a new team is there to be edited


def _remove_team() -> None:
    _apply(None, reload=True)


def _add_hire() -> None:
    scenario: Scenario = st.session_state["scenario"]
    team = scenario.team or Team()
    role = ROLES[st.session_state["plan_team_hire_role"]]
    start: date = st.session_state["plan_team_hire_start"]
    asked = (role, int(st.session_state["plan_team_hire_people"]), start.isoformat())
    if st.session_state.get(LAST_HIRE) == (team.model_dump_json(), asked):
        return  # the same click seen again (a replayed run): the team already has this hire
    like = [m for m in team.members if m.role == role]
    template = (
        max(like, key=lambda m: m.start_date) if like else starter_team(scenario).of_role(role)[0]
    )
    names = {m.name for m in team.members}
    name, i = f"{ROLE_NAMES[role]} hires {start:%b %d}", 2
    while name in names:
        name, i = f"{ROLE_NAMES[role]} hires {start:%b %d} ({i})", i + 1
    hire = Member(
        name=name,
        role=role,
        people=int(st.session_state["plan_team_hire_people"]),
        start=start.isoformat(),
        ramp_weeks=template.ramp_weeks,
        productivity=template.productivity,
    )
    members = [m.model_dump(mode="json") for m in team.members] + [hire.model_dump(mode="json")]
    _apply({**_team_dict(), "members": members}, reload=True)
    now = st.session_state["scenario"].team
    st.session_state[LAST_HIRE] = (now.model_dump_json() if now else "", asked)


# ---- Compare ------------------------------------------------------------------------------------


def team_rows(scenarios: list[Scenario], plans: list[Any], confidence: int) -> dict[str, list[str]]:
    """Compare's rows for the team: what the SDRs book, and sales' answer in people."""
    booked, people = [], []
    for scenario, p in zip(scenarios, plans, strict=True):
        report = cached_team_report(scenario.to_json()) if scenario.team is not None else None
        s = report.sourced if report is not None else None
        booked.append(
            "no team"
            if report is None
            else "typed"
            if s is None
            else f"{s.mean:,.0f} {s.stage}s (P10–P90 {s.p10:,.0f}–{s.p90:,.0f})"
        )
        needed = p.owners["sales"].people
        people.append(
            "—"
            if needed is None
            else "enough"
            if needed.extra_sdrs == 0
            else "out of reach"
            if needed.extra_sdrs is None
            else f"{needed.extra_sdrs} more from day one"
        )
    return {
        "What the SDRs book": booked,
        f"SDRs sales needs, to be {confidence}% sure": people,
    }


# ---- the section ----------------------------------------------------------------------------------


def section(scenario: Scenario, confidence: int) -> None:
    """The Team section; `confidence` is the page's "How sure do you want to be?" in percent."""
    presenting = shell.presentation_mode()
    if scenario.team is None:
        if not presenting:
            st.subheader("Team")
            st.caption(
                "Who books sales' volume and works marketing's MQLs: SDRs and AEs, their ramp, "
                "planned hires and attrition. With a team, sales' chance comes from what the "
                "SDRs can book instead of a typed number."
            )
            st.button("Plan with a team", key="plan_team_start", on_click=_start_team)
        return
    st.subheader("Team")
    report = cached_team_report(scenario.to_json())
    assert report is not None  # the scenario has a team
    _headline(scenario, report, confidence)
    for warning in report.warnings:
        st.warning(md_text(warning))
    left, right = st.columns(2)
    with left:
        st.markdown("**Hiring plan by week**")
        st.plotly_chart(hiring_chart(report), key="plan_team_hiring_chart", theme=None)
    with right:
        st.markdown("**Follow-up load against capacity**")
        if report.follow_up is None:
            st.caption("Set follow-up touches per SDR per week to check the SLA's follow-up.")
        else:
            st.plotly_chart(follow_up_chart(report), key="plan_team_follow_up_chart", theme=None)
    if not presenting and st.toggle(
        "Edit the team",
        key="plan_team_edit",
        help="The people, planned hires, ramp, attrition, pace and follow-up capacity.",
    ):
        _editor(scenario)


def _headline(scenario: Scenario, report: TeamReport, confidence: int) -> None:
    cols = st.columns(3)
    if (s := report.sourced) is not None:
        cols[0].metric(
            f"{s.stage}s the SDRs book",
            f"{s.mean:,.0f}",
            help="Expected first-stage volume from the SDRs' ramp-weighted weeks, hires and "
            "attrition; 8 quarters in 10 fall in the P10–P90 range.",
        )
        cols[0].caption(
            f"P10–P90: {s.p10:,.0f} – {s.p90:,.0f} · sales commits {s.committed:,.0f}; the "
            "chances use what the SDRs book"
        )
    else:
        cols[0].metric("Sales' volume", "typed", help="No SDRs book a sales source.")
    if (f := report.follow_up) is not None:
        cols[1].metric(
            "Follow-up load",
            f"{f.load:.0%}" if math.isfinite(f.load) else "no SDRs",
            help=f"Touches the SLA owes for the committed MQLs ({f.attempts} attempts each) "
            "against the touches the SDRs can make this quarter.",
        )
        cols[1].caption(f"The SDRs can follow up about {f.workable_mqls:,.0f} MQLs")
    if (a := report.ae_load) is not None:
        cols[2].metric(
            "Opportunities for the AEs",
            f"{a.opportunities:,.0f} of {a.capacity:,.0f}",
            help="Expected opportunities against what the AEs carry this quarter (ramp and "
            "attrition included). Beyond it the win rate falls by the factor you set.",
        )
    people = cached_plan(scenario.to_json(), confidence / 100).owners["sales"].people
    if people is not None:
        stage = report.sourced.stage if report.sourced is not None else "lead"
        st.markdown(f"**In people:** {md_text(people.sentence(stage))}")


def _editor(scenario: Scenario) -> None:
    _sync(scenario)
    booked = sdr_source(scenario)
    stage = booked.stages[0] if booked is not None else "lead"
    problem = st.empty()  # above the table, filled once its edits are read
    first = quarter_start(scenario.quarter)
    table = st.data_editor(
        pd.DataFrame(st.session_state[BASE], columns=list(COLUMNS)),
        key=st.session_state[TABLE_KEY],
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "Name": st.column_config.TextColumn(
                "Name", required=True, max_chars=80, default="New hires"
            ),
            "Role": st.column_config.SelectboxColumn(
                "Role", options=list(ROLES), required=True, default="SDR"
            ),
            "People": st.column_config.NumberColumn(
                "People", min_value=1, max_value=1000, step=1, required=True, default=1
            ),
            "Start": st.column_config.DateColumn(
                "Start", required=True, default=first, format="YYYY-MM-DD"
            ),
            "Ramp weeks": st.column_config.NumberColumn(
                "Ramp weeks",
                min_value=0,
                max_value=104,
                step=1,
                default=8,
                help="Weeks from the start date to full productivity (a straight-line ramp).",
            ),
            "Productivity": st.column_config.NumberColumn(
                "Productivity",
                min_value=0.01,
                required=True,
                help=f"Once ramped. SDRs: {stage}s booked per week each. AEs: opportunities "
                "each can carry in a quarter.",
            ),
        },
    )
    _table_edited(table, scenario)
    if err := st.session_state.get(ERROR):
        problem.error(f"{md_text(err)}. The team keeps its last valid version until this is fixed.")
    hire = st.columns([1, 1, 2, 2], vertical_alignment="bottom")
    hire[0].selectbox("Role", list(ROLES), key="plan_team_hire_role")
    hire[1].number_input(
        "People", min_value=1, max_value=1000, value=1, key="plan_team_hire_people"
    )
    hire[2].date_input(
        "Start date",
        value=first,
        key="plan_team_hire_start",
        help="A hire ramps like the latest cohort of the same role. For more people on the "
        "same day, raise People.",
    )
    hire[3].button("Add hire", key="plan_team_add_hire", on_click=_add_hire)
    with st.expander("Pace, attrition, AE load and follow-up"):
        cols = st.columns(3)
        sales = [s.name for s in scenario.sources if s.owner == "sales"]
        if len(sales) > 1:
            cols[0].selectbox(
                "SDRs book",
                sales,
                key="plan_team_source",
                on_change=_setting_changed,
                args=("plan_team_source",),
            )
        cols[0].number_input(
            "SDR pace uncertainty (CV)",
            min_value=0.0,
            max_value=2.0,
            step=0.05,
            key="plan_team_pace_cv",
            on_change=_setting_changed,
            args=("plan_team_pace_cv",),
            help="How much the SDRs' pace this quarter may differ from plan, shared by all "
            "SDRs: 0.15 means about ±15%. 0 means known exactly.",
        )
        cols[1].slider(
            "SDR attrition per year",
            0,
            90,
            format="%d%%",
            key="plan_team_sdr_attrition",
            on_change=_setting_changed,
            args=("plan_team_sdr_attrition",),
            help="Share of SDRs who leave in a year; leavers are drawn person by person.",
        )
        cols[1].number_input(
            "Evidence (SDRs observed)",
            min_value=0,
            max_value=1_000_000,
            step=5,
            key="plan_team_sdr_evidence",
            on_change=_setting_changed,
            args=("plan_team_sdr_evidence",),
            help="How many SDRs the attrition was measured on over a year; 0 means known. "
            "Fewer means a wider range, drawn once per simulated quarter.",
        )
        cols[2].slider(
            "AE attrition per year",
            0,
            90,
            format="%d%%",
            key="plan_team_ae_attrition",
            on_change=_setting_changed,
            args=("plan_team_ae_attrition",),
        )
        cols[2].slider(
            "Win rate beyond what the AEs carry",
            0,
            100,
            format="%d%%",
            key="plan_team_overload",
            on_change=_setting_changed,
            args=("plan_team_overload",),
            help="Opportunities beyond the AEs' capacity win at this share of the usual rate. "
            "100% means no effect.",
        )
        cols[0].number_input(
            "Follow-up touches per SDR per week",
            min_value=0.0,
            max_value=100_000.0,
            step=5.0,
            key="plan_team_touches",
            on_change=_setting_changed,
            args=("plan_team_touches",),
            help="Calls and emails one ramped SDR can spend on MQLs in a week; 0 skips the "
            "follow-up check.",
        )
    st.button("Remove the team", key="plan_team_remove", on_click=_remove_team)
