"""Pipeline reviews during a run: manager time, stale deals cleared, coaching, forecasts.

Every ``every_days`` (from day 0 to the horizon) each rep of the reviewed role employed
then is booked for a review with the managers who review the rep's team; each review
waits for a free manager, takes ``hours_per_rep`` of the manager's time (at the
manager's pace), and then acts on the rep's book as ``salessim.scenario.management``
says. Nothing here draws a random number: reviews move other draws only through what
they change (manager time, cleared deals, skill).
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import simpy
from numpy.typing import NDArray

from salessim.model.events import LeadLife, WorkProcess
from salessim.model.leads import LeadTable
from salessim.model.management import ManagementModel
from salessim.model.reps import Rep, RepPool
from salessim.scenario.management import Forecast, Reviews
from salessim.scenario.schema import Scenario


class Host(Protocol):
    """What the reviews need from the replication that runs them."""

    env: simpy.Environment
    sc: Scenario
    leads: LeadTable
    reps: list[Rep]
    pools: list[RepPool]

    def clear(self, lead: int) -> None:
        """Close lead ``lead`` now as lost: cleared at a review."""


class ReviewModel:
    """The pipeline reviews of one replication.

    Args:
        host: The replication.
        plan: Its management model (which keeps the reviewed reps' books).
    """

    def __init__(self, host: Host, plan: ManagementModel) -> None:
        spec = plan.plan.reviews
        assert spec is not None
        sc = host.sc
        self.host = host
        self.plan = plan
        self.spec: Reviews = spec
        self.days = spec.hours_per_rep / sc.calendar.hours_per_day
        self.horizon = sc.calendar.horizon_days
        self.window_start = sc.calendar.warmup_days
        self.weights = _weights(sc, spec.forecast) if spec.forecast is not None else None
        # A stage-weighted forecast answers for every deal in the book, a commit only
        # for the deals committed.
        self.every_deal = spec.forecast is not None and spec.forecast.method == "stage_weighted"
        managers = [p for p in host.pools if p.role == spec.role]
        self.reviewer: dict[str, RepPool] = {
            p.team: next((m for m in managers if m.team == p.team), managers[0])
            for p in host.pools if p.role == spec.reviewed_role}
        """The managers' pool reviewing each team's reps: their own, or the only one."""
        self.coached: dict[int, float] = {}
        """Coaching gained so far by each reviewed rep (logit)."""
        self.meetings: list[float] = []
        """(rep, manager, review number, enable, start, end, coaching gained), flattened."""
        self.forecasts: list[float] = []
        """(review number, rep, day, case, value, weight), flattened: one row per deal."""
        self.cleared: list[float] = []
        """(case, rep, day), flattened."""
        self._procs: set[WorkProcess] = set()
        self._clock = WorkProcess(host.env)

    def start(self) -> None:
        """Book the first review."""
        self._clock.start(self._cycle())

    def stop(self) -> None:
        """End every review still waiting (the run is over)."""
        for proc in [self._clock, *self._procs]:
            proc.stop()

    def _cycle(self) -> LeadLife:
        env = self.host.env
        number = 0
        while True:
            number += 1
            day = number * self.spec.every_days
            if day >= self.horizon:
                return
            yield day - env.now
            for pool in self.host.pools:
                if pool.role == self.spec.reviewed_role:
                    for rep in sorted(pool.reps, key=lambda r: r.index):
                        proc = WorkProcess(env)
                        self._procs.add(proc)
                        proc.start(self._review(proc, pool, rep, number))

    def _review(self, proc: WorkProcess, pool: RepPool, rep: Rep, number: int) -> LeadLife:
        """One rep's review: wait for a manager, meet, then act on the rep's book."""
        env = self.host.env
        try:
            managers = self.reviewer[pool.team]
            enable = env.now
            manager = managers.request(-1, 0, 0.0, math.inf, proc)
            if manager is None:
                manager = yield None
                assert manager is not None  # a review never goes cold
            start = env.now
            work = self.days * manager.pace
            if manager.ramp_until > start:
                work *= 1.0 + manager.ramp_effort * manager.ramp_share(start)
            yield work
            managers.release(manager)
            gained = self._act(rep, number)
            self.meetings.extend((rep.index, manager.index, number, enable, start, env.now,
                                  gained))
        finally:
            self._procs.discard(proc)

    def _act(self, rep: Rep, number: int) -> float:
        """Clear the rep's stale deals, coach the rep, forecast what its book will bring.

        Returns:
            The coaching gained at this review (logit).
        """
        now = self.host.env.now
        spec = self.spec
        book = self.plan.book[rep.index]
        if spec.stale_after_days is not None:
            parked = self.plan.parked
            for i in sorted(i for i in book if now - parked.get(i, now) > spec.stale_after_days):
                self.cleared.extend((i, rep.index, now))
                self.host.clear(i)
        step = 0.0
        if spec.coaching is not None:
            gained = self.coached.get(rep.index, 0.0)
            step = max(0.0, min(spec.coaching.logit_per_review, spec.coaching.up_to - gained))
            rep.skill += step
            self.coached[rep.index] = gained + step
        if self.weights is not None and self.window_start <= now < self.horizon:
            leads = self.host.leads
            deciding = self.plan.deciding
            for i in sorted(book):
                # Until the customer answers, the deal is where the manager saw it last:
                # at the stage being decided, not the one the answer will send it to.
                stage = deciding[i] if leads.answer_time[i] > now else leads.stage_now[i]
                weight = self.weights[stage]
                if weight or self.every_deal:
                    self.forecasts.extend((number, rep.index, now, i, leads.deal_value[i],
                                           weight))
        return step

    def tables(self) -> dict[str, dict[str, NDArray[np.generic]]]:
        """``reviews`` (meetings), ``forecasts`` (one row per deal) and ``cleared`` deals."""
        meet = np.array(self.meetings, dtype=np.float64).reshape(-1, 7)
        fc = np.array(self.forecasts, dtype=np.float64).reshape(-1, 6)
        cl = np.array(self.cleared, dtype=np.float64).reshape(-1, 3)
        return {
            "reviews": {
                "rep": meet[:, 0].astype(np.int64), "manager": meet[:, 1].astype(np.int64),
                "review": meet[:, 2].astype(np.int64), "enable_time": meet[:, 3],
                "start_time": meet[:, 4], "end_time": meet[:, 5], "coached": meet[:, 6],
            },
            "forecasts": {
                "review": fc[:, 0].astype(np.int64), "rep": fc[:, 1].astype(np.int64),
                "day": fc[:, 2], "case": fc[:, 3].astype(np.int64), "value": fc[:, 4],
                "weight": fc[:, 5],
            },
            "cleared": {"case": cl[:, 0].astype(np.int64), "rep": cl[:, 1].astype(np.int64),
                        "day": cl[:, 2]},
        }


def _weights(sc: Scenario, forecast: Forecast) -> list[float]:
    """The share of a deal's value the forecast counts, by the stage the deal is at."""
    if forecast.method == "stage_weighted":
        return [forecast.stage_probability.get(st.name, 0.0) for st in sc.stages]
    first = sc.stage_index(forecast.commit_from) if forecast.commit_from else 0
    return [(1.0 + forecast.commit_bias) if k >= first else 0.0
            for k in range(len(sc.stages))]
