"""One replication of a scenario on SimPy: leads flow stage by stage through rep pools.

The life of a lead, for each attempt at a stage:

1. if the previous activity was done by another role, a handoff delay passes and
   information may be lost;
2. the lead waits for a rep of the stage's role in the team that covers it;
3. the rep works (effort plus travel on visits) and is then free;
4. the customer takes time to answer (holds no rep);
5. the lead passes with its conversion probability (base by grade, moved in logit space
   by rep skill, team effects, waiting time and information loss) or fails and is
   reworked, nurtured or lost.

Elapsed delays that follow one another (customer answer, then handoff or nurture) are
one wait, and a free rep is taken without an event: the model does only the
event-loop work the process needs. Each lead's life is a generator driven by one
reusable SimPy event (``LeadProcess``) that is put back on the schedule for each wait,
rather than a ``simpy.Process`` with a new ``Timeout`` per wait; arrivals are one
reusable event too. The schedule, the clock and the order of simultaneous events are
SimPy's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from salessim.model.draws import (
    ChannelLeads,
    PaymentDraws,
    StageLayer,
    generate_channel,
    payment_draws,
    stage_layer,
)
from salessim.model.leads import COLD_LOSS, DECLINED, LOST, NOT_LOST, OPEN, WON, LeadTable
from salessim.model.organisation import build_organisation
from salessim.model.records import (
    ADVANCED,
    COLD,
    LOST_OUTCOME,
    NURTURE,
    REWORK,
    RawReplication,
)
from salessim.model.reps import Rep, RepPool
from salessim.scenario.schema import ATTRIBUTES, Scenario

LeadLife = Generator[float | None, Rep | None, None]
"""A lead's generator: yields days to wait, or None to wait for a rep; is sent the rep."""


class Wakeup(simpy.Event):
    """A reusable SimPy event: each time it is processed it calls ``action`` once.

    A plain SimPy event is processed once; this one is put back on the schedule (at
    normal priority, like a ``Timeout`` or a succeeded event) by ``after``, so a
    recurring step costs one heap entry and no new objects. This relies on what
    ``Environment.step`` does with an event (take its callbacks, set them to None, call
    them, then check ``_ok``), so the event is re-armed by giving it its callbacks
    again before each ``Environment.schedule``.
    """

    def __init__(self, env: simpy.Environment, action: Callable[[simpy.Event], None]) -> None:
        self.env = env
        self.callbacks = None  # type: ignore[assignment]  # not scheduled
        self._ok = True
        self._value: Any = None
        self._actions = [action]

    def after(self, delay: float, value: Any = None) -> None:
        """Process this event again ``delay`` days from now, with ``value``."""
        self._value = value
        self.callbacks = self._actions
        self.env.schedule(self, NORMAL, delay)

    def cancel(self) -> None:
        """Call nothing from now on, even if already scheduled."""
        self._actions = []
        if self.callbacks is not None:
            self.callbacks = []


class LeadProcess(Wakeup):
    """Drives one lead's generator: one event, re-scheduled for each of its waits.

    The callback is the class's own function, shared by all instances, and the
    generator is dropped when it ends, so a finished lead's process holds no reference
    cycle and is freed at once rather than left to the garbage collector.
    """

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.callbacks = None  # type: ignore[assignment]  # not scheduled
        self._ok = True
        self._value = None
        self._actions = _LEAD_STEP
        self.life: LeadLife | None = None

    def start(self, life: LeadLife) -> None:
        """Run ``life`` now until its first wait."""
        self.life = life
        self._step()

    def resume(self, value: Rep | None) -> None:
        """Continue the lead now, sending it ``value`` (the rep it waited for, or None)."""
        self.after(0.0, value)

    def stop(self) -> None:
        """End the lead's generator where it waits (the run is over)."""
        if self.life is not None:
            self.life.close()
            self.life = None

    def _step(self, _: object = None) -> None:
        try:
            delay = self.life.send(self._value)  # type: ignore[union-attr]
        except StopIteration:
            self.life = None
            return
        if delay is not None:  # as ``after(delay)``; the value sent after a sleep is unused
            self.callbacks = self._actions
            self.env.schedule(self, NORMAL, delay)


