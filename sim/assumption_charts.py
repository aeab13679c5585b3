"""Plotly figures of the Assumptions page: rate trend, volume, deal size, tornado, heatmap.

Pure functions of result objects (no Streamlit), so the page, exports and tests share them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .calibrate import DealSizeFit, VolumeFit, plural
from .charts import HIT_COLOUR, MISS_COLOUR, OWNER_COLOURS
from .sensitivity import Assumption, Heatmap, Tornado
from .signal import RateTrend, sure_text

BAND_COLOUR = "rgba(31, 111, 235, 0.15)"
LINE_COLOUR = "#1f6feb"
LIMIT_COLOUR = "#bc4c00"
ALERT_COLOUR = "#cf222e"


def _layout(fig: go.Figure, height: int, **kw: object) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "y": 1.14, "x": 0},
        **kw,
    )
    return fig


def trend_chart(trend: RateTrend, *, height: int = 340) -> go.Figure:
    """A rate per quarter: credible band, p-chart limits, the earlier quarters' pooled rate,
    the alarm and the moves worth a look marked."""
    pts = [p for p in trend.points if p.leads > 0]
    q = [p.quarter for p in pts]
    band = f"{trend.level:.0%} credible band"
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=q + q[::-1],
            y=[p.high for p in pts] + [p.low for p in pts][::-1],
            fill="toself",
            fillcolor=BAND_COLOUR,
            mode="lines",
            line={"width": 0},
            name=band,
            hoverinfo="skip",
        )
    )
    for name, values in (
        ("Control limits (3σ)", [p.upper_limit for p in pts]),
        ("lower", [p.lower_limit for p in pts]),
    ):
        fig.add_trace(
            go.Scatter(
                x=q,
                y=values,
                mode="lines",
                line={"color": LIMIT_COLOUR, "dash": "dash", "width": 1, "shape": "hvh"},
                name=name,
                showlegend=name != "lower",
                legendgroup="limits",
                hoverinfo="skip",
            )
        )
    fig.add_hline(
        y=trend.centre,
        line_dash="dot",
        line_color="#57606a",
        annotation_text=f"all quarters {trend.centre:.0%}",
        annotation_position="bottom right",
    )
    fig.add_trace(
        go.Scatter(
            x=q,
            y=[p.rate for p in pts],
            mode="lines+markers",
            line={"color": LINE_COLOUR, "width": 2},
            marker={
                "size": 9,
                "color": [ALERT_COLOUR if p.outside else LINE_COLOUR for p in pts],
            },
            customdata=np.array([[p.converted, p.leads, p.low, p.high] for p in pts]),
            hovertemplate="%{x}: %{y:.1%} (%{customdata[0]:,} of %{customdata[1]:,})<br>"
            f"{band}: " + "%{customdata[2]:.1%}–%{customdata[3]:.1%}<extra></extra>",
            name=trend.step,
        )
    )
    alarm = trend.alarm
    if alarm is not None:
        earlier = [p.quarter for p in pts if p.quarter in alarm.before_quarters]
        fig.add_trace(
            go.Scatter(
                x=earlier,
                y=[alarm.before] * len(earlier),
                mode="lines",
                line={"color": "#57606a", "width": 2},
                name=f"earlier quarters together {alarm.before:.0%}",
                hoverinfo="skip",
            )
        )
    if alarm is not None and alarm.flagged:
        fig.add_annotation(
            x=alarm.after_quarter,
            y=alarm.after,
            text=f"real {alarm.direction}: {sure_text(alarm.p_real)} sure",
            showarrow=True,
            arrowcolor=ALERT_COLOUR,
            font={"color": ALERT_COLOUR},
            ay=40 if alarm.direction == "drop" else -40,
        )
    for change in trend.worth_a_look:
        if alarm is not None and alarm.flagged and change.after_quarter == alarm.after_quarter:
            continue  # the alarm already marks that quarter
        fig.add_annotation(
            x=change.after_quarter,
            y=change.after,
            text=f"worth a look (q {sure_text(change.p_adjusted)})",
            showarrow=True,
            arrowcolor=LIMIT_COLOUR,
            font={"color": LIMIT_COLOUR},
            ay=40 if change.direction == "drop" else -40,
        )
    fig = _layout(
        fig,
        height,
        title={"text": f"{trend.source} · {trend.step}", "x": 0, "font": {"size": 14}},
        yaxis_tickformat=".0%",
        yaxis_title="Rate",
    )
    fig.update_layout(legend={"y": -0.12, "yanchor": "top"}, margin={"b": 40})
    return fig


def volume_chart(fit: VolumeFit, level: float = 0.8, *, height: int = 300) -> go.Figure:
    """First-stage volume per quarter against the range the fitted law gives one quarter."""
    lo, hi = fit.interval(level)
    fig = go.Figure(
        go.Bar(
            x=list(fit.quarters),
            y=list(fit.counts),
            marker_color=MISS_COLOUR,
            name=plural(fit.stage),
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    fig.add_hrect(y0=lo, y1=hi, fillcolor=BAND_COLOUR, line_width=0)
    kind = "Poisson" if fit.cv is None else f"good and bad quarters, CV {fit.cv:.2f}"
    fig.add_hline(
        y=fit.mean,
        line_dash="dot",
        line_color=LINE_COLOUR,
        annotation_text=f"average {fit.mean:,.0f} ({kind}); band: {level:.0%} of quarters",
        annotation_position="top left",
    )
    return _layout(
        fig,
        height,
        title={
            "text": f"{fit.source} · {plural(fit.stage)} per quarter",
            "x": 0,
            "font": {"size": 14},
        },
        yaxis_title=plural(fit.stage),
    )


def deal_size_chart(fit: DealSizeFit, *, bins: int = 30, height: int = 300) -> go.Figure:
    """Won deal sizes as a histogram (density) with the fitted Gamma curve over it."""
    h = fit.histogram(bins)
    fig = go.Figure()
    if len(fit.amounts):
        fig.add_trace(
            go.Bar(
                x=(h.edges[:-1] + h.edges[1:]) / 2,
                y=h.density,
                width=np.diff(h.edges),
                marker_color=MISS_COLOUR,
                name=f"{fit.deals:,} won deals",
                hovertemplate="%{x:,.0f}: %{y:.2e}<extra></extra>",
            )
        )
    cv = "n/a" if fit.cv is None else f"{fit.cv:.2f}"
    fig.add_trace(
        go.Scatter(
            x=h.x,
            y=h.pdf,
            mode="lines",
            line={"color": HIT_COLOUR, "width": 3},
            name=f"fitted: mean {fit.mean:,.0f}, CV {cv}",
            hoverinfo="skip",
        )
    )
    return _layout(
        fig,
        height,
        title={"text": "Deal size", "x": 0, "font": {"size": 14}},
        xaxis_title="Won deal size",
        yaxis_title="Density",
        yaxis_showticklabels=False,
        bargap=0.02,
    )


def tornado_chart(t: Tornado, *, height: int | None = None) -> go.Figure:
    """Bars from the current P(hit) to P(hit) at each end of each assumption's range."""
    bars = list(t.bars)[::-1]  # Plotly draws the first category at the bottom
    labels = [f"{b.assumption.label} · {b.assumption.owner}" for b in bars]
    fig = go.Figure()
    for owner in ("marketing", "sales"):
        for end in ("low", "high"):
            mine = [
                (lab, b) for lab, b in zip(labels, bars, strict=True) if b.assumption.owner == owner
            ]
            if not mine:
                continue
            p = [b.p_low if end == "low" else b.p_high for _, b in mine]
            v = [b.assumption.low if end == "low" else b.assumption.high for _, b in mine]
            fig.add_trace(
                go.Bar(
                    y=[lab for lab, _ in mine],
                    x=[pi - t.p_hit for pi in p],
                    base=t.p_hit,
                    orientation="h",
                    marker_color=OWNER_COLOURS[owner],
                    opacity=0.55 if end == "low" else 0.95,
                    name=f"{owner}, {end} end",
                    customdata=np.array(
                        [
                            [b.assumption.fmt(vi), pi, b.assumption.basis]
                            for (_, b), vi, pi in zip(mine, v, p, strict=True)
                        ],
                        dtype=object,
                    ),
                    hovertemplate="at %{customdata[0]} (" + end + " end of %{customdata[2]}): "
                    "chance %{customdata[1]:.0%}<extra></extra>",
                )
            )
    fig.add_vline(
        x=t.p_hit,
        line_color="#1b1f24",
        annotation_text=f"now {t.p_hit:.0%}",
        annotation_position="top",
    )
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    return _layout(
        fig,
        height or 120 + 34 * len(bars),
        barmode="overlay",
        xaxis_tickformat=".0%",
        xaxis_title="Chance we hit the number",
        xaxis_range=[0, 1],
    )


