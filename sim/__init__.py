"""Pipeline Pact's pure core: scenario models, Monte Carlo engine, planning, CLI."""

from .engine import SimulationResult, simulate
from .models import Scenario, ScenarioError, load_scenario, parse_scenario, scenario_from_json
from .plan import PlanResult, plan

__all__ = [
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