_LEAD_STEP: list[Callable[[Any], None]] = [LeadProcess._step]
"""The callbacks of every lead process event: the event is passed as ``self``."""


@dataclass(frozen=True)
class _StageSpec:
    """A stage reduced to what the event loop reads, with probabilities pre-transformed."""

    role: int
    p: tuple[float, ...]
    logit: tuple[float, ...]
    rework_share: float
    rework_to: int
    nurture_until: float
    visit: bool
    info_loss_prob: float
    info_loss_logit: float
    sla_days: float


def _logit(p: float) -> float:
    return math.log(p / (1 - p)) if 0 < p < 1 else 0.0


def _specs(sc: Scenario) -> list[_StageSpec]:
    roles = [r.name for r in sc.roles]
    specs = []
    for i, st in enumerate(sc.stages):
        handoff = st.handoff or sc.handoff
        p = tuple(st.conversion[g] for g in sc.grades)
        specs.append(_StageSpec(
            role=roles.index(st.role),
            p=p,
            logit=tuple(_logit(x) for x in p),
            rework_share=st.failure.rework_share,
            rework_to=sc.stage_index(st.failure.rework_to) if st.failure.rework_to else i,
            nurture_until=st.failure.rework_share + st.failure.nurture_share,
            visit=st.visit,
            info_loss_prob=handoff.info_loss_prob,
            info_loss_logit=handoff.info_loss_logit,
            sla_days=st.sla_days if st.sla_days is not None else math.inf,
        ))
    return specs


