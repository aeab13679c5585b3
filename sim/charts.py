"""Plotly figures built from result objects; no Streamlit, so app, exports and tests share them."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from .engine import HIT_TOLERANCE, SimulationResult
from .models import Scenario
from .review import ReviewResult

HIT_COLOUR = "#2da44e"
MISS_COLOUR = "#afb8c1"
OWNER_COLOURS = {"marketing": "#8250df", "sales": "#1f6feb"}


def metric_label(metric: str) -> str:
    return "Customers won" if metric == "customers" else "Bookings"


def outcome_chart(result: SimulationResult, *, height: int = 360) -> go.Figure:
    """Distribution of the quarter's outcome; the target marked and the hit region shaded."""
    left, right, prob = result.distribution()
    target = result.total.target
    integer = result.metric == "customers"
    centre = left if integer else (left + right) / 2
    hit = centre >= target - HIT_TOLERANCE
    keep = prob > 0
    fig = go.Figure(
        go.Bar(
            x=centre[keep],
            y=prob[keep],
            width=None if integer else (right - left)[keep],
            marker_color=np.where(hit[keep], HIT_COLOUR, MISS_COLOUR),
            hovertemplate="%{x:,.0f}: %{y:.1%}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_annotation(
        text=f"<b>Hit the number: {prob[hit].sum():.0%}</b>",
        showarrow=False,
        xref="paper",
        yref="paper",
        x=1,
        y=1.08,
        font={"color": HIT_COLOUR},
    )
    fig.add_vline(
        x=target - 0.5 if integer else target,
        line_dash="dash",
        line_color="#cf222e",
        annotation_text=f"Target {target:,.0f}",
        annotation_position="top left",
    )
    fig.update_layout(
        template="plotly_white",
        bargap=0.05,
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title=f"{metric_label(result.metric)} this quarter",
        yaxis_title="Chance",
        yaxis_tickformat=".0%",
    )
    return fig


def funnel_chart(scenario: Scenario, *, height: int = 360) -> go.Figure:
    """Expected count at every stage, one funnel per source."""
    fig = go.Figure()
    for source in scenario.sources:
        counts = np.asarray(source.expected_counts())
        fig.add_trace(
            go.Funnel(
                name=f"{source.name} ({source.owner})",
                y=source.stages,
                x=counts,
                text=[f"{c:,.1f}" if c < 100 else f"{c:,.0f}" for c in counts],
                textinfo="text",
                marker_color=OWNER_COLOURS[source.owner],
                opacity=0.9 if source.owner == "marketing" else 0.75,
                hovertemplate="%{y}: %{x:,.1f}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        funnelmode="group",
    )
    return fig


def waterfall_chart(review: ReviewResult, *, height: int = 420) -> go.Figure:
    """Plan's expected outcome -> each factor's Shapley contribution -> actual outcome."""
    parts = [c for c in review.contributions if abs(c.effect) >= 0.005]
    labels = ["Plan (expected)"] + [f"{c.label}" for c in parts] + ["Actual"]
    fig = go.Figure(
        go.Waterfall(
            orientation="v",
            x=labels,
            y=[review.plan_expected, *(c.effect for c in parts), review.actual],
            measure=["absolute", *(["relative"] * len(parts)), "total"],
            text=[
                f"{review.plan_expected:,.1f}",
                *(f"{c.effect:+,.1f}" for c in parts),
                f"{review.actual:,.1f}",
            ],
            textposition="outside",
            customdata=["", *(c.owner for c in parts), ""],
            hovertemplate="%{x}<br>%{text} %{customdata}<extra></extra>",
            increasing={"marker": {"color": HIT_COLOUR}},
            decreasing={"marker": {"color": "#cf222e"}},
            totals={"marker": {"color": "#57606a"}},
            connector={"line": {"color": "#afb8c1"}},
        )
    )
    fig.add_hline(
        y=review.target,
        line_dash="dash",
        line_color="#1f6feb",
        annotation_text=f"Target {review.target:,.0f}",
        annotation_position="top left",
    )
    fig.update_layout(
        template="plotly_white",
        height=height,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title=metric_label(review.metric),
    )
    return fig


def pacing_chart(pace: dict[str, Any], *, height: int = 320) -> go.Figure:
    """Planned cumulative first-stage count per week with its P10-P90 band, and the actual."""
    weeks = pace["weeks"]
    fig = go.Figure()
    fig.add_scatter(
        x=weeks, y=pace["high"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
    )
    fig.add_scatter(
        x=weeks,
        y=pace["low"],
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor="rgba(31,111,235,0.15)",
        name="Plan's P10–P90",
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=weeks,
        y=pace["planned"],
        mode="lines",
        line={"color": "#1f6feb"},
        name=f"Planned {pace['stage']}s (cumulative)",
    )
    if pace["actual"] is not None:
        fig.add_scatter(
            x=[pace["actual_week"]],
            y=[pace["actual"]],
            mode="markers",
            marker={"size": 12, "color": "#cf222e"},
            name="Actual to date",
        )
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="Week of quarter",
        yaxis_title=f"{pace['stage']}s",
        legend={"orientation": "h", "y": 1.15},
    )
    return fig
