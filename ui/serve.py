"""Start the app: `python -m ui.serve [streamlit options]` (what scripts/run does).

The numeric stack (scipy.stats, plotly) takes about two seconds to import. Importing it here,
before the server opens its port, means the first leader to open the page does not wait for it.

Sign-in from the environment (containers, services): when PACT_AUTH_CLIENT_ID is set, the
PACT_AUTH_* variables become an `[auth]` section in a secrets file readable only by this user,
added after the usual secrets files (ui/auth.py, docs/deploy.md).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import plotly.graph_objects  # noqa: F401  (warm import, see module docstring)
from streamlit.web import cli

from sim import load_scenario, plan, simulate
from ui import runtime_fix
from ui.auth import secrets_from_environment
from ui.shell import SEED_FILE

ROOT = Path(__file__).resolve().parents[1]


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


def main() -> None:
    seed = load_scenario(SEED_FILE)
    simulate(seed, trials=1000, seed=0)  # builds and caches the seed plan's exact laws
    plan(seed)
    runtime_fix.install()
    sys.argv = ["streamlit", "run", str(ROOT / "asgi.py"), *secrets_options(), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
