"""The public API is pinned: renaming or removing a name is a deliberate act."""

from __future__ import annotations

import subprocess
import sys

from unit_helpers import ROOT

import sim


def test_public_names() -> None:
    assert sorted(sim.__all__) == [
        "PlanResult",
        "Scenario",
        "ScenarioError",
        "SimulationResult",
        "load_scenario",
        "parse_scenario",
        "plan",
        "scenario_from_json",
        "simulate",
    ]
    for name in sim.__all__:
        assert getattr(sim, name) is not None


def test_documented_usage_works() -> None:
    from sim import load_scenario, plan, simulate

    s = load_scenario(ROOT / "examples" / "seed-sla.json")
    assert set(simulate(s, trials=1000, seed=0).to_dict()) >= {"p_hit", "owners", "sources"}
    assert set(plan(s, confidence=0.8).to_dict()) >= {"owners", "sources", "confidence"}


def test_core_never_imports_streamlit() -> None:
    code = "import sys, sim, sim.cli, sim.charts, sim.plan; print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_names_are_imported_when_first_used_and_plan_stays_the_function() -> None:
    code = (
        "import sys, sim; heavy = [m for m in ('numpy', 'scipy', 'pandas') if m in sys.modules]\n"
        "import sim.plan, sim.engine\n"
        "from sim import plan, simulate\n"
        "print(heavy, callable(sim.plan), sim.plan is plan, plan.__module__, 'simulate' in dir(sim))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[] True True sim.plan True"
