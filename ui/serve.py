"""Start the app: `python -m ui.serve [streamlit options]` (what scripts/run does).

The numeric stack (scipy.stats, plotly) takes about two seconds to import. Importing it here,
before the server opens its port, means the first leader to open the page does not wait for it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import plotly.graph_objects  # noqa: F401  (warm import, see module docstring)
from streamlit.web import cli

from sim import load_scenario, plan, simulate
from ui.shell import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    seed = load_scenario(SEED_FILE)
    simulate(seed, trials=1000, seed=0)  # builds and caches the seed plan's exact laws
    plan(seed)
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
