"""Builders shared by the unit tests (a uniquely named module: test folders have no __init__)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from sim.models import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SEED_FILE = ROOT / "examples" / "seed-sla.json"


def one_source(
    volume: dict[str, Any],
    rates: list[dict[str, Any]],
    *,
    target: float = 10,
    metric: str = "customers",
    owner: str = "marketing",
    deal_size: dict[str, Any] | None = None,
) -> Scenario:
    """A scenario with a single source owning the whole target."""
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": "Test",
        "quarter": "2027-Q1",
        "metric": metric,
        "target": target,
        "marketing_share": 1.0 if owner == "marketing" else 0.0,
        "sources": [
            {
                "name": "Only",
                "owner": owner,
                "stages": [f"S{i}" for i in range(len(rates) + 1)],
                "volume": volume,
                "rates": rates,
            }
        ],
    }
    if deal_size is not None:
        data["deal_size"] = deal_size
    return parse_scenario(data)


def write_release_one_rows(engine: Any, sid: str, scenario: Scenario, author: str) -> None:
    """A scenario and its first version as the first releases wrote them (no `changes`)."""
    from sqlalchemy import text

    from sim.models import content_hash

    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO pact_scenarios (id, name, quarter, created_at, head) "
                "VALUES (:id, :name, :q, '2026-11-01T10:00:00+00:00', 1)"
            ),
            {"id": sid, "name": scenario.name, "q": scenario.quarter},
        )
        c.execute(
            text(
                "INSERT INTO pact_versions (scenario_id, number, author, created_at, "
                "content_hash, body) VALUES (:s, 1, :a, '2026-11-01T10:00:00+00:00', :h, :b)"
            ),
            {"s": sid, "a": author, "h": content_hash(scenario), "b": scenario.to_json()},
        )


def valid(fig: go.Figure) -> go.Figure:
    """Plotly's own validation of the whole spec (the app builds its charts without it, for
    speed): it raises on any unknown or bad property, and what it would send the browser must be
    what the spec sends (validation also converts, a named colour scale into its colours, which
    plotly.js may not know). The figure itself is returned to read its (decoded) values."""
    checked = go.Figure(fig.to_dict())
    assert json.loads(pio.to_json(checked)) == json.loads(pio.to_json(fig))
    return fig
