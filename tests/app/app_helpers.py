"""AppTest helpers: run a page like a user, read the numbers it shows."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.plot import COMPONENT

ROOT = Path(__file__).resolve().parents[2]


def run_page(path: str = "app.py") -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label_start: str) -> str:
    """The value shown by the metric whose label starts with `label_start`."""
    for m in at.metric:
        if m.label.startswith(label_start):
            return str(m.value)
    raise AssertionError(f"no metric labelled {label_start!r}: {[m.label for m in at.metric]}")


def percent(at: AppTest, label_start: str) -> float:
    return float(metric(at, label_start).rstrip("%")) / 100


def number(at: AppTest, label_start: str) -> float:
    return float(metric(at, label_start).replace(",", ""))


def charts(at: AppTest) -> list[tuple[str, dict]]:
    """Each chart on the page as (element id, figure), whether drawn by `st.plotly_chart` or
    updated in place by ui.plot's component."""
    drawn = [(c.proto.id, json.loads(c.proto.spec)) for c in at.get("plotly_chart")]
    for c in at.get("bidi_component"):
        if c.proto.component_name == COMPONENT:
            drawn.append((c.proto.id, json.loads(json.loads(c.proto.json)["figure"])))
    return drawn
