"""Schema v1: exactly the documented format, every bad value named by its field path."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import SEED_FILE

from sim import ScenarioError, parse_scenario, scenario_from_json
from sim.models import MAX_FILE_BYTES, load_scenario, scenario_json_schema


def test_seed_file_is_the_design_example() -> None:
    s = load_scenario(SEED_FILE)
    assert (s.name, s.quarter, s.metric, s.target, s.marketing_share) == (
        "Seed plan",
        "2027-Q1",
        "customers",
        55,
        0.5,
    )
    inbound = s.sources[0]
    assert inbound.expected_counts() == pytest.approx([164, 123, 61.5, 27.675])
    assert inbound.rates[2].n == 80
    assert s.sources[1].volume.dist == "fixed"


def test_round_trip_keeps_the_file_as_written(seed_dict: dict[str, Any]) -> None:
    original = json.loads(SEED_FILE.read_text())
    assert seed_dict == original
    again = scenario_from_json(load_scenario(SEED_FILE).to_json())
    assert again == load_scenario(SEED_FILE)


def _mutated(seed_dict: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(seed_dict)
    node = data
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DELETE = object()

BAD = [
    (["sources", 1, "rates", 0, "mean"], 1.4, "sources[1].rates[0].mean: must be at most 1"),
    (["sources", 0, "rates", 2, "mean"], -0.1, "sources[0].rates[2].mean: must be at least 0"),
    (["sources", 0, "volume", "mean"], -5, "sources[0].volume.mean: must be at least 0"),
    (["sources", 0, "volume", "mean"], 5e7, "sources[0].volume.mean: must be at most"),
    (["sources", 1, "volume", "mean"], 12.5, "sources[1].volume.mean: a fixed volume must be"),
    (["sources", 0, "volume", "dist"], "negbin", "sources[0].volume.cv: required when dist"),
    (["sources", 0, "volume", "cv"], 0.3, "sources[0].volume.cv: only used when dist is negbin"),
    (["sources", 0, "rates", 2, "n"], 0, "sources[0].rates[2].n: must be greater than 0"),
    (["sources", 0, "rates", 0, "n"], 50, None),  # valid: evidence on a rate
    (["sources", 0, "owner"], "finance", "sources[0].owner:"),
    (["sources", 0, "stages"], ["MQL", "SQL"], "sources[0].rates: 2 stages need 1 rates"),
    (["sources", 0, "stages"], ["MQL", "MQL", "Opp", "Won"], "sources[0].stages: stage names"),
    (["sources", 1, "name"], "Inbound", "sources[1].name: duplicate source name"),
    (["sources"], [], "sources: "),
    (["metric"], "revenue", "metric:"),
    (["target"], 0, "target: must be greater than 0"),
    (["marketing_share"], 1.2, "marketing_share: must be at most 1"),
    (["quarter"], "2027-Q5", "quarter: must be a year and a quarter like 2027-Q1 (Q1 to Q4)"),
    (["schema_version"], 2, "schema_version:"),
    (["name"], "", "name:"),
    (["deal_size", "cv"], -1, "deal_size.cv: must be at least 0"),
    (["sources", 0, "volume", "extra"], 1, "sources[0].volume.extra: unknown key"),
    (["sources", 1, "rates", 1, "confidence"], 1, "sources[1].rates[1].confidence: unknown key"),
    (["colour"], "blue", "colour: unknown key"),
    (["target"], _DELETE, "target: required field is missing"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD)
def test_bad_values_name_their_field(
    seed_dict: dict[str, Any], path: list[Any], value: Any, message: str | None
) -> None:
    data = _mutated(seed_dict, path, value)
    if message is None:
        parse_scenario(data)
        return
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_bookings_need_a_deal_size(seed_dict: dict[str, Any]) -> None:
    data = _mutated(seed_dict, ["metric"], "bookings")
    del data["deal_size"]
    with pytest.raises(ScenarioError, match="^deal_size: required when metric is bookings"):
        parse_scenario(data)


def test_uncertain_rate_needs_an_interior_mean(seed_dict: dict[str, Any]) -> None:
    data = _mutated(seed_dict, ["sources", 0, "rates", 2, "mean"], 1.0)
    with pytest.raises(ScenarioError, match=r"^sources\[0\]\.rates\[2\]\.mean: an uncertain rate"):
        parse_scenario(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"{not json", "file: invalid JSON at line 1"),
        (b"[1, 2]", "scenario: the file must hold one JSON object"),
        (b"\xff\xfe\x00", "file: "),
        (b" " * (MAX_FILE_BYTES + 1), "file: larger than"),
    ],
)
def test_unreadable_files(text: bytes, message: str) -> None:
    with pytest.raises(ScenarioError, match=f"^{message}"):
        scenario_from_json(text)


def test_missing_file_names_it(tmp_path: Any) -> None:
    with pytest.raises(ScenarioError, match="^file: cannot read"):
        load_scenario(tmp_path / "nope.json")


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(junk=json_values)
def test_junk_never_crashes(junk: Any) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(junk)
    assert str(err.value).split(":")[0]  # names a field or 'scenario'


@given(
    path_value=st.sampled_from([(p, v) for p, v, m in BAD if m is not None]),
    junk=json_values,
)
def test_junk_in_any_field_is_named(path_value: tuple[list[Any], Any], junk: Any) -> None:
    path, _ = path_value
    data = _mutated(json.loads(SEED_FILE.read_text()), path, junk)
    try:
        parse_scenario(data)
    except ScenarioError as exc:
        field = str(exc).split(": ")[0]
        assert field
        assert " " not in field or field.startswith("scenario")


rate = st.builds(
    lambda m, n: {"mean": m} if n is None else {"mean": m, "n": n},
    st.floats(0.01, 0.99),
    st.none() | st.floats(1, 1000),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    sources = []
    for i in range(draw(st.integers(1, 3))):
        k = draw(st.integers(2, 5))
        dist = draw(st.sampled_from(["fixed", "poisson", "negbin"]))
        volume: dict[str, Any] = {"mean": draw(st.integers(0, 5000)), "dist": dist}
        if dist != "fixed":
            volume["mean"] = draw(st.floats(0, 5000))
        if dist == "negbin":
            volume["cv"] = draw(st.floats(0.01, 2))
        sources.append(
            {
                "name": f"Source {i} <b>&</b>",
                "owner": draw(st.sampled_from(["marketing", "sales"])),
                "stages": [f"Stage {j}" for j in range(k)],
                "volume": volume,
                "rates": [draw(rate) for _ in range(k - 1)],
            }
        )
    return {
        "schema_version": 1,
        "name": draw(st.text(min_size=1, max_size=80).filter(str.strip)),
        "quarter": f"{draw(st.integers(2000, 2099))}-Q{draw(st.integers(1, 4))}",
        "metric": "bookings",
        "target": draw(st.floats(1, 1e9)),
        "marketing_share": draw(st.floats(0, 1)),
        "deal_size": {"mean": draw(st.floats(1, 1e6)), "cv": draw(st.floats(0, 3))},
        "sources": sources,
    }


@given(data=scenarios())
def test_any_valid_scenario_round_trips_through_json(data: dict[str, Any]) -> None:
    s = parse_scenario(data)
    assert scenario_from_json(s.to_json()) == s
    jsonschema.validate(json.loads(s.to_json()), scenario_json_schema())


def test_json_schema_accepts_the_seed_and_rejects_unknown_keys(seed_dict: dict[str, Any]) -> None:
    schema = scenario_json_schema()
    jsonschema.validate(seed_dict, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**seed_dict, "surprise": 1}, schema)


def test_rate_interval_is_the_beta_central_interval(seed_dict: dict[str, Any]) -> None:
    from scipy import stats

    r = parse_scenario(seed_dict).sources[0].rates[2]
    lo, hi = r.interval(0.8)
    assert (lo, hi) == pytest.approx(tuple(stats.beta(36, 44).ppf([0.1, 0.9])))
    known = parse_scenario(seed_dict).sources[0].rates[0]
    assert known.interval() == (0.75, 0.75)
