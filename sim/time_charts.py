"""Plotly figures of the quarter in time: the Plan page's weekly timeline and each step's lag
against the history. No Streamlit, like sim.charts."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .calibrate import plural
from .charts import HIT_COLOUR, OWNER_COLOURS, metric_label, plot_text, spec_figure
from .lags import LagFit
from .timeline import Timeline

BAND_FILL = "rgba(31,111,235,0.15)"
LINE = "#1f6feb"
TARGET = "#cf222e"


def timeline_chart(tl: Timeline, *, useful_week: int | None = None, height: int = 380) -> go.Figure:
    """Weekly leads in (bars, right axis), wins landing each week (bars), and the cumulative
    outcome against the target with its P10-P90 band; the last useful week marked."""
    weeks = np.arange(tl.weeks + 1)
    fig = go.Figure()
    for owner, arrivals in tl.arrivals.items():
        if arrivals.sum() > 0:
            fig.add_bar(
                x=weeks[1:] - 0.5,
                y=arrivals,
                name=f"{plural(tl.first_stages[owner])} in per week ({owner})",
                marker_color=OWNER_COLOURS[owner],
                opacity=0.35,
                yaxis="y2",
                hovertemplate="week %{x:.0f}: %{y:,.1f}<extra>%{fullData.name}</extra>",
            )
    fig.add_bar(
        x=weeks[1:] - 0.5,
        y=tl.weekly_won,
        name="Won per week (expected)",
        marker_color=HIT_COLOUR,
        opacity=0.8,
        hovertemplate="week %{x:.0f}: %{y:,.1f}<extra></extra>",
    )
    if tl.low is not None and tl.high is not None:
        fig.add_scatter(
            x=weeks,
            y=tl.high,
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=weeks,
            y=tl.low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND_FILL,
            name="P10–P90 by week",
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=weeks,
        y=tl.won,
        mode="lines+markers",
        line={"color": LINE, "width": 2.5},
        name=f"{metric_label(tl.metric)} so far (expected)",
        hovertemplate="by week %{x}: %{y:,.1f}<extra></extra>",
    )
    fig.add_scatter(
        x=[0, tl.weeks],
        y=[tl.target, tl.target],
        mode="lines",
        line={"color": TARGET, "dash": "dash"},
        name=f"Target {tl.target:,.0f}",
        hoverinfo="skip",
    )
    if useful_week is not None and useful_week < tl.weeks:
        fig.add_shape(
            type="line",
            x0=useful_week,
            x1=useful_week,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": "#57606a", "dash": "dot"},
        )
        fig.add_annotation(
            x=useful_week,
            y=1,
            yref="paper",
            text=f"last useful week {useful_week}",
            showarrow=False,
            xanchor="left",
            yanchor="top",
        )
    fig.update_layout(
        height=height,
        barmode="overlay",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"title": "Week of the quarter", "dtick": 1, "range": [0, tl.weeks + 0.2]},
        yaxis={"title": metric_label(tl.metric), "rangemode": "tozero"},
        yaxis2={
            "title": "Leads in per week",
            "tickformat": ",.0f",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": 1.18, "x": 0},
    )
    return fig


def lag_chart(fit: LagFit, *, height: int = 320) -> go.Figure:
    """Share of the leads that moved on within t days: the history (Kaplan-Meier, leads still
    waiting counted as unfinished) against the fitted rate times the fitted lag law. Built as
    a plain spec (sim.charts.spec_figure): the Assumptions page draws it on every run."""
    top = float(max(fit.km_days.max(initial=0.0), fit.high * 3 if np.isfinite(fit.high) else 0))
    top = max(min(top, fit.median * 6, 730.0), 10.0)
    days = np.linspace(0, top, 200)
    keep = fit.km_days <= top
    hover = "within %{x:.0f} days: %{y:.1%}<extra></extra>"
    history = {
        "type": "scatter",
        "x": fit.km_days[keep],
        "y": fit.km_moved[keep],
        "mode": "lines",
        "line": {"shape": "hv", "color": "#57606a"},
        "name": "History (Kaplan–Meier)",
        "hovertemplate": hover,
    }
    fitted = {
        "type": "scatter",
        "x": days,
        "y": fit.rate * fit.cdf(days),
        "mode": "lines",
        "line": {"color": LINE, "width": 2.5},
        "name": f"Fitted: {fit.family}, median {fit.median:.1f} days",
        "hovertemplate": hover,
    }
    band = {
        "type": "rect",
        "x0": fit.low,
        "x1": min(fit.high, top),
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "fillcolor": BAND_FILL,
        "line": {"width": 0},
        "layer": "below",
    }
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "title": {"text": plot_text(f"{fit.source} · {fit.label}"), "x": 0, "font": {"size": 14}},
        "xaxis": {"title": {"text": "Days after reaching the stage"}},
        "yaxis": {"title": {"text": "Moved on"}, "tickformat": ".0%", "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.25, "x": 0},
        "shapes": [band],
    }
    return spec_figure([history, fitted], layout)
