"""Plotly figures of the Assumptions page: rate trend, volume, deal size, tornado, heatmap.

Pure functions of result objects (no Streamlit), so the page, exports and tests share them.
Built as plain specs without Plotly's validation (sim.charts.spec_figure): validated, these five
cost the page about 100 ms on every run, including each catch-up with another leader's move
in the meeting room (tests/unit/test_assumption_charts.py validates every one instead). User
text (source and stage names) goes through plot_text, as on the Plan page.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import get_colorscale

from .calibrate import DealSizeFit, VolumeFit, plural
from .charts import (
    HIT_COLOUR,
    MISS_COLOUR,
    OWNER_COLOURS,
    level_label,
    level_line,
    plot_text,
    spec_figure,
)
from .sensitivity import Assumption, Heatmap, Tornado
from .signal import RateTrend, sure_text

BAND_COLOUR = "rgba(31, 111, 235, 0.15)"
LINE_COLOUR = "#1f6feb"
LIMIT_COLOUR = "#bc4c00"
ALERT_COLOUR = "#cf222e"
# Spelt out: Plotly's Python side names more colour scales than plotly.js knows, and names only
# reach the browser unconverted in a spec built without validation.
RED_TO_GREEN = get_colorscale("RdYlGn")


def _layout(height: int, title: str | None = None, **kw: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "legend": {"orientation": "h", "y": 1.14, "x": 0},
    }
    if title is not None:
        layout["title"] = {"text": plot_text(title), "x": 0, "font": {"size": 14}}
    return layout | kw


def _marker(x: str, y: float, text: str, colour: str, drop: bool) -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "text": text,
        "showarrow": True,
        "arrowcolor": colour,
        "font": {"color": colour},
        "ay": 40 if drop else -40,
    }


def trend_chart(trend: RateTrend, *, height: int = 340) -> go.Figure:
    """A rate per quarter: credible band, p-chart limits, the earlier quarters' pooled rate,
    the alarm and the moves worth a look marked."""
    pts = [p for p in trend.points if p.leads > 0]
    q = [p.quarter for p in pts]
    band = f"{trend.level:.0%} credible band"
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": q + q[::-1],
            "y": [p.high for p in pts] + [p.low for p in pts][::-1],
            "fill": "toself",
            "fillcolor": BAND_COLOUR,
            "mode": "lines",
            "line": {"width": 0},
            "name": band,
            "hoverinfo": "skip",
        }
    ]
    for name, values in (
        ("Control limits (3σ)", [p.upper_limit for p in pts]),
        ("lower", [p.lower_limit for p in pts]),
    ):
        data.append(
            {
                "type": "scatter",
                "x": q,
                "y": values,
                "mode": "lines",
                "line": {"color": LIMIT_COLOUR, "dash": "dash", "width": 1, "shape": "hvh"},
                "name": name,
                "showlegend": name != "lower",
                "legendgroup": "limits",
                "hoverinfo": "skip",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": q,
            "y": [p.rate for p in pts],
            "mode": "lines+markers",
            "line": {"color": LINE_COLOUR, "width": 2},
            "marker": {
                "size": 9,
                "color": [ALERT_COLOUR if p.outside else LINE_COLOUR for p in pts],
            },
            "customdata": np.array([[p.converted, p.leads, p.low, p.high] for p in pts]),
            "hovertemplate": "%{x}: %{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})<br>"
            f"{band}: " + "%{customdata[2]:.1%}–%{customdata[3]:.1%}<extra></extra>",
            "name": plot_text(trend.step),
        }
    )
    notes = [level_label(trend.centre, f"all quarters {trend.centre:.0%}", right=True)]
    alarm = trend.alarm
    if alarm is not None:
        earlier = [p.quarter for p in pts if p.quarter in alarm.before_quarters]
        data.append(
            {
                "type": "scatter",
                "x": earlier,
                "y": [alarm.before] * len(earlier),
                "mode": "lines",
                "line": {"color": "#57606a", "width": 2},
                "name": f"earlier quarters together {alarm.before:.0%}",
                "hoverinfo": "skip",
            }
        )
    flagged = alarm is not None and alarm.flagged
    if alarm is not None and flagged:
        text = f"real {alarm.direction}: {sure_text(alarm.p_real)} sure"
        drop = alarm.direction == "drop"
        notes.append(_marker(alarm.after_quarter, alarm.after, text, ALERT_COLOUR, drop))
    for change in trend.worth_a_look:
        if alarm is not None and flagged and change.after_quarter == alarm.after_quarter:
            continue  # the alarm already marks that quarter
        text = f"worth a look (q {sure_text(change.p_adjusted)})"
        drop = change.direction == "drop"
        notes.append(_marker(change.after_quarter, change.after, text, LIMIT_COLOUR, drop))
    layout = _layout(
        height,
        f"{trend.source} · {trend.step}",
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.12, "x": 0, "yanchor": "top"},
        yaxis={"tickformat": ".0%", "title": {"text": "Rate"}},
        shapes=[level_line(trend.centre, "#57606a")],
        annotations=notes,
    )
    return spec_figure(data, layout)


def volume_chart(fit: VolumeFit, level: float = 0.8, *, height: int = 300) -> go.Figure:
    """First-stage volume per quarter against the range the fitted law gives one quarter."""
    lo, hi = fit.interval(level)
    stages = plural(fit.stage)
    bars = {
        "type": "bar",
        "x": list(fit.quarters),
        "y": list(fit.counts),
        "marker": {"color": MISS_COLOUR},
        "name": plot_text(stages),
        "hovertemplate": "%{x}: %{y:,}<extra></extra>",
    }
    band = {
        "type": "rect",
        "xref": "x domain",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": lo,
        "y1": hi,
        "fillcolor": BAND_COLOUR,
        "line": {"width": 0},
    }
    kind = "Poisson" if fit.cv is None else f"good and bad quarters, CV {fit.cv:.2f}"
    label = f"average {fit.mean:,.0f} ({kind}); band: {level:.0%} of quarters"
    layout = _layout(
        height,
        f"{fit.source} · {stages} per quarter",
        yaxis={"title": {"text": plot_text(stages)}},
        shapes=[band, level_line(fit.mean, LINE_COLOUR)],
        annotations=[level_label(fit.mean, label, right=False)],
    )
    return spec_figure([bars], layout)


def deal_size_chart(fit: DealSizeFit, *, bins: int = 30, height: int = 300) -> go.Figure:
    """Won deal sizes as a histogram (density) with the fitted Gamma curve over it."""
    h = fit.histogram(bins)
    data: list[dict[str, Any]] = []
    if len(fit.amounts):
        data.append(
            {
                "type": "bar",
                "x": (h.edges[:-1] + h.edges[1:]) / 2,
                "y": h.density,
                "width": np.diff(h.edges),
                "marker": {"color": MISS_COLOUR},
                "name": f"{fit.deals:,} won deals",
                "hovertemplate": "%{x:,.0f}: %{y:.2e}<extra></extra>",
            }
        )
    cv = "n/a" if fit.cv is None else f"{fit.cv:.2f}"
    data.append(
        {
            "type": "scatter",
            "x": h.x,
            "y": h.pdf,
            "mode": "lines",
            "line": {"color": HIT_COLOUR, "width": 3},
            "name": f"fitted: mean {fit.mean:,.0f}, CV {cv}",
            "hoverinfo": "skip",
        }
    )
    layout = _layout(
        height,
        "Deal size",
        xaxis={"title": {"text": "Won deal size"}},
        yaxis={"title": {"text": "Density"}, "showticklabels": False},
        bargap=0.02,
    )
    return spec_figure(data, layout)


def tornado_chart(t: Tornado, *, height: int | None = None) -> go.Figure:
    """Bars from the current P(hit) to P(hit) at each end of each assumption's range."""
    bars = list(t.bars)[::-1]  # Plotly draws the first category at the bottom
    labels = [plot_text(f"{b.assumption.label} · {b.assumption.owner}") for b in bars]
    data: list[dict[str, Any]] = []
    for owner in ("marketing", "sales"):
        for end in ("low", "high"):
            mine = [
                (lab, b) for lab, b in zip(labels, bars, strict=True) if b.assumption.owner == owner
            ]
            if not mine:
                continue
            p = [b.p_low if end == "low" else b.p_high for _, b in mine]
            v = [b.assumption.low if end == "low" else b.assumption.high for _, b in mine]
            data.append(
                {
                    "type": "bar",
                    "y": [lab for lab, _ in mine],
                    "x": [pi - t.p_hit for pi in p],
                    "base": t.p_hit,
                    "orientation": "h",
                    "marker": {"color": OWNER_COLOURS[owner]},
                    "opacity": 0.55 if end == "low" else 0.95,
                    "name": f"{owner}, {end} end",
                    "customdata": np.array(
                        [
                            [b.assumption.fmt(vi), pi, plot_text(b.assumption.basis)]
                            for (_, b), vi, pi in zip(mine, v, p, strict=True)
                        ],
                        dtype=object,
                    ),
                    "hovertemplate": "at %{customdata[0]} (" + end + " end of "
                    "%{customdata[2]}): chance %{customdata[1]:.0%}<extra></extra>",
                }
            )
    now = {
        "type": "line",
        "xref": "x",
        "x0": t.p_hit,
        "x1": t.p_hit,
        "yref": "y domain",
        "y0": 0,
        "y1": 1,
        "line": {"color": "#1b1f24"},
    }
    label = {
        "xref": "x",
        "x": t.p_hit,
        "xanchor": "center",
        "yref": "y domain",
        "y": 1,
        "yanchor": "bottom",
        "text": f"now {t.p_hit:.0%}",
        "showarrow": False,
    }
    layout = _layout(
        height or 120 + 34 * len(bars),
        barmode="overlay",
        xaxis={"tickformat": ".0%", "title": {"text": "Chance we hit the number"}, "range": [0, 1]},
        yaxis={"categoryorder": "array", "categoryarray": labels},
        shapes=[now],
        annotations=[label],
    )
    return spec_figure(data, layout)


