"""Quarter over quarter: how each owner delivered against what it committed to.

For every reviewed quarter (its plan and its actuals) and each owner:
- the first-stage volume its sources committed (pro-rated to the week for a quarter in progress)
  against the volume delivered, and
- its net effect on the number: the sum of the Shapley contributions of the factors it owns
  (sim.review.attribute), so the owners' effects add up exactly to the quarter's gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from . import timing
from .charts import OWNER_COLOURS, level_line, spec_figure
from .models import OWNERS, Owner, Scenario, Source
from .review import Actuals, attribute, check_actuals
from .store import KeptActuals, Store


@dataclass(frozen=True, slots=True)
class OwnerQuarter:
    quarter: str
    metric: str
    owner: Owner
    week: int
    weeks: int
    committed_volume: float
    delivered_volume: float
    effect: float
    gap: float

    @property
    def volume_delivered_share(self) -> float | None:
        if self.committed_volume <= 0:
            return None
        return self.delivered_volume / self.committed_volume


def quarter_delivery(scenario: Scenario, actuals: Actuals) -> list[OwnerQuarter]:
    """Each owner's delivery in one reviewed quarter (checks the actuals against the plan)."""
    actuals = check_actuals(actuals, scenario)
    plan_expected, actual, contributions = attribute(scenario, actuals)
    share = actuals.week / actuals.weeks
    out = []
    for owner in OWNERS:
        sources = scenario.owner_sources(owner)
        delivered = 0.0
        for s in sources:
            sa = actuals.for_source(s.name)
            delivered += sa.counts[s.stages[0]] if sa else 0.0
        out.append(
            OwnerQuarter(
                quarter=scenario.quarter,
                metric=scenario.metric,
                owner=owner,
                week=actuals.week,
                weeks=actuals.weeks,
                committed_volume=sum(_committed_by(s, scenario, actuals, share) for s in sources),
                delivered_volume=delivered,
                effect=sum(c.effect for c in contributions if c.owner == owner),
                gap=actual - plan_expected,
            )
        )
    return out


def _committed_by(source: Source, scenario: Scenario, actuals: Actuals, share: float) -> float:
    """The first-stage volume committed by the week: pro-rated, or on the plan's weekly profile."""
    if scenario.timed:
        return float(timing.source_pace(source, actuals.weeks).reached[0, actuals.week])
    return source.volume.mean * share


def delivery_trend(reviews: Sequence[tuple[Scenario, Actuals]]) -> pd.DataFrame:
    """One row per quarter and owner, quarters in order; a quarter reviewed twice keeps the
    last review given."""
    latest: dict[str, tuple[Scenario, Actuals]] = {}
    for scenario, actuals in reviews:
        latest[scenario.quarter] = (scenario, actuals)
    rows = [
        {
            "quarter": oq.quarter,
            "metric": oq.metric,
            "owner": oq.owner,
            "week": oq.week,
            "weeks": oq.weeks,
            "committed_volume": oq.committed_volume,
            "delivered_volume": oq.delivered_volume,
            "volume_delivered_share": oq.volume_delivered_share,
            "effect": oq.effect,
            "gap": oq.gap,
        }
        for quarter in sorted(latest)
        for oq in quarter_delivery(*latest[quarter])
    ]
    columns = [
        "quarter",
        "metric",
        "owner",
        "week",
        "weeks",
        "committed_volume",
        "delivered_volume",
        "volume_delivered_share",
        "effect",
        "gap",
    ]
    return pd.DataFrame(rows, columns=columns)


def latest_kept(kept: Sequence[KeptActuals]) -> list[KeptActuals]:
    """Per quarter, the actuals that speak for it: the latest closed-quarter review, or the latest
    to-date one while the quarter is open. Quarters in order."""
    best: dict[str, KeptActuals] = {}
    for k in kept:
        held = best.get(k.quarter)
        if held is None or (k.final, k.created_at) >= (held.final, held.created_at):
            best[k.quarter] = k
    return [best[q] for q in sorted(best)]


def stored_trend(store: Store) -> pd.DataFrame:
    """The delivery trend over every quarter with actuals kept in the store, each against the
    plan version it was reviewed against."""
    chosen = latest_kept(store.kept_actuals())
    return delivery_trend([(store.load(k.scenario_id, k.version)[0], k.actuals) for k in chosen])


def trend_chart(trend: pd.DataFrame, *, height: int = 340) -> go.Figure:
    """Each owner's net effect on the number, quarter by quarter (bars above 0 helped)."""
    metrics = set(trend["metric"])
    unit = metrics.pop() if len(metrics) == 1 else "customers or bookings"
    data = []
    for owner in OWNERS:
        rows = trend[trend["owner"] == owner]
        labels = [
            q if w >= ws else f"{q} (week {w})"
            for q, w, ws in zip(rows["quarter"], rows["week"], rows["weeks"], strict=True)
        ]
        data.append(
            {
                "type": "bar",
                "x": labels,
                "y": rows["effect"].to_numpy(),
                "name": owner.capitalize(),
                "marker": {"color": OWNER_COLOURS[owner]},
                "text": [f"{e:+,.1f}" for e in rows["effect"]],
                "textposition": "outside",
                "customdata": rows["metric"].to_numpy(),
                "hovertemplate": f"%{{x}}: %{{y:+,.1f}} %{{customdata}}<extra>{owner}</extra>",
            }
        )
    layout = {
        "barmode": "group",
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "yaxis": {"title": {"text": f"Effect on the number ({unit})"}},
        "legend": {"orientation": "h", "y": 1.15},
        "shapes": [level_line(0, "#57606a", None)],
    }
    return spec_figure(data, layout)
