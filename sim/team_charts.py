"""Plotly figures of the team (the Plan page's Team section and the HTML export); no Streamlit.

Built from plain specs without Plotly's validation, like the Plan page's other charts (they are
drawn on every move); tests/unit/test_team.py validates them.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from .charts import OWNER_COLOURS, spec_figure
from .team import TeamReport

SDR_COLOUR = OWNER_COLOURS["sales"]
AE_COLOUR = "#bf8700"
OWED_COLOUR = OWNER_COLOURS["marketing"]


def _weeks(report: TeamReport) -> list[int]:
    return list(range(1, len(report.weeks) + 1))


def _dates(report: TeamReport) -> list[str]:
    """Hover text: the week's first day."""
    return [f"{w:%b} {w.day}" for w in report.weeks]


def _layout(title: str, height: int, **extra: Any) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "yaxis": {"title": {"text": title}},
        "xaxis": {"title": {"text": "Week of the quarter"}, "dtick": 1},
        "legend": {"orientation": "h", "y": -0.25},
        **extra,
    }


def hiring_chart(report: TeamReport, *, height: int = 320) -> go.Figure:
    """People on the team each week (bars) and their ramped equivalent (lines), SDRs and AEs."""
    x, dates = _weeks(report), _dates(report)
    data: list[dict[str, Any]] = []
    for role, people, ramped, colour in (
        ("SDRs", report.sdr_people, report.sdr_ramped, SDR_COLOUR),
        ("AEs", report.ae_people, report.ae_ramped, AE_COLOUR),
    ):
        if not any(people):
            continue
        data.append(
            {
                "type": "bar",
                "x": x,
                "y": list(people),
                "name": f"{role} on the team",
                "marker": {"color": colour},
                "opacity": 0.35,
                "customdata": dates,
                "hovertemplate": f"Week of %{{customdata}}: %{{y:.1f}} {role}<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": list(ramped),
                "name": f"{role} ramped (full-productivity equivalent)",
                "mode": "lines+markers",
                "line": {"color": colour, "width": 2},
                "customdata": dates,
                "hovertemplate": f"Week of %{{customdata}}: %{{y:.1f}} ramped {role}"
                "<extra></extra>",
            }
        )
    return spec_figure(data, _layout("People (expected, after attrition)", height, barmode="group"))


def follow_up_chart(report: TeamReport, *, height: int = 320) -> go.Figure:
    """Follow-up touches the SLA owes each week against the touches the SDRs can make."""
    check = report.follow_up
    x, dates = _weeks(report), _dates(report)
    data: list[dict[str, Any]] = []
    if check is not None:
        owed, can = list(check.owed_by_week), list(check.capacity_by_week)
        data.append(
            {
                "type": "bar",
                "x": x,
                "y": owed,
                "name": f"Touches owed ({check.attempts} per MQL)",
                "marker": {"color": OWED_COLOUR},
                "opacity": 0.6,
                "customdata": dates,
                "hovertemplate": "Week of %{customdata}: %{y:,.0f} touches owed<extra></extra>",
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": can,
                "name": "Touches the SDRs can make",
                "mode": "lines+markers",
                "line": {"color": SDR_COLOUR, "width": 2},
                "customdata": dates,
                "hovertemplate": "Week of %{customdata}: %{y:,.0f} touches possible<extra></extra>",
            }
        )
    return spec_figure(data, _layout("Follow-up touches per week", height))
