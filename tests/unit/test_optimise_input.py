"""Bad input to the optimiser: one clear message before any trial runs.

Every case checks that nothing was simulated (``replicate`` is replaced by a function
that fails the test) and that the message names where the input was given, the key
path and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import salessim as ss
from salessim.kpis import Condition
from salessim.optimise import evaluate, optimise
from salessim.optimise.levers import Lever, parse_levers
from salessim.optimise.spec import salary_per_year, violation

from ..conftest import ROOT

REGIONAL = ROOT / "scenarios" / "regional.yaml"
LEVERS = {"teams.north.ae.headcount": range(6, 10), "teams.solutions.se.headcount": range(7, 10)}


@pytest.fixture(scope="module")
def sc() -> ss.Scenario:
    return ss.load_scenario(REGIONAL)


@pytest.fixture(autouse=True)
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a replication ran before the input was checked")

    monkeypatch.setattr(evaluate, "replicate", refuse)


def refused(sc: ss.Scenario, **kwargs: Any) -> str:
    arguments: dict[str, Any] = {"levers": LEVERS, "objective": "profit", "seed": 1,
                                 "trials": 4, "executor": "serial", **kwargs}
    levers = arguments.pop("levers")
    with pytest.raises(ss.ScenarioError) as info:
        optimise(sc, levers, **arguments)
    return str(info.value)


@pytest.mark.parametrize(("path", "words"), [
    ("teams.north.ae.headcountt", "did you mean 'headcount'"),
    ("teams.nort.ae.headcount", "did you mean 'north'"),
    ("nothing.here", "unknown key 'nothing'"),
])
def test_a_lever_path_that_names_no_value(sc: ss.Scenario, path: str, words: str) -> None:
    message = refused(sc, levers={path: range(1, 3)})
    assert message.startswith(f"<levers>: {path}: names no scenario value")
    assert words in message


@pytest.mark.parametrize(("values", "words"), [
    (range(5, 5), "has no values"),
    ([], "has no values"),
    ({"low": 9, "high": 5}, "high must be at least low"),
    ({"low": 2.5, "high": 2.5}, "holds one value"),
    ({"low": 1}, "needs low and high"),
    ({"low": 1, "high": 3, "stepp": 1}, "unknown key 'stepp'"),
    ("7", "give the values a lever takes"),
])
def test_a_range_with_no_values_or_of_the_wrong_shape(sc: ss.Scenario, values: Any,
                                                      words: str) -> None:
    message = refused(sc, levers={"teams.north.ae.headcount": values})
    assert message.startswith("<levers>: teams.north.ae.headcount: ")
    assert words in message


def test_a_value_the_scenario_does_not_allow(sc: ss.Scenario) -> None:
    message = refused(sc, levers={"teams.north.ae.headcount": {"low": -1, "high": 3},
                                  "roles.ae.assignment": ["owner", "pooledd"]})
    assert ("teams.north.ae.headcount: the value -1 is not allowed: must be between 0 and "
            "10,000; got -1") in message
    assert "roles.ae.assignment: the value 'pooledd' is not allowed" in message
    assert "did you mean 'pooled'" in message


def test_a_levers_file_is_named_with_the_key_path(sc: ss.Scenario, tmp_path: Path) -> None:
    path = tmp_path / "levers.yaml"
    path.write_text("levers:\n  teams.north.ae.headcount: {low: 6, high: 9}\n"
                    "  teams.north.ae.headcountt: [1, 2]\n", encoding="utf-8")
    message = refused(sc, levers=str(path))
    assert message.startswith(f"{path}: levers.teams.north.ae.headcountt: names no scenario")
    path.write_text("teams.north.ae.headcount: [6, 7]\n", encoding="utf-8")
    assert "a levers file is a mapping with the one key levers" in refused(sc, levers=path)


@pytest.mark.parametrize(("constraint", "words"), [
    ("cycle_time_p99_days <= 60", "unknown KPI 'cycle_time_p99_days' (did you mean"),
    ("cycle_time_p90_days =< 60", "cannot read the condition"),
    ("profit > 1e6; import os", "cannot read the condition"),
])
def test_a_bad_constraint(sc: ss.Scenario, constraint: str, words: str) -> None:
    message = refused(sc, constraints=["cost <= 5000000", constraint])
    assert message.startswith("<constraints>: [1]: ")
    assert words in message


@pytest.mark.parametrize(("objective", "words"), [
    ("proft", "unknown KPI 'proft' (did you mean 'profit'?)"),
    ("utilisation_ae", "has no better direction"),
    (["profit", "profit"], "given twice"),
])
def test_a_bad_objective(sc: ss.Scenario, objective: Any, words: str) -> None:
    message = refused(sc, objective=objective)
    assert message.startswith("<objective>: ")
    assert words in message


def test_a_budget_no_setting_meets_says_the_cheapest_cost(sc: ss.Scenario) -> None:
    cheapest = salary_per_year(sc.with_changes({"teams.north.ae.headcount": 6,
                                                 "teams.solutions.se.headcount": 7}))
    assert cheapest == salary_per_year(sc) - 250 * (480 + 520)
    message = refused(sc, budget={"salary_per_year": cheapest - 1})
    assert message.startswith("<budget>: salary_per_year: no setting of the levers meets")
    assert f"comes to {cheapest:,.0f}" in message
    assert "teams.north.ae.headcount = 6, teams.solutions.se.headcount = 7" in message
    assert "comes to 35;" in refused(sc, budget={"headcount": 30})


@pytest.mark.parametrize(("budget", "words"), [
    ({"salaries": 1e6}, "unknown budget 'salaries'"),
    ({"headcount": -3}, "must be a number above 0"),
])
def test_a_bad_budget(sc: ss.Scenario, budget: dict[str, Any], words: str) -> None:
    assert words in refused(sc, budget=budget)


def test_problems_of_several_inputs_come_together(sc: ss.Scenario) -> None:
    message = refused(sc, levers={"teams.north.ae.headcount": []}, objective="proft",
                      constraints="nonsense")
    assert len(message.splitlines()) == 3
    assert "<objective>" in message and "<constraints>" in message


@pytest.mark.parametrize(("option", "value"), [("trials", 0), ("batch", 0),
                                                ("first_stage", 1), ("confidence", 1.0),
                                                ("indifference", 0.0), ("replications", 0)])
def test_bad_counts_and_levels(sc: ss.Scenario, option: str, value: Any) -> None:
    with pytest.raises(ValueError, match=option):
        optimise(sc, LEVERS, objective="profit", seed=1, **{option: value})


def test_a_study_file_in_a_missing_folder(sc: ss.Scenario, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        optimise(sc, LEVERS, objective="profit", seed=1, storage=tmp_path / "no" / "s.db")


def test_what_ranges_mean(sc: ss.Scenario) -> None:
    levers = parse_levers({"teams.north.ae.headcount": {"low": 4, "high": 11, "step": 3},
                           "stages.contract.effort_hours.value": {"low": 1.0, "high": 4},
                           "handoff.info_loss_prob": {"low": 0.01, "high": 0.3, "log": True},
                           "roles.ae.assignment": ["owner", "pooled"],
                           "teams.south.ae.headcount": range(9, 3, -2)}, sc)
    step, effort, loss, choice, down = levers
    assert step == Lever("teams.north.ae.headcount", "int", 4, 10, 3)
    assert step.values() == [4, 7, 10] and step.neighbours(7) == [4, 10]
    assert effort.kind == "float" and effort.neighbours(1.0) == [pytest.approx(1.3)]
    assert loss.log and loss.describe() == "any number from 0.01 to 0.3 (log scale)"
    assert choice.describe() == "one of owner, pooled"
    assert choice.neighbours("owner") == ["pooled"] and choice.from_search(1) == "pooled"
    assert down.values() == [5, 7, 9]


def test_how_far_a_mean_is_from_a_constraint() -> None:
    known = ["cycle_time_p90_days", "profit"]
    at_most = Condition.parse("cycle_time_p90_days <= 60", known)
    assert violation(at_most, 66.0) == pytest.approx(0.1)
    assert violation(at_most, 54.0) == pytest.approx(-0.1)
    assert violation(Condition.parse("profit > 1000", known), 1000.0) > 0
    assert violation(at_most, float("nan")) > 0