def _axis(a: Assumption) -> dict[str, object]:
    fmt = ".0%" if a.kind == "rate" else (".2f" if a.kind == "deal_cv" else ",.0f")
    return {"title": {"text": a.label}, "tickformat": fmt}


def heatmap_chart(h: Heatmap, *, height: int = 460) -> go.Figure:
    """P(hit) over two assumptions, the contour of the chosen confidence, and where we are now."""
    fig = go.Figure(
        go.Heatmap(
            z=h.p_hit,
            x=h.x_values,
            y=h.y_values,
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": {"text": "Chance"}, "tickformat": ".0%"},
            hovertemplate=f"{h.x.label}: %{{x:,.3~f}}<br>{h.y.label}: %{{y:,.3~f}}<br>"
            "chance to hit: %{z:.0%}<extra></extra>",
        )
    )
    if np.nanmin(h.p_hit) < h.confidence <= np.nanmax(h.p_hit):
        fig.add_trace(
            go.Contour(
                z=h.p_hit,
                x=h.x_values,
                y=h.y_values,
                contours={
                    "start": h.confidence,
                    "end": h.confidence,
                    "size": 1,
                    "coloring": "none",
                    "showlabels": True,
                    "labelformat": ".0%",
                },
                line={"width": 3, "color": "#1b1f24"},
                showscale=False,
                name=f"{h.confidence:.0%} sure",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[h.x.value],
            y=[h.y.value],
            mode="markers+text",
            marker={"symbol": "x", "size": 12, "color": "#1b1f24"},
            text=[f"now {h.base_p_hit:.0%}"],
            textposition="top right",
            name="the plan now",
            hoverinfo="skip",
        )
    )
    return _layout(fig, height, xaxis=_axis(h.x), yaxis=_axis(h.y), showlegend=False)
