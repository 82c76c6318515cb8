"""One replication of a scenario on SimPy: leads flow stage by stage through rep pools.

The life of a lead, for each attempt at a stage:

1. if the previous activity was done by another role, a handoff delay passes and
   information may be lost;
2. the lead waits for a rep of the stage's role in the team that covers it;
3. the rep works (effort plus travel on visits; longer for a rep still ramping up) and
   is then free;
4. on a stage with follow-ups, each follow-up falls due a gap later (no rep) and waits
   for the lead's rep again, who works it;
5. the customer takes time to answer (holds no rep), a "no" its own time where the
   stage says so (``decline_delay_days``);
6. the lead passes with its conversion probability (base by grade, moved in logit space
   by rep skill and ramp-up, team effects, waiting time and information loss) or fails
   and is reworked, nurtured or lost.

A replication can run in one go (``run``) or in rounds: ``start``, then ``advance`` to
a day, look at ``pipeline``, ``apply`` a changed scenario (headcounts, rules, efforts:
see ``salessim.model.changes``) and ``advance`` again; ``collect`` gives the raw output
so far or at the end. The same changes on the same days give the same numbers.

Elapsed delays that follow one another (customer answer, then handoff or nurture) are
one wait, and a free rep is taken without an event: the model does only the
event-loop work the process needs. Each lead's life is a generator driven by one
reusable SimPy event (``LeadProcess``) that is put back on the schedule for each wait,
rather than a ``simpy.Process`` with a new ``Timeout`` per wait; arrivals are one
reusable event too. The schedule, the clock and the order of simultaneous events are
SimPy's own.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from salessim.model.after_draws import made_lead_uniforms
from salessim.model.aftersale import AfterSaleModel
from salessim.model.changes import change_problems
from salessim.model.draws import (
    BLOCK_ROWS,
    ChannelLeads,
    Columns,
    FollowUpLayer,
    Keys,
    OneLead,
    PartLayer,
    PaymentDraws,
    StageLayer,
    channel_keys,
    follow_up_columns,
    follow_up_layer,
    generate_channel,
    made_keys,
    part_columns,
    part_layer,
    payment_draws,
    stage_columns,
    stage_layer,
)
from salessim.model.events import LeadLife, LeadProcess, Wakeup, WorkProcess
from salessim.model.leads import (
    AFTER_WORK,
    CLEARED,
    COLD_LOSS,
    DECLINED,
    IN_TRANSIT,
    LOST,
    NOT_LOST,
    OPEN,
    QUEUED,
    REFERRED,
    REPEAT,
    WON,
    WORKING,
    LeadTable,
)
from salessim.model.management import ManagementModel
from salessim.model.organisation import (
    TeamEffects,
    build_organisation,
    dispatch_of,
    travel_zones,
)
from salessim.model.records import (
    ADVANCED,
    COLD,
    EVENT_ROW,
    FOLLOW_UP,
    LOST_OUTCOME,
    NURTURE,
    REWORK,
    RawReplication,
)
from salessim.model.reps import Rep, RepPool
from salessim.model.reviews import ReviewModel
from salessim.model.staffing import Staff
from salessim.model.tuning import Tuning, tuning
from salessim.scenario.adjustments import FACETS, Facet
from salessim.scenario.errors import ScenarioError
from salessim.scenario.limits import ATTRIBUTES, MAX_ATTEMPTS_PER_STAGE
from salessim.scenario.management import Approval
from salessim.scenario.routing import joins
from salessim.scenario.schema import Scenario

PHASE_NAMES: tuple[str, ...] = ("in transit", "waiting for a rep", "with a rep",
                                "with the customer")
"""Names of where an open lead is within its stage (``Replication.pipeline``)."""


@dataclass(frozen=True)
class _StageSpec:
    """A stage reduced to what the event loop reads, with probabilities pre-transformed."""

    role: int
    p: tuple[float, ...]
    logit: tuple[float, ...]
    rework_to: int
    visit: bool
    info_loss_logit: float
    sla_days: float
    decline: bool
    """Whether a "no" takes the customer its own time (``Stage.decline_delay_days``)."""
    approval: Approval | None
    """Which deals the stage approves; the others pass it without an attempt."""


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
            rework_to=sc.stage_index(st.failure.rework_to) if st.failure.rework_to else i,
            visit=st.visit,
            info_loss_logit=handoff.info_loss_logit,
            sla_days=st.sla_days if st.sla_days is not None else math.inf,
            decline=st.decline_delay_days is not None,
            approval=st.approval,
        ))
    return specs


@dataclass(frozen=True)
class _Part:
    """One rep's share of a stage attempt.

    Attributes:
        pool: Where the rep comes from.
        joint: Index of the joining role in the stage's ``joint``, or -1 for the
            stage's own role.
        number: The part's number among parts of its kind (the lead's main part is the
            own role's number 0).
    """

    pool: RepPool
    joint: int
    number: int


Kind = tuple[int, int, int, int, int, int]
"""A kind of lead: (grade, region, product, segment, channel, deal-size band) indices."""


@dataclass(frozen=True)
class _Plan:
    """How the stages of leads of one kind (``Kind``) are worked.

    Attributes:
        parts: Per stage, the reps' shares; the first is the main part.
        roles: Per stage, the role indices working it (no handoff into a stage whose
            role worked the previous activity).
        effect: Per stage, the conversion effect (logit) of the teams working it and of
            the scenario's adjustments for such leads.
        owner_pools: Pools in owner assignment among all parts (to forget the lead).
        tune: The stage and payment parameters of such leads.
        names: The kind's value of each facet.
    """

    parts: list[tuple[_Part, ...]]
    roles: list[frozenset[int]]
    effect: list[float]
    owner_pools: list[RepPool]
    tune: Tuning
    names: dict[Facet, str]


@dataclass
class _Join:
    """The other reps of a joint attempt, while the lead's main rep works.

    Attributes:
        main: The lead's process, resumed when the last part is done.
        remaining: Parts not done yet.
        waiting: Whether the lead is waiting for them (its own work is done).
        abandoned: Whether the lead went cold; parts then record themselves.
        last_end: When the last part done so far ended (days).
        rows: Finished parts: (part number, rep index, enable, start, end, travel cost).
    """

    main: LeadProcess
    remaining: int
    waiting: bool = False
    abandoned: bool = False
    last_end: float = -math.inf
    rows: list[tuple[int, int, float, float, float, float]] = field(default_factory=list)


@dataclass(slots=True)
class _Touch:
    """One touch of a stage attempt, as it will be recorded (times in days).

    Attributes:
        rep: Index of the lead's rep who worked it.
        enable: When the lead became ready for the rep.
        start: When the rep started.
        end: When the rep's own work ended.
        number: 0 for the attempt's first work, 1, 2... for its follow-ups.
        handoff: Handoff days into the attempt (first touch only).
        travel_cost: Travel cost of a visit (first touch only).
        join: The other reps of joint work (first touch only).
    """

    rep: int
    enable: float
    start: float
    end: float
    number: int
    handoff: float
    travel_cost: float
    join: _Join | None


class Replication:
    """One replication of a scenario: ``run()`` it, or ``start()`` and ``advance`` in rounds."""

    def __init__(self, scenario: Scenario, seed: int, replication: int) -> None:
        self.sc = scenario
        self.seed = seed
        self.replication = replication
        self.env = simpy.Environment()
        self.reps, self.pools, self.routes = build_organisation(self.env, scenario)
        self.staff = Staff(self.env, self.reps, seed, replication)
        for pool in self.pools:
            self.staff.add_pool(pool, scenario.role(pool.role),
                                next(t for t in scenario.teams if t.name == pool.team
                                     ).reps[pool.role])
        # The channels' leads go into the lead table; not kept beside it for the run.
        channels: list[ChannelLeads] = [
            generate_channel(scenario, ch, seed, replication) for ch in scenario.channels
        ]
        self.sources: list[tuple[Keys, int]] = [
            (channel_keys(ch), len(leads.arrival_days))
            for ch, leads in zip(scenario.channels, channels, strict=True)]
        """Stream keys and rows of each source of draws: the channels, then the blocks of
        leads made during the run."""
        self.payments: list[PaymentDraws] = [
            payment_draws(scenario, keys, rows, seed, replication)
            for keys, rows in self.sources
        ] if scenario.after_sale is None else []
        """Payment draws by channel; with an after-sale part its invoices are paid instead."""
        self.leads = _lead_table(channels, scenario)
        self.layers: list[list[list[StageLayer]]] = [
            [[] for _ in scenario.stages] for _ in scenario.channels
        ]
        """Stage draws by [source][stage][attempt], each drawn when a lead first needs it."""
        self.plans: dict[Kind, _Plan] = {}
        """How leads of each kind are worked, built when the first such lead needs it."""
        self.part_layers: dict[tuple[int, int, int, int, int], PartLayer] = {}
        """Draws of the extra reps of joint work by (source, stage, attempt, kind,
        number), each drawn when first needed."""
        self.follow_up_layers: dict[tuple[int, int, int, int], FollowUpLayer] = {}
        """Draws of follow-ups by (source, stage, attempt, touch), each drawn when first
        needed."""
        self.after = AfterSaleModel(self) if scenario.after_sale is not None else None
        """The after-sale part, for a scenario that has one."""
        self.management = (ManagementModel(scenario, self.reps, self.leads.deal_value)
                           if scenario.management is not None else None)
        """Targets, credit, discounts and the reps' response, for a scenario with a plan."""
        self.reviews = (ReviewModel(self, self.management) if self.management is not None
                        and self.management.plan.reviews is not None else None)
        """The managers' pipeline reviews, for a plan that holds them."""
        self._made: dict[Keys, tuple[int, NDArray[np.float64]]] = {}
        """Sources of leads made during the run: keys -> (source index, the uniforms of
        their attributes and deal values)."""
        self.events = bytearray()
        """Activity records, packed one after another by ``EVENT_ROW`` (74 bytes each,
        where a list would hold 14 pointers and as many number objects)."""
        self.open_cohort = 0
        self.arrivals_done = False
        self.done = self.env.event()
        cal = scenario.calendar
        self.stop_day = cal.horizon_days + cal.drain_limit_days
        self._rules(scenario)
        self._arrival = Wakeup(self.env, self._arrive)
        self._next_arrival = 0
        self._live: dict[int, LeadProcess] = {}
        """Processes of the leads whose generator has not ended, by lead id."""
        self._parts: set[WorkProcess] = set()
        """Processes of extra reps' work not ended yet."""
        self._stop: simpy.Event | None = None

    def _rules(self, sc: Scenario) -> None:
        """Read the parameters the event loop uses from the scenario."""
        self.specs = _specs(sc)
        cold = sc.going_cold
        self.cold_logit = cold.logit_per_day
        self.max_wait = cold.max_wait_days if cold.max_wait_days is not None else math.inf
        self.roles = [r.name for r in sc.roles]
        self._one_lead = OneLead(sc)
        self._columns: dict[int, Columns] = {}
        """Each stage's ``stage_columns``, made when a layer of it is first drawn."""

    # ---- running -------------------------------------------------------------------

    def run(self) -> RawReplication:
        """Simulate until every counted lead is closed or the drain limit passes."""
        self.start()
        return self.finish()

    def finish(self) -> RawReplication:
        """Simulate to the end from where the run is, then return its tables."""
        self.advance(math.inf)
        # The run is over: its draws can go before the tables are built, which is when
        # a replication holds the most. The leads still open hold their source's layers
        # in their generators' frames, so those generators are ended first.
        for proc in [*self._live.values(), *self._parts]:
            proc.stop()
        self.layers.clear()
        self.part_layers.clear()
        self.follow_up_layers.clear()
        return self.collect(consume_events=True)

    def start(self) -> None:
        """Book the first arrival, the end of the run and the staffing plans."""
        env = self.env
        if self.leads.n:
            self._arrival.after(self.leads.arrival[0] - env.now)
        else:
            self._arrivals_over()
        self._stop = env.timeout(self.stop_day)
        self._stop.callbacks.append(self._finish)
        self.staff.start(self.sc)
        if self.reviews is not None:
            self.reviews.start()

    @property
    def finished(self) -> bool:
        """Whether every counted lead is closed or the drain limit has passed."""
        return bool(self.done.triggered)

    @property
    def now(self) -> float:
        """The simulation clock (days)."""
        return float(self.env.now)

    def advance(self, until_day: float) -> None:
        """Simulate up to ``until_day`` (days), or until the run is finished."""
        if self.finished or until_day <= self.env.now:
            return
        with _rare_collections():
            if math.isinf(until_day):
                self.env.run(until=self.done)
                return
            pause = self.env.timeout(until_day - self.env.now)
            self.env.run(until=simpy.AnyOf(self.env, [self.done, pause]))

    def apply(self, scenario: Scenario, source: str = "<change>") -> None:
        """Let ``scenario``'s rules hold from now on (the run's shape stays as it is).

        Args:
            scenario: The changed scenario; only what ``salessim.model.changes`` allows
                may differ from the current one.
            source: Names the change in error messages.

        Raises:
            ScenarioError: Naming each key path that cannot change during a run.
        """
        problems = change_problems(self.sc, scenario)
        if problems:
            raise ScenarioError(source, problems)
        before, self.sc = self.sc, scenario
        self._rules(scenario)
        teams = {t.name: t for t in scenario.teams}
        zones = travel_zones(scenario)
        for pool in self.pools:
            role = scenario.role(pool.role)
            team = teams[pool.team]
            pool.reconfigure(owner=role.assignment == "owner",
                             dispatch=dispatch_of(scenario, pool.role),
                             max_wait_days=scenario.going_cold.max_wait_days,
                             travel_cost=zones[pool.travel].cost if pool.travel >= 0 else 0.0,
                             effect=TeamEffects(scenario, team, team.reps[pool.role].skill_logit),
                             max_open=role.max_open_deals)
        self.plans.clear()
        self.staff.apply(before, scenario)
        for channel_layers in self.layers:
            for stage, layers in zip(scenario.stages, channel_layers, strict=True):
                for layer in layers:
                    layer.convert(stage_columns(scenario, stage))
        for (_, stage_index, _, joint, _), part in self.part_layers.items():
            part.convert(part_columns(scenario, scenario.stages[stage_index], joint))
        for (_, stage_index, _, _), touch in self.follow_up_layers.items():
            # A stage that drops its follow-ups keeps the old draws for touches under way.
            if scenario.stages[stage_index].follow_ups is not None:
                touch.convert(follow_up_columns(scenario, scenario.stages[stage_index]))
        self.payments = [payment_draws(scenario, keys, rows, self.seed, self.replication)
                         for keys, rows in self.sources[:len(self.payments)]]

    def collect(self, *, consume_events: bool = False) -> RawReplication:
        """The raw output so far (leads still in progress are open), or at the end.

        Args:
            consume_events: Let the activity records go as they are converted (a
                finished run, collected once).
        """
        if self.finished:
            self._close_stale_waits()
        for pool in self.pools:
            pool.count_books()
        raw = RawReplication.collect(self.replication, self.leads, self.events,
                                     self.reps, end_day=self.env.now,
                                     arrived=self._next_arrival,
                                     book_waiters={i for p in self.pools
                                                   for i in p.book_waiters},
                                     after_sale=(self.after.tables(self.env.now)
                                                 if self.after is not None else None),
                                     management=self._management_tables(),
                                     consume_events=consume_events)
        if self.finished:
            self._unlink()
        return raw

    def _management_tables(self) -> dict[str, dict[str, NDArray[np.generic]]] | None:
        if self.management is None:
            return None
        tables = self.management.tables()
        if self.reviews is not None:
            tables.update(self.reviews.tables())
        return tables

    def pipeline(self) -> dict[str, Any]:
        """Where the open leads are now, and how busy each pool is.

        Returns:
            ``stages`` (names), ``phases`` (``PHASE_NAMES``), ``leads`` (open leads
            by [stage][phase]; leads not yet at their first stage count under the
            first), and ``pools``: per pool its ``team``, ``role``, ``reps``, ``busy``
            and ``queue``.
        """
        L = self.leads
        now = self.env.now
        counts = [[0] * len(PHASE_NAMES) for _ in self.sc.stages]
        for i in [*range(self._next_arrival), *range(L.drawn, L.n)]:
            if L.status[i] != OPEN:
                continue
            phase = L.phase_now[i]
            if phase == AFTER_WORK:
                phase = 3 if now < L.answer_time[i] else 0
            counts[max(L.stage_now[i], 0)][phase] += 1
        return {
            "stages": [s.name for s in self.sc.stages],
            "phases": list(PHASE_NAMES),
            "leads": counts,
            "pools": [{"team": p.team, "role": p.role, "reps": len(p.reps),
                       "busy": len(p.reps) - len(p.idle()), "queue": p.queue_length()}
                      for p in self.pools],
        }

    def _unlink(self) -> None:
        """End the leads still waiting and drop the schedule's references to this model.

        Without this, generators and callbacks left on SimPy's schedule would keep the
        replication's draws in reference cycles until a full garbage collection; with
        it, they are freed as soon as the replication is dropped.
        """
        for proc in [*self._live.values(), *self._parts]:
            proc.stop()
        if self._stop is not None and self._stop.callbacks is not None:
            self._stop.callbacks.remove(self._finish)
        self._arrival.cancel()
        self.staff.stop()
        if self.after is not None:
            self.after.stop()
        if self.reviews is not None:
            self.reviews.stop()
    def _finish(self, _: object = None) -> None:
        if not self.done.triggered:
            self.done.succeed()

    def _all_closed(self) -> None:
        """Every counted lead is closed and none will come: finish, not before the horizon.

        Salaries, staffing and utilisation then cover the whole measurement window.
        """
        left = self.sc.calendar.horizon_days - self.env.now
        if left <= 0:
            self._finish()
        else:
            self.env.timeout(left).callbacks.append(self._finish)

    def _arrive(self, _: simpy.Event) -> None:
        """Leads due now arrive; the next arrival is booked; their processes start."""
        env = self.env
        now = env.now
        times = self.leads.arrival
        cohort = self.leads.cohort
        drawn = self.leads.drawn  # leads made during the run follow, already started
        k = first = self._next_arrival
        while k < drawn and times[k] <= now:
            if cohort[k]:
                self.open_cohort += 1
            k += 1
        self._next_arrival = k
        if k < drawn:
            self._arrival.after(times[k] - now)
        else:
            self._arrivals_over()
        for i in range(first, k):
            proc = self._live[i] = LeadProcess(env)
            proc.start(self._lead(i, proc))

    def _arrivals_over(self) -> None:
        if self.after is not None and self.env.now < self.sc.calendar.horizon_days:
            # Customers may bring leads until the horizon.
            self.env.timeout(self.sc.calendar.horizon_days - self.env.now).callbacks.append(
                lambda _: self._arrivals_over())
            return
        self.arrivals_done = True
        if self.open_cohort == 0:
            self._all_closed()

    def _new_layer(self, source: int, stage: int) -> StageLayer:
        """Draw the next attempt's layer of (source, stage)."""
        layers = self.layers[source][stage]
        keys, rows = self.sources[source]
        columns = self._columns.get(stage)
        if columns is None:
            columns = self._columns[stage] = stage_columns(self.sc, self.sc.stages[stage])
        layer = stage_layer(self.sc, keys, rows, self.sc.stages[stage], len(layers),
                            self.seed, self.replication, columns)
        layers.append(layer)
        return layer

    def _plan(self, kind: Kind) -> _Plan:
        """Build (and keep) how leads of this kind are worked, stage by stage."""
        sc = self.sc
        key = kind[:4]
        cell = kind[1:4]
        # Without deal-size bands every lead is in band 0, which no adjustment names.
        names: dict[Facet, str] = {
            facet: (sc.facet_values(facet) or ("",))[k]
            for facet, k in zip(FACETS, kind, strict=True)}
        parts, roles, effects = [], [], []
        for st in sc.stages:
            own = self.routes.serving(st.role, cell)
            stage_parts = [_Part(pool, -1, n) for n, pool in enumerate(own)]
            stage_roles = {self.roles.index(st.role)}
            joined = False
            for j, jw in enumerate(st.joint):
                if joins(names, jw.when):
                    joined = True
                    stage_roles.add(self.roles.index(jw.role))
                    stage_parts += [_Part(pool, j, n)
                                    for n, pool in enumerate(self.routes.serving(jw.role, cell))]
            parts.append(tuple(stage_parts))
            roles.append(frozenset(stage_roles))
            effects.append(self._effect(st.role, key, own) + (st.joint_logit if joined else 0.0))
        owner_pools = [p for p in dict.fromkeys(part.pool for ps in parts for part in ps)
                       if p.owner]
        tune = tuning(sc, names)
        effects = [e + t for e, t in zip(effects, tune.logit, strict=True)]
        plan = self.plans[kind] = _Plan(parts, roles, effects, owner_pools, tune, names)
        return plan

    def _effect(self, role: str, key: tuple[int, int, int, int],
                own: tuple[RepPool, ...]) -> float:
        """Conversion effect (logit) of the teams of a role working a lead.

        Product teams working a bundle together each bring their effect on their own
        product; the lead gets the mean over the bundle's products.
        """
        if len(own) == 1:
            return own[0].effect[key]
        grade, region, product, segment = key
        products = self.sc.values_of("product")
        effects = []
        for component in self.sc.components(products[product]):
            c = products.index(component)
            pool = self.routes.serving(role, (region, c, segment))[0]
            effects.append(pool.effect[grade, region, c, segment])
        return fmean(effects)

    def _lead(self, i: int, proc: LeadProcess) -> LeadLife:
        """The life of lead ``i``: stage by stage until it is won or lost."""
        env = self.env
        n_stages = len(self.specs)
        leads = self.leads
        channel, row, grade = leads.channel[i], leads.row[i], leads.grade[i]
        deal_value = leads.deal_value[i]
        key = (grade, leads.region[i], leads.product[i], leads.segment[i], channel,
               leads.band[i])
        source = leads.source[i]
        layers = self.layers[source]
        attempts = [0] * n_stages
        add, row_bytes = self.events.extend, EVENT_ROW.pack
        stage_now, phase_now = leads.stage_now, leads.phase_now
        first_start = math.nan
        s = leads.entry[i]
        prev_roles: frozenset[int] = frozenset()
        pending = 0.0  # elapsed days (customer answer, handoff, nurture) still to pass
        mgmt = self.management
        try:
            while True:
                # Rules and plans are read at each attempt: they may change between rounds.
                st = self.specs[s]
                plan = self.plans.get(key) or self._plan(key)
                if st.approval is not None and not self._needs_approval(i, st.approval):
                    s += 1  # not a deal this stage approves
                    if s < n_stages:
                        continue
                    yield from self._won_after(i, source, row, env.now + pending, pending,
                                               plan.tune)
                    return
                tune = plan.tune
                parts = plan.parts[s]
                cur = s
                attempt = attempts[s]
                if attempt >= MAX_ATTEMPTS_PER_STAGE:
                    raise RuntimeError(_endless(self.sc, i, s))
                attempts[s] = attempt + 1
                stage_now[i] = s
                phase_now[i] = IN_TRANSIT
                stage_layers = layers[s]
                layer = (stage_layers[attempt] if attempt < len(stage_layers)
                         else self._new_layer(source, s))

                handoff = 0.0
                info_lost = False
                if prev_roles and st.role not in prev_roles:
                    handoff = layer.handoff_days[row] * tune.handoff[s]
                    info_lost = layer.u_info_loss[row] < tune.info_loss_prob[s]
                    pending += handoff
                if pending > 0:
                    yield pending
                    pending = 0.0
                if mgmt is not None:
                    mgmt.parked.pop(i, None)  # out of nurture, if it was there

                enable = env.now
                deadline = enable + st.sla_days
                join = (None if len(parts) == 1 else
                        self._start_parts(i, row, s, attempt, parts, deadline,
                                          tune.effort[s]))
                pool = parts[0].pool
                rep = pool.request(i, grade, deal_value, deadline, proc)
                if rep is None:
                    rep = yield from self._queue(i, s, attempt, 0, enable)
                    if rep is None:  # went cold in the queue
                        if join is not None:
                            join.abandoned = True
                        self._lost_cold(i, s, attempt, 0, enable, handoff, info_lost)
                        return
                    start = env.now
                else:
                    start = enable
                phase_now[i] = WORKING
                if mgmt is not None:
                    mgmt.worked(i, rep)
                if first_start != first_start:  # NaN: first touch
                    first_start = leads.first_start[i] = start
                wait = start - enable
                work = layer.work_days[row] * tune.effort[s] * rep.pace
                travel_cost = 0.0
                if st.visit and pool.travel >= 0:
                    work += layer.travel_days[pool.travel][row]
                    travel_cost = pool.travel_cost
                ramping = rep.ramp_until > start
                if ramping:
                    work *= 1.0 + rep.ramp_effort * rep.ramp_share(start)
                if work > 0:
                    yield work
                    end = env.now
                else:
                    end = start
                pool.release(rep)
                last_end = end
                if join is not None:
                    if join.remaining:
                        join.waiting = True
                        yield None  # resumed by the last colleague to finish
                    last_end = max(end, join.last_end)
                last = None
                if tune.follow_ups[s]:
                    last = _Touch(rep.index, enable, start, end, 0, handoff, travel_cost, join)
                    waited = yield from self._follow_ups(i, s, attempt, tune, pool, last,
                                                         last_end, info_lost, proc)
                    if waited is None:  # went cold waiting for a follow-up
                        return
                    wait += waited
                    last_end = last.end
                plan_logit, plan_delay = (0.0, 1.0) if mgmt is None else mgmt.decision(
                    i, s, last_end, plan.names)
                p = st.p[grade]
                if 0.0 < p < 1.0:
                    x = st.logit[grade] + plan.effect[s] + rep.skill + self.cold_logit * wait
                    if plan_logit:
                        x += plan_logit
                    if info_lost:
                        x += st.info_loss_logit
                    if ramping:
                        x += rep.ramp_logit * rep.ramp_share(start)
                    p = 1.0 / (1.0 + math.exp(-x))
                passes = layer.u_outcome[row] < p
                # The same uniform either way: a "no" comes as late, relative to its own
                # distribution, as a "yes" would have.
                customer = (layer.decline_days[row] if st.decline and not passes
                            else layer.customer_days[row]) * tune.delay[s]
                if plan_delay != 1.0:
                    customer *= plan_delay
                decision = last_end + customer
                phase_now[i] = AFTER_WORK
                leads.answer_time[i] = decision
                prev_roles = plan.roles[s]
                pending = customer
                if passes:
                    outcome = ADVANCED
                    s += 1
                else:
                    u = layer.u_route[row]
                    if u < tune.rework_share[s]:
                        outcome = REWORK
                        s = st.rework_to
                    elif u < tune.nurture_until[s]:
                        outcome = NURTURE
                        pending += layer.nurture_days[row]
                        if mgmt is not None:
                            mgmt.park(i, decision)
                    else:
                        outcome = LOST_OUTCOME
                if last is None:  # written out: the common case, once per attempt
                    add(row_bytes(i, cur, attempt, rep.index, enable, start, end, decision,
                                  outcome, handoff, info_lost, travel_cost, 0, 0))
                    if join is not None:
                        self._record_parts(i, cur, attempt, 0, join, decision, outcome,
                                           handoff, info_lost)
                else:
                    self._record(i, cur, attempt, last, decision, outcome, info_lost)
                if outcome == LOST_OUTCOME:
                    if pending > 0:
                        yield pending
                    self._close(i, LOST, decision, cur, DECLINED)
                    return
                if s == n_stages:
                    yield from self._won_after(i, source, row, decision, pending, tune)
                    return
        finally:
            del self._live[i]

    def _queue(self, i: int, stage: int, attempt: int, touch: int, enable: float
               ) -> Generator[None, Rep | None, Rep | None]:
        """Wait in the queue of the rep asked for: the rep, or None if the lead went cold."""
        leads = self.leads
        leads.phase_now[i] = QUEUED
        leads.waiting_since[i] = enable
        leads.waiting_stage[i] = stage
        leads.waiting_attempt[i] = attempt
        leads.waiting_touch[i] = touch
        rep = yield None
        leads.waiting_since[i] = math.nan
        return rep

    def _lost_cold(self, i: int, stage: int, attempt: int, touch: int, enable: float,
                   handoff: float, info_lost: bool) -> None:
        """Record and close a lead that waited past the cold limit from ``enable`` (days)."""
        gone = enable + self.max_wait
        self.events.extend(EVENT_ROW.pack(i, stage, attempt, -1, enable, math.nan, math.nan,
                                          gone, COLD, handoff, info_lost, 0.0, 0, touch))
        self._close(i, LOST, gone, stage, COLD_LOSS)

    def _record(self, i: int, stage: int, attempt: int, touch: _Touch, decision: float,
                outcome: int, info_lost: bool) -> None:
        """Record a touch of an attempt: its rep's row, and its joint reps' rows."""
        self.events.extend(EVENT_ROW.pack(
            i, stage, attempt, touch.rep, touch.enable, touch.start, touch.end, decision,
            outcome, touch.handoff, info_lost, touch.travel_cost, 0, touch.number))
        if touch.join is not None:
            self._record_parts(i, stage, attempt, touch.number, touch.join, decision, outcome,
                               touch.handoff, info_lost)

    def _record_parts(self, i: int, stage: int, attempt: int, touch: int, join: _Join,
                      decision: float, outcome: int, handoff: float, info_lost: bool) -> None:
        """Record the rows of the other reps of a joint touch."""
        add, row_bytes = self.events.extend, EVENT_ROW.pack
        for number, rep_index, p_enable, p_start, p_end, p_cost in join.rows:
            add(row_bytes(i, stage, attempt, rep_index, p_enable, p_start, p_end, decision,
                          outcome, handoff, info_lost, p_cost, number, touch))

    def _follow_ups(self, i: int, s: int, attempt: int, tune: Tuning, pool: RepPool,
                    last: _Touch, last_end: float, info_lost: bool, proc: LeadProcess
                    ) -> Generator[float | None, Rep | None, float | None]:
        """The follow-ups of an attempt after its first touch ``last``, updated in place.

        Each follow-up waits a gap (no rep), then for the lead's rep, who works it. The
        touch before each gap is recorded when the gap is known; ``last`` ends as the
        final touch, which the caller records with the attempt's outcome.

        Returns:
            Days waited for a rep over the follow-ups, or None if the lead went cold.
        """
        env = self.env
        leads = self.leads
        source, row = leads.source[i], leads.row[i]
        stage = self.specs[s]
        waited = 0.0
        for number in range(1, tune.follow_ups[s] + 1):
            layer = self._follow_up_layer(source, s, attempt, number)
            due = last_end + layer.gap_days[row] * tune.delay[s]
            self._record(i, s, attempt, last, due, FOLLOW_UP, info_lost)
            leads.phase_now[i] = AFTER_WORK
            leads.answer_time[i] = due
            if due > env.now:
                yield due - env.now
            enable = env.now
            rep = pool.request(i, leads.grade[i], leads.deal_value[i],
                               enable + stage.sla_days, proc)
            if rep is None:
                rep = yield from self._queue(i, s, attempt, number, enable)
                if rep is None:
                    self._lost_cold(i, s, attempt, number, enable, 0.0, info_lost)
                    return None
            start = env.now
            leads.phase_now[i] = WORKING
            work = layer.work_days[row] * tune.effort[s] * rep.pace
            if rep.ramp_until > start:
                work *= 1.0 + rep.ramp_effort * rep.ramp_share(start)
            if work > 0:
                yield work
            pool.release(rep)
            waited += start - enable
            last_end = env.now
            last.rep, last.enable, last.start, last.end = rep.index, enable, start, last_end
            last.number, last.handoff, last.travel_cost, last.join = number, 0.0, 0.0, None
        return waited

    def _follow_up_layer(self, source: int, stage: int, attempt: int, touch: int
                         ) -> FollowUpLayer:
        key = (source, stage, attempt, touch)
        layer = self.follow_up_layers.get(key)
        if layer is None:
            sc = self.sc
            layer = self.follow_up_layers[key] = follow_up_layer(
                sc, *self.sources[source], sc.stages[stage], attempt, touch, self.seed,
                self.replication)
        return layer

    def _start_parts(self, i: int, row: int, stage: int, attempt: int,
                     parts: tuple[_Part, ...], deadline: float, effort_scale: float) -> _Join:
        """Set the other reps of a joint attempt to work; the lead's part is its own.

        ``effort_scale`` is the stage's adjustment of effort for this lead.
        """
        join = _Join(main=self._live[i], remaining=len(parts) - 1)
        for k, part in enumerate(parts[1:], start=1):
            proc = WorkProcess(self.env)
            self._parts.add(proc)
            proc.start(self._part(i, row, stage, attempt, k, part, deadline, join, proc,
                                  effort_scale))
        return join

    def _part(self, i: int, row: int, stage: int, attempt: int, number: int, part: _Part,
              deadline: float, join: _Join, proc: WorkProcess, effort_scale: float
              ) -> LeadLife:
        """One extra rep's work on a joint attempt: wait for the rep, work, report."""
        env = self.env
        leads = self.leads
        source = leads.source[i]
        try:
            layer = self._part_layer(source, stage, attempt, part.joint, part.number)
            enable = env.now
            pool = part.pool
            rep = pool.request(i, leads.grade[i], leads.deal_value[i], deadline, proc)
            if rep is None:
                rep = yield None  # a colleague's task never goes cold
                assert rep is not None
            start = env.now
            work = layer.work_days[row] * effort_scale * rep.pace
            cost = 0.0
            if self.specs[stage].visit and pool.travel >= 0:
                work += layer.travel_days[pool.travel][row]
                cost = pool.travel_cost
            if rep.ramp_until > start:
                work *= 1.0 + rep.ramp_effort * rep.ramp_share(start)
            if work > 0:
                yield work
            end = env.now
            pool.release(rep)
            if join.abandoned:  # the lead went cold meanwhile: the work is on record
                self.events.extend(EVENT_ROW.pack(i, stage, attempt, rep.index, enable, start,
                                                  end, end, COLD, 0.0, False, cost, number, 0))
                return
            join.rows.append((number, rep.index, enable, start, end, cost))
            join.last_end = max(join.last_end, end)
            join.remaining -= 1
            if join.remaining == 0 and join.waiting:
                join.main.resume(None)
        finally:
            self._parts.discard(proc)

    def _part_layer(self, source: int, stage: int, attempt: int, joint: int, number: int
                    ) -> PartLayer:
        key = (source, stage, attempt, joint, number)
        layer = self.part_layers.get(key)
        if layer is None:
            sc = self.sc
            layer = self.part_layers[key] = part_layer(
                sc, *self.sources[source], sc.stages[stage], attempt, joint, number,
                self.seed, self.replication)
        return layer

    def _needs_approval(self, i: int, approval: Approval) -> bool:
        """Whether lead ``i``'s deal, as it stands, is one ``approval`` covers."""
        mgmt = self.management
        discount = mgmt.discount.get(i, 0.0) if mgmt is not None else 0.0
        return approval.covers(discount, self.leads.deal_value[i])

    def _won_after(self, i: int, source: int, row: int, decision: float, pending: float,
                   tune: Tuning) -> LeadLife:
        """Close lead ``i`` as won on ``decision``, ``pending`` days from now (later if held)."""
        if self.management is not None:
            held = self.management.hold_until(i, decision)
            pending += held - decision
            decision = held
        if pending > 0:
            yield pending
        self._win(i, source, row, decision, tune)

    def _win(self, i: int, source: int, row: int, when: float, tune: Tuning) -> None:
        if self.after is not None:
            self.after.won(i)
        else:
            pay = self.payments[source]
            if pay.u_bad_debt[row] >= tune.bad_debt:
                self.leads.payment_days[i] = (pay.invoice_days[row] * tune.invoice
                                              + pay.payment_days[row] * tune.payment)
        if self.management is not None:
            self.management.won(i, when, self.leads.payment_days[i])
        self._close(i, WON, when, -1, NOT_LOST)

    def paid(self, i: int, amount: float) -> None:
        """An invoice of lead ``i`` of ``amount`` was paid now (the after-sale part)."""
        if self.management is not None:
            self.management.paid(i, amount, self.env.now)

    def delivered(self, i: int, score: float) -> None:
        """Lead ``i``'s order was delivered now to a customer at ``score`` (0 to 10)."""
        if self.management is not None:
            self.management.delivered(i, score, self.env.now)

    def _close(self, i: int, status: int, when: float, stage: int, reason: int) -> None:
        leads = self.leads
        if self.management is not None:
            self.management.closed(i)
        leads.status[i] = status
        leads.close_time[i] = when
        leads.lost_stage[i] = stage
        leads.lost_reason[i] = reason
        key = (leads.grade[i], leads.region[i], leads.product[i], leads.segment[i],
               leads.channel[i], leads.band[i])
        for pool in (self.plans.get(key) or self._plan(key)).owner_pools:
            pool.forget(i)
        if status == LOST and leads.customer[i] >= 0 and self.after is not None:
            self.after.lost(i)
        if leads.cohort[i]:
            self.settle()

    def clear(self, i: int) -> None:
        """Close lead ``i`` now as lost: cleared at a pipeline review while in nurture."""
        proc = self._live[i]
        proc.cancel()  # its wake-up from nurture is on the schedule: it must do nothing
        proc.stop()
        self._close(i, LOST, self.env.now, self.leads.stage_now[i], CLEARED)

    # ---- what the after-sale part asks of the replication ---------------------------

    def hold(self) -> None:
        """One more counted order to wait for before the run may end."""
        self.open_cohort += 1

    def settle(self) -> None:
        """A counted lead closed or a counted order settled: finish if it was the last."""
        self.open_cohort -= 1
        if self.open_cohort == 0 and self.arrivals_done:
            self._all_closed()

    def pool_for(self, role: str, lead: int) -> RepPool:
        """The pool of ``role`` serving leads of lead ``lead``'s region, product, segment."""
        L = self.leads
        return self.routes.serving(role, (L.region[lead], L.product[lead], L.segment[lead]))[0]

    def source_of(self, lead: int) -> tuple[Keys, int]:
        """Stream keys and rows of the source of lead ``lead``'s draws."""
        return self.sources[self.leads.source[lead]]

    def tuning_of(self, lead: int) -> Tuning:
        """The parameters of lead ``lead``'s kind."""
        L = self.leads
        key = (L.grade[lead], L.region[lead], L.product[lead], L.segment[lead],
               L.channel[lead], L.band[lead])
        return (self.plans.get(key) or self._plan(key)).tune

    def make_lead(self, channel: int, attributes: dict[str, int] | None, stage: int,
                  customer: int, value_scale: float, parent: int, number: int) -> None:
        """A lead made now (a repeat opportunity or a referral) starts its life.

        Args:
            channel: Its channel.
            attributes: Its attribute indices; None draws them from the channel's mix.
            stage: The stage it starts at.
            customer: The customer a repeat opportunity is for (-1 for a referral).
            value_scale: Factor on its deal value.
            parent: The lead that made the customer bringing it.
            number: It is the ``number``-th lead of its kind that customer brings.
        """
        leads, sc = self.leads, self.sc
        kind = REPEAT if customer >= 0 else REFERRED
        parent_keys, _ = self.sources[leads.source[parent]]
        keys = made_keys(parent_keys, leads.row[parent], kind, number)
        row = leads.row[parent] % BLOCK_ROWS
        known = self._made.get(keys)
        if known is None:
            self.sources.append((keys, BLOCK_ROWS))
            self.layers.append([[] for _ in sc.stages])
            known = self._made[keys] = (len(self.sources) - 1,
                                        made_lead_uniforms(keys, self.seed, self.replication))
        source, uniforms = known
        u = uniforms[row].tolist()
        one = self._one_lead
        if attributes is None:
            attributes = {attr: one.attribute(channel, attr, u[k])
                          for k, attr in enumerate(ATTRIBUTES)}
        value = one.deal_value(attributes, u[4]) * value_scale
        now = self.env.now
        cohort = sc.calendar.warmup_days <= now < sc.calendar.horizon_days
        i = leads.add(channel, source, row, attributes, value, one.band(value), now, cohort,
                      stage, customer)
        if cohort:
            self.open_cohort += 1
        proc = self._live[i] = LeadProcess(self.env)
        proc.start(self._lead(i, proc))

    def _close_stale_waits(self) -> None:
        """Leads still queued at the end whose wait passed the cold limit are lost then."""
        now = self.env.now
        leads = self.leads
        for i in range(leads.n):
            since = leads.waiting_since[i]
            if leads.status[i] == OPEN and since + self.max_wait <= now:
                self._lost_cold(i, leads.waiting_stage[i], leads.waiting_attempt[i],
                                leads.waiting_touch[i], since, 0.0, False)


