"""Plots: each a Figure with what it should draw, titled, axes labelled with units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import salessim as ss
from salessim import plots
from salessim.formatting import whole
from salessim.model.leads import WON

from ..conftest import short


@pytest.fixture(scope="module")
def res(regional: ss.Scenario) -> ss.Results:
    return ss.run(short(regional, 40.0), replications=2, seed=9)


def comparison_table(kpis: list[str], scenarios: list[str]) -> pd.DataFrame:
    """A hand-made table in the format of ``Comparison.table()``."""
    rows = []
    for i, kpi in enumerate(kpis):
        for j, name in enumerate(scenarios):
            diff = 0.0 if j == 0 else (i + 1) * j * (-1) ** i
            rows.append({"kpi": kpi, "scenario": name, "mean": 100.0 + diff, "ci_low": 95.0,
                         "ci_high": 105.0, "diff": diff,
                         "diff_ci_low": np.nan if j == 0 else diff - 1.5,
                         "diff_ci_high": np.nan if j == 0 else diff + 1.5,
                         "p_value": np.nan if j == 0 else 0.01 * i,
                         "p_adjusted": np.nan if j == 0 else 0.02 * i, "n": 10})
    return pd.DataFrame(rows).set_index(["kpi", "scenario"])


def _labelled(fig: Figure) -> None:
    ax = fig.axes[0]
    assert ax.get_title() or (fig.get_suptitle())
    assert ax.get_xlabel() or fig.axes[-1].get_xlabel()


def test_funnel_has_a_bar_per_stage_and_won(res: ss.Results) -> None:
    fig = plots.funnel(res)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == len(res.scenario.stages) + 1
    assert widths[0] == pytest.approx(res.kpis["leads"].mean())
    assert widths[-1] == pytest.approx(res.kpis["won"].mean())
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "Won"
    assert "leads" in ax.get_xlabel()
    _labelled(fig)


def test_cycle_time_marks_mean_p50_and_p90_on_an_axis_fitted_to_the_deals(
        res: ss.Results) -> None:
    fig = plots.cycle_time(res)
    ax = fig.axes[0]
    xs = sorted(line.get_xdata()[0] for line in ax.lines)
    assert xs == pytest.approx(sorted(res.kpis[k].mean() for k in (
        "cycle_time_mean_days", "cycle_time_p50_days", "cycle_time_p90_days")))
    assert "days" in ax.get_xlabel()
    days = np.concatenate([(r.leads["close_time"] - r.leads["arrival_time"])[
        (r.leads["status"] == WON) & r.leads["cohort"]] for r in res.raw])
    top = np.quantile(days, plots.TAIL)
    assert ax.get_xlim() == pytest.approx((0.0, top))  # not out to the longest deal
    shown = sum(p.get_height() for p in ax.patches)
    assert shown == pytest.approx(res.kpis["won"].mean() * (days <= top).mean())
    assert any("take longer than" in t.get_text() for t in ax.texts)


def test_wip_over_time_draws_a_line_per_stage_in_each_panel(res: ss.Results) -> None:
    fig = plots.wip_over_time(res)
    top, bottom = fig.axes
    n = len(res.scenario.stages)
    assert len(top.lines) == n + 1 and len(bottom.lines) == n + 1  # + the horizon line
    assert "WIP" in top.get_ylabel() and "rep" in bottom.get_ylabel()
    assert "days" in bottom.get_xlabel()
    fig = plots.wip_over_time(res, stages=["solution"])
    assert len(fig.axes[0].lines) == 2


def test_unknown_stage_is_a_clear_error(res: ss.Results) -> None:
    with pytest.raises(ValueError, match=r"unknown stage 'solutoin' .*did you mean 'solution'"
                                         r".*stages are: qualify"):
        plots.wip_over_time(res, stages=["solutoin"])


@pytest.mark.parametrize("by, n", [("role", 4), ("team", 8)])
def test_utilisation_bars(res: ss.Results, by: str, n: int) -> None:
    fig = plots.utilisation(res, by)
    ax = fig.axes[0]
    assert len(ax.patches) == n
    assert "utilisation" in ax.get_xlabel()
    if by == "role":
        widths = [p.get_width() for p in ax.patches]
        assert widths == pytest.approx(
            [res.kpis[f"utilisation_{r.name}"].mean() for r in res.scenario.roles])
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            "Sales development reps", "Account executives", "Solution engineers",
            "Contract counsels"]
    mean = [line for line in ax.lines if line.get_label().startswith("mean of all reps")]
    assert len(mean) == 1


def test_utilisation_per_rep_is_a_dot_per_rep_on_a_row_per_team_and_role(
        res: ss.Results) -> None:
    fig = plots.utilisation(res, "rep")
    ax = fig.axes[0]
    reps = res.reps()
    dots = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    assert sorted(dots) == pytest.approx(sorted(reps["utilisation"]))
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert len(rows) == 8 and rows[1] == "North: account executives (7)"
    low, high = ax.get_xlim()
    assert low <= reps["utilisation"].min() and high >= reps["utilisation"].max()
    assert low > 0  # fitted to the reps, not from zero


def test_utilisation_per_rep_stays_readable_at_fifty_reps(regional: ss.Scenario) -> None:
    big = short(regional, 10.0).with_changes({"teams.north.reps.ae.headcount": 20})
    res = ss.run(big, replications=1, seed=1, executor="serial", progress=False)
    assert len(res.reps()) == 50
    fig = plots.utilisation(res, "rep")
    assert len(fig.axes[0].get_yticklabels()) == 8  # rows per team and role, not per rep
    assert fig.get_figheight() < 5
    assert min(t.get_fontsize() for t in fig.axes[0].get_yticklabels()) >= plots.SMALL_PT


def test_utilisation_by_unknown_grouping(res: ss.Results) -> None:
    with pytest.raises(ValueError, match=r"unknown grouping 'region'.*role, team, rep"):
        plots.utilisation(res, "region")


def test_time_breakdown_stacks_phases_to_the_stage_total(res: ss.Results) -> None:
    fig = plots.time_breakdown(res)
    ax = fig.axes[0]
    bn = ss.bottlenecks(res)
    n = len(res.scenario.stages)
    assert len(ax.patches) == 5 * n
    ends = {}
    for p in ax.patches:
        y = round(p.get_y() + p.get_height() / 2)
        ends[y] = max(ends.get(y, 0.0), p.get_x() + p.get_width())
    assert [ends[i] for i in range(n)] == pytest.approx(list(bn.stages["days"]))
    assert "days" in ax.get_xlabel()
    marked = [t.get_text() for t in ax.texts if "bottleneck" in t.get_text()]
    assert len(marked) == 1
    row = list(bn.stages.index).index(bn.bottleneck)
    assert marked[0].startswith(f"{bn.stages['days'].iloc[row]:.1f} d")
    fig.draw_without_rendering()  # every note inside the axes: the axis made room
    right = ax.get_window_extent().x1
    assert all(t.get_window_extent().x1 <= right for t in ax.texts)


def test_forest_splits_by_unit_and_direction_in_native_units() -> None:
    table = comparison_table(["profit", "cost", "conversion_rate", "revenue"],
                             ["base", "b", "c"])
    fig = plots.forest(table)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.get_title(loc="left") for ax in panels]
    assert titles == ["EUR: higher is better", "EUR: lower is better",
                      "Percentage points: higher is better"]
    money_up, money_down, points = panels
    assert [t.get_text() for t in money_up.get_yticklabels()] == ["Profit", "Revenue"]
    assert money_up.get_title(loc="right") == "better →"
    assert money_down.get_title(loc="right") == "← better"
    markers = [line for line in money_up.lines if line.get_marker() == "o"]
    # profit vs b: a difference of 1 EUR drawn at 1, not as a share of the mean.
    assert markers[0].get_xdata()[0] == pytest.approx(1.0)
    assert markers[0].get_markerfacecolor() == "white"  # 1 +- 1.5 holds 0: within chance
    # conversion vs b: diff 3 (a share) is 300 percentage points on its axis.
    conv = [line for line in points.lines if line.get_marker() == "o"]
    assert conv[0].get_xdata()[0] == pytest.approx(300.0)
    assert conv[0].get_markerfacecolor() != "white"  # 3 +- 1.5 excludes 0: filled
    shade = money_down.patches[0]
    assert shade.get_x() < 0  # lower is better: the side left of zero is shaded
    assert shade.get_x() + shade.get_width() == pytest.approx(0.0)


def test_forest_marks_differences_within_chance_open() -> None:
    table = comparison_table(["profit"], ["base", "b"])  # diff 1, interval -0.5 .. 2.5
    fig = plots.forest(table)
    marker = next(line for line in fig.axes[0].lines if line.get_marker() == "o")
    assert marker.get_markerfacecolor() == "white"
    assert [t.get_text() for t in fig.axes[0].texts] == ["+1"]


def test_forest_with_two_scenarios_and_chosen_kpis() -> None:
    table = comparison_table(["profit", "cost", "open"], ["base", "b"])
    fig = plots.forest(table, kpis=["cost"])
    assert len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["Cost"]
    assert fig.get_suptitle() == "Differences to base, with paired 95% intervals"


def test_forest_bad_input_names_what_exists() -> None:
    table = comparison_table(["profit", "cost"], ["base", "b"])
    with pytest.raises(ValueError, match=r"unknown KPI 'proft'.*did you mean 'profit'.*"
                                         r"KPIs are: profit, cost"):
        plots.forest(table, kpis=["proft"])
    with pytest.raises(ValueError, match=r"unknown baseline scenario 'x'.*scenarios are: base, b"):
        plots.forest(table, baseline="x")


def test_figures_are_built_without_pyplot(res: ss.Results) -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figs = plots.figures(res)
    assert set(figs) == {"funnel", "time_breakdown", "cycle_time", "wip_over_time",
                         "utilisation_role", "utilisation_team", "utilisation_rep"}
    assert all(isinstance(f, Figure) for f in figs.values())
    assert all(f.get_figwidth() * plots.DPI == 1600 for f in figs.values())
    assert plt.get_fignums() == before


def _points(fig: Figure) -> list[float]:
    """The centre of each error-bar point, in drawing order: x0, y0, x1, y1..."""
    return [float(v) for c in fig.axes[0].containers
            for v in (c.lines[0].get_xdata()[0], c.lines[0].get_ydata()[0])]


def test_tradeoff_draws_each_scenario_at_its_means_with_intervals() -> None:
    table = comparison_table(["profit", "cycle_time_mean_days"], ["base", "b", "c"])
    fig = plots.tradeoff(table, "cycle_time_mean_days", "profit", currency="EUR")
    ax = fig.axes[0]
    assert _points(fig) == pytest.approx([100.0, 100.0, 98.0, 101.0, 96.0, 102.0])
    x_bars = ax.containers[1].lines[2][0].get_segments()[0]
    assert [p[0] for p in x_bars] == pytest.approx([95.0, 105.0])  # the mean's t interval
    labels = {t.get_text(): t.xy for t in ax.texts}
    assert labels == {"base": (100.0, 100.0), "b": (98.0, 101.0), "c": (96.0, 102.0)}
    assert ax.containers[0].lines[0].get_markerfacecolor() == "white"  # the baseline
    assert ax.get_xlabel() == "Cycle time, mean (working days; lower is better)"
    assert ax.get_ylabel() == "Profit (EUR; higher is better)"
    assert ax.get_title() == "Profit against cycle time, mean: means with 95% intervals"


def test_tradeoff_of_differences_puts_the_baseline_at_the_origin() -> None:
    table = comparison_table(["conversion_rate", "cost"], ["base", "b", "c"])
    fig = plots.tradeoff(table, "cost", "conversion_rate", values="diff")
    ax = fig.axes[0]
    assert _points(fig) == pytest.approx([0.0, 0.0, -2.0, 1.0, -4.0, 2.0])
    y_bars = ax.containers[2].lines[2][1].get_segments()[0]
    assert [p[1] for p in y_bars] == pytest.approx([0.5, 3.5])  # the paired interval
    assert "percentage points" in ax.get_ylabel() and "difference to base" in ax.get_ylabel()
    assert "paired" in ax.get_title()
    assert ax.yaxis.get_major_formatter()(0.02, 0) == "2.0"


def test_tradeoff_labels_do_not_overlap_when_points_crowd() -> None:
    names = ["base", *(f"scenario {k}" for k in range(1, 8))]
    table = comparison_table(["profit", "cost"], names)
    table["diff"] = [0.01 * k for _ in range(2) for k in range(len(names))]
    table.loc["profit", "diff"] = [0.0, 100.0, 0.02, -0.01, 0.0, 0.03, -0.02, 0.01]
    table["diff_ci_low"], table["diff_ci_high"] = table["diff"] - 0.01, table["diff"] + 0.01
    fig = plots.tradeoff(table, "cost", "profit", values="diff")
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in fig.axes[0].texts]
    assert len(boxes) == len(names)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_tradeoff_bad_input_names_what_exists() -> None:
    table = comparison_table(["profit", "cost"], ["base", "b"])
    with pytest.raises(ValueError, match=r"unknown KPI 'proft'.*KPIs are: profit, cost"):
        plots.tradeoff(table, "cost", "proft")
    with pytest.raises(ValueError, match=r"unknown values 'median'.*values are: mean, diff"):
        plots.tradeoff(table, "cost", "profit", values="median")
    with pytest.raises(ValueError, match=r"unknown baseline scenario 'x'.*scenarios are: base, b"):
        plots.tradeoff(table, "cost", "profit", baseline="x")


def test_flow_counts_conserve_leads_at_every_stage(res: ss.Results) -> None:
    table = plots.flow_counts(res)
    out = table[["passed", *plots.FLOW_EXITS]].sum(axis=1)
    assert np.allclose(table["entered"], out)  # what enters a stage leaves it
    assert np.allclose(table["entered"].to_numpy()[1:], table["passed"].to_numpy()[:-1])
    assert table["passed"].iloc[-1] == 0
    assert table["entered"].iloc[0] == pytest.approx(res.kpis["leads"].mean())
    assert table["won"].sum() == pytest.approx(res.kpis["won"].mean())
    assert table["lost"].sum() + table["cleared"].sum() == pytest.approx(
        res.kpis["lost"].mean())


def test_flow_counts_leads_still_open_where_they_are(regional: ss.Scenario) -> None:
    cut = short(regional, 40.0).with_changes({"calendar.drain_limit_days": 5.0})
    table = plots.flow_counts(ss.run(cut, replications=1, seed=2, executor="serial",
                                     progress=False))
    assert table["open"].sum() > 0
    assert np.allclose(table["entered"], table[["passed", *plots.FLOW_EXITS]].sum(axis=1))


def test_flow_names_stages_and_ways_out_with_whole_counts(res: ss.Results) -> None:
    fig = plots.flow(res)
    fig.draw_without_rendering()
    words = [t.get_text() for t in fig.axes[0].texts]
    table = plots.flow_counts(res)
    lab = plots.Labels.of(res.scenario)
    for stage, entered in table["entered"].items():
        assert f"{lab.stage(str(stage))}\n{whole(entered)}" in words
    assert f"Won\n{whole(table['won'].iloc[-1])}" in words
    lost = [w for w in words if w.startswith("lost ")]
    assert len(lost) == int((table["lost"] > 0).sum())
    assert all(w.split()[-1].replace(",", "").isdigit() for w in lost)  # whole counts
