"""Plotly figures built from result objects; no Streamlit, so app, exports and tests share them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from .engine import HIT_TOLERANCE, SimulationResult
from .models import Scenario
from .review import ReviewResult

HIT_COLOUR = "#2da44e"
MISS_COLOUR = "#afb8c1"
OWNER_COLOURS = {"marketing": "#8250df", "sales": "#1f6feb"}
COMPARE_COLOURS = ("#1f6feb", "#bf3989", "#bf8700", "#1a7f37")
_WHITE = pio.templates["plotly_white"]
# plotly_white cut to its layout and the trace types we draw, registered as Plotly's default.
# Naming a template on each figure makes Plotly copy and re-validate it every time (about 25 ms
# per chart with the full plotly_white, 5 ms with this one), on every slider move and for every
# session; the default template is attached without validation (0.4 ms). Every figure this
# process makes looks the same, which is what we want.
TEMPLATE = go.layout.Template(
    layout=_WHITE.layout,
    data={kind: getattr(_WHITE.data, kind) for kind in ("bar", "scatter", "heatmap", "contour")},
)
pio.templates["pipeline_pact"] = TEMPLATE
pio.templates.default = "pipeline_pact"


def plot_text(text: str) -> str:
    """User text for a Plotly label: Plotly reads a little HTML, so show it literally."""
    return html.escape(text, quote=False)


def level_line(y: float, colour: str, dash: str | None = "dot") -> dict[str, Any]:
    """A horizontal line across the plot at `y`, as a shape spec (what `add_hline` draws)."""
    line = {"color": colour} if dash is None else {"color": colour, "dash": dash}
    return {
        "type": "line",
        "xref": "x domain",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": y,
        "y1": y,
        "line": line,
    }


def level_label(y: float, text: str, *, right: bool) -> dict[str, Any]:
    """A level line's label: under it at the right, or over it at the left."""
    return {
        "xref": "x domain",
        "x": 1 if right else 0,
        "xanchor": "right" if right else "left",
        "yref": "y",
        "y": y,
        "yanchor": "top" if right else "bottom",
        "text": text,
        "showarrow": False,
    }


def metric_label(metric: str) -> str:
    return "Customers won" if metric == "customers" else "Bookings"


def spec_figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain specs without Plotly's validation: the Plan page draws two charts on
    every move, and validating them cost about 20 ms of the server's time each move. The specs
    are checked in the tests instead (tests/unit/test_charts.py validates every chart)."""
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _target_line(x: float, text: str, colour: str = "#cf222e") -> tuple[dict[str, Any], ...]:
    """A dashed vertical line at `x` across the plot, labelled at its top left (what `add_vline`
    draws), as a shape spec and an annotation spec."""
    shape = {
        "type": "line",
        "x0": x,
        "x1": x,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "paper",
        "line": {"dash": "dash", "color": colour},
    }
    label = {
        "x": x,
        "y": 1,
        "xref": "x",
        "yref": "paper",
        "text": text,
        "showarrow": False,
        "xanchor": "right",
        "yanchor": "top",
    }
    return shape, label


CHART_TAIL = 1e-4  # an outcome less likely than this is not drawn (a bar under 0.01%)


def outcome_chart(result: SimulationResult, *, height: int = 360) -> go.Figure:
    """Distribution of the quarter's outcome; the target marked and the hit region shaded."""
    left, right, prob = result.distribution()
    target = result.total.target
    integer = result.metric == "customers"
    centre = left if integer else (left + right) / 2
    hit = centre >= target - HIT_TOLERANCE
    hit_share = float(prob[hit].sum())
    seen = np.flatnonzero(prob >= CHART_TAIL)
    keep = slice(seen[0], seen[-1] + 1) if len(seen) else slice(None)
    shape, label = _target_line(target - 0.5 if integer else target, f"Target {target:,.0f}")
    bars: dict[str, Any] = {
        "type": "bar",
        "x": centre[keep],
        "y": prob[keep],
        "marker": {"color": np.where(hit[keep], HIT_COLOUR, MISS_COLOUR)},
        "hovertemplate": "%{x:,.0f}: %{y:.1%}<extra></extra>",
        "showlegend": False,
    }
    if not integer:
        bars["width"] = (right - left)[keep]
    headline = {
        "text": f"<b>Hit the number: {hit_share:.0%}</b>",
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 1.08,
        "font": {"color": HIT_COLOUR},
    }
    return spec_figure(
        [bars],
        {
            "annotations": [headline, label],
            "shapes": [shape],
            "bargap": 0.05,
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
            "xaxis": {"title": {"text": f"{metric_label(result.metric)} this quarter"}},
            "yaxis": {"title": {"text": "Chance"}, "tickformat": ".0%"},
        },
    )


def funnel_chart(scenario: Scenario, *, height: int = 360) -> go.Figure:
    """Expected count at every stage, one funnel per source."""
    traces = []
    for source in scenario.sources:
        counts = np.asarray(source.expected_counts())
        traces.append(
            {
                "type": "funnel",
                "name": plot_text(f"{source.name} ({source.owner})"),
                "y": [plot_text(stage) for stage in source.stages],
                "x": counts,
                "text": [f"{c:,.1f}" if c < 100 else f"{c:,.0f}" for c in counts],
                "textinfo": "text",
                "marker": {"color": OWNER_COLOURS[source.owner]},
                "opacity": 0.9 if source.owner == "marketing" else 0.75,
                "hovertemplate": "%{y}: %{x:,.1f}<extra>%{fullData.name}</extra>",
            }
        )
    return spec_figure(
        traces,
        {
            "height": height,
            "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "funnelmode": "group",
        },
    )


