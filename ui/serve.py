"""Start the app: `python -m ui.serve [streamlit options]` (what scripts/run does).

The numeric stack (scipy.stats, plotly) and the rest the pages use take about three seconds to
import. Importing them here, before the server opens its port, means the first leader to open the
page does not wait for them; then they are frozen out of the garbage collector's way (warm).

Sign-in from the environment (containers, services): when PACT_AUTH_CLIENT_ID is set, the
PACT_AUTH_* variables become an `[auth]` section in a secrets file readable only by this user,
added after the usual secrets files (ui/auth.py, docs/deploy.md).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import os
import pkgutil
import shutil
import sys
import tempfile
from pathlib import Path

import plotly.graph_objects  # noqa: F401  (warm import, see module docstring)
from streamlit.web import cli

import sim
import ui
from sim import load_scenario, plan, simulate
from ui import runtime_fix
from ui.auth import secrets_from_environment
from ui.shell import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]
# Imported by the pages' first runs, not by the modules above (found by comparing sys.modules).
WARM_IMPORTS = (
    "pyarrow",
    "pandas.io.formats.style",
    "alembic.command",
    "streamlit.web.bootstrap",
    "streamlit.web.server.server",
)


def secrets_options() -> list[str]:
    """`--secrets.files` options adding the sign-in settings from the environment, if any."""
    try:
        toml = secrets_from_environment(os.environ)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    if toml is None:
        return []
    folder = Path(tempfile.mkdtemp(prefix="pact-secrets-"))  # mode 0700
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    generated = folder / "secrets.toml"
    generated.touch(mode=0o600)
    generated.write_text(toml, encoding="utf-8")
    files = [
        Path.home() / ".streamlit" / "secrets.toml",
        Path.cwd() / ".streamlit" / "secrets.toml",
    ]
    return [arg for path in [*files, generated] for arg in ("--secrets.files", str(path))]


def warm() -> None:
    """Before the port opens: build the seed plan's exact laws, import every module the pages
    use (pandas, pyarrow, SQLAlchemy and Alembic, the server's own), then take all of it out of
    the garbage collector's way. A full collection walks every object it tracks and stops the
    process meanwhile; the imported stack is about 210,000 objects that live as long as the
    process, so freezing it (gc.freeze) makes each full collection walk only what sessions
    create (docs/performance.md: 150-320 ms pauses under load became 50-160 ms)."""
    seed = load_scenario(SEED_FILE)
    simulate(seed, trials=1000, seed=0)  # builds and caches the seed plan's exact laws
    plan(seed)
    cache_log = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = cache_log.level
    cache_log.setLevel(logging.ERROR)  # "No runtime found": true until the server starts
    try:
        for package in (sim, ui):
            for module in pkgutil.iter_modules(package.__path__):
                if not module.name.startswith("_") and module.name != "serve":
                    importlib.import_module(f"{package.__name__}.{module.name}")
    finally:
        cache_log.setLevel(level)
    for name in WARM_IMPORTS:
        importlib.import_module(name)
    if os.environ.get("PACT_GC_FREEZE", "1") != "0":  # 0: bench/load.py's comparison
        gc.collect()
        gc.freeze()


def main() -> None:
    warm()
    runtime_fix.install()
    sys.argv = ["streamlit", "run", str(ROOT / "asgi.py"), *secrets_options(), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