YOUNG_THRESHOLD = 50_000
"""Allocations between young garbage collections while the event loop runs."""


class _RareCollections:
    """Collect young garbage every ``YOUNG_THRESHOLD`` allocations, not 700, meanwhile.

    The event loop makes next to no reference cycles (a finished lead's process holds
    none), but many containers that live for a while: queued tasks, lead and after-sale
    generators, orders and invoices. At the default threshold the collector ran about
    400 times in a lifecycle replication, scanning those survivors each time, for 10-15 %
    of its time. Garbage without cycles is still freed at once by reference counting, so
    this holds back at most ``YOUNG_THRESHOLD`` objects of cyclic garbage.

    The threshold is the process's, so replications running at once in threads share
    one raised setting: the first to start raises it, the last to end restores the
    caller's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._saved: tuple[int, int, int] = gc.get_threshold()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._saved = gc.get_threshold()
                gc.set_threshold(max(self._saved[0], YOUNG_THRESHOLD), *self._saved[1:])
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    gc.set_threshold(*self._saved)


_rare_collections = _RareCollections()


def _lead_table(channels: list[ChannelLeads], sc: Scenario) -> LeadTable:
    """All channels' leads in one table, in order of arrival, with their deal-size bands."""
    times = np.concatenate([c.arrival_days for c in channels])
    order = np.argsort(times, kind="stable")
    chan = np.concatenate([np.full(len(c.arrival_days), i, dtype=np.int64)
                           for i, c in enumerate(channels)])
    rows = np.concatenate([np.arange(len(c.arrival_days), dtype=np.int64) for c in channels])
    attributes: dict[str, NDArray[np.int64]] = {
        attr: np.concatenate([c.attributes[attr] for c in channels])[order]
        for attr in ATTRIBUTES
    }
    values = np.concatenate([c.deal_value for c in channels])[order]
    return LeadTable(chan[order], rows[order], attributes, values, times[order],
                     sc.calendar.warmup_days, _bands(sc, values))


