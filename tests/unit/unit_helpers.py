"""Builders shared by the unit tests (a uniquely named module: test folders have no __init__)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
