"""The server's start (ui/serve.py): what the pages import is imported before the port opens,
then frozen out of the garbage collector's way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app_helpers import ROOT

PROBE = """
import gc, json, sys
from ui.serve import WARM_IMPORTS, warm
warm()
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "missing": [m for m in (*WARM_IMPORTS, "sim.charts", "ui.editor", "ui.results") if m not in sys.modules],
}))
"""


def warm_in_a_fresh_process(**env: str) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_the_imported_stack_is_frozen_before_the_port_opens() -> None:
    found, stderr = warm_in_a_fresh_process()
    assert found["missing"] == []
    assert found["frozen"] > 100_000  # the imported stack: a full collection no longer walks it
    assert found["tracked"] < found["frozen"] / 20
    assert "No runtime found" not in stderr  # importing the pages' modules early stays quiet


def test_the_freeze_can_be_turned_off_for_a_comparison() -> None:
    found, _ = warm_in_a_fresh_process(PACT_GC_FREEZE="0")
    assert found["frozen"] == 0
    assert found["missing"] == []
    assert found["tracked"] > 100_000
