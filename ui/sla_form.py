"""The SLA page's form in the room: its fields are filled from the plan when the page opens
and after each apply (never while a leader may be typing), and an apply saves only the fields
this leader changed there, on top of the latest terms (docs/room.md).

Session state names: "sla_form_shows" (the version and the terms the fields were filled from),
"sla_resync" (fill them again on the next run), "sla_applied" (say once that an apply saved),
and one "sla_*" key per field.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from sim import ScenarioError, parse_scenario
from sim.merge import apply_changes, changes_between, get
from sim.models import Scenario
from sim.sla import SLA
from ui import editor, shell

RESYNC = "sla_resync"  # fill the form's fields from the plan on the next run
APPLIED = "sla_applied"  # an apply saved: say so once
SHOWN = "sla_form_shows"  # (version, terms) the form's fields were filled from
FIELDS = (
    "sla_marketing_owner",
    "sla_sales_owner",
    "sla_regions",
    "sla_sectors",
    "sla_employees_min",
    "sla_employees_max",
    "sla_revenue_min",
    "sla_revenue_max",
    "sla_mql_note",
    "sla_budget",
    "sla_authority",
    "sla_need",
    "sla_timing",
    "sla_sql_note",
    "sla_first_touch",
    "sla_attempts",
    "sla_days",
    "sla_recycle",
    "sla_personal",
    "sla_personal_text",
)


def form_values(sla: SLA) -> dict[str, Any]:
    """The form's fields as they show `sla`."""
    mql, sql, fu = sla.mql, sla.sql, sla.follow_up
    return dict(
        zip(
            FIELDS,
            (
                sla.marketing_owner,
                sla.sales_owner,
                ", ".join(mql.regions),
                ", ".join(mql.sectors),
                mql.employees_min,
                mql.employees_max,
                mql.revenue_min,
                mql.revenue_max,
                mql.note,
                sql.budget,
                sql.authority,
                sql.need,
                sql.timing,
                sql.note,
                fu.first_touch_hours,
                fu.min_attempts,
                fu.over_days,
                fu.recycle_after_days,
                fu.personalization_required,
                fu.personalization,
            ),
            strict=True,
        )
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;\n]", text) if part.strip()]


def terms(v: dict[str, Any]) -> dict[str, Any]:
    """The SLA terms (schema v1's `sla`) the form's fields `v` describe."""
    bounds = ("employees_min", "employees_max", "revenue_min", "revenue_max")
    return {
        "marketing_owner": v["sla_marketing_owner"].strip(),
        "sales_owner": v["sla_sales_owner"].strip(),
        "mql": {
            "regions": _split(v["sla_regions"]),
            "sectors": _split(v["sla_sectors"]),
            "note": v["sla_mql_note"],
            **{k: v[f"sla_{k}"] for k in bounds if v[f"sla_{k}"] is not None},
        },
        "sql": {k: v[f"sla_{k}"] for k in ("budget", "authority", "need", "timing")}
        | {"note": v["sla_sql_note"]},
        "follow_up": {
            "first_touch_hours": v["sla_first_touch"],
            "min_attempts": v["sla_attempts"],
            "over_days": v["sla_days"],
            "personalization_required": v["sla_personal"],
            "personalization": v["sla_personal_text"],
            "recycle_after_days": v["sla_recycle"],
        },
    }


def refill() -> None:
    """Fill the fields from the plan on the next run (after an apply or a put-back)."""
    st.session_state[RESYNC] = True


def fill(sla: SLA) -> None:
    """Before the form is drawn: fill its fields from `sla` when the page opens or was asked
    to; otherwise leave them as the leader has them."""
    if st.session_state.pop(RESYNC, False) or any(key not in st.session_state for key in FIELDS):
        filled = form_values(sla)
        st.session_state.update(filled)
        st.session_state[SHOWN] = (int(st.session_state.get("store_version") or 0), terms(filled))


def newer_terms(sla: SLA) -> bool:
    """Whether the plan's terms differ from those the fields were filled from."""
    return terms(form_values(sla)) != st.session_state[SHOWN][1]


def just_applied() -> bool:
    """True once after an apply saved."""
    return bool(st.session_state.pop(APPLIED, False))


def apply(scenario: Scenario) -> str | None:
    """Save the fields this leader changed in the form on top of `scenario` (the latest
    version), the fields to be filled from the result on the next run; or what is wrong,
    naming the field, with nothing saved."""
    sla = scenario.sla or SLA()
    seen, shown = st.session_state[SHOWN]
    mine = terms({key: st.session_state[key] for key in FIELDS})
    changed = changes_between({"sla": shown}, {"sla": mine})
    # A clash is a field this leader changed that someone else changed since the form was
    # filled; a term the plan still holds as the form showed it is none (the first terms a
    # leader applies set every field at once).
    now = {"sla": terms(form_values(sla))}
    if not any(get(now, c.path) != c.before for c in changed):
        seen = int(st.session_state.get("store_version") or 0)
    data = scenario.to_dict()
    try:
        if scenario.sla is None:  # the first terms of this plan: all of them
            data["sla"] = mine
        else:  # only what this leader changed, on top of the terms as they are now
            data = apply_changes(data, changed)
        updated = parse_scenario(data)
    except ScenarioError as exc:
        return str(exc)
    if st.session_state.get("store_id"):  # a term changed since `seen` is a named clash
        st.session_state[editor.MOVE_SEEN] = seen
    shell.set_scenario(updated)
    st.session_state.pop(editor.MOVE_SEEN, None)
    st.session_state[RESYNC] = st.session_state[APPLIED] = True
    return None
