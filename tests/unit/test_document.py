"""Scenario documents before validation: safe parsing, merging, dotted-path changes."""

from __future__ import annotations

from typing import Any

import pytest

from salessim.scenario.document import apply_changes, dump_yaml, merge, parse_yaml
from salessim.scenario.errors import Problem, ScenarioError, format_path, join_path


def test_parse_plain_data() -> None:
    assert parse_yaml("a: 1\nb: [x, 2.5, true, null]\n") == {"a": 1, "b": ["x", 2.5, True, None]}
    assert parse_yaml("") is None


def test_yaml_anchors_and_merge_keys_are_plain_data() -> None:
    doc = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert doc["other"] == {"x": 1, "y": 3}


def test_duplicate_keys_refused_even_when_nested() -> None:
    with pytest.raises(ValueError, match=r"line 4, column 3: duplicate key 'x' \(first given "
                                         r"on line 2\)"):
        parse_yaml("a:\n  x: 1\n  y: 2\n  x: 3\n")


@pytest.mark.parametrize(
    "text", ["!!python/object/apply:os.system ['x']", "a: !!python/tuple [1, 2]", "a: !foo 1"]
)
def test_object_tags_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not allowed; scenarios are plain data"):
        parse_yaml(text)


def test_safe_standard_tags_are_fine() -> None:
    assert parse_yaml("a: !!str 12\nb: !!float 3\n") == {"a": "12", "b": 3.0}


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(ValueError, match=r"^line 2, column \d+: not valid YAML"):
        parse_yaml("a: 1\n b: 2\n")


def test_dump_keeps_key_order_and_reparses() -> None:
    doc = {"z": 1, "a": {"y": [1, 2], "b": "no"}}
    text = dump_yaml(doc)
    assert text.index("z:") < text.index("a:")
    assert parse_yaml(text) == doc


# ---- merge -------------------------------------------------------------------------


def test_merge_mappings_deeply() -> None:
    parent = {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": 1}
    child = {"a": {"y": {"q": 3}, "z": 4}, "c": 5}
    assert merge(parent, child) == {"a": {"x": 1, "y": {"p": 1, "q": 3}, "z": 4}, "b": 1, "c": 5}
    assert parent == {"a": {"x": 1, "y": {"p": 1, "q": 2}}, "b": 1}  # unchanged


def test_merge_named_lists_by_name() -> None:
    parent = [{"name": "a", "v": 1, "w": 1}, {"name": "b", "v": 2}]
    child = [{"name": "c", "v": 3}, {"name": "a", "v": 9}]
    assert merge(parent, child) == [
        {"name": "a", "v": 9, "w": 1}, {"name": "b", "v": 2}, {"name": "c", "v": 3}
    ]


@pytest.mark.parametrize(
    ("parent", "child"),
    [
        ([1, 2, 3], [4]),  # plain lists are replaced
        ([{"name": "a"}], [{"v": 1}]),  # a child item without a name: replaced
        ([{"name": ["x"]}], [{"name": ["x"]}]),  # names that are not text: replaced
        ({"a": 1}, 5),  # different kinds: replaced
        (5, {"a": 1}),
    ],
)
def test_merge_replaces_what_it_cannot_merge(parent: Any, child: Any) -> None:
    assert merge(parent, child) == child


def test_merge_copies_the_child() -> None:
    child = {"a": {"b": [1]}}
    merged = merge({}, child)
    merged["a"]["b"].append(2)
    assert child == {"a": {"b": [1]}}


# ---- apply_changes -------------------------------------------------------------------

DOC = {"calendar": {"horizon_days": 250}, "stages": [{"name": "qualify", "x": 1},
                                                     {"name": "contract", "x": 2}]}


def test_apply_changes_by_key_name_and_position() -> None:
    out = apply_changes(DOC, {"calendar.horizon_days": 10, "stages.contract.x": 5,
                              "stages.0.x": 7, "calendar.new": 1})
    assert out["calendar"] == {"horizon_days": 10, "new": 1}
    assert [s["x"] for s in out["stages"]] == [7, 5]
    assert DOC["calendar"] == {"horizon_days": 250}


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("calender.horizon_days", "unknown key 'calender' at the top of the scenario "
                                  "(did you mean 'calendar'?)"),
        ("stages.contrct.x", "unknown name 'contrct' under stages (did you mean 'contract'?)"),
        ("stages.7.x", "unknown name '7' under stages"),
        ("calendar.horizon_days.x", "calendar.horizon_days is a single value"),
    ],
)
def test_apply_changes_bad_paths(path: str, words: str) -> None:
    with pytest.raises(KeyError) as info:
        apply_changes(DOC, {path: 1})
    problem = info.value.args[0]
    assert isinstance(problem, Problem)
    assert problem.path == path and words in problem.message


# ---- errors ---------------------------------------------------------------------------


def test_paths() -> None:
    assert format_path(["stages", 3, "conversion", "A"]) == "stages[3].conversion.A"
    assert join_path("stages", "[1].name") == "stages[1].name"
    assert join_path("", "a") == "a" and join_path("a", "") == "a"


def test_messages_are_one_line_and_printable() -> None:
    err = ScenarioError("f.yaml", [Problem("a\nb", "x\u0085y\nz\x00")])
    assert str(err) == "f.yaml: a b: x\\x85y z\\x00"
    assert str(ScenarioError("f.yaml", [])) == "f.yaml: the scenario is not valid"
