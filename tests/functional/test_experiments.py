"""Comparisons and sweeps as users make them: pairing, tables, best, frontier, bad input."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salessim as ss
import salessim.runner
from salessim.compare import TABLE_COLUMNS
from salessim.stats import unpaired_difference

from ..conftest import short


@pytest.fixture(scope="module")
def base(regional: ss.Scenario) -> ss.Scenario:
    return short(regional, 40.0)


@pytest.fixture(scope="module")
def cmp(base: ss.Scenario) -> ss.Comparison:
    return ss.compare({"baseline": base,
                       "one more SE": base.with_changes({"teams.solutions.se.headcount": 9}),
                       "pre-review": base.with_changes({
                           "stages.contract.customer_delay_days":
                               {"dist": "gamma", "mean": 2.0, "sd": 1.0}})},
                      replications=8, seed=21)


@pytest.mark.slow
def test_every_scenario_runs_with_the_same_seed_and_replications(cmp: ss.Comparison) -> None:
    assert list(cmp.results) == ["baseline", "one more SE", "pre-review"]
    for res in cmp.results.values():
        assert res.seed == cmp.seed == 21 and res.replications == 8
    # Same seed, same arrivals: every scenario sees exactly the same leads.
    leads = [res.kpis["leads"].to_numpy() for res in cmp.results.values()]
    assert all(np.array_equal(leads[0], x) for x in leads[1:])


@pytest.mark.slow
def test_table_differences_are_paired_over_replications(cmp: ss.Comparison) -> None:
    table = cmp.table()
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert list(table.index.names) == ["kpi", "scenario"]
    base, other = cmp.results["baseline"].kpis, cmp.results["pre-review"].kpis
    row = table.loc[("cycle_time_mean_days", "pre-review")]
    d = other["cycle_time_mean_days"] - base["cycle_time_mean_days"]
    assert row["diff"] == pytest.approx(d.mean())
    assert row["diff_ci_low"] < d.mean() < row["diff_ci_high"]
    assert row["p_adjusted"] >= row["p_value"]
    assert table.loc[("leads", "pre-review"), "p_value"] == 1.0
    assert table.loc[("profit", "baseline"), "diff"] == 0.0
    assert np.isnan(table.loc[("profit", "baseline"), "p_value"])
    # Signing in about 2 days instead of 7 must shorten the cycle by several days.
    assert row["diff_ci_high"] < -2.0


@pytest.mark.slow
def test_intervals_are_simultaneous_with_several_scenarios(cmp: ss.Comparison) -> None:
    """With two scenarios against one baseline, each interval is at 97.5 %, so it is
    wider than the plain 95 % paired interval of the same differences."""
    kpi = "cycle_time_mean_days"
    table = cmp.table([kpi])
    d = cmp.results["pre-review"].kpis[kpi] - cmp.results["baseline"].kpis[kpi]
    plain = ss.compare({"a": cmp.results["baseline"].scenario,
                        "b": cmp.results["pre-review"].scenario},
                       replications=8, seed=21).table([kpi]).loc[(kpi, "b")]
    wide = table.loc[(kpi, "pre-review")]
    assert plain["diff"] == pytest.approx(d.mean())
    assert (wide["diff_ci_high"] - wide["diff_ci_low"]) > (plain["diff_ci_high"]
                                                           - plain["diff_ci_low"])


def test_pairing_pays_on_a_small_change(cmp: ss.Comparison) -> None:
    """Common random numbers: the paired interval of a small change is much narrower
    than the interval the same runs would give without pairing."""
    table = cmp.table()
    for kpi in ("profit", "cycle_time_mean_days", "conversion_rate"):
        row = table.loc[(kpi, "one more SE")]
        paired = (row["diff_ci_high"] - row["diff_ci_low"]) / 2
        welch = unpaired_difference(cmp.results["one more SE"].kpis[kpi],
                                    cmp.results["baseline"].kpis[kpi])
        assert paired < welch.half_width / 3, kpi


def test_best_follows_the_kpi_direction_and_constraints(cmp: ss.Comparison) -> None:
    means = cmp.table()["mean"]
    names = list(cmp.results)
    assert cmp.best("cycle_time_mean_days") == min(
        names, key=lambda n: means["cycle_time_mean_days", n])
    assert cmp.best("profit") == max(names, key=lambda n: means["profit", n])
    cheapest = min(names, key=lambda n: means["cost", n])
    bound = f"cost <= {means['cost', cheapest] + 1:.0f}"
    assert cmp.best("profit", constraint=bound) == cheapest
    with pytest.raises(ValueError, match="no scenario meets cycle_time_p90_days <= 1"):
        cmp.best("profit", constraint=["cycle_time_p90_days <= 1"])
    with pytest.raises(ValueError, match="no better direction"):
        cmp.best("utilisation_se")
    with pytest.raises(ValueError, match="did you mean 'profit'"):
        cmp.table(["proft"])


def test_compare_takes_files_and_refuses_bad_input(base: ss.Scenario, tmp_path: Path) -> None:
    path = tmp_path / "base.yaml"
    path.write_text(base.to_yaml(), encoding="utf-8")
    two = ss.compare([path, base], replications=2, seed=3, executor="serial")
    assert len(two.results) == 2  # repeated names are told apart
    assert two.table(["won"])["diff"].abs().max() == 0.0  # the same scenario twice
    with pytest.raises(ValueError, match="at least two"):
        ss.compare([base], replications=2, seed=1)
    with pytest.raises(ValueError, match="baseline 'nope'"):
        ss.compare({"a": base, "b": base}, replications=2, seed=1, baseline="nope")
    with pytest.raises(ss.ScenarioError):
        ss.compare({"a": base, "b": tmp_path / "missing.yaml"}, replications=2, seed=1)


# ---- sweeps ---------------------------------------------------------------------------

GRID = {"teams.north.ae.headcount": [4, 7], "stages.contract.effort_hours.value": [2, 3]}


@pytest.fixture(scope="module")
def sweep(base: ss.Scenario) -> ss.Sweep:
    return ss.sweep(base, grid=GRID, replications=3, seed=5)


def test_sweep_runs_every_point_and_the_baseline(base: ss.Scenario, sweep: ss.Sweep) -> None:
    assert list(sweep.points.index) == ["baseline", "headcount=4, value=2",
                                        "headcount=4, value=3", "headcount=7, value=2",
                                        "headcount=7, value=3"]
    assert list(sweep.points.columns) == list(GRID)
    for name, values in zip(sweep.points.index[1:], itertools.product(*GRID.values()),
                            strict=True):
        sc = sweep.comparison.results[name].scenario
        assert sc.teams[0].reps["ae"].headcount == values[0]
        assert sc.stages[-1].effort_hours.mean() == values[1]
    # The base has 7 north AEs and 3-hour contracts: that point is the baseline itself.
    same = sweep.comparison.results["headcount=7, value=3"].kpis
    assert same.equals(sweep.comparison.results["baseline"].kpis)
    assert base.teams[0].reps["ae"].headcount == 7


def test_sweep_tables(sweep: ss.Sweep) -> None:
    table = sweep.table(["profit", "cost"])
    assert list(table.columns[:2]) == list(GRID)
    assert table.loc[("profit", "headcount=4, value=2"), "teams.north.ae.headcount"] == 4
    means = sweep.means(["profit"])
    assert means.loc["headcount=4, value=3", "profit"] == pytest.approx(
        sweep.comparison.results["headcount=4, value=3"].kpis["profit"].mean())
    # Fewer AEs cost less: salaries are a fixed part of cost.
    assert means.loc["headcount=4, value=3", "profit"] != means.loc["baseline", "profit"]


def test_frontier_holds_exactly_the_undominated_points(sweep: ss.Sweep) -> None:
    front = sweep.frontier("cost", "cycle_time_p90_days")
    means = sweep.means(["cost", "cycle_time_p90_days"])

    def dominated(name: str) -> bool:
        a = means.loc[name]
        return any((b["cost"] <= a["cost"]) and (b["cycle_time_p90_days"]
                                                  <= a["cycle_time_p90_days"])
                   and (b["cost"] < a["cost"] or b["cycle_time_p90_days"]
                        < a["cycle_time_p90_days"])
                   for other, b in means.iterrows() if other != name)

    assert set(front.index) == {n for n in means.index if not dominated(n)}
    assert front["cost"].is_monotonic_increasing
    with pytest.raises(ValueError, match="two different KPIs"):
        sweep.frontier("cost", "cost")


def test_named_change_sets(base: ss.Scenario) -> None:
    sw = ss.sweep(base, changes={"more SE": {"teams.solutions.se.headcount": 9}},
                  replications=2, seed=5, executor="serial")
    assert list(sw.points.index) == ["baseline", "more SE"]
    listed = ss.sweep(base, changes=[{"teams.solutions.se.headcount": 9}], replications=2,
                      seed=5, executor="serial")
    assert list(listed.points.index) == ["baseline", "headcount=9"]
    assert listed.means(["cost"])["cost"].tolist() == sw.means(["cost"])["cost"].tolist()


@pytest.mark.parametrize(("grid", "message"), [
    ({"teams.nort.ae.headcount": [3]}, "teams.nort.ae.headcount: unknown name 'nort' under "
                                       "teams (did you mean 'north'?)"),
    ({"teams.north.ae.headcount": ["three"]}, "<grid>: teams.north.ae.headcount: the value "
                                              "'three': teams[0].reps.ae.headcount: must be a "
                                              "whole number"),
    ({"stages.contract.effort_hours.mean": [2]}, "unknown key 'mean'; a fixed distribution "
                                                 "takes: dist, value"),
    ({"teams.north.ae.headcount": 3}, "give a non-empty list of values"),
    ({5: [1, 2]}, "<grid>: 5: a key path must be text such as 'teams.north.ae.headcount'"),
    ({f"teams.north.ae.headcount{i}": list(range(10)) for i in range(7)},
     "<grid>: 10,000,000 points (10 x 10 x 10 x 10 x 10 x 10 x 10 values); the limit is 1,000"),
    ({"calendar.warmup_days": [70.0], "calendar.horizon_days": [60.0]},
     "<grid>: the point 'warmup_days=70, horizon_days=60': calendar.warmup_days: must be less "
     "than horizon_days (60)"),
])
def test_bad_grid_is_one_error_before_anything_runs(
        base: ss.Scenario, grid: dict[str, object], message: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_: object) -> None:
        raise AssertionError("a replication ran despite a bad grid")

    monkeypatch.setattr(salessim.runner, "simulate", never)
    with pytest.raises((ss.ScenarioError, ValueError)) as info:
        ss.sweep(base, grid=grid, replications=2, seed=1, executor="serial")  # type: ignore[arg-type]
    assert message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_sweep_needs_a_grid_or_changes(base: ss.Scenario) -> None:
    with pytest.raises(ValueError, match="not both and not neither"):
        ss.sweep(base, replications=2, seed=1)
    with pytest.raises(ValueError, match="names the unchanged base"):
        ss.sweep(base, changes={"baseline": {"name": "x"}}, replications=2, seed=1)


def test_sweep_table_rows_match_the_comparison(sweep: ss.Sweep) -> None:
    cmp_table = sweep.comparison.table(["won"])
    table = sweep.table(["won"])
    pd.testing.assert_frame_equal(table[list(TABLE_COLUMNS)], cmp_table.rename_axis(
        ["kpi", "point"]))


@pytest.mark.slow
def test_a_grid_may_give_its_values_as_numpy_arrays_or_ranges(base: ss.Scenario) -> None:
    listed = ss.sweep(base, grid={"teams.north.ae.headcount": [9, 10]}, replications=2, seed=4,
                      executor="serial")
    for values in (np.arange(9, 11), range(9, 11)):
        other = ss.sweep(base, grid={"teams.north.ae.headcount": values}, replications=2,
                         seed=4, executor="serial")
        assert list(other.points.index) == list(listed.points.index)
        assert other.means(["profit"]).equals(listed.means(["profit"]))
