"""Charts that a move updates in place: the Plan page's pictures, redrawn with `Plotly.react`.

`st.plotly_chart` gives a chart a new element id whenever its figure changes, so the browser
mounts a new chart and draws it from scratch on every slider move: about 220 ms of the browser's
time per move on the Plan page (a CDP profile, docs/performance.md). `chart` draws the same
figure through a small `st.components.v2` component that keeps one chart per key and hands each
new figure to `Plotly.react`, which changes what changed.

The component loads plotly.js from the app's static files (`server.enableStaticServing`,
.streamlit/config.toml): `prepare()`, run when this module is first imported, copies the plotly.js
that ships with the plotly package into `static/` beside app.py (once per checkout; the container
image makes the copy at build time, as its app folder is read-only to the server). When that copy
cannot be made, the page falls back to `st.plotly_chart`.

`python -m ui.plot` makes the copy and exits (deploy/Containerfile).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import plotly.io as pio
import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
STATIC_JS = ROOT / "static" / "plotly.min.js"
COMPONENT = "pact_chart"
_log = logging.getLogger(__name__)

# plotly.js is loaded once per page (a promise kept on window: the component's module may be
# evaluated again on a page switch). Each render draws the newest figure the element was given;
# one arriving while plotly.js still loads replaces the older one, so the last move wins.
_JS = """
function plotly() {
  if (!window.__pactPlotly) {
    window.__pactPlotly = new Promise((resolve, reject) => {
      if (window.Plotly) { resolve(window.Plotly); return; }
      const script = document.createElement('script');
      script.src = './app/static/plotly.min.js';
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__pactPlotly = undefined; reject(new Error('plotly.js')); };
      document.head.appendChild(script);
    });
  }
  return window.__pactPlotly;
}

export default function (component) {
  const { data, parentElement } = component;
  let el = parentElement.querySelector(':scope > .pact-chart');
  if (!el) {
    el = document.createElement('div');
    el.className = 'pact-chart';
    parentElement.appendChild(el);
  }
  el.__pactNext = data;
  plotly().then((Plotly) => {
    const next = el.__pactNext;
    if (next === undefined) return;
    el.__pactNext = undefined;
    if (el.dataset.failed) { el.textContent = ''; delete el.dataset.failed; }
    const fig = JSON.parse(next.figure);
    return Plotly.react(el, fig.data, fig.layout, next.config);
  }).catch(() => {
    el.dataset.failed = '1';  // the next move tries again (plotly.js is requested anew)
    el.textContent = 'This chart could not be loaded. The numbers above are up to date; ' +
      'reload the page to see the chart.';
  });
  return () => {
    el.__pactNext = undefined;
    if (window.Plotly) window.Plotly.purge(el);
  };
}
"""
_CSS = ".pact-chart { width: 100%; }"


def prepare() -> bool:
    """Put plotly.js where the app serves its static files; False when it cannot be put there."""
    source = Path(pio.__file__).resolve().parents[1] / "package_data" / "plotly.min.js"
    try:
        if not (STATIC_JS.is_file() and STATIC_JS.stat().st_size == source.stat().st_size):
            STATIC_JS.parent.mkdir(exist_ok=True)
            # Each process copies to its own file, then renames it into place: two servers
            # starting together never serve (or write into) half a file.
            partial = STATIC_JS.with_name(f".plotly.{os.getpid()}.part")
            shutil.copyfile(source, partial)
            partial.replace(STATIC_JS)
    except OSError as exc:
        _log.warning("Charts fall back to st.plotly_chart: cannot place plotly.js (%s)", exc)
        return False
    return True


IN_PLACE = prepare()
_component = st.components.v2.component(COMPONENT, js=_JS, css=_CSS, isolate_styles=False)


def figure_json(fig: Any) -> str:
    """A figure as the JSON plotly.js reads (numpy arrays included)."""
    return pio.to_json(fig, validate=False, remove_uids=False)


def chart(figure: str, *, key: str, static: bool = True) -> None:
    """Draw `figure` (figure_json's text) under `key`, updated in place on the next run."""
    config = {"staticPlot": True, "responsive": True}
    if not static:
        config = {"displaylogo": False, "responsive": True}
    if IN_PLACE and st.get_option("server.enableStaticServing"):
        _component(data={"figure": figure, "config": config}, key=key)
    else:
        st.plotly_chart(json.loads(figure), key=key, theme=None, config=config)


if __name__ == "__main__":
    raise SystemExit(0 if IN_PLACE else 1)
