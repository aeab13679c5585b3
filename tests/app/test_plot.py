"""ui/plot.py: plotly.js placed where the app serves it, and the charts' fallback."""

from __future__ import annotations

from pathlib import Path

import plotly.io as pio
import pytest
from app_helpers import charts, run_page

from ui import plot

PACKAGED = Path(pio.__file__).resolve().parents[1] / "package_data" / "plotly.min.js"


def test_prepare_places_the_packaged_plotly_js_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "static" / "plotly.min.js"
    monkeypatch.setattr(plot, "STATIC_JS", target)
    assert plot.prepare()
    assert target.read_bytes() == PACKAGED.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["plotly.min.js"]  # no partial file left
    target.touch()
    placed = target.stat().st_mtime_ns
    assert plot.prepare()
    assert target.stat().st_mtime_ns == placed  # already there: not copied again


def test_prepare_says_no_when_it_cannot_place_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "static").write_text("a file where the folder should be")
    monkeypatch.setattr(plot, "STATIC_JS", tmp_path / "static" / "plotly.min.js")
    assert not plot.prepare()
    assert "fall back to st.plotly_chart" in caplog.text


def test_without_plotly_js_the_plan_page_draws_the_same_charts_with_st_plotly_chart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_place = charts(run_page())
    monkeypatch.setattr(plot, "IN_PLACE", False)
    at = run_page()
    assert not at.get("bidi_component")
    assert len(at.get("plotly_chart")) == 2
    drawn = charts(at)
    for (_, figure), (_, same) in zip(drawn, in_place, strict=True):
        assert figure["data"] == same["data"]
        assert figure["layout"].get("annotations") == same["layout"].get("annotations")
