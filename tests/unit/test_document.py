"""Scenario documents before validation: safe parsing, merging, dotted-path changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

import salessim as ss
from salessim.scenario.document import apply_changes, merge
from salessim.scenario.errors import Problem, ScenarioError, format_path, join_path
from salessim.scenario.yaml12 import dump_yaml, parse_yaml


def test_parse_plain_data() -> None:
    assert parse_yaml("a: 1\nb: [x, 2.5, true, null]\n") == {"a": 1, "b": ["x", 2.5, True, None]}
    assert parse_yaml("") is None


def test_yaml_anchors_are_plain_data_and_merge_keys_are_refused() -> None:
    doc = parse_yaml("base: &b {x: 1, y: 2}\nother: *b\n")
    assert doc["other"] == {"x": 1, "y": 2}
    with pytest.raises(ValueError, match=r"line 3, column 3: the merge key << is not part of "
                                         r"YAML 1.2"):
        parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert parse_yaml("'<<': 1\n") == {"<<": 1}  # quoted, it is just text


def test_duplicate_keys_refused_even_when_nested() -> None:
    with pytest.raises(ValueError, match=r"line 4, column 3: duplicate key 'x' \(first given "
                                         r"on line 2\)"):
        parse_yaml("a:\n  x: 1\n  y: 2\n  x: 3\n")


@pytest.mark.parametrize(
    "text", ["!!python/object/apply:os.system ['x']", "a: !!python/tuple [1, 2]", "a: !foo 1"]
)
def test_object_tags_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not allowed; files are plain data"):
        parse_yaml(text)


def test_safe_standard_tags_are_fine() -> None:
    assert parse_yaml("a: !!str 12\nb: !!float 3\nc: !!int '010'\n") == {
        "a": "12", "b": 3.0, "c": 10}


@pytest.mark.parametrize(
    ("text", "value"),
    [("010", 10), ("0o10", 8), ("0x1F", 31), ("-7", -7), ("1e9", 1e9), ("1.5E-3", 1.5e-3),
     (".5", 0.5), ("-.inf", float("-inf")), ("5:10", "5:10"), ("1_000", "1_000"),
     ("yes", "yes"), ("no", "no"), ("on", "on"), ("True", True), ("FALSE", False),
     ("~", None), ("Null", None), ("2024-12-31", "2024-12-31"), ("0b101", "0b101"),
     ("+12", 12), ("1.", 1.0)],
)
def test_plain_scalars_read_by_yaml_1_2(text: str, value: Any) -> None:
    assert parse_yaml(f"a: {text}\n") == {"a": value}


@pytest.mark.parametrize(
    ("text", "words"),
    [("a: !!binary aGVsbG8=\n", "!!binary is not allowed"),
     ("a: !!set {x, y}\n", "!!set is not allowed"),
     ("a: !!timestamp 2024-01-01\n", "!!timestamp is not allowed"),
     ("a: !!omap [b: 1]\n", "!!omap is not allowed"),
     ("a: !!int abc\n", "!!int 'abc' is not a whole number"),
     ("a: !!bool yes\n", "!!bool 'yes' is not true or false"),
     ("a: !!float x\n", "!!float 'x' is not a number"),
     ("a: !!int [1]\n", "!!int needs a single value"),
     ("a: !!null x\n", "!!null 'x' is not null"),
     ("a: &x [1, *x]\n", "the alias *x refers to a value that contains it")],
)
def test_tags_other_than_plain_data_and_self_references_are_refused(text: str,
                                                                    words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_yaml(text)


def test_dump_quotes_text_that_reads_as_something_else() -> None:
    doc = {"a": ["yes", "no", "010", "1e9", "0x1F", "true", "5:10", "~", "null", "1.5"]}
    text = dump_yaml(doc)
    assert parse_yaml(text) == doc
    assert yaml.safe_load(text) == doc  # a YAML 1.1 reader reads it the same


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


def test_a_scenario_shows_its_name_and_size_not_every_value() -> None:
    sc = ss.load_scenario("scenarios/regional.yaml")
    text = repr(sc)
    assert len(text) < 300 and sc.name in text and "37 reps" in text
    assert "qualify -> first_contact" in text and "Channel(" not in text