def _bands(sc: Scenario, values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Deal-size band indices of deal values (0 without bands)."""
    bands = sc.deal_value.band_names()
    bounds = np.array([sc.deal_value.bands[b] for b in bands])
    band = (np.searchsorted(bounds, values, side="right") - 1 if bands
            else np.zeros(len(values), dtype=np.int64))
    return band.astype(np.int64)


def _endless(sc: Scenario, lead: int, stage: int) -> str:
    """Why a replication stops: a lead's rework or nurture loop does not end."""
    name = sc.stages[stage].name
    return (f"lead {lead} attempted stage {name!r} {MAX_ATTEMPTS_PER_STAGE:,} times: its "
            f"rework or nurture loop does not end (conversion effects such as going cold or "
            f"lost information push its chance of passing to almost nothing); raise "
            f"stages.{name}.conversion or lower its failure shares")


Timeline = tuple[tuple[float, Scenario], ...]
"""Changes during a run: (day, the scenario that holds from that day on), in order of day."""


def simulate(scenario: Scenario, seed: int, replication: int, timeline: Timeline = ()
             ) -> RawReplication:
    """Run replication ``replication`` of ``scenario`` with root seed ``seed``.

    Args:
        scenario: The scenario at the start.
        seed: Root seed.
        replication: Replication index.
        timeline: Changes during the run: from each day on, its scenario holds (only
            what ``salessim.model.changes`` allows may differ). The same timeline gives
            the same numbers as playing the run in rounds with those changes.
    """
    run = Replication(scenario, seed, replication)
    if not timeline:
        return run.run()
    run.start()
    for day, changed in timeline:
        run.advance(day)
        run.apply(changed, source=f"<change on day {day:g}>")
    return run.finish()
