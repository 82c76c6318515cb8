"""Runs in rounds and staff that changes during a run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import salessim as ss
from salessim.model.leads import WON
from salessim.model.process import simulate
from salessim.sandbox import Sandbox

from ..conftest import short
from ..validation.support import assert_covers, base_scenario, seed


@pytest.fixture(scope="module")
def small(regional: ss.Scenario) -> ss.Scenario:
    return short(regional, 40.0)


def test_rounds_without_changes_are_one_run(small: ss.Scenario) -> None:
    sandbox = Sandbox(small, replications=3, seed=4)
    for day in (7.5, 20.0, 33.3, 60.0):
        sandbox.play(until=day)
        assert sandbox.day == day
    played = sandbox.finish()
    plain = ss.run(small, replications=3, seed=4, executor="serial")
    assert played.kpis.equals(plain.kpis)
    assert played.events.equals(plain.events)


def test_same_decisions_same_outcome_and_timing_matters(small: ss.Scenario) -> None:
    more_se = {"teams.solutions.se.headcount": 9, "roles.ae.dispatch": "grade"}
    sandbox = Sandbox(small, replications=2, seed=5)
    sandbox.play(until=15.0)
    sandbox.change(more_se)
    played = sandbox.finish()
    a = ss.run(small, replications=2, seed=5, timeline=[(15.0, more_se)], executor="serial")
    b = ss.run(small, replications=2, seed=5, timeline=[(15.0, more_se)],
               executor="processes", workers=2)
    later = ss.run(small, replications=2, seed=5, timeline=[(30.0, more_se)],
                   executor="serial")
    # A run with a timeline is the game played in rounds, on any executor.
    assert a.kpis.equals(played.kpis) and a.events.equals(played.events)
    assert a.kpis.equals(b.kpis) and a.events.equals(b.events)
    assert a.scenario == played.scenario
    assert not a.kpis.equals(later.kpis)


def test_a_timeline_is_checked_before_anything_runs(small: ss.Scenario) -> None:
    with pytest.raises(ss.ScenarioError, match=r"<timeline\[1\]>: day: must be a day from 20"):
        ss.run(small, replications=1, seed=1, timeline=[(20.0, {}), (10.0, {})])
    with pytest.raises(ss.ScenarioError, match=r"calendar\.horizon_days: cannot change during "
                                               "a run"):
        ss.run(small, replications=1, seed=1, timeline=[(5.0, {"calendar.horizon_days": 50})])
    with pytest.raises(ss.ScenarioError, match=r"<timeline\[0\]> \(day 5\): stages\[5\].role: "
                                               "no team has reps of role 'legal'"):
        ss.run(small, replications=1, seed=1, timeline=[(5.0, {"teams.legal.legal.headcount": 0})])


def test_the_state_between_rounds(small: ss.Scenario) -> None:
    sandbox = Sandbox(small, replications=2, seed=6)
    sandbox.play(30.0)
    pipeline = sandbox.pipeline()
    assert list(pipeline.index) == [s.name for s in small.stages]
    assert list(pipeline.columns) == ["in transit", "waiting for a rep", "with a rep",
                                      "with the customer"]
    so_far = sandbox.results()
    open_leads = so_far.kpis["open"].mean()
    counted_open = pipeline.to_numpy().sum()  # every open lead, counted or not
    assert 0 < open_leads <= counted_open
    pools = sandbox.pools()
    assert pools.loc[("solutions", "se"), "reps"] == 8
    assert (pools["busy"] <= pools["reps"]).all()


def test_a_change_that_is_not_allowed_changes_nothing(small: ss.Scenario) -> None:
    sandbox = Sandbox(small, replications=1, seed=7)
    sandbox.play(10.0)
    with pytest.raises(ss.ScenarioError) as info:
        sandbox.change({"channels.web.leads_per_day": 40})
    assert "channels.web.leads_per_day: cannot change during a run" in str(info.value)
    assert "<change on day 10>" in str(info.value)
    with pytest.raises(ss.ScenarioError, match=r"no team has reps of role 'legal'"):
        sandbox.change({"teams.legal.legal.headcount": 0})
    with pytest.raises(ss.ScenarioError, match="did you mean 'solutions'"):
        sandbox.change({"teams.solution.se.headcount": 9})
    assert sandbox.history == [] and sandbox.scenario == small
    plain = ss.run(small, replications=1, seed=7, executor="serial")
    assert sandbox.finish().kpis.equals(plain.kpis)


# ---- hiring and leaving ----------------------------------------------------------------


def queue_scenario(reps: int, **role: Any) -> ss.Scenario:
    """One stage, one pooled role, 8-hour exponential tasks (1 day), 3 leads a day."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=120.0, warmup_days=0.0, drain_limit_days=400.0)
    doc["channels"][0]["leads_per_day"] = 3.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = reps
    doc["roles"][0].update(role)
    return ss.load_scenario(doc)


