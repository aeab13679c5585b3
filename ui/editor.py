"""Two-way binding between the Plan page's widgets and the working scenario.

Widgets hold display values (rates in whole percent, volumes as whole numbers). A scenario
field is rewritten only when its widget was moved, so precise values from a file (57.34%)
survive untouched until someone changes them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from sim.models import Scenario, ScenarioError, parse_scenario

DEFAULT_DEAL = {"mean": 30000, "cv": 0.6}
DEFAULT_NEGBIN_CV = 0.25
SYNCED = "plan_synced_rev"


@dataclass(frozen=True)
class Binding:
    key: str
    path: tuple[str | int, ...]
    to_widget: Callable[[Any], Any]
    from_widget: Callable[[Any], Any]
    default: Any = None


def _pct(v: Any) -> int:
    return round(float(v) * 100)


def _from_pct(w: Any) -> float:
    return int(w) / 100


def _whole(v: Any) -> int:
    return round(float(v or 0))


def _same(v: Any) -> Any:
    return v


def rate_key(i: int, j: int) -> str:
    return f"plan_s{i}_rate{j}"


def evidence_key(i: int, j: int) -> str:
    return f"plan_s{i}_evidence{j}"


def bindings(scenario: Scenario) -> list[Binding]:
    out = [
        Binding("plan_name", ("name",), _same, str.strip),
        Binding("plan_quarter", ("quarter",), _same, str.strip),
        Binding("plan_metric", ("metric",), _same, _same),
        Binding("plan_target", ("target",), float, float),
        Binding("plan_marketing_share", ("marketing_share",), _pct, _from_pct),
        Binding("plan_deal_mean", ("deal_size", "mean"), float, float, DEFAULT_DEAL["mean"]),
        Binding("plan_deal_cv", ("deal_size", "cv"), float, float, DEFAULT_DEAL["cv"]),
    ]
    for i, source in enumerate(scenario.sources):
        out += [
            Binding(f"plan_s{i}_volume", ("sources", i, "volume", "mean"), _whole, float),
            Binding(f"plan_s{i}_dist", ("sources", i, "volume", "dist"), _same, _same),
            Binding(
                f"plan_s{i}_cv", ("sources", i, "volume", "cv"), float, float, DEFAULT_NEGBIN_CV
            ),
        ]
        for j in range(len(source.rates)):
            out += [
                Binding(rate_key(i, j), ("sources", i, "rates", j, "mean"), _pct, _from_pct),
                Binding(evidence_key(i, j), ("sources", i, "rates", j, "n"), _whole, float, 0),
            ]
    return out


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data.get(part) if isinstance(data, dict) else data[part]
        if data is None:
            return None
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        if isinstance(data, dict) and part not in data:
            data[part] = {}
        data = data[part]
    data[path[-1]] = value


def sync_widgets(scenario: Scenario, rev: int) -> None:
    """Write the scenario into widget state after a load, or when the widgets were forgotten."""
    reload = st.session_state.get(SYNCED) != rev
    data = scenario.to_dict()
    for b in bindings(scenario):
        if reload or b.key not in st.session_state:
            value = _get(data, b.path)
            st.session_state[b.key] = b.to_widget(b.default if value is None else value)
    st.session_state[SYNCED] = rev


def candidate(scenario: Scenario) -> tuple[Scenario, str | None]:
    """The scenario the widgets describe, or the current one and an error naming the field."""
    data = copy.deepcopy(scenario.to_dict())
    had_deal = "deal_size" in data
    for b in bindings(scenario):
        if b.key not in st.session_state:
            continue
        shown = st.session_state[b.key]
        value = _get(data, b.path)
        if shown != b.to_widget(b.default if value is None else value):
            _set(data, b.path, b.from_widget(shown))
    if not had_deal and data.get("metric") != "bookings":
        data.pop("deal_size", None)
    elif not had_deal:
        data["deal_size"] = {**DEFAULT_DEAL, **data.get("deal_size", {})}
    for source in data["sources"]:
        volume = source["volume"]
        if volume["dist"] == "negbin":
            volume.setdefault("cv", DEFAULT_NEGBIN_CV)
        else:
            volume.pop("cv", None)
        if volume["dist"] == "fixed":
            volume["mean"] = round(volume["mean"])
        for rate in source["rates"]:
            if rate.get("n") in (0, 0.0):
                rate.pop("n")
    try:
        return parse_scenario(data), None
    except ScenarioError as exc:
        return scenario, str(exc)
