"""Bottleneck and leak analysis: time shares, the bottleneck sentence, the funnel."""

from __future__ import annotations

import re

import numpy as np
import pytest

import salessim as ss
from salessim.intervals import PHASES

from ..conftest import short


@pytest.fixture(scope="module")
def res(regional: ss.Scenario) -> ss.Results:
    return ss.run(short(regional, 40.0), replications=3, seed=5)


@pytest.fixture(scope="module")
def starved(regional: ss.Scenario) -> ss.Results:
    """Two solution engineers instead of seven: the solution stage starves."""
    sc = short(regional, 40.0).with_changes({"teams.solutions.reps.se.headcount": 2})
    return ss.run(sc, replications=2, seed=5)


def test_phase_shares_sum_to_one_and_rebuild_the_cycle_time(res: ss.Results) -> None:
    bn = ss.bottlenecks(res)
    t = bn.stages
    shares = t[[f"{p}_share" for p in PHASES]].to_numpy().sum()
    assert shares == pytest.approx(1.0, abs=1e-9)
    assert t["share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert t["days"].sum() == pytest.approx(res.kpis["cycle_time_mean_days"].mean(), rel=1e-9)
    assert bn.cycle_time_days == pytest.approx(res.kpis["cycle_time_mean_days"].mean())
    assert (t[[f"{p}_days" for p in PHASES]].to_numpy() >= 0).all()


def test_phase_days_match_the_event_log(res: ss.Results) -> None:
    """Wait, work and customer days per won lead, recomputed from the events."""
    bn = ss.bottlenecks(res)
    ev = res.events[res.events["cohort"]]
    won = res.leads[res.leads["cohort"] & (res.leads["status"] == "won")]
    per_rep = []
    for r, g in ev.groupby("replication"):
        g = g[g["case_id"].isin(won.loc[won["replication"] == r, "case_id"])]
        n = (won["replication"] == r).sum()
        per_rep.append(((g["start_time"] - g["enable_time"]).groupby(g["activity"]).sum() / n,
                        (g["decision_time"] - g["end_time"]).groupby(g["activity"]).sum() / n))
    wait = sum(w for w, _ in per_rep) / len(per_rep)
    customer = sum(c for _, c in per_rep) / len(per_rep)
    for stage in wait.index:
        assert bn.stages.loc[stage, "wait_days"] == pytest.approx(wait[stage], rel=1e-9)
        assert bn.stages.loc[stage, "customer_days"] == pytest.approx(customer[stage], rel=1e-9)


def test_per_role_sums_the_stages_of_the_role(res: ss.Results) -> None:
    bn = ss.bottlenecks(res)
    ae = bn.stages[bn.stages["role"] == "ae"]
    assert bn.roles.loc["ae", "wait_days"] == pytest.approx(ae["wait_days"].sum())
    assert bn.roles.loc["ae", "headcount"] == sum(
        t.reps["ae"].headcount for t in res.scenario.teams if "ae" in t.reps)
    assert bn.roles["share"].sum() == pytest.approx(1.0)
    assert bn.roles.loc["se", "utilisation"] == pytest.approx(
        res.kpis["utilisation_se"].mean())


def test_starved_stage_is_named_the_bottleneck(starved: ss.Results) -> None:
    bn = ss.bottlenecks(starved)
    assert bn.bottleneck == "solution"
    assert bn.stages["wait_days"].idxmax() == "solution"
    assert bn.busiest_role == "se"
    assert bn.sentence.startswith("The bottleneck is solution (role se)")
    assert "a solution engineer" in bn.sentence
    assert str(bn) == bn.sentence


def test_sentence_numbers_come_from_the_table(starved: ss.Results) -> None:
    bn = ss.bottlenecks(starved)
    row = bn.stages.loc["solution"]
    m = re.search(r"wait ([\d.]+) days .* (\d+)% of their cycle time; se utilisation is "
                  r"(\d+)%\.$", bn.sentence)
    assert m is not None, bn.sentence
    assert float(m.group(1)) == pytest.approx(row["wait_days"], abs=0.05)
    assert int(m.group(2)) == round(row["wait_share"] * 100)
    assert int(m.group(3)) == round(row["utilisation"] * 100)


def test_most_wip_is_the_largest_time_average(res: ss.Results) -> None:
    bn = ss.bottlenecks(res)
    assert bn.most_wip == bn.stages["wip_mean"].idxmax()
    # Little's law two ways: sampled time series vs exact overlap with the window.
    ts = ss.timeseries(res, step_days=0.05)
    cal = res.scenario.calendar
    inside = ts[(ts["measure"] == "wip") & (ts["time_days"] >= cal.warmup_days)
                & (ts["time_days"] < cal.horizon_days)]
    sampled = inside.groupby("stage", observed=True)["value"].mean()
    for stage, value in bn.stages["wip_mean"].items():
        assert sampled[stage] == pytest.approx(value, rel=0.02)


def test_conversion_alert_flags_stages_below_the_threshold(res: ss.Results) -> None:
    conversion = res.stages()["conversion"]
    bn = ss.bottlenecks(res, conversion_alert=0.62)
    assert set(bn.low_conversion) == set(conversion[conversion < 0.62].index)
    assert bn.low_conversion and len(bn.low_conversion) < len(conversion)
    assert ss.bottlenecks(res, conversion_alert=0.0).low_conversion == ()
    with pytest.raises(ValueError, match=r"conversion_alert must be a share in \[0, 1\]"):
        ss.bottlenecks(res, conversion_alert=1.5)


def test_no_queue_and_no_win_have_their_own_sentences(regional: ss.Scenario) -> None:
    sc = short(regional, 30.0)
    plenty = sc.with_changes({f"teams.{t}.reps.{r}.headcount": 60 for t, r in (
        ("north", "sdr"), ("north", "ae"), ("central", "sdr"), ("central", "ae"),
        ("south", "sdr"), ("south", "ae"), ("solutions", "se"), ("legal", "legal"))}
        | {"roles.ae.assignment": "pooled"})  # an owner AE may be busy, however many there are
    bn = ss.bottlenecks(ss.run(plenty, replications=1, seed=2))
    assert bn.bottleneck is None
    assert bn.sentence.startswith("No stage has a queue")
    hopeless = sc.with_changes({"stages.qualify.conversion": {"A": 0.0, "B": 0.0, "C": 0.0}})
    bn = ss.bottlenecks(ss.run(hopeless, replications=1, seed=2))
    assert bn.bottleneck is None and np.isnan(bn.cycle_time_days)
    assert bn.sentence.startswith("No lead was won")


def test_funnel_counts_distinct_leads_and_leaks(res: ss.Results) -> None:
    f = ss.funnel(res)
    assert list(f.index) == [s.name for s in res.scenario.stages]
    assert f["reached"].iloc[0] == pytest.approx(res.kpis["leads"].mean())
    assert (np.diff(f["reached"].to_numpy()) <= 0).all()
    assert f["passed_share"].iloc[-1] == pytest.approx(
        res.kpis["won"].mean() / f["reached"].iloc[-1])
    assert f["lost"].sum() == pytest.approx(res.kpis["lost"].mean())
    ev = res.events[res.events["cohort"] & (res.events["replication"] == 0)]
    reached0 = ev.groupby("activity")["case_id"].nunique()
    assert reached0["solution"] > 0
