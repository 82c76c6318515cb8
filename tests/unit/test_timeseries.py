"""Time series of WIP, queues and busy reps, checked against the event log directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salessim as ss
from salessim.timeseries import ROLE_MEASURES, STAGE_MEASURES

from ..conftest import short


@pytest.fixture(scope="module")
def res(regional: ss.Scenario) -> ss.Results:
    return ss.run(short(regional, 40.0), replications=2, seed=3)


def _at(ts: pd.DataFrame, replication: int, t: float, measure: str) -> pd.Series:
    rows = ts[(ts["replication"] == replication) & np.isclose(ts["time_days"], t)
              & (ts["measure"] == measure)]
    key = "role" if measure in ROLE_MEASURES else "stage"
    return rows.set_index(rows[key].astype(str))["value"]


@pytest.mark.parametrize("t", [0.0, 7.5, 20.0, 33.25, 60.0])
def test_counts_equal_intervals_covering_the_time(res: ss.Results, t: float) -> None:
    ts = ss.timeseries(res, step_days=0.25)
    ev = res.events[res.events["replication"] == 1].sort_values(["case_id", "enable_time"])
    before = ev.groupby("case_id")[["outcome", "decision_time"]].shift()
    parked_from = before["decision_time"].where(before["outcome"] == "nurture")
    served = ev["resource"] != ""
    wait_end = ev["start_time"].where(served, ev["decision_time"])
    expected = {
        "wait": (ev["enable_time"] <= t) & (t < wait_end),
        "work": served & (ev["start_time"] <= t) & (t < ev["end_time"]),
        "customer": served & (ev["end_time"] <= t) & (t < ev["decision_time"]),
        "handoff": (ev["enable_time"] - ev["handoff_days"] <= t) & (t < ev["enable_time"]),
        "nurture": (parked_from <= t) & (t < ev["enable_time"] - ev["handoff_days"]),
        "wip": (ev["enable_time"] <= t) & (t < ev["decision_time"]),
    }
    stages = [s.name for s in res.scenario.stages]
    for measure, covers in expected.items():
        want = covers.groupby(ev["activity"]).sum().reindex(stages, fill_value=0)
        got = _at(ts, 1, t, measure).reindex(stages)
        assert (got.to_numpy() == want.to_numpy()).all(), measure
    busy = (served & (ev["start_time"] <= t) & (t < ev["end_time"])).groupby(ev["role"]).sum()
    got = _at(ts, 1, t, "busy_reps")
    for role in busy.index:
        assert got[role] == busy[role]


def test_wip_is_the_sum_of_its_phases(res: ss.Results) -> None:
    ts = ss.timeseries(res)
    wide = ts[ts["measure"].isin(["wip", "wait", "work", "customer"])].pivot_table(
        index=["replication", "time_days", "stage"], columns="measure", values="value",
        observed=True)
    assert (wide["wip"] == wide["wait"] + wide["work"] + wide["customer"]).all()
    assert wide["wip"].max() > 0


def test_busy_reps_never_exceed_headcount(res: ss.Results) -> None:
    ts = ss.timeseries(res)
    busy = ts[ts["measure"] == "busy_reps"].groupby("role", observed=True)["value"].max()
    heads = {r: sum(t.reps[r].headcount for t in res.scenario.teams if r in t.reps)
             for r in busy.index}
    assert all(0 < busy[r] <= heads[r] for r in busy.index)


def test_littles_law_over_the_whole_run(res: ss.Results) -> None:
    """Time-average WIP = throughput x mean time at the stage, when every visit is inside."""
    step = 0.05
    ts = ss.timeseries(res, step_days=step)
    raw = res.raw[0]
    ev = res.events[res.events["replication"] == 0]
    span = raw.end_day
    wip = (ts[(ts["replication"] == 0) & (ts["measure"] == "wip")]
           .groupby("stage", observed=True)["value"].sum() * step / span)
    throughput = ev.groupby("activity").size() / span
    time_in_stage = (ev["decision_time"] - ev["enable_time"]).groupby(ev["activity"]).mean()
    lw = throughput * time_in_stage
    for stage in lw.index:
        assert wip[stage] == pytest.approx(lw[stage], rel=0.01)


def test_tidy_columns_and_measures(res: ss.Results) -> None:
    ts = ss.timeseries(res, step_days=2.0)
    assert list(ts.columns) == ["replication", "time_days", "measure", "stage", "role", "value"]
    assert set(ts["measure"].astype(str)) == {*STAGE_MEASURES, *ROLE_MEASURES}
    assert set(ts["replication"]) == {0, 1}
    times = np.sort(ts["time_days"].unique())
    assert times[0] == 0 and np.allclose(np.diff(times), 2.0)
    assert (ts["value"] >= 0).all()


@pytest.mark.parametrize("step", [0.0, -1.0, float("nan")])
def test_bad_step_is_a_clear_error(res: ss.Results, step: float) -> None:
    with pytest.raises(ValueError, match="step_days must be a positive number"):
        ss.timeseries(res, step_days=step)