def _axis(a: Assumption) -> dict[str, object]:
    fmt = ".0%" if a.kind == "rate" else (".2f" if a.kind == "deal_cv" else ",.0f")
    return {"title": {"text": plot_text(a.label)}, "tickformat": fmt}


def heatmap_chart(h: Heatmap, *, height: int = 460) -> go.Figure:
    """P(hit) over two assumptions, the contour of the chosen confidence, and where we are now."""
    data: list[dict[str, Any]] = [
        {
            "type": "heatmap",
            "z": h.p_hit,
            "x": h.x_values,
            "y": h.y_values,
            "zmin": 0,
            "zmax": 1,
            "colorscale": RED_TO_GREEN,
            "colorbar": {"title": {"text": "Chance"}, "tickformat": ".0%"},
            "hovertemplate": f"{plot_text(h.x.label)}: %{{x:,.3~f}}<br>{plot_text(h.y.label)}: "
            "%{y:,.3~f}<br>chance to hit: %{z:.0%}<extra></extra>",
        }
    ]
    if np.nanmin(h.p_hit) < h.confidence <= np.nanmax(h.p_hit):
        data.append(
            {
                "type": "contour",
                "z": h.p_hit,
                "x": h.x_values,
                "y": h.y_values,
                "contours": {
                    "start": h.confidence,
                    "end": h.confidence,
                    "size": 1,
                    "coloring": "none",
                    "showlabels": True,
                    "labelformat": ".0%",
                },
                "line": {"width": 3, "color": "#1b1f24"},
                "showscale": False,
                "name": f"{h.confidence:.0%} sure",
                "hoverinfo": "skip",
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": [h.x.value],
            "y": [h.y.value],
            "mode": "markers+text",
            "marker": {"symbol": "x", "size": 12, "color": "#1b1f24"},
            "text": [f"now {h.base_p_hit:.0%}"],
            "textposition": "top right",
            "name": "the plan now",
            "hoverinfo": "skip",
        }
    )
    layout = _layout(height, xaxis=_axis(h.x), yaxis=_axis(h.y), showlegend=False)
    return spec_figure(data, layout)
