"""What differs between scenarios, by key path."""

from __future__ import annotations

import salessim as ss
from salessim.scenario.diff import ABSENT, differences


def test_changed_values_by_key_path(regional: ss.Scenario) -> None:
    other = regional.with_changes({
        "teams.solutions.reps.se.headcount": 5,
        "stages.contract.customer_delay_days": {"dist": "fixed", "value": 2},
        "name": "Faster contracts",
    })
    table = differences({"base": regional, "other": other})
    assert list(table.columns) == ["base", "other"]
    assert table.loc["teams.solutions.reps.se.headcount"].tolist() == [8, 5]
    assert table.loc["name", "other"] == "Faster contracts"
    assert table.loc["stages.contract.customer_delay_days.dist"].tolist() == ["gamma", "fixed"]
    assert table.loc["stages.contract.customer_delay_days.sd", "other"] == ABSENT
    assert "stages.solution.customer_delay_days.dist" not in table.index
    assert len(table) == 6  # name, headcount, and dist/mean/sd/value of the delay


def test_one_scenario_or_identical_ones_have_no_differences(regional: ss.Scenario) -> None:
    assert differences({"a": regional}).empty
    assert differences({"a": regional, "b": regional}).empty
