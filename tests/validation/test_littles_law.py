"""Little's law, L = lambda W, on a multi-stage process with rework and nurture.

The scenario has three stages and two roles: an SDR pool (pooled, highest deal value
first) qualifies leads; account executives (each lead keeps its owner) propose and
close. Failures are reworked to earlier stages (including back to the SDRs, which adds
a handoff) or nurtured and retried; handoffs take an exponential time; customers answer
after random delays. Conversion has no capacity effects, so the number of tasks each
stage receives per lead is known from the absorbing Markov chain of the funnel.

Little's law holds for any stationary system whatever its queue discipline, so it is
checked three ways, each with an estimate of L that is independent of the estimate of W:

* whole system: the time-average number of leads in the system over [warm-up, horizon),
  computed from the *event log* (first enable to last decision of each case), against
  the scenario's arrival rate times the mean time in system from the *lead table*
  (``close_time - arrival_time``);
* each role's queue: the time-average number of tasks waiting for a rep (event log),
  against the theoretical task arrival rate of the role (lambda times the expected
  visits to its stages, from the fundamental matrix) times the mean wait per task;
* each role's reps: the mean number of busy reps, ``c * kpis['utilisation_<role>']``,
  against that task arrival rate times the mean effort from the scenario (Little's law
  for the servers; all theory on the right-hand side).

Edge effects are kept out of the estimates rather than put into the tolerance. The
mean time in system is about 9 days, so the 40-day warm-up covers several cycle times.
W is taken over leads arriving at least 60 days before the horizon (99.9 % of leads
close within 60 days) and Wq over tasks enabled at least 10 days before it, because
after the horizon no new leads arrive and the system empties, which would shorten the
last leads' waits. Differences ``L - lambda W`` are formed per replication, so their t
interval carries the run's own noise; the law says the interval holds 0. Typical
relative half-widths (interval against L): about 2.5 % for leads, 3-5.5 % for the
queues, 3-3.5 % for busy reps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import salessim as ss

from .support import (
    absorbing_chain,
    assert_covers,
    base_scenario,
    seed,
    time_in_window,
)

pytestmark = pytest.mark.slow

LEADS_PER_DAY = 6.0
HOURS_PER_DAY = 8.0
WARMUP_DAYS = 40.0
HORIZON_DAYS = 330.0
LEAD_TAIL_DAYS = 60.0  # leads arriving this close to the horizon are left out of W
TASK_TAIL_DAYS = 10.0  # tasks enabled this close to the horizon are left out of Wq
REPLICATIONS = 20

# (name, role, mean effort hours, pass probability, rework share, rework to, nurture share)
STAGES = [
    ("qualify", "sdr", 1.5, 0.70, 0.00, 0, 0.00),
    ("propose", "ae", 6.0, 0.60, 0.25, 0, 0.25),
    ("close", "ae", 3.0, 0.75, 0.60, 1, 0.00),
]
HEADCOUNT = {"sdr": 2, "ae": 7}


def little_scenario() -> ss.Scenario:
    doc = base_scenario()
    doc["name"] = "Little's law: three stages, two roles, rework and nurture"
    doc["calendar"].update(horizon_days=HORIZON_DAYS, warmup_days=WARMUP_DAYS,
                           drain_limit_days=400.0, hours_per_day=HOURS_PER_DAY)
    doc["channels"][0]["leads_per_day"] = LEADS_PER_DAY
    doc["deal_value"] = {"distribution": {"dist": "lognormal", "mean": 1000.0, "sd": 500.0}}
    doc["roles"] = [
        {"name": "sdr", "salary_per_day": 0.0, "assignment": "pooled", "dispatch": "value"},
        {"name": "ae", "salary_per_day": 0.0, "assignment": "owner", "dispatch": "fifo"},
    ]
    doc["teams"] = [{"name": "everyone",
                     "reps": {role: {"headcount": n} for role, n in HEADCOUNT.items()}}]
    efforts = {
        "qualify": {"dist": "exponential", "mean": 1.5},
        "propose": {"dist": "gamma", "mean": 6.0, "sd": 3.0},
        "close": {"dist": "lognormal", "mean": 3.0, "sd": 2.0},
    }
    delays = {
        "qualify": {"dist": "exponential", "mean": 1.0},
        "propose": {"dist": "gamma", "mean": 3.0, "sd": 1.5},
        "close": {"dist": "fixed", "value": 2.0},
    }
    doc["stages"] = []
    for name, role, effort, p, rework, to, nurture in STAGES:
        assert efforts[name]["mean"] == effort
        failure: dict[str, object] = {}
        if rework:
            failure.update(rework_share=rework, rework_to=STAGES[to][0])
        if nurture:
            failure.update(nurture_share=nurture,
                           nurture_days={"dist": "uniform", "low": 5.0, "high": 15.0})
        doc["stages"].append({"name": name, "role": role, "effort_hours": efforts[name],
                              "customer_delay_days": delays[name], "conversion": {"A": p},
                              "failure": failure})
    doc["handoff"] = {"delay_days": {"dist": "exponential", "mean": 0.5}}
    return ss.load_scenario(doc)


def expected_visits() -> np.ndarray:
    """Expected attempts per lead at each stage (first row of the fundamental matrix)."""
    fundamental, _, _ = absorbing_chain(
        [s[3] for s in STAGES], [s[4] for s in STAGES], [s[5] for s in STAGES],
        [s[6] for s in STAGES],
    )
    return fundamental[0]


def task_rate(role: str) -> float:
    """Tasks per day arriving for reps of ``role`` in steady state."""
    visits = expected_visits()
    return LEADS_PER_DAY * sum(v for v, s in zip(visits, STAGES, strict=True) if s[1] == role)


def mean_effort_days(role: str) -> float:
    """Mean rep time per task of ``role`` (days), weighted by visits to its stages."""
    visits = expected_visits()
    pairs = [(v, s[2]) for v, s in zip(visits, STAGES, strict=True) if s[1] == role]
    return sum(v * e for v, e in pairs) / sum(v for v, _ in pairs) / HOURS_PER_DAY


@dataclass(frozen=True)
class Run:
    res: ss.Results
    events: pd.DataFrame
    leads: pd.DataFrame

    @property
    def replications(self) -> list[int]:
        return sorted(self.leads["replication"].unique())


@pytest.fixture(scope="module")
def run() -> Run:
    res = ss.run(little_scenario(), replications=REPLICATIONS, seed=seed(101))
    return Run(res, res.events, res.leads)


def test_all_counted_leads_close_and_event_log_agrees_with_lead_table(run: Run) -> None:
    assert (run.res.kpis["open"] == 0).all()
    ev = run.events
    first_enable = ev.groupby(["replication", "case_id"])["enable_time"].min()
    last_decision = ev.groupby(["replication", "case_id"])["decision_time"].max()
    leads = run.leads.set_index(["replication", "case_id"])
    closed = leads[leads["status"] != "open"]
    assert np.allclose(first_enable.loc[leads.index], leads["arrival_time"], rtol=0, atol=1e-9)
    assert np.allclose(last_decision.loc[closed.index], closed["close_time"], rtol=0, atol=1e-9)


def lead_intervals(run: Run, rep: int) -> tuple[np.ndarray, np.ndarray]:
    """Each case's time in the system, from the event log (open cases never leave)."""
    ev = run.events[run.events["replication"] == rep]
    g = ev.groupby("case_id")
    start = g["enable_time"].min()
    stop = g["decision_time"].max()
    leads = run.leads[run.leads["replication"] == rep].set_index("case_id")
    stop[leads.loc[stop.index, "status"].to_numpy() == "open"] = np.inf
    return start.to_numpy(), stop.to_numpy()


