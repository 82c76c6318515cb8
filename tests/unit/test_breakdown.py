"""Results.breakdown: the lead KPIs per value of a lead attribute, the CLI's --by, the plot.

The breakdown splits the counted leads by one attribute, so its counts and money add up
to the overall KPIs in every replication; each value's KPIs are checked against the
leads table and the event log, computed here independently of ``results.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import salessim as ss
from salessim import plots
from salessim.cli import main
from salessim.results import (
    BREAKDOWN_BY,
    BREAKDOWN_KPIS,
    INTERVAL_COLUMNS,
    NEVER_WORKED,
)
from salessim.stats import mean_ci

from ..conftest import short

ADDITIVE = ("leads", "won", "lost", "open", "revenue", "collected")
"""KPIs that add up over the values of an attribute."""


@pytest.fixture(scope="module")
def res(regional: ss.Scenario) -> ss.Results:
    return ss.run(short(regional, 30.0), replications=3, seed=4, executor="serial",
                  progress=False)


def expected_values(sc: ss.Scenario, by: str) -> list[str]:
    if by == "channel":
        return [c.name for c in sc.channels]
    if by == "team":
        return [*(t.name for t in sc.teams), NEVER_WORKED]
    return list(sc.values_of(by))


@pytest.mark.parametrize("by", BREAKDOWN_BY)
def test_counts_and_money_summed_over_values_are_the_overall_kpis(res: ss.Results,
                                                                  by: str) -> None:
    per = res.breakdown_kpis(by)
    sums = per.groupby(level="replication")[list(ADDITIVE)].sum()
    for kpi in ADDITIVE:
        assert sums[kpi].to_numpy() == pytest.approx(res.kpis[kpi].to_numpy(), rel=1e-12), kpi
    shares = per.groupby(level="replication")["revenue_share"].sum()
    assert shares.to_numpy() == pytest.approx(np.ones(res.replications))
    # The means over replications add up too.
    table = res.breakdown(by)
    for kpi in ADDITIVE:
        assert table.loc[kpi, "mean"].sum() == pytest.approx(res.kpis[kpi].mean(), rel=1e-12)


@pytest.mark.parametrize("by", BREAKDOWN_BY)
def test_every_value_is_a_row_in_the_scenarios_order(res: ss.Results, by: str) -> None:
    table = res.breakdown(by)
    values = expected_values(res.scenario, by)
    assert table.index.names == ["kpi", by]
    assert list(dict.fromkeys(table.index.get_level_values("kpi"))) == list(BREAKDOWN_KPIS)
    for kpi in BREAKDOWN_KPIS:
        assert list(table.loc[kpi].index) == values
    assert list(table.columns) == list(INTERVAL_COLUMNS) == list(res.summary().columns)


def test_products_include_bundles(res: ss.Results) -> None:
    assert res.scenario.bundles, "the regional scenario sells a bundle"
    leads = res.breakdown("product").loc["leads", "mean"]
    for bundle in res.scenario.bundles:
        assert leads[bundle] > 0


def test_a_value_without_leads_counts_zero_and_has_no_rates(res: ss.Results) -> None:
    # Specialist teams (solutions, legal) never work a lead first.
    table = res.breakdown("team")
    assert table.loc[("leads", "legal"), "mean"] == 0
    assert table.loc[("won", "legal"), "n"] == res.replications
    assert table.loc[("conversion_rate", "legal"), "n"] == 0
    assert np.isnan(table.loc[("conversion_rate", "legal"), "mean"])


def test_intervals_are_those_of_summary(res: ss.Results) -> None:
    per = res.breakdown_kpis("segment")
    table = res.breakdown("segment")
    for kpi in ("conversion_rate", "revenue", "cycle_time_p90_days"):
        for value in res.scenario.segments:
            ci = mean_ci(per.xs(value, level="segment")[kpi], res.confidence)
            row = table.loc[(kpi, value)]
            assert (row["mean"], row["ci_low"], row["ci_high"], row["n"]) == pytest.approx(
                (ci.mean, ci.low, ci.high, ci.n))


@pytest.mark.parametrize("by", ["segment", "product", "channel", "grade", "region"])
def test_value_kpis_match_the_leads_table(res: ss.Results, by: str) -> None:
    leads = res.leads[res.leads["cohort"]]
    per = res.breakdown_kpis(by)
    won = leads[leads["status"] == "won"]
    counted = leads.groupby(["replication", by]).size()
    wins = won.groupby(["replication", by]).size()
    revenue = won.groupby(["replication", by])["deal_value"].sum()
    cycle = (won["close_time"] - won["arrival_time"]).groupby(
        [won["replication"], won[by]]).mean()
    for key, n in counted.items():
        row = per.loc[key]
        assert row["leads"] == n
        assert row["won"] == wins.get(key, 0)
        assert row["revenue"] == pytest.approx(revenue.get(key, 0.0))
        assert row["conversion_rate"] == pytest.approx(wins.get(key, 0) / n)
        if key in cycle.index:
            assert row["cycle_time_mean_days"] == pytest.approx(cycle[key])


@pytest.fixture(scope="module")
def cold(regional: ss.Scenario) -> ss.Results:
    """Leads that wait over 0.01 days (minutes) for a rep are lost: some never worked."""
    sc = short(regional, 20.0).with_changes({"going_cold.max_wait_days": 0.01})
    return ss.run(sc, replications=2, seed=4, executor="serial", progress=False)


@pytest.mark.parametrize("which", ["res", "cold"])
def test_team_is_that_of_the_rep_who_first_worked_the_lead(
        which: str, request: pytest.FixtureRequest) -> None:
    res: ss.Results = request.getfixturevalue(which)
    ev = res.events[res.events["cohort"] & (res.events["part"] == 0)
                    & (res.events["resource"] != "")]
    first = ev.sort_values("start_time", kind="stable").groupby(
        ["replication", "case_id"]).first()
    expected = first.groupby(["replication", "team"]).size()
    leads = res.leads[res.leads["cohort"]]
    never = (~np.isfinite(leads["first_start_time"])).groupby(leads["replication"]).sum()
    per = res.breakdown_kpis("team")["leads"]
    for (rep, team), n in per.items():
        want = never[rep] if team == NEVER_WORKED else expected.get((rep, team), 0)
        assert n == want, (rep, team)
    if which == "cold":
        lost_unworked = res.breakdown("team").loc[("leads", NEVER_WORKED), "mean"]
        assert lost_unworked > 0
        assert res.breakdown("team").loc[("won", NEVER_WORKED), "mean"] == 0


@pytest.mark.parametrize("by", ["segmnt", "Segment", "", "cost"])
def test_an_unknown_attribute_is_refused_with_the_allowed_ones(res: ss.Results,
                                                               by: str) -> None:
    with pytest.raises(ValueError, match="unknown attribute") as err:
        res.breakdown(by)
    assert "segment, product, channel, grade, region, team" in str(err.value)
    with pytest.raises(ValueError, match="unknown attribute"):
        res.breakdown_kpis(by)


def test_a_misspelt_attribute_gets_a_suggestion(res: ss.Results) -> None:
    with pytest.raises(ValueError, match=r"did you mean 'segment'\?"):
        res.breakdown("segmnt")


# ---- command line --------------------------------------------------------------------

def _run(small_file: Path, *extra: str) -> int:
    return main(["run", str(small_file), "-r", "2", "-s", "3", "-q", "--executor", "serial",
                 *extra])


def test_run_by_prints_the_breakdown_and_writes_it(small_file: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _run(small_file, "--by", "segment", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "Lead KPIs by segment" in printed and "money in EUR" in printed
    header = next(line for line in printed.splitlines() if line.startswith("kpi ")
                  and "segment" in line)
    assert header.split() == ["kpi", "segment", "mean", "95%", "interval", "n"]
    assert "revenue_share" in printed and "enterprise" in printed
    assert "utilisation_ae" in printed  # the summary is printed too
    written = pd.read_csv(out / "breakdown_segment.csv", index_col=["kpi", "segment"])
    assert list(written.columns) == list(INTERVAL_COLUMNS)
    assert set(written.index.get_level_values("segment")) == {"smb", "enterprise"}


def test_run_by_in_csv_and_json(small_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(small_file, "--by", "grade", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "kpi,grade,mean,std,ci_low,ci_high,n"
    assert _run(small_file, "--by", "grade", "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["breakdown"]["by"] == "grade"
    assert set(doc["breakdown"]["kpis"]["leads"]) == {"A", "B", "C"}
    assert "kpis" in doc  # the summary stays


def test_run_by_an_unknown_attribute_exits_2_before_running(
        small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never"
    assert _run(small_file, "--by", "segmnt", "--out", str(out)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "unknown attribute 'segmnt'" in lines[0] and "did you mean 'segment'" in lines[0]
    assert not out.exists()


# ---- plot ----------------------------------------------------------------------------

def test_plot_draws_each_values_mean_with_its_interval(res: ss.Results) -> None:
    table = res.breakdown("segment")
    fig = plots.breakdown(table, kpi="conversion_rate")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx(list(table.loc["conversion_rate", "mean"]))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(res.scenario.segments)
    assert ax.get_xlabel() == "Conversion rate (%; higher is better)"
    assert ax.get_ylabel() == "Segment"
    assert ax.get_title().startswith("Conversion rate by segment")


def test_plot_marks_an_undefined_value_and_names_money(res: ss.Results) -> None:
    fig = plots.breakdown(res.breakdown("team"), kpi="cycle_time_mean_days")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[-1].startswith("undefined")  # (never worked): no won lead
    fig = plots.breakdown(res.breakdown("product"), kpi="revenue", currency="GBP")
    assert "GBP" in fig.axes[0].get_xlabel()


def test_plot_refuses_an_unknown_kpi_or_another_table(res: ss.Results) -> None:
    with pytest.raises(ValueError, match="unknown KPI 'profit'"):
        plots.breakdown(res.breakdown("segment"), kpi="profit")
    with pytest.raises(ValueError, match="indexed by"):
        plots.breakdown(res.summary(), kpi="revenue")
