"""Field changes: diffing, applying, labels (sim/merge.py)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import SEED_FILE

from sim.merge import (
    ABSENT,
    FieldChange,
    MergeError,
    apply_changes,
    changes_between,
    describe,
    field_label,
    get,
    touches,
    value_text,
)
from sim.models import load_scenario, parse_scenario


def test_one_slider_move_is_one_change(seed_dict) -> None:
    after = copy.deepcopy(seed_dict)
    after["sources"][0]["rates"][0]["mean"] = 0.7
    (change,) = changes_between(seed_dict, after)
    assert change == FieldChange(("sources", 0, "rates", 0, "mean"), 0.75, 0.7)
    assert describe(change, after) == "Inbound MQL → SQL rate 75% → 70%"


def test_added_and_removed_keys_are_changes(seed_dict) -> None:
    after = copy.deepcopy(seed_dict)
    del after["sources"][0]["rates"][2]["n"]
    after["sources"][1]["volume"] = {"mean": 123, "dist": "negbin", "cv": 0.25}
    changes = changes_between(seed_dict, after)
    assert FieldChange(("sources", 0, "rates", 2, "n"), 80, ABSENT) in changes
    assert FieldChange(("sources", 1, "volume", "cv"), ABSENT, 0.25) in changes
    assert apply_changes(seed_dict, changes) == after
    assert parse_scenario(apply_changes(seed_dict, changes)).sources[1].volume.cv == 0.25


def test_a_list_of_other_length_is_one_field(seed_dict) -> None:
    after = copy.deepcopy(seed_dict)
    after["sources"] = after["sources"][:1]
    (change,) = changes_between(seed_dict, after)
    assert change.path == ("sources",)
    assert apply_changes(seed_dict, [change]) == after


def test_equal_numbers_of_another_type_are_no_change(seed_dict) -> None:
    after = copy.deepcopy(seed_dict)
    after["target"] = float(after["target"])
    assert changes_between(seed_dict, after) == []


def test_a_change_to_a_field_that_no_longer_exists_is_named(seed_dict) -> None:
    gone = FieldChange(("sources", 5, "rates", 0, "mean"), 0.5, 0.6)
    with pytest.raises(MergeError, match=r"sources\[5\]\.rates\[0\]\.mean: no longer"):
        apply_changes(seed_dict, [gone])


def test_touching_fields() -> None:
    assert touches(("sources", 0, "rates"), ("sources", 0, "rates", 1, "mean"))
    assert touches(("target",), ("target",))
    assert not touches(("sources", 0, "rates", 0, "mean"), ("sources", 0, "rates", 1, "mean"))


def test_labels_speak_the_leaders_language(seed_dict) -> None:
    assert field_label(("marketing_share",), seed_dict) == "Marketing's share"
    assert field_label(("sources", 1, "volume", "mean"), seed_dict) == "Outbound SQLs per quarter"
    assert field_label(("sources", 0, "rates", 2, "n"), seed_dict) == (
        "Inbound Opportunity → Won evidence"
    )
    assert value_text(("marketing_share",), 0.455) == "45.5%"
    assert value_text(("sources", 0, "volume", "dist"), "poisson") == "random around it"
    assert value_text(("target",), 55) == "55"


# ---- any interleaving of two leaders' moves on different fields keeps both -------------------
FIELDS_A = [("sources", 0, "rates", 0, "mean"), ("sources", 0, "volume", "mean")]
FIELDS_B = [("sources", 1, "rates", 1, "mean"), ("marketing_share",), ("target",)]
VALUES = st.floats(0.05, 0.95).map(lambda v: round(v, 2))


def moves(fields):
    return st.lists(st.tuples(st.sampled_from(fields), VALUES), min_size=1, max_size=6)


@given(moves(FIELDS_A), moves(FIELDS_B), st.randoms(use_true_random=False))
def test_interleaved_moves_on_different_fields_all_land(a, b, rnd) -> None:
    """Each leader's screen is stale (it shows only its own moves); the store applies each move
    on top of the latest data. In the end every field holds its author's last value."""
    seed_dict = load_scenario(SEED_FILE).to_dict()
    order = ["a"] * len(a) + ["b"] * len(b)
    rnd.shuffle(order)
    latest = copy.deepcopy(seed_dict)
    screens = {"a": copy.deepcopy(seed_dict), "b": copy.deepcopy(seed_dict)}
    queues = {"a": list(a), "b": list(b)}
    for who in order:
        path, value = queues[who].pop(0)
        moved = apply_changes(screens[who], [FieldChange(path, get(screens[who], path), value)])
        latest = apply_changes(latest, changes_between(screens[who], moved))
        screens[who] = moved
    for path, value in dict(a).items() | dict(b).items():
        assert get(latest, path) == value
    untouched = {("sources", 1, "volume", "mean"), ("sources", 0, "rates", 2, "n")}
    for path in untouched:
        assert get(latest, path) == get(seed_dict, path)


def test_sla_terms_are_named_as_the_sla_page_names_them() -> None:
    attempts = ("sla", "follow_up", "min_attempts")
    assert field_label(attempts, {}) == "Attempts per MQL"
    assert field_label(("sla", "sql", "timing"), {}) == "SQL needs timing"
    assert value_text(("sla", "sql", "timing"), False) == "no"
    assert value_text(("sla", "mql", "regions"), ["Canada", "Mexico"]) == "Canada, Mexico"
    change = FieldChange(attempts, 6, 9)
    assert describe(change, {}) == "Attempts per MQL 6 → 9"
