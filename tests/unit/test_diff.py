"""What a scenario assumes, what changed between two, and the side-by-side comparison."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import SEED_FILE, valid

from sim import load_scenario, parse_scenario, simulate
from sim.charts import compare_chart, plot_text
from sim.diff import MISSING, assumptions, diff, side_by_side, unique_labels

SEED = load_scenario(SEED_FILE)


def edited(**changes: Any) -> Any:
    data = SEED.to_dict()
    for path, value in changes.items():
        *head, last = path.split("__")
        node: Any = data
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    return parse_scenario(data)


def test_every_assumption_a_leader_can_move_has_a_line() -> None:
    lines = assumptions(SEED)
    assert lines["Target"] == "55"
    assert lines["Marketing's share of the number"] == "50%"
    assert lines["Inbound · MQLs per quarter"] == "164"
    assert lines["Inbound · MQL → SQL rate"] == "75.0% · known exactly"
    assert lines["Inbound · Opportunity → Won rate"] == "45.0% · measured on 80 leads"
    assert lines["Outbound · how the volume varies"] == "exactly this many"
    assert lines["Outbound · owner"] == "sales"


def test_identical_scenarios_have_no_changes() -> None:
    assert diff(SEED, SEED) == []


def test_one_moved_rate_is_one_change_from_before_to_after() -> None:
    moved = edited(sources__0__rates__0__mean=0.57)
    (change,) = diff(SEED, moved)
    assert change.label == "Inbound · MQL → SQL rate"
    assert (change.before, change.after) == ("75.0% · known exactly", "57.0% · known exactly")


def test_reordering_sources_is_not_a_change() -> None:
    data = SEED.to_dict()
    data["sources"].reverse()
    assert diff(SEED, parse_scenario(data)) == []


def test_a_removed_source_shows_as_missing_after() -> None:
    data = SEED.to_dict()
    data["sources"] = data["sources"][:1]
    data["marketing_share"] = 1.0
    changes = {c.label: c for c in diff(SEED, parse_scenario(data))}
    assert changes["Outbound · owner"].after == MISSING
    assert changes["Outbound · owner"].before == "sales"


def test_sla_terms_are_compared_too() -> None:
    with_sla = edited(sla={"follow_up": {"first_touch_hours": 24}})
    faster = edited(sla={"follow_up": {"first_touch_hours": 4}})
    changes = [c for c in diff(with_sla, faster) if c.label.startswith("SLA")]
    assert [(c.before, c.after) for c in changes] == [("24", "4")]


@given(
    volume=st.integers(1, 5000),
    rate=st.floats(0.01, 0.99),
    share=st.floats(0.0, 1.0),
)
def test_diff_finds_exactly_the_moved_lines(volume: int, rate: float, share: float) -> None:
    other = edited(
        sources__0__volume__mean=volume,
        sources__1__rates__0__mean=rate,
        marketing_share=share,
    )
    labels = {c.label for c in diff(SEED, other)}
    a, b = assumptions(SEED), assumptions(other)
    assert labels == {k for k in a if a[k] != b[k]}
    assert {c.label for c in diff(other, SEED)} == labels


def test_unique_labels_keeps_first_and_numbers_repeats() -> None:
    assert unique_labels(["Plan", "Draft", "Plan", "Plan"]) == [
        "Plan",
        "Draft",
        "Plan (2)",
        "Plan (3)",
    ]


def test_side_by_side_marks_only_the_lines_that_differ() -> None:
    sales = edited(name="Sales' proposal", sources__0__volume__mean=200)
    table = side_by_side([SEED, sales], ["Marketing", "Sales"])
    assert list(table.columns) == ["Marketing", "Sales", "differs"]
    differing = set(table.index[table["differs"]])
    assert differing == {"Inbound · MQLs per quarter"}  # names head the columns, not a row
    assert "Name" not in table.index
    assert table.loc["Inbound · MQLs per quarter", "Sales"] == "200"


def test_side_by_side_refuses_mismatched_or_repeated_labels() -> None:
    with pytest.raises(ValueError, match="labels"):
        side_by_side([SEED, SEED], ["only one"])
    with pytest.raises(ValueError, match="unique"):
        side_by_side([SEED, SEED], ["Plan", "Plan"])


def test_compare_chart_overlays_each_scenario_with_its_own_distribution() -> None:
    bigger = edited(sources__0__volume__mean=220)
    results = [simulate(s, trials=20_000, seed=7) for s in (SEED, bigger)]
    fig = valid(compare_chart(results, ["<b>Marketing</b>", "Sales"]))
    lines = [t for t in fig.data if t.type == "scatter"]
    assert len(lines) == 2
    for line, result in zip(lines, results, strict=True):
        x, y = np.asarray(line.x), np.asarray(line.y)
        assert y.sum() == pytest.approx(1.0, abs=1e-3)  # all the mass, bar a tiny clipped tail
        mean = float((x * y).sum() / y.sum())
        assert mean == pytest.approx(result.total.mean, abs=0.2)
    assert lines[0].name.startswith(plot_text("<b>Marketing</b>"))  # user text shown literally
    assert "<b>" not in lines[0].name
    assert any(s["x0"] == SEED.target - 0.5 for s in fig.layout.shapes)  # the target line


def test_compare_chart_refuses_different_metrics() -> None:
    bookings = edited(metric="bookings", target=1_500_000)
    results = [simulate(s, trials=2_000, seed=1) for s in (SEED, bookings)]
    with pytest.raises(ValueError, match="metric"):
        compare_chart(results, ["A", "B"])


TEAM = {
    "members": [
        {"name": "SDRs", "role": "sdr", "people": 5, "start": "2026-01-05", "productivity": 1.6},
        {
            "name": "Jan hires",
            "role": "sdr",
            "people": 2,
            "start": "2027-01-11",
            "ramp_weeks": 8,
            "productivity": 1.6,
        },
        {"name": "AEs", "role": "ae", "people": 4, "start": "2025-06-01", "productivity": 28},
    ],
    "sdr_attrition": {"mean": 0.3, "n": 20},
    "ae_overload_win_factor": 0.6,
}


def test_team_differences_are_lines_matched_by_cohort_name() -> None:
    with_team = parse_scenario({**SEED.to_dict(), "team": TEAM})
    lines = assumptions(with_team)
    assert lines["Team · Jan hires"] == (
        "2 SDRs from 2027-01-11 · 8 weeks' ramp · 1.60 SQLs a week each"
    )
    assert (
        lines["Team · AEs"]
        == "4 AEs from 2025-06-01 · 0 weeks' ramp · carry 28 opportunities a quarter each"
    )
    assert lines["Team · SDR attrition"] == "30% a year · measured on 20 people"
    assert lines["Team · win rate beyond what the AEs carry"] == "60% of the usual"
    later = {**TEAM, "members": [{**TEAM["members"][1], "start": "2027-02-15"}, TEAM["members"][0]]}
    changes = {
        c.label: (c.before, c.after)
        for c in diff(with_team, parse_scenario({**SEED.to_dict(), "team": later}))
    }
    assert set(changes) == {
        "Team · Jan hires",
        "Team · AEs",
        "Team · AE attrition",
        "Team · win rate beyond what the AEs carry",
    }
    assert changes["Team · Jan hires"][1].startswith("2 SDRs from 2027-02-15")
    assert changes["Team · AEs"][1] == MISSING
    assert not any(c.label.startswith("Team") for c in diff(SEED, SEED))
    table = side_by_side([SEED, with_team], ["Without", "With"])
    assert table.loc["Team · SDRs", "Without"] == MISSING
    assert bool(table.loc["Team · SDRs", "differs"])
