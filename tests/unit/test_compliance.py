"""Follow-up compliance: business hours, per-lead status against a hand count, bad exports."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from unit_helpers import ROOT

from sim import ScenarioError, load_scenario, parse_scenario
from sim.compliance import business_hours, check_compliance

SEED = json.loads((ROOT / "examples" / "seed-sla.json").read_text())
PLAN = parse_scenario(
    {**SEED, "sla": {"follow_up": {"first_touch_hours": 4, "min_attempts": 3, "over_days": 5}}}
)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        ("2027-01-04 10:00", "2027-01-04 13:30", 3.5),  # same Monday
        ("2027-01-04 16:00", "2027-01-05 10:00", 2.0),  # overnight: 1 h Mon + 1 h Tue
        ("2027-01-08 16:00", "2027-01-11 10:00", 2.0),  # Friday to Monday: weekend skipped
        ("2027-01-09 12:00", "2027-01-10 12:00", 0.0),  # all weekend
        ("2027-01-04 07:00", "2027-01-04 20:00", 8.0),  # before opening to after closing
        ("2027-01-04 09:00", "2027-01-11 09:00", 40.0),  # one full week
    ],
)
def test_business_hours(start: str, end: str, hours: float) -> None:
    got = business_hours(pd.Series([pd.Timestamp(start)]), pd.Series([pd.Timestamp(end)]))
    assert got[0] == pytest.approx(hours)


CSV = """lead,rep,mql_time,touch_time,sql_time
A,Ana,2027-01-04 10:00,2027-01-04 11:00,2027-01-06 10:00
A,Ana,2027-01-04 10:00,2027-01-05 11:00,2027-01-06 10:00
A,Ana,2027-01-04 10:00,2027-01-06 11:00,2027-01-06 10:00
B,Ben,2027-01-04 10:00,2027-01-05 16:00,
B,Ben,2027-01-04 10:00,2027-01-06 11:00,
B,Ben,2027-01-04 10:00,2027-01-07 11:00,
C,Cy,2027-01-04 10:00,2027-01-04 10:30,2027-01-08 10:00
C,Cy,2027-01-04 10:00,2027-01-12 10:30,2027-01-08 10:00
D,Cy,2027-01-14 09:00,,
E,Ana,2027-01-15 09:00,2027-01-15 09:30,
"""


def test_statuses_against_a_hand_count() -> None:
    c = check_compliance(CSV.encode(), PLAN, as_of=pd.Timestamp("2027-01-15 12:00"))
    status = dict(zip(c.leads["lead"], c.leads["status"], strict=True))
    reason = dict(zip(c.leads["lead"], c.leads["reason"], strict=True))
    # A: touched after 1 business hour, 3 attempts in 5 days -> compliant.
    # B: first touch after 8 business hours -> out (too late).
    # C: fast, but only 1 attempt inside the 5-day window, which has closed -> out (too few).
    # D: MQL Thursday 09:00, untouched at Friday 12:00 = 11 business hours -> out (not touched).
    # E: touched fast, window still open with 1 attempt -> in progress.
    assert status == {
        "A": "compliant",
        "B": "out of compliance",
        "C": "out of compliance",
        "D": "out of compliance",
        "E": "in progress",
    }
    assert reason == {
        "A": "",
        "B": "first touch too late",
        "C": "too few attempts",
        "D": "not touched yet",
        "E": "",
    }
    assert c.share_compliant == pytest.approx(1 / 4)
    by_rep = {r.rep: (r.mqls, r.compliant) for r in c.by_rep.itertuples()}
    assert by_rep == {"Ana": (1, 1), "Ben": (1, 0), "Cy": (2, 0)}
    assert c.sql_rate == {"compliant": 1.0, "not compliant": pytest.approx(1 / 3)}
    out = list(c.out_of_compliance()["lead"])
    assert out[0] == "D"  # newest MQL first
    assert sorted(out) == ["B", "C", "D"]
    json.dumps(c.to_dict())  # the CLI's --json output is plain JSON


def test_example_export_shows_the_reps_known_habits() -> None:
    c = check_compliance(
        (ROOT / "examples" / "activity-2027-Q1.csv").read_bytes(),
        load_scenario(ROOT / "examples" / "agreed-plan.json"),
    )
    share = {r.rep: r.share_compliant for r in c.by_rep.itertuples()}
    assert share["Ana"] > 0.9
    assert share["Ben"] < 0.2  # slow first touch
    assert share["Cy"] < 0.2  # too few attempts
    first_on_time = {r.rep: r.first_touch_on_time / r.mqls for r in c.by_rep.itertuples()}
    assert first_on_time["Cy"] > 0.9
    assert c.sql_rate["compliant"] > c.sql_rate["not compliant"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "file: empty"),
        (b"lead,rep\nA,Ana\n", "columns: missing mql_time, touch_time"),
        (b"lead,rep,mql_time,touch_time\nA,Ana,soon,\n", "row 2, mql_time: 'soon' is not a date"),
        (
            b"lead,rep,mql_time,touch_time\nA,Ana,2027-01-04 10:00,2027-01-03 10:00\n",
            "row 2, touch_time: before the lead's mql_time",
        ),
    ],
)
def test_bad_exports_are_named(raw: bytes, message: str) -> None:
    with pytest.raises(ScenarioError, match=f"^{message}"):
        check_compliance(raw, PLAN)