def test_hires_join_on_the_day_and_are_paid_from_then() -> None:
    sc = queue_scenario(4, salary_per_day=100.0)
    sandbox = Sandbox(sc, replications=1, seed=8)
    sandbox.play(until=50.0)
    sandbox.change({"teams.everyone.rep.headcount": 6})
    res = sandbox.finish()
    raw = res.raw[0]
    assert list(raw.rep_hired) == [-np.inf] * 4 + [50.0, 50.0]
    assert (raw.rep_left == np.inf).all()
    hired_work = res.events[res.events["resource"].isin(["everyone.rep.5", "everyone.rep.6"])]
    assert len(hired_work) > 0 and (hired_work["start_time"] >= 50.0).all()
    # Salaries: 4 reps for the whole window, 2 from day 50 (window [0, 120)).
    channel_and_travel = 0.0
    assert res.kpis["cost"].iloc[0] == pytest.approx(100.0 * (4 * 120 + 2 * 70)
                                                     + channel_and_travel)


def test_a_busy_leaver_finishes_its_task_first() -> None:
    sc = queue_scenario(4)
    sandbox = Sandbox(sc, replications=1, seed=9)
    sandbox.play(until=40.0)
    sandbox.change({"teams.everyone.rep.headcount": 2})
    raw = sandbox.finish().raw[0]
    left = raw.rep_left[np.isfinite(raw.rep_left)]
    assert len(left) == 2 and (left >= 40.0).all()
    ev = raw.events
    for rep in np.flatnonzero(np.isfinite(raw.rep_left)):
        mine = ev["resource"] == rep
        # It left the moment its last task ended (or on the day, if it was free).
        last_end = ev["end_time"][mine].max()
        assert raw.rep_left[rep] == (last_end if last_end > 40.0 else 40.0)
        assert not (ev["start_time"][mine] >= raw.rep_left[rep]).any()


def test_switching_to_pooled_mid_run_loses_no_lead(small: ss.Scenario) -> None:
    sandbox = Sandbox(small, replications=2, seed=10)
    sandbox.play(25.0)
    sandbox.change({"roles.ae.assignment": "pooled"})
    sandbox.play(10.0)
    sandbox.change({"roles.ae.assignment": "owner"})
    res = sandbox.finish()
    k = res.kpis
    assert (k["open"] == 0).all() and (k["leads"] == k["won"] + k["lost"]).all()


def test_plans_hire_and_let_go_on_their_days() -> None:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=100.0, warmup_days=0.0)
    doc["channels"][0]["leads_per_day"] = 2.0
    doc["teams"][0]["reps"]["rep"] = {"headcount": 3, "plan": [{"day": 30, "headcount": 5},
                                                               {"day": 60, "headcount": 2}]}
    res = ss.run(ss.load_scenario(doc), replications=1, seed=11, executor="serial")
    raw = res.raw[0]
    assert sorted(raw.rep_hired[np.isfinite(raw.rep_hired)].tolist()) == [30.0, 30.0]
    assert len(raw.rep_hired) == 5 and np.isfinite(raw.rep_left).sum() == 3
    assert (raw.rep_left[np.isfinite(raw.rep_left)] >= 60.0).all()