def waterfall_chart(review: ReviewResult, *, height: int = 420) -> go.Figure:
    """Plan's expected outcome -> each factor's Shapley contribution -> actual outcome."""
    parts = [c for c in review.contributions if abs(c.effect) >= 0.005]
    labels = ["Plan (expected)"] + [plot_text(c.label) for c in parts] + ["Actual"]
    steps = {
        "type": "waterfall",
        "orientation": "v",
        "x": labels,
        "y": [review.plan_expected, *(c.effect for c in parts), review.actual],
        "measure": ["absolute", *(["relative"] * len(parts)), "total"],
        "text": [
            f"{review.plan_expected:,.1f}",
            *(f"{c.effect:+,.1f}" for c in parts),
            f"{review.actual:,.1f}",
        ],
        "textposition": "outside",
        "customdata": ["", *(c.owner for c in parts), ""],
        "hovertemplate": "%{x}<br>%{text} %{customdata}<extra></extra>",
        "increasing": {"marker": {"color": HIT_COLOUR}},
        "decreasing": {"marker": {"color": "#cf222e"}},
        "totals": {"marker": {"color": "#57606a"}},
        "connector": {"line": {"color": "#afb8c1"}},
    }
    closed = review.week >= review.weeks
    due = "due by" if review.paced_share is not None else "pro-rated to"
    label = (
        f"Target {review.target:,.0f}"
        if closed
        else f"Target {due} week {review.week}: {review.target_by_now:,.1f}"
    )
    # Mid-quarter the bars are the plan by the week, so is the target.
    layout = {
        "height": height,
        "showlegend": False,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "yaxis": {"title": {"text": metric_label(review.metric)}},
        "shapes": [level_line(review.target_by_now, "#1f6feb", "dash")],
        "annotations": [level_label(review.target_by_now, label, right=False)],
    }
    return spec_figure([steps], layout)


def pacing_chart(pace: dict[str, Any], *, height: int = 320) -> go.Figure:
    """Planned cumulative first-stage count per week with its P10-P90 band, and the actual."""
    weeks = pace["weeks"]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": weeks,
            "y": pace["high"],
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": weeks,
            "y": pace["low"],
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": "rgba(31,111,235,0.15)",
            "name": "Plan's P10–P90",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": weeks,
            "y": pace["planned"],
            "mode": "lines",
            "line": {"color": "#1f6feb"},
            "name": f"Planned {pace['stage']}s (cumulative)",
        },
    ]
    if pace["actual"] is not None:
        data.append(
            {
                "type": "scatter",
                "x": [pace["actual_week"]],
                "y": [pace["actual"]],
                "mode": "markers",
                "marker": {"size": 12, "color": "#cf222e"},
                "name": "Actual to date",
            }
        )
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "xaxis": {"title": {"text": "Week of quarter"}},
        "yaxis": {"title": {"text": f"{pace['stage']}s"}},
        "legend": {"orientation": "h", "y": 1.15},
    }
    return spec_figure(data, layout)


def _shared_histogram(
    results: Sequence[SimulationResult], bins: int = 60
) -> tuple[np.ndarray, list[np.ndarray], bool]:
    """x values and each result's probabilities on the same bins (whole numbers stay whole)."""
    integer = all(r.exact or r.outcomes.dtype.kind in "iu" for r in results)
    if integer:
        laws = [r.distribution()[2] for r in results]
        size = max(len(p) for p in laws)
        probs = [np.pad(p, (0, size - len(p))) for p in laws]
        x = np.arange(size, dtype=float)
    else:
        lo = min(float(r.outcomes.min()) for r in results)
        hi = max(float(r.outcomes.max()) for r in results)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
        probs = [np.histogram(r.outcomes, bins=edges)[0] / r.trials for r in results]
        x = (edges[:-1] + edges[1:]) / 2
    seen = np.flatnonzero(np.max(probs, axis=0) >= 1e-4)
    keep = slice(seen[0], seen[-1] + 1) if len(seen) else slice(None)
    return x[keep], [p[keep] for p in probs], integer


def compare_chart(
    results: Sequence[SimulationResult], labels: Sequence[str], *, height: int = 380
) -> go.Figure:
    """Outcome distributions of two to four scenarios overlaid on the same axis, with targets."""
    if len({r.metric for r in results}) != 1:
        raise ValueError("metric: the scenarios count different things (customers vs bookings)")
    x, probs, integer = _shared_histogram(results)
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": prob,
            "mode": "lines",
            "line": {
                "color": COMPARE_COLOURS[i % len(COMPARE_COLOURS)],
                "width": 2.5,
                "shape": "hvh" if integer else "spline",
            },
            "name": plot_text(f"{label}: hits {result.p_hit:.0%}"),
            "hovertemplate": "%{x:,.0f}: %{y:.1%}<extra>%{fullData.name}</extra>",
        }
        for i, (label, result, prob) in enumerate(zip(labels, results, probs, strict=True))
    ]
    shapes, notes = [], []
    targets = sorted({r.total.target for r in results})
    for target in targets:
        owners = [
            plot_text(label)
            for label, r in zip(labels, results, strict=True)
            if r.total.target == target
        ]
        text = f"Target {target:,.0f}" + ("" if len(targets) == 1 else f" ({', '.join(owners)})")
        shape, note = _target_line(target - 0.5 if integer else target, text)
        shapes.append(shape)
        notes.append(note)
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "xaxis": {"title": {"text": f"{metric_label(results[0].metric)} this quarter"}},
        "yaxis": {"title": {"text": "Chance"}, "tickformat": ".0%"},
        "legend": {"orientation": "h", "y": 1.14, "x": 0},
        "shapes": shapes,
        "annotations": notes,
    }
    return spec_figure(data, layout)
