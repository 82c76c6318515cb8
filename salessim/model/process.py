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
one SimPy timeout, and a free rep is taken without an event: the model does only the
event-loop work the process needs.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from salessim.model.draws import (
    ChannelLeads,
    PaymentDraws,
    StageLayer,
    generate_channel,
    payment_draws,
    stage_layer,
)
from salessim.model.leads import LOST, OPEN, WON, Lead
from salessim.model.organisation import build_organisation
from salessim.model.records import (
    ADVANCED,
    COLD,
    LOST_OUTCOME,
    NURTURE,
    REWORK,
    RawReplication,
)
from salessim.model.reps import Rep
from salessim.scenario.schema import Scenario


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
        self.layers: dict[tuple[int, int, int], StageLayer] = {}
        self.leads: list[Lead] = []
        self.events: list[tuple[Any, ...]] = []
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

    # ---- running -------------------------------------------------------------------

    def run(self) -> RawReplication:
        """Simulate until every counted lead is closed or the drain limit passes."""
        env = self.env
        env.process(self._arrivals())
        env.timeout(self.stop_day).callbacks.append(self._finish)
        env.run(until=self.done)
        self._close_stale_waits()
        return RawReplication.collect(self.replication, self.leads, self.events,
                                      self.reps, end_day=env.now)

    def _finish(self, _: object = None) -> None:
        if not self.done.triggered:
            self.done.succeed()

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        warmup = self.sc.calendar.warmup_days
        n_stages, n_roles = len(self.specs), len(self.sc.roles)
        times = np.concatenate([c.arrival_days for c in self.channels])
        chan = np.concatenate([np.full(len(c.arrival_days), i)
                               for i, c in enumerate(self.channels)])
        rows = np.concatenate([np.arange(len(c.arrival_days)) for c in self.channels])
        order = np.argsort(times, kind="stable")
        attrs = [
            {k: v.tolist() for k, v in c.attributes.items()} for c in self.channels
        ]
        values = [c.deal_value.tolist() for c in self.channels]
        for t, ch, row in zip(times[order].tolist(), chan[order].tolist(),
                              rows[order].tolist(), strict=True):
            if t > env.now:
                yield env.timeout(t - env.now)
            a = attrs[ch]
            lead = Lead(len(self.leads), ch, row, a["grade"][row], a["region"][row],
                        a["product"][row], a["segment"][row], values[ch][row], t,
                        t >= warmup, n_stages, n_roles)
            self.leads.append(lead)
            if lead.cohort:
                self.open_cohort += 1
            env.process(self._lead(lead))
        self.arrivals_done = True
        if self.open_cohort == 0:
            self._finish()

    def _layer(self, key: tuple[int, int, int]) -> StageLayer:
        ch, s, attempt = key
        layer = stage_layer(self.sc, self.sc.channels[ch], len(self.channels[ch].arrival_days),
                            self.sc.stages[s], attempt, self.seed, self.replication)
        self.layers[key] = layer
        return layer

    def _lead(self, lead: Lead) -> Generator[simpy.Event, Any, None]:
        env = self.env
        specs = self.specs
        n_stages = len(specs)
        routes = self.routes
        cell = (lead.region, lead.product, lead.segment)
        row = lead.row
        record = self.events.append
        s = 0
        prev_role = -1
        pending = 0.0  # elapsed days (customer answer, handoff, nurture) still to pass
        while True:
            cur = s
            st = specs[s]
            attempt = lead.attempts[s]
            lead.attempts[s] = attempt + 1
            key = (lead.channel, s, attempt)
            layer = self.layers.get(key) or self._layer(key)

            handoff = 0.0
            info_lost = False
            if prev_role >= 0 and prev_role != st.role:
                handoff = layer.handoff_days[row]
                info_lost = layer.u_info_loss[row] < st.info_loss_prob
                pending += handoff
            if pending > 0:
                yield env.timeout(pending)
                pending = 0.0

            enable = env.now
            pool = routes[st.role][cell]
            got = pool.request(lead, st.role)
            if got.__class__ is Rep:
                rep: Rep | None = got  # type: ignore[assignment]
            else:
                lead.waiting_since = enable
                rep = yield got
                lead.waiting_since = math.nan
            if rep is None:  # went cold in the queue
                gone = enable + self.max_wait
                record((lead.id, s, attempt, -1, enable, math.nan, math.nan, gone, COLD,
                        handoff, info_lost, 0.0))
                self._close(lead, LOST, gone, s, "cold")
                return
            start = env.now
            if lead.first_start != lead.first_start:  # NaN: first touch
                lead.first_start = start
            wait = start - enable
            work = layer.work_days[row]
            travel_cost = 0.0
            if st.visit:
                work += layer.travel_local_days[row] if pool.local else layer.travel_wide_days[row]
                travel_cost = self.travel_cost[pool.local]
            if work > 0:
                yield env.timeout(work)
            pool.release(rep)
            end = env.now
            customer = layer.customer_days[row]
            decision = end + customer

            p = st.p[lead.grade]
            if 0.0 < p < 1.0:
                x = st.logit[lead.grade] + pool.effect[lead.key] + self.cold_logit * wait
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
            record((lead.id, cur, attempt, rep.index, enable, start, end, decision, outcome,
                    handoff, info_lost, travel_cost))
            if outcome == LOST_OUTCOME or s == n_stages:
                if pending > 0:
                    yield env.timeout(pending)
                if outcome == LOST_OUTCOME:
                    self._close(lead, LOST, decision, cur, "declined")
                else:
                    self._win(lead, decision)
                return

    def _win(self, lead: Lead, when: float) -> None:
        pay = self.payments[lead.channel]
        if pay.u_bad_debt[lead.row] >= self.bad_debt:
            lead.paid_time = when + pay.invoice_days[lead.row] + pay.payment_days[lead.row]
        self._close(lead, WON, when, -1, "")

    def _close(self, lead: Lead, status: int, when: float, stage: int, reason: str) -> None:
        lead.status = status
        lead.close_time = when
        lead.lost_stage = stage
        lead.lost_reason = reason
        for rep in lead.owners:
            if rep is not None:
                rep.owned -= 1
        if lead.cohort:
            self.open_cohort -= 1
            if self.open_cohort == 0 and self.arrivals_done:
                self._finish()

    def _close_stale_waits(self) -> None:
        """Leads still queued at the end whose wait passed the cold limit are lost then."""
        now = self.env.now
        for lead in self.leads:
            if lead.status == OPEN and lead.waiting_since + self.max_wait <= now:
                s = max(i for i, n in enumerate(lead.attempts) if n)
                gone = lead.waiting_since + self.max_wait
                self.events.append((lead.id, s, lead.attempts[s] - 1, -1, lead.waiting_since,
                                    math.nan, math.nan, gone, COLD, 0.0, False, 0.0))
                self._close(lead, LOST, gone, s, "cold")


def simulate(scenario: Scenario, seed: int, replication: int) -> RawReplication:
    """Run replication ``replication`` of ``scenario`` with root seed ``seed``."""
    return Replication(scenario, seed, replication).run()