def test_leads_in_system_equal_arrival_rate_times_time_in_system(run: Run) -> None:
    window = HORIZON_DAYS - WARMUP_DAYS
    diffs, wip = [], []
    for rep in run.replications:
        start, stop = lead_intervals(run, rep)
        L = time_in_window(start, stop, WARMUP_DAYS, HORIZON_DAYS) / window
        leads = run.leads[(run.leads["replication"] == rep)
                          & run.leads["arrival_time"].between(
                              WARMUP_DAYS, HORIZON_DAYS - LEAD_TAIL_DAYS, inclusive="left")]
        W = float((leads["close_time"] - leads["arrival_time"]).mean())
        diffs.append(L - LEADS_PER_DAY * W)
        wip.append(L)
    assert_covers(diffs, 0.0, "L - lambda W (leads)")
    # Not trivially true: about 50 leads are in the system at any time.
    assert np.mean(wip) > 25


@pytest.mark.parametrize("role", ["sdr", "ae"])
def test_queue_length_equals_task_rate_times_wait(run: Run, role: str) -> None:
    window = HORIZON_DAYS - WARMUP_DAYS
    diffs, queue = [], []
    for rep in run.replications:
        ev = run.events[(run.events["replication"] == rep) & (run.events["role"] == role)]
        Lq = time_in_window(ev["enable_time"], ev["start_time"], WARMUP_DAYS,
                            HORIZON_DAYS) / window
        early = ev[ev["enable_time"].between(WARMUP_DAYS, HORIZON_DAYS - TASK_TAIL_DAYS,
                                             inclusive="left")]
        Wq = float((early["start_time"] - early["enable_time"]).mean())
        diffs.append(Lq - task_rate(role) * Wq)
        queue.append(Lq)
    assert_covers(diffs, 0.0, f"Lq - lambda Wq ({role})", checks=2)
    assert np.mean(queue) > 0.2, "the check needs a queue to measure"


@pytest.mark.parametrize("role", ["sdr", "ae"])
def test_busy_reps_equal_task_rate_times_effort(run: Run, role: str) -> None:
    c = HEADCOUNT[role]
    busy = run.res.kpis[f"utilisation_{role}"] * c
    expected = task_rate(role) * mean_effort_days(role)
    assert_covers(busy, expected, f"busy {role} reps", checks=2)
