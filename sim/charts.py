"""Plotly figures built from result objects; no Streamlit, so app, exports and tests share them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .engine import HIT_TOLERANCE, SimulationResult
from .models import Scenario

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
