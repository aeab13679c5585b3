"""bench/floor_page.py, the Plan page's floor for bench/core.py --floor: the same elements as the
Plan page on the seed scenario, and the same headline and charts for each MQL -> SQL rate.

If the Plan page gains or loses an element, the first test fails: the floor must follow, or the
benchmark compares the Plan page with a different page.
"""

from __future__ import annotations

from collections import Counter

import pytest
from app_helpers import ROOT, charts, metric, run_page
from streamlit.testing.v1 import AppTest

from ui.editor import rate_key

HEADLINE = (
    "Chance we hit the number",
    "Chance marketing hits its share",
    "Chance sales hits its share",
    "Expected customers",
)


def kinds(node: object) -> Counter[str]:
    """How many elements of each kind are under `node`, blocks included."""
    out: Counter[str] = Counter()
    for child in getattr(node, "children", {}).values():
        out[child.type] += 1
        out += kinds(child)
    return out


def floor(parts: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "bench" / "floor_page.py"), default_timeout=120)
    if parts is not None:
        at.query_params["parts"] = parts
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def plan_and_floor() -> tuple[AppTest, AppTest]:
    return run_page(), floor()


def test_the_floor_shows_every_element_the_plan_page_shows(
    plan_and_floor: tuple[AppTest, AppTest],
) -> None:
    plan, low = plan_and_floor
    assert kinds(low.main) == kinds(plan.main)
    assert kinds(low.sidebar) == kinds(plan.sidebar)


def test_the_floor_shows_the_plan_pages_headline_and_charts_as_the_rate_moves(
    plan_and_floor: tuple[AppTest, AppTest],
) -> None:
    plan, low = plan_and_floor
    for rate in (75, 81):
        if rate != 75:
            plan.slider(key=rate_key(0, 0)).set_value(rate).run()
            low.slider(key="floor_rate").set_value(rate).run()
        assert not plan.exception
        assert not low.exception
        assert [metric(low, m) for m in HEADLINE] == [metric(plan, m) for m in HEADLINE]
        assert [f for _, f in charts(low)] == [f for _, f in charts(plan)]
        assert f"{rate:.1f}% · known exactly" in [c.value for c in low.caption]


@pytest.mark.parametrize("parts", ["core", "minimal"])
def test_a_smaller_floor_keeps_the_headline_charts_and_the_moved_slider(parts: str) -> None:
    full, smaller = kinds(floor().main), kinds(floor(parts).main)
    assert sum(smaller.values()) < sum(full.values())
    at = floor(parts)
    assert not at.sidebar.children
    assert [m.label for m in at.metric][:4] == list(HEADLINE)
    assert len(charts(at)) == 2
    before = metric(at, HEADLINE[0])
    at.slider(key="floor_rate").set_value(85).run()
    assert metric(at, HEADLINE[0]) != before