class Replication:
    """One replication of a scenario: build with the seed, then ``run()`` once."""

    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        self.sc = scenario
        self.seed = seed
        self.replication = replication
        self.env = simpy.Environment()
        self.reps, self.pools, self.routes = build_organisation(self.env, scenario)
        self.specs = _specs(scenario)
        self.channels: list[ChannelLeads] = [
            generate_channel(scenario, ch, seed, replication) for ch in scenario.channels
        ]
        self.payments: list[PaymentDraws] = [
            payment_draws(scenario, ch, len(leads.arrival_days), seed, replication)
            for ch, leads in zip(scenario.channels, self.channels, strict=True)
        ]
        self.leads = _lead_table(self.channels, scenario.calendar.warmup_days)
        self.layers: list[list[list[StageLayer]]] = [
            [[] for _ in scenario.stages] for _ in scenario.channels
        ]
        """Stage draws by [channel][stage][attempt], each drawn when a lead first needs it."""
        self.cell_pools: dict[tuple[int, int, int], tuple[list[RepPool], list[RepPool]]] = {}
        """For a lead cell (region, product, segment): the pool serving each stage, and
        the distinct owner-assignment pools among them."""
        self.events: list[Any] = []
        """Event records, ``len(EVENT_FIELDS)`` entries per activity, one after another."""
        self.open_cohort = 0
        self.arrivals_done = False
        self.done = self.env.event()
        cal = scenario.calendar
        self.stop_day = cal.horizon_days + cal.drain_limit_days
        cold = scenario.going_cold
        self.cold_logit = cold.logit_per_day
        self.max_wait = cold.max_wait_days if cold.max_wait_days is not None else math.inf
        pay = scenario.payment
        self.bad_debt = pay.bad_debt_prob
        self.travel_cost = (scenario.travel.wide.cost, scenario.travel.local.cost)
        self._arrival = Wakeup(self.env, self._arrive)
        self._next_arrival = 0
        self._live: dict[int, LeadProcess] = {}
        """Processes of the leads whose generator has not ended, by lead id."""

    # ---- running -------------------------------------------------------------------

    def run(self) -> RawReplication:
        """Simulate until every counted lead is closed or the drain limit passes."""
        env = self.env
        if self.leads.n:
            self._arrival.after(self.leads.arrival[0] - env.now)
        else:
            self._arrivals_over()
        stop = env.timeout(self.stop_day)
        stop.callbacks.append(self._finish)
        env.run(until=self.done)
        self._close_stale_waits()
        raw = RawReplication.collect(self.replication, self.leads, self.events,
                                     self.reps, end_day=env.now)
        self._unlink(stop)
        return raw

    def _unlink(self, stop: simpy.Event) -> None:
        """End the leads still waiting and drop the schedule's references to this model.

        Without this, generators and callbacks left on SimPy's schedule would keep the
        replication's draws in reference cycles until a full garbage collection; with
        it, they are freed as soon as the replication is dropped.
        """
        for proc in list(self._live.values()):
            proc.stop()
        if stop.callbacks is not None:
            stop.callbacks.remove(self._finish)
        self._arrival.cancel()

    def _finish(self, _: object = None) -> None:
        if not self.done.triggered:
            self.done.succeed()

    def _arrive(self, _: simpy.Event) -> None:
        """Leads due now arrive; the next arrival is booked; their processes start."""
        env = self.env
        now = env.now
        times = self.leads.arrival
        cohort = self.leads.cohort
        k = first = self._next_arrival
        while k < len(times) and times[k] <= now:
            if cohort[k]:
                self.open_cohort += 1
            k += 1
        self._next_arrival = k
        if k < len(times):
            self._arrival.after(times[k] - now)
        else:
            self._arrivals_over()
        for i in range(first, k):
            proc = self._live[i] = LeadProcess(env)
            proc.start(self._lead(i, proc))

    def _arrivals_over(self) -> None:
        self.arrivals_done = True
        if self.open_cohort == 0:
            self._finish()

    def _new_layer(self, channel: int, stage: int) -> StageLayer:
        """Draw the next attempt's layer of (channel, stage)."""
        layers = self.layers[channel][stage]
        layer = stage_layer(self.sc, self.sc.channels[channel],
                            len(self.channels[channel].arrival_days), self.sc.stages[stage],
                            len(layers), self.seed, self.replication)
        layers.append(layer)
        return layer

    def _pools_of(self, cell: tuple[int, int, int]) -> tuple[list[RepPool], list[RepPool]]:
        """The pool serving each stage for leads of ``cell``, and its owner pools."""
        pools = [self.routes[st.role][cell] for st in self.specs]
        owner_pools = [p for p in dict.fromkeys(pools) if p.owner]
        self.cell_pools[cell] = pools, owner_pools
        return pools, owner_pools

    def _lead(self, i: int, proc: LeadProcess) -> LeadLife:
        """The life of lead ``i``: stage by stage until it is won or lost."""
        env = self.env
        specs = self.specs
        n_stages = len(specs)
        leads = self.leads
        channel, row, grade = leads.channel[i], leads.row[i], leads.grade[i]
        deal_value = leads.deal_value[i]
        cell = (leads.region[i], leads.product[i], leads.segment[i])
        key = (grade, *cell)
        pools, owner_pools = self.cell_pools.get(cell) or self._pools_of(cell)
        layers = self.layers[channel]
        attempts = [0] * n_stages
        cold_logit = self.cold_logit
        record = self.events.extend
        first_start = math.nan
        s = 0
        prev_role = -1
        pending = 0.0  # elapsed days (customer answer, handoff, nurture) still to pass
        try:
            while True:
                cur = s
                st = specs[s]
                attempt = attempts[s]
                attempts[s] = attempt + 1
                stage_layers = layers[s]
                layer = (stage_layers[attempt] if attempt < len(stage_layers)
                         else self._new_layer(channel, s))

                handoff = 0.0
                info_lost = False
                if prev_role >= 0 and prev_role != st.role:
                    handoff = layer.handoff_days[row]
                    info_lost = layer.u_info_loss[row] < st.info_loss_prob
                    pending += handoff
                if pending > 0:
                    yield pending
                    pending = 0.0

                enable = env.now
                pool = pools[s]
                rep = pool.request(i, grade, deal_value, proc)
                if rep is None:
                    leads.waiting_since[i] = enable
                    leads.waiting_stage[i] = s
                    leads.waiting_attempt[i] = attempt
                    rep = yield None
                    leads.waiting_since[i] = math.nan
                    if rep is None:  # went cold in the queue
                        gone = enable + self.max_wait
                        record((i, s, attempt, -1, enable, math.nan, math.nan, gone, COLD,
                                handoff, info_lost, 0.0))
                        self._close(i, LOST, gone, s, COLD_LOSS, owner_pools)
                        return
                    start = env.now
                else:
                    start = enable
                if first_start != first_start:  # NaN: first touch
                    first_start = leads.first_start[i] = start
                wait = start - enable
                work = layer.work_days[row]
                travel_cost = 0.0
                if st.visit:
                    travel = layer.travel_local_days if pool.local else layer.travel_wide_days
                    work += travel[row]
                    travel_cost = self.travel_cost[pool.local]
                if work > 0:
                    yield work
                    end = env.now
                else:
                    end = start
                pool.release(rep)
                customer = layer.customer_days[row]
                decision = end + customer

                p = st.p[grade]
                if 0.0 < p < 1.0:
                    x = st.logit[grade] + pool.effect[key] + cold_logit * wait
                    if info_lost:
                        x += st.info_loss_logit
                    p = 1.0 / (1.0 + math.exp(-x))
                prev_role = st.role
                pending = customer
                if layer.u_outcome[row] < p:
                    outcome = ADVANCED
                    s += 1
                else:
                    u = layer.u_route[row]
                    if u < st.rework_share:
                        outcome = REWORK
                        s = st.rework_to
                    elif u < st.nurture_until:
                        outcome = NURTURE
                        pending += layer.nurture_days[row]
                    else:
                        outcome = LOST_OUTCOME
                record((i, cur, attempt, rep.index, enable, start, end, decision, outcome,
                        handoff, info_lost, travel_cost))
                if outcome == LOST_OUTCOME or s == n_stages:
                    if pending > 0:
                        yield pending
                    if outcome == LOST_OUTCOME:
                        self._close(i, LOST, decision, cur, DECLINED, owner_pools)
                    else:
                        self._win(i, channel, row, decision, owner_pools)
                    return
        finally:
            del self._live[i]

    def _win(self, i: int, channel: int, row: int, when: float,
             owner_pools: list[RepPool]) -> None:
        pay = self.payments[channel]
        if pay.u_bad_debt[row] >= self.bad_debt:
            self.leads.paid_time[i] = when + pay.invoice_days[row] + pay.payment_days[row]
        self._close(i, WON, when, -1, NOT_LOST, owner_pools)

    def _close(self, i: int, status: int, when: float, stage: int, reason: int,
               owner_pools: list[RepPool]) -> None:
        leads = self.leads
        leads.status[i] = status
        leads.close_time[i] = when
        leads.lost_stage[i] = stage
        leads.lost_reason[i] = reason
        for pool in owner_pools:
            pool.forget(i)
        if leads.cohort[i]:
            self.open_cohort -= 1
            if self.open_cohort == 0 and self.arrivals_done:
                self._finish()

    def _close_stale_waits(self) -> None:
        """Leads still queued at the end whose wait passed the cold limit are lost then."""
        now = self.env.now
        leads = self.leads
        for i in range(leads.n):
            since = leads.waiting_since[i]
            if leads.status[i] == OPEN and since + self.max_wait <= now:
                s, attempt = leads.waiting_stage[i], leads.waiting_attempt[i]
                gone = since + self.max_wait
                self.events.extend((i, s, attempt, -1, since, math.nan, math.nan, gone, COLD,
                                    0.0, False, 0.0))
                cell = (leads.region[i], leads.product[i], leads.segment[i])
                _, owner_pools = self.cell_pools.get(cell) or self._pools_of(cell)
                self._close(i, LOST, gone, s, COLD_LOSS, owner_pools)


def _lead_table(channels: list[ChannelLeads], warmup_days: float) -> LeadTable:
    """All channels' leads in one table, in order of arrival."""
    times = np.concatenate([c.arrival_days for c in channels])
    order = np.argsort(times, kind="stable")
    chan = np.concatenate([np.full(len(c.arrival_days), i, dtype=np.int64)
                           for i, c in enumerate(channels)])
    rows = np.concatenate([np.arange(len(c.arrival_days), dtype=np.int64) for c in channels])
    attributes = {
        attr: np.concatenate([c.attributes[attr] for c in channels])[order]
        for attr in ATTRIBUTES
    }
    values = np.concatenate([c.deal_value for c in channels])
    return LeadTable(chan[order], rows[order], attributes, values[order], times[order],
                     warmup_days)


def simulate(scenario: Scenario, seed: int, replication: int) -> RawReplication:
    """Run replication ``replication`` of ``scenario`` with root seed ``seed``."""
    return Replication(scenario, seed, replication).run()