def test_attrition_rate_matches_the_scenario() -> None:
    """With immediate replacement every position is always filled, so leavers of a pool
    of n reps over T days are Poisson with mean n * T * rate / 250."""
    n, days, per_year = 10, 500.0, 0.5
    doc = base_scenario()
    doc["calendar"].update(horizon_days=days, warmup_days=0.0, drain_limit_days=0.0)
    doc["channels"][0]["leads_per_day"] = 0.5
    doc["teams"][0]["reps"]["rep"]["headcount"] = n
    doc["roles"][0].update(attrition_per_year=per_year, replacement_days=0.0)
    res = ss.run(ss.load_scenario(doc), replications=40, seed=seed(12))
    leavers = [float(np.sum(raw.rep_left < days)) for raw in res.raw]
    assert_covers(leavers, n * days * per_year / 250.0, "leavers per replication", 1)
    for raw in res.raw:
        # Each leaver is replaced the day it decides to go (a busy one leaves when its
        # task ends, after its replacement started); the last replacements stay.
        hires = np.sort(raw.rep_hired[np.isfinite(raw.rep_hired)])
        lefts = np.sort(raw.rep_left[np.isfinite(raw.rep_left)])
        assert len(hires) >= len(lefts) and (hires[: len(lefts)] <= lefts).all()


def test_ramp_up_stretches_a_new_reps_work_linearly() -> None:
    doc = base_scenario()
    doc["calendar"].update(horizon_days=60.0, warmup_days=0.0)
    doc["stages"][0]["effort_hours"] = {"dist": "fixed", "value": 4.0}  # half a day
    doc["roles"][0]["ramp_up"] = {"days": 20.0, "extra_effort": 1.0}
    doc["teams"][0]["reps"]["rep"] = {"headcount": 1, "plan": [{"day": 10, "headcount": 2}]}
    res = ss.run(ss.load_scenario(doc), replications=1, seed=13, executor="serial")
    ev = res.events
    new = ev[ev["resource"] == "everyone.rep.2"]
    assert len(new) > 3
    share = np.clip((30.0 - new["start_time"]) / 20.0, 0.0, 1.0)
    expected = 0.5 * (1.0 + share)
    assert np.allclose(new["end_time"] - new["start_time"], expected)
    old = ev[ev["resource"] == "everyone.rep.1"]
    assert np.allclose(old["end_time"] - old["start_time"], 0.5)


