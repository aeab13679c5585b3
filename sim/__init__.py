"""Pipeline Pact's pure core: scenario models, Monte Carlo engine, planning, CLI.

The public names are imported when first used (PEP 562), so `import sim` and
`python -m sim validate` do not load the numeric stack (scipy, pandas, plotly).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
_HOME = {
    "PlanResult": "plan",
    "Scenario": "models",
    "ScenarioError": "models",
    "SimulationResult": "engine",
    "load_scenario": "models",
    "parse_scenario": "models",
    "plan": "plan",
    "scenario_from_json": "models",
    "simulate": "engine",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps `sim.plan` the function, as it was when this module imported everything.

    Importing the submodule `sim.plan` sets the package's attribute `plan` to that module;
    this property ignores that assignment and always answers with the function.
    """

    @property
    def plan(self) -> Any:
        return importlib.import_module(f"{__name__}.plan").plan

    @plan.setter
    def plan(self, value: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Package
