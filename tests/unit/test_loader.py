"""Loading scenarios: sources, ``extends`` and ``replace``, round trips, ``with_changes``."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

import salessim as ss

ROOT = Path(__file__).resolve().parents[2]
REGIONAL = ROOT / "scenarios" / "regional.yaml"
EXTENDS = ROOT / "tests" / "data" / "extends"


@pytest.fixture(scope="module")
def regional() -> ss.Scenario:
    return ss.load_scenario(REGIONAL)


def message(source: Any) -> ss.ScenarioError:
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(source)
    return info.value


# ---- sources ----------------------------------------------------------------------


def test_path_str_text_bytes_and_dict_give_the_same_scenario(regional: ss.Scenario) -> None:
    text = REGIONAL.read_text(encoding="utf-8")
    assert ss.load_scenario(str(REGIONAL)) == regional
    assert ss.load_scenario(text) == regional
    assert ss.load_scenario(text.encode("utf-8")) == regional
    assert ss.load_scenario(yaml.safe_load(text)) == regional


def test_relative_path_and_byte_order_mark(tmp_path: Path, regional: ss.Scenario) -> None:
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + REGIONAL.read_bytes())
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        assert ss.load_scenario("bom.yaml") == regional
    finally:
        os.chdir(cwd)


def test_loading_does_not_change_the_dict() -> None:
    doc = yaml.safe_load(REGIONAL.read_text(encoding="utf-8"))
    before = copy.deepcopy(doc)
    ss.load_scenario(doc)
    assert doc == before


@pytest.mark.parametrize("name", ["regional.yaml", "product.yaml", "customer.yaml"])
def test_round_trip_through_yaml(name: str) -> None:
    path = ROOT / "scenarios" / name
    if not path.exists():
        pytest.skip(f"{name} not shipped")
    sc = ss.load_scenario(path)
    assert ss.load_scenario(sc.to_yaml()) == sc
    assert ss.load_scenario(sc.to_document()) == sc


def test_round_trip_keeps_odd_names(regional: ss.Scenario) -> None:
    sc = regional.with_changes({"name": "yes: no # 2024-01-01", "description": "1e3"})
    again = ss.load_scenario(sc.to_yaml())
    assert again == sc and again.name == "yes: no # 2024-01-01"


# ---- extends -----------------------------------------------------------------------


def test_extends_merges_mappings_deeply_and_named_lists_by_name(regional: ss.Scenario) -> None:
    child = ss.load_scenario(EXTENDS / "child.yaml")
    assert child.name == "Child"
    # calendar: base set horizon 150, child set warmup 10, the rest from regional
    assert child.calendar.horizon_days == 150
    assert child.calendar.warmup_days == 10
    assert child.calendar.drain_limit_days == regional.calendar.drain_limit_days
    # deal_value.multipliers: base's segment factor replaced, regional's product kept
    assert child.deal_value.multipliers["segment"]["enterprise"] == 3.0
    assert child.deal_value.multipliers["product"]["platform"] == 2.0
    # teams merged by name: north changed in place, a new team appended at the end
    names = [t.name for t in child.teams]
    assert names == [t.name for t in regional.teams] + ["partners"]
    north = child.teams[0]
    assert north.reps["ae"].headcount == 9
    assert north.reps["sdr"].headcount == regional.teams[0].reps["sdr"].headcount
    assert north.regions == ("north",)
    # stages merged by name; inside the stage the conversion mapping is deep-merged
    contract = child.stages[child.stage_index("contract")]
    assert contract.conversion == {"A": 0.99, "B": 0.93, "C": 0.90}
    assert contract.role == "legal"
    assert [s.name for s in child.stages] == [s.name for s in regional.stages]


def test_extends_is_relative_to_the_child_file_not_the_working_directory(
    tmp_path: Path,
) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        grandchild = ss.load_scenario(EXTENDS / "sub" / "grandchild.yaml")
    finally:
        os.chdir(cwd)
    assert grandchild.name == "Grandchild"
    assert grandchild.calendar.horizon_days == 150  # from base.yaml, two levels up
    assert any(t.name == "partners" for t in grandchild.teams)  # from child.yaml


def test_extends_from_text_and_dict_is_relative_to_the_working_directory() -> None:
    cwd = Path.cwd()
    os.chdir(EXTENDS)
    try:
        from_text = ss.load_scenario("extends: child.yaml\nname: From text\n")
        from_dict = ss.load_scenario({"extends": "child.yaml", "name": "From dict"})
    finally:
        os.chdir(cwd)
    assert from_text.name == "From text" and from_dict.name == "From dict"
    assert from_text.calendar.warmup_days == 10


def test_replace_takes_the_childs_value_instead_of_merging(regional: ss.Scenario) -> None:
    sc = ss.load_scenario(EXTENDS / "replace_teams.yaml")
    assert [t.name for t in sc.teams] == ["everyone"]
    assert sc.deal_value.multipliers == {"product": {"platform": 1.5}}
    assert sc.deal_value.distribution == regional.deal_value.distribution


def test_replace_a_named_item_keeps_its_place(tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {REGIONAL}\nreplace: [stages.solution]\nstages:\n"
        "  - name: solution\n    role: se\n"
        "    effort_hours: {dist: fixed, value: 2}\n"
        "    customer_delay_days: {dist: fixed, value: 1}\n"
        "    conversion: {A: 0.5, B: 0.5, C: 0.5}\n"
    )
    sc = ss.load_scenario(child)
    solution = sc.stages[3]
    assert solution.name == "solution"
    assert solution.failure.rework_share == 0  # replaced, so the parent's rework is gone
    assert solution.effort_hours.mean() == 2


def test_replace_naming_a_key_the_file_does_not_give() -> None:
    path = EXTENDS / "replace_unknown.yaml"
    err = message(path)
    assert str(err) == (
        f"{path}: replace[0]: unknown key 'temas' in this file (did you mean 'teams'?); "
        "keys in this file are: teams"
    )


def test_replace_without_extends_and_of_the_wrong_type(tmp_path: Path) -> None:
    assert "only works together with extends" in str(message({"replace": ["teams"]}))
    path = tmp_path / "bad_replace.yaml"
    path.write_text(f"extends: {REGIONAL}\nreplace: {{teams: 1}}\n")
    assert "replace: must be a list of keys" in str(message(path))


def test_extends_cycle() -> None:
    err = message(EXTENDS / "cycle_a.yaml")
    assert err.problems[0].path == "extends"
    assert "cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml" in str(err)
    # The file the user gave is the source; the parent where the cycle closes is named.
    assert err.source == str(EXTENDS / "cycle_a.yaml")
    assert f"in the parent {EXTENDS.resolve() / 'cycle_b.yaml'}: extends:" in str(err)
    err = message(EXTENDS / "self.yaml")
    assert "goes round in a cycle: self.yaml -> self.yaml" in str(err)
    assert err.source == str(EXTENDS / "self.yaml")


def test_extends_missing_parent_names_where_it_looked() -> None:
    path = EXTENDS / "missing_parent.yaml"
    text = str(message(path))
    assert text.startswith(f"{path}: extends: parent scenario 'no_such_parent.yaml' not found")
    assert str(EXTENDS / "no_such_parent.yaml") in text


@pytest.mark.parametrize("value", [3, "", None, ["a.yaml"]])
def test_extends_of_the_wrong_type(value: Any) -> None:
    text = str(message({"extends": value, "name": "x"}))
    assert text.startswith("<dict>: extends: must be the path of the scenario file")


def test_a_broken_parent_is_named_under_the_users_file() -> None:
    err = message(EXTENDS / "bad_parent_child.yaml")
    assert err.source == str(EXTENDS / "bad_parent_child.yaml")
    assert err.problems[0].path == "extends"
    assert f"in the parent {(EXTENDS / '..' / 'bad' / 'not_yaml.yaml').resolve()}" in str(err)
    assert "not valid YAML" in str(err)


def test_extends_of_a_system_file_names_the_users_file(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text("extends: /etc/passwd\n")
    text = str(message(tmp_path / "child.yaml"))
    assert text.startswith(f"{tmp_path / 'child.yaml'}: extends: in the parent /etc/passwd: ")


def test_a_bad_value_from_a_parent_says_which_file_set_it(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text(
        f"extends: {REGIONAL}\n"
        "stages: [{name: contract, conversion: {A: 1.5, B: 0.9, C: 0.8}}]\n")
    (tmp_path / "child.yaml").write_text(
        "extends: parent.yaml\ncalendar: {horizon_days: -1}\n")
    text = str(message(tmp_path / "child.yaml"))
    lines = text.splitlines()
    assert any(line.startswith(f"{tmp_path / 'child.yaml'}: calendar.horizon_days: must be")
               and "set in" not in line for line in lines)
    assert any("stages[5].conversion.A: must be between 0 and 1; got 1.5 (set in "
               f"{(tmp_path / 'parent.yaml').resolve()})" in line for line in lines), text


def test_a_parent_that_is_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text("- a\n- b\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\n")
    err = message(tmp_path / "child.yaml")
    assert err.source == str(tmp_path / "child.yaml")
    assert "in the parent" in str(err) and "parent.yaml" in str(err) and "mapping" in str(err)


def test_too_many_levels(tmp_path: Path) -> None:
    (tmp_path / "s0.yaml").write_text(f"extends: {REGIONAL}\n")
    for i in range(1, 20):
        (tmp_path / f"s{i}.yaml").write_text(f"extends: s{i - 1}.yaml\n")
    assert "more than 16 levels of extends" in str(message(tmp_path / "s19.yaml"))
    assert ss.load_scenario(tmp_path / "s10.yaml").name.startswith("Regional")


# ---- with_changes ------------------------------------------------------------------


def test_with_changes_by_name_and_by_position(regional: ss.Scenario) -> None:
    sc = regional.with_changes({
        "stages.contract.effort_hours": {"dist": "fixed", "value": 2},
        "teams.north.reps.ae.headcount": 5,
        "channels.0.leads_per_day": 3,
    })
    assert sc.stages[-1].effort_hours.mean() == 2
    assert sc.teams[0].reps["ae"].headcount == 5
    assert sc.channels[0].leads_per_day == 3
    assert regional.teams[0].reps["ae"].headcount == 7  # the original is unchanged


def test_with_changes_misspelt_path_says_did_you_mean(regional: ss.Scenario) -> None:
    with pytest.raises(ss.ScenarioError) as info:
        regional.with_changes({"stages.contrct.effort_hours": 1})
    assert str(info.value) == (
        "<with_changes>: stages.contrct.effort_hours: unknown name 'contrct' under stages "
        "(did you mean 'contract'?); names under stages are: qualify, first_contact, "
        "needs_analysis, solution, negotiation, contract"
    )
    with pytest.raises(ss.ScenarioError) as info:
        regional.with_changes({"calender.horizon_days": 100})
    assert "did you mean 'calendar'?" in str(info.value)
    with pytest.raises(ss.ScenarioError) as info:
        regional.with_changes({"calendar.horizon_days.x": 1})
    assert "calendar.horizon_days is a single value" in str(info.value)


def test_with_changes_new_misspelt_leaf_is_an_unknown_key(regional: ss.Scenario) -> None:
    with pytest.raises(ss.ScenarioError) as info:
        regional.with_changes({"calendar.horizon_dys": 100})
    text = str(info.value)
    assert text.startswith("<with_changes>: calendar.horizon_dys: unknown key 'horizon_dys'")
    assert "did you mean 'horizon_days'?" in text


def test_with_changes_bad_value(regional: ss.Scenario) -> None:
    with pytest.raises(ss.ScenarioError) as info:
        regional.with_changes({"stages.contract.conversion.A": 1.5})
    assert str(info.value) == (
        "<with_changes>: stages[5].conversion.A: must be between 0 and 1; got 1.5"
    )
