"""`python -m sim`: tables for people, exact to_dict() for machines, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from unit_helpers import ROOT, SEED_FILE

from sim import load_scenario, plan, simulate
from sim.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_simulate_json_is_exactly_to_dict() -> None:
    out = run("simulate", str(SEED_FILE), "--trials", "20000", "--seed", "7", "--json")
    assert out.returncode == 0, out.stderr
    expected = simulate(load_scenario(SEED_FILE), trials=20000, seed=7).to_dict()
    assert json.loads(out.stdout) == json.loads(json.dumps(expected))


def test_plan_json_is_exactly_to_dict() -> None:
    out = run("plan", str(SEED_FILE), "--confidence", "0.9", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == json.loads(
        json.dumps(plan(load_scenario(SEED_FILE), 0.9).to_dict())
    )


def test_tables_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", str(SEED_FILE), "--trials", "1000"]) == 0
    text = capsys.readouterr().out
    assert "chance to hit" in text
    assert "Inbound (marketing): MQL 164 -> SQL 123 -> Opportunity 61.5 -> Won 27.7" in text
    assert main(["plan", str(SEED_FILE)]) == 0
    text = capsys.readouterr().out
    needed = plan(load_scenario(SEED_FILE)).owners["marketing"].needed_volume_at_confidence
    assert f"{needed}" in text
    assert "164 MQL" in text
    assert main(["validate", str(SEED_FILE)]) == 0
    assert capsys.readouterr().out.startswith("ok: Seed plan (2027-Q1), 2 sources")


def _write(tmp_path: Path, data: Any) -> str:
    p = tmp_path / "s.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def _seed() -> dict[str, Any]:
    return json.loads(SEED_FILE.read_text())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "missing.json"], "file: cannot read"),
        (["simulate", "{bad}"], "file: invalid JSON"),
        (["simulate", "{unknown}"], "colour: unknown key"),
        (["validate", "{rate}"], "sources[1].rates[0].mean: must be at most 1"),
        (["plan", "{bookings}"], "deal_size: required when metric is bookings"),
        (["simulate", "{seed}", "--trials", "5"], "trials: must be between"),
        (["simulate", "{seed}", "--trials", "many"], "argument --trials: invalid int value"),
        (["plan", "{seed}", "--confidence", "1.5"], "confidence: must be between"),
        (["frobnicate"], "argument command: invalid choice"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    files = {
        "{bad}": "{not json",
        "{unknown}": {**_seed(), "colour": "blue"},
        "{seed}": _seed(),
    }
    rate = _seed()
    rate["sources"][1]["rates"][0]["mean"] = 1.4
    files["{rate}"] = rate
    bookings = {**_seed(), "metric": "bookings"}
    del bookings["deal_size"]
    files["{bookings}"] = bookings
    argv = [_write(tmp_path, files[a]) if a in files else a for a in args]
    out = run(*argv)
    assert out.returncode != 0
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in out.stderr


def test_import_saves_a_checked_plan_in_the_store(tmp_path: Path) -> None:
    from sim.store import Store

    url = f"sqlite:///{tmp_path / 'pact.db'}"
    out = run("import", str(SEED_FILE), "--database", url, "--author", "Maya")
    assert out.returncode == 0, out.stderr
    store = Store(url)
    (info,) = store.scenarios()
    assert f"scenario {info.id}, version 1" in out.stdout
    assert f"?scenario={info.id}" in out.stdout
    assert store.load(info.id)[0] == load_scenario(SEED_FILE)
    assert store.versions(info.id)[0].author == "Maya"


def test_import_of_a_bad_plan_stores_nothing(tmp_path: Path) -> None:

    bad = tmp_path / "bad.json"
    data = load_scenario(SEED_FILE).to_dict()
    data["sources"][0]["rates"][0]["mean"] = 1.4
    bad.write_text(json.dumps(data))
    url = f"sqlite:///{tmp_path / 'pact.db'}"
    out = run("import", str(bad), "--database", url)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: sources[0].rates[0].mean: must be at most 1.0 (got 1.4)"
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "pact.db").exists()  # nothing was opened, let alone stored


def test_import_uses_the_store_the_app_uses(tmp_path: Path) -> None:
    from sim.store import Store

    out = subprocess.run(
        [sys.executable, "-m", "sim", "import", str(SEED_FILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PACT_DATA_DIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    assert len(Store(f"sqlite:///{tmp_path / 'pact.db'}").scenarios()) == 1


# ---- Start-up: each command imports only what it uses (issue 12; bench/cli.py times it) -------

HEAVY = ("scipy", "pandas", "plotly", "sqlalchemy", "xlsxwriter", "streamlit")


def imported_modules(*args: str) -> set[str]:
    """Top-level packages a fresh `python -m sim ARGS` imports (from -X importtime)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    names = [ln.rsplit("|", 1)[-1].strip() for ln in out.stderr.splitlines() if "|" in ln]
    assert "sim.cli" in names  # the report is there: an empty set would prove nothing
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("args", [["validate", str(SEED_FILE)], ["schema"]])
def test_validate_and_schema_import_neither_scipy_nor_pandas(args: list[str]) -> None:
    loaded = imported_modules(*args)
    assert "pydantic" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_simulate_imports_the_engine_but_not_pandas_plotly_or_the_store() -> None:
    loaded = imported_modules("simulate", str(SEED_FILE), "--trials", "1000")
    assert {"numpy", "scipy"} <= loaded
    assert not loaded & {"pandas", "plotly", "sqlalchemy", "xlsxwriter"}


def test_the_parser_choices_and_defaults_are_the_modules_own() -> None:
    from sim import cli
    from sim.calibrate import DATE_FORMATS
    from sim.engine import DEFAULT_TRIALS
    from sim.export import FORMATS
    from sim.plan import DEFAULT_CONFIDENCE
    from sim.review import DEFAULT_WEEKS

    assert cli.EXPORT_FORMATS == FORMATS
    assert tuple(DATE_FORMATS) == cli.DATE_FORMAT_CHOICES
    helps = {
        "simulate": f"default: {DEFAULT_TRIALS:,}",
        "plan": f"default: {DEFAULT_CONFIDENCE}",
        "review": f"(default: {DEFAULT_WEEKS})",
    }
    for command, text in helps.items():
        assert text in run(command, "--help").stdout


def test_options_left_out_take_the_modules_defaults() -> None:
    out = run("simulate", str(SEED_FILE), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["trials"] == 50_000
    out = run("plan", str(SEED_FILE), "--json")
    assert json.loads(out.stdout)["confidence"] == 0.8


TEAM_FILE = ROOT / "examples" / "team-plan.json"


def test_team_json_and_table() -> None:
    out = run("team", str(TEAM_FILE), "--confidence", "0.8", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    scenario = load_scenario(TEAM_FILE)
    people = plan(scenario, 0.8).owners["sales"].people
    assert people is not None
    assert data["people_needed"] == json.loads(json.dumps(people.to_dict()))
    assert len(data["weeks"]) == 13
    assert data["sourced"]["source"] == "Outbound"
    assert data["follow_up"]["feasible"] is True
    text = run("team", str(TEAM_FILE)).stdout
    assert "The SDRs book" in text
    assert "more SDRs from the quarter's first day" in text
    plan_text = run("plan", str(TEAM_FILE)).stdout
    assert "more SDRs from the quarter's first day" in plan_text


def test_team_without_a_team_is_one_line_error() -> None:
    out = run("team", str(SEED_FILE))
    assert out.returncode == 2
    assert out.stderr.strip() == "error: team: this scenario has no team (see docs/team.md)"