def test_deadline_dispatch_serves_the_sla_stage_first() -> None:
    """Two stages of one role; only the second has an SLA. Under deadline dispatch its
    tasks jump the queue, so its waits fall and the first stage's rise (paired)."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=200.0, warmup_days=20.0)
    doc["channels"][0]["leads_per_day"] = 1.6
    doc["teams"][0]["reps"]["rep"]["headcount"] = 2
    doc["stages"][0]["effort_hours"] = {"dist": "exponential", "mean": 4.0}
    doc["stages"].append({"name": "second", "role": "rep", "sla_days": 0.5,
                          "effort_hours": {"dist": "exponential", "mean": 4.0},
                          "customer_delay_days": {"dist": "fixed", "value": 0.0},
                          "conversion": {"A": 1.0}})
    fifo = ss.load_scenario(doc)
    deadline = fifo.with_changes({"roles.rep.dispatch": "deadline"})
    cmp = ss.compare({"fifo": fifo, "deadline": deadline}, replications=20, seed=seed(14))

    def mean_wait(name: str, stage: str) -> np.ndarray:
        ev = cmp.results[name].events
        ev = ev[ev["cohort"] & (ev["activity"] == stage)]
        return (ev["start_time"] - ev["enable_time"]).groupby(ev["replication"]).mean()

    from salessim.stats import paired_difference

    second = paired_difference(mean_wait("deadline", "second"), mean_wait("fifo", "second"))
    first = paired_difference(mean_wait("deadline", "work"), mean_wait("fifo", "work"))
    assert second.high < 0 < first.low


def test_an_unrelated_change_keeps_the_staff_the_run_has_made() -> None:
    """A plan step already taken and leavers not replaced stay as they are when a round
    changes something else; a change of the headcount itself sets it."""
    doc = base_scenario()
    doc["calendar"].update(horizon_days=120.0, warmup_days=0.0)
    doc["channels"][0]["leads_per_day"] = 2.0
    doc["teams"][0]["reps"]["rep"] = {"headcount": 4, "plan": [{"day": 10, "headcount": 6}]}
    doc["roles"][0].update(attrition_per_year=5.0)  # a leaver every few weeks, not replaced
    sandbox = Sandbox(ss.load_scenario(doc), replications=1, seed=15)
    sandbox.play(until=30.0)
    before = sandbox.pools().loc[("everyone", "rep"), "reps"]
    sandbox.change({"roles.rep.dispatch": "grade"})
    assert sandbox.pools().loc[("everyone", "rep"), "reps"] == before < 6
    sandbox.change({"teams.everyone.rep.headcount": 5})
    assert sandbox.pools().loc[("everyone", "rep"), "reps"] == 5


def test_salaries_are_fixed_during_a_run(small: ss.Scenario) -> None:
    sandbox = Sandbox(small, replications=1, seed=16)
    sandbox.play(5.0)
    with pytest.raises(ss.ScenarioError, match=r"salary_per_day: cannot change during a run"):
        sandbox.change({"roles.se.salary_per_day": 600})


def test_a_distribution_changed_mid_run_converts_the_same_uniforms_anew() -> None:
    # A first attempt's uniforms go once converted and are drawn again for the change:
    # each activity's effort from the change on is the new distribution's value for the
    # same uniform: an exponential of twice the mean doubles it.
    doc = base_scenario()  # one stage, which every lead passes at once
    # More leads than a block of rows (256), so that the layer converts whole.
    doc["channels"][0]["leads_per_day"] = 5.0
    doc["teams"][0]["reps"]["rep"]["headcount"] = 8
    sc = ss.load_scenario(doc)
    longer = sc.with_changes({"stages.work.effort_hours.mean": 16.0})
    day = 40.0
    before = simulate(sc, seed(), 0).events
    after = simulate(sc, seed(), 0, timeline=[(day, longer)]).events
    # Activities are recorded as they end; one per lead here, put in the leads' order.
    first, second = np.argsort(before["case"]), np.argsort(after["case"])
    assert np.array_equal(before["case"][first], after["case"][second])
    work_before = (before["end_time"] - before["start_time"])[first]
    work_after = (after["end_time"] - after["start_time"])[second]
    late = after["start_time"][second] >= day
    assert 0 < late.sum() < len(late)
    # end - start of a day-40 activity is exact to about 1e-14 days, not to its last bit
    np.testing.assert_allclose(work_after[late], 2 * work_before[late], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(work_after[~late], work_before[~late], rtol=1e-12, atol=1e-9)


def test_payment_terms_changed_mid_run_draw_the_same_uniforms_again() -> None:
    # Payment uniforms are not kept through the run: a change of terms draws them again
    # from their stream, so a deal won from then on is paid on the new terms' value for
    # the same uniform: twice the mean of an exponential, twice the days.
    doc = base_scenario()
    doc["payment"]["payment_days"] = {"dist": "exponential", "mean": 20.0}
    sc = ss.load_scenario(doc)
    slower = sc.with_changes({"payment.payment_days.mean": 40.0})
    day = 40.0
    before = simulate(sc, seed(), 0).leads
    after = simulate(sc, seed(), 0, timeline=[(day, slower)]).leads
    won = after["status"] == WON
    late = won & (after["close_time"] >= day)
    assert 0 < late.sum() < won.sum()
    np.testing.assert_allclose(after["payment_days"][late], 2 * before["payment_days"][late],
                               rtol=1e-12)
    np.testing.assert_array_equal(after["payment_days"][won & ~late],
                                  before["payment_days"][won & ~late])
