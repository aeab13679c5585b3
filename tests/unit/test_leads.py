"""Lead-list check: counts against a hand count, criteria that remove the most, bad files."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from unit_helpers import ROOT

from sim import ScenarioError, parse_scenario
from sim.leads import MAX_BYTES, check_leads

SEED = json.loads((ROOT / "examples" / "seed-sla.json").read_text())
PLAN = parse_scenario(
    {
        **SEED,
        "sla": {
            "mql": {
                "regions": ["Canada", "United States"],
                "employees_min": 100,
                "employees_max": 1000,
                "revenue_min": 1e6,
                "sectors": ["Retail", "Logistics"],
            }
        },
    }
)

HEADER = "company,country,employees,annual_revenue,sector,created\n"
ROWS = [
    "A,Canada,150,2000000,Retail,2026-10-05",  # pass (week of Oct 5)
    "B,United States,999,9000000,logistics,2026-10-06",  # pass (case-insensitive sector)
    "C,Mexico,500,2000000,Retail,2026-10-07",  # region only
    "D,Canada,50,2000000,Retail,2026-10-12",  # employees only (week of Oct 12)
    "E,Canada,5000,500000,Retail,2026-10-13",  # employees and revenue
    "F,Canada,300,2000000,Healthcare,2026-11-02",  # sector only (November)
    "=1+1,canada,300,2000000,Retail,2026-11-03",  # pass; formula-like name stays text
    "H,Canada,abc,2000000,Retail,2026-11-04",  # dropped: employees not a number
    "I,Canada,300,2000000,Retail,yesterday",  # dropped: created not a date
]


def test_counts_against_a_hand_count() -> None:
    c = check_leads((HEADER + "\n".join(ROWS) + "\n").encode(), PLAN)
    assert (c.rows, c.valid, c.passing) == (9, 7, 3)
    assert c.dropped == {"employees is not a number": 1, "created is not a date (YYYY-MM-DD)": 1}
    assert c.removed_by == {"region": 1, "employees": 2, "annual revenue": 1, "sector": 1}
    assert c.only_reason == {"region": 1, "employees": 1, "annual revenue": 0, "sector": 1}
    weekly = {str(r.week): (r.leads, r.passing) for r in c.weekly.itertuples()}
    assert weekly["2026-10-05"] == (3, 2)
    assert weekly["2026-10-12"] == (2, 0)
    monthly = {r.month: (r.leads, r.passing) for r in c.monthly.itertuples()}
    assert monthly == {"2026-10": (5, 2), "2026-11": (2, 1)}
    assert c.committed == 164


def test_attainability_from_the_recent_pace() -> None:
    start = date(2026, 7, 1)
    rows = [
        f"X{i},Canada,200,2000000,Retail,{start + timedelta(days=i)}" for i in range(26 * 7)
    ]  # one qualifying lead a day for 26 weeks
    c = check_leads((HEADER + "\n".join(rows) + "\n").encode(), PLAN)
    assert c.recent_per_quarter == pytest.approx(91, abs=2)  # 13 weeks x 7 a week
    assert not c.attainable
    assert "not attainable" in c.verdict()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "file: empty"),
        (b"company,country\nA,Canada\n", "columns: missing employees, annual_revenue"),
        ((HEADER + "A,Canada,x,y,Retail,nope\n").encode(), "file: no valid rows"),
        (b"x" * (MAX_BYTES + 1), "file: larger than 50 MB"),
    ],
)
def test_bad_lead_lists(raw: bytes, message: str) -> None:
    with pytest.raises(ScenarioError, match=f"^{message}"):
        check_leads(raw, PLAN)


def test_example_lead_list() -> None:
    agreed = parse_scenario(json.loads((ROOT / "examples" / "agreed-plan.json").read_text()))
    c = check_leads((ROOT / "examples" / "leads-sample.csv").read_bytes(), agreed)
    assert c.valid == c.rows == 2600
    assert 0 < c.passing < c.valid
