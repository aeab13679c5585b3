"""The docs stay true to the code: generated schema, documented JSON keys, two-command setup."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sim import load_scenario, plan, simulate
from sim.models import scenario_json_schema

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-sla.json"


def _keys(value: object, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            out |= _keys(v, k)
    elif isinstance(value, list):
        for v in value:
            out |= _keys(v, prefix)
    return out


def test_schema_file_is_generated_from_the_models() -> None:
    on_disk = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    assert on_disk == scenario_json_schema()


def test_every_json_key_of_the_cli_is_documented() -> None:
    scenario = load_scenario(SEED)
    doc = (ROOT / "docs" / "cli.md").read_text()
    keys = _keys(simulate(scenario, trials=1000, seed=0).to_dict())
    keys |= _keys(plan(scenario).to_dict())
    keys -= {"MQL", "SQL", "Opportunity", "Won"}  # stage names from the scenario, not keys
    missing = sorted(k for k in keys if not re.search(rf"`[^`]*\b{k}\b[^`]*`", doc))
    assert missing == []


def test_quick_start_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quick start$(.*?)^## ", readme, re.MULTILINE | re.DOTALL)
    assert section is not None
    block = re.search(r"```bash\n(.*?)```", section.group(1), re.DOTALL)
    assert block is not None
    commands = [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.startswith("#")]
    assert [c.split()[0] for c in commands] == ["scripts/run", "scripts/test"]
    for c in commands:
        assert (ROOT / c.split()[0]).exists()


def test_every_json_key_of_calibrate_is_documented() -> None:
    from sim.calibrate import calibrate, read_history_file
    from sim.signal import signals

    cal = calibrate(read_history_file(ROOT / "examples" / "history-quarterly.csv"))
    doc = (ROOT / "docs" / "cli.md").read_text() + (ROOT / "docs" / "calibration.md").read_text()
    keys = _keys(cal.to_dict() | signals(cal).to_dict())
    keys -= set(cal.history.quarters)  # volume.per_quarter is keyed by quarter
    missing = sorted(k for k in keys if not re.search(rf"`[^`]*\b{k}\b[^`]*`", doc))
    assert missing == []
