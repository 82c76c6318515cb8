"""The after-sale life of won deals and their customers, on the replication's event loop.

A won deal becomes an order: delivery steps worked by their roles, milestone invoices
written by the invoicing role, chased by the collection role and paid or written off.
Its customer then raises service requests, is visited for account care, refers leads
while satisfied, and reaches buying decisions that bring a new opportunity or churn
(``salessim.scenario.after_sale`` describes the rules). Every piece of work waits for a
rep of its role in the team covering the order's lead, like a sales task, but never
goes cold.

Each process is a generator driven by a reusable event (``WorkProcess``), as a lead's
life is. The host replication owns the clock, the pools and the leads; it starts an
order when a deal is won and tells this model when a repeat opportunity is lost.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import simpy
from numpy.typing import NDArray

from salessim.model.after_draws import (
    CARE,
    REFERRAL,
    SERVICE,
    ChaseLayer,
    CustomerLayer,
    InvoiceLayer,
    OrderLayer,
    StepLayer,
    chase_layer,
    customer_layer,
    invoice_layer,
    order_layer,
    step_layer,
)
from salessim.model.draws import Keys
from salessim.model.events import LeadLife, WorkProcess
from salessim.model.leads import LeadTable
from salessim.model.records import flat_columns
from salessim.model.reps import Rep, RepPool
from salessim.model.tuning import Tuning
from salessim.scenario.after_sale import SIGNATURE, WARRANTY_END, AfterSale
from salessim.scenario.limits import MAX_ATTEMPTS_PER_STAGE
from salessim.scenario.schema import Scenario

Work = Generator[float | None, Rep | None, float]
"""A piece of work: yields like a lead's life, returns the days waited for a rep."""


class Host(Protocol):
    """What the after-sale model needs from the replication that runs it."""

    env: simpy.Environment
    sc: Scenario
    seed: int
    replication: int
    leads: LeadTable

    def pool_for(self, role: str, lead: int) -> RepPool:
        """The pool of ``role`` serving lead ``lead``'s kind."""

    def source_of(self, lead: int) -> tuple[Keys, int]:
        """Stream keys and number of rows of the source of lead ``lead``."""

    def tuning_of(self, lead: int) -> Tuning:
        """The parameters of lead ``lead``'s kind."""

    def make_lead(self, channel: int, attributes: dict[str, int] | None, stage: int,
                  customer: int, value_scale: float, parent: int, number: int) -> None:
        """A new lead arriving now (attributes None: drawn from the channel's mix).

        It is the ``number``-th of its kind brought by the customer made by ``parent``.
        """

    def hold(self) -> None:
        """Count one more open piece of counted work the run must wait for."""

    def settle(self) -> None:
        """One counted piece of work is settled."""

    def paid(self, lead: int, amount: float) -> None:
        """An invoice of lead ``lead`` of ``amount`` was paid now."""

    def delivered(self, lead: int, score: float) -> None:
        """Lead ``lead``'s order was delivered now, to a customer at ``score`` (0 to 10)."""


@dataclass(slots=True)
class Customer:
    """One customer (account), made by its first won deal.

    Attributes:
        number: Position among the replication's customers.
        origin: The lead whose win made the customer.
        since: Day of that win.
        active_from: Day its first order was delivered (NaN before).
        churned: Day it churned (NaN while a customer).
        level: Satisfaction (0 to 10) at day ``at``.
        at: Day of the last change of satisfaction.
        purchases: Won deals.
        revenue: Their deal value (currency).
        complaints: Complaints made.
        referrals: Leads referred.
        latest: The lead of its latest order.
        returns: Repeat opportunities it brought.
    """

    number: int
    origin: int
    since: float
    level: float
    at: float
    active_from: float = math.nan
    churned: float = math.nan
    purchases: int = 0
    revenue: float = 0.0
    complaints: int = 0
    referrals: int = 0
    latest: int = -1
    returns: int = 0


@dataclass(slots=True)
class Order:
    """A won deal on its way to delivery and payment.

    Attributes:
        case: The won lead.
        customer: Its customer's number.
        signed: Day of the signature.
        due: Day sales promised the delivery.
        bad_debt: Whether the customer pays none of its invoices.
        delivered: Day the last step was done (NaN before).
        failed: Failed attempts of delivery steps.
        promise_lost: Whether what sales promised was lost in the handoff.
        caught: Whether a step confirming needs found the lost promise in time.
        complaints: Complaints while this was the customer's latest order.
        satisfaction: The customer's satisfaction just after delivery (NaN before).
        open_invoices: Invoices neither paid nor written off yet (or not yet made).
        invoices: Its invoices made so far.
    """

    case: int
    customer: int
    signed: float
    due: float
    bad_debt: bool
    open_invoices: int
    delivered: float = math.nan
    failed: int = 0
    promise_lost: bool = False
    caught: bool = False
    complaints: int = 0
    satisfaction: float = math.nan
    invoices: list[Invoice] = field(default_factory=list)


@dataclass(slots=True)
class Invoice:
    """One milestone invoice of an order (amount in currency, times in days).

    ``issued`` and ``due`` are NaN until it is written; ``paid`` or ``written_off`` is
    set when it is settled; ``chases`` counts the reminders worked.
    """

    case: int
    milestone: int
    amount: float
    issued: float = math.nan
    due: float = math.nan
    paid: float = math.nan
    written_off: float = math.nan
    chases: int = 0

    @property
    def settled(self) -> bool:
        """Whether the invoice is paid or written off."""
        return self.paid == self.paid or self.written_off == self.written_off


@dataclass
class AfterSaleModel:
    """The after-sale processes of one replication.

    Attributes:
        host: The replication.
        customers: Every customer, by number.
        orders: Every order, by its lead.
        invoices: Every invoice, in order of milestone as they are created.
        work: After-sale work rows: (case, customer, activity code, attempt, rep index,
            enable, start, end), flattened.
        complaints: (customer, case of its latest order, day), flattened.
        decisions: (customer, day, came back (0/1), satisfaction), flattened.
    """

    host: Host
    customers: list[Customer] = field(default_factory=list)
    orders: dict[int, Order] = field(default_factory=dict)
    invoices: list[Invoice] = field(default_factory=list)
    work: list[float] = field(default_factory=list)
    complaints: list[float] = field(default_factory=list)
    decisions: list[float] = field(default_factory=list)
    _layers: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _procs: set[WorkProcess] = field(default_factory=set)

    def __post_init__(self) -> None:
        after = self.host.sc.after_sale
        assert after is not None
        self.spec: AfterSale = after
        sc = self.host.sc
        self.horizon = sc.calendar.horizon_days
        self.steps = after.delivery.steps
        self.milestones = [m.at for m in after.invoicing.milestones]
        activities = after.activities()
        n = len(self.steps)
        self.invoicing, self.collection = n, n + 1
        self.service, self.care = n + 2, n + 3
        assert len(activities) == n + 4
        plan = sc.management
        chaser = plan.chaser() if plan is not None else None
        chase = plan.behaviour.chase_payments if plan is not None else None
        collection = after.collection
        self.chase: tuple[str, float, float] | None = (
            (chaser, chase.first_chase_days, chase.every_days)
            if chaser is not None and chase is not None else
            (collection.role, collection.first_chase_days, collection.every_days)
            if collection is not None else None)
        """Who chases overdue invoices, days past due of the first reminder, days between
        reminders: the reps paid on collection if the plan has them chase, else the
        collection role; None without collection."""
        self.at_horizon: list[float] | None = None
        """Each customer's satisfaction at the horizon, once it has passed."""
        self.host.env.timeout(self.horizon).callbacks.append(self._snapshot)

    def _snapshot(self, _: object) -> None:
        self.at_horizon = [self.satisfaction(c, self.horizon) for c in self.customers]

    # ---- what the host calls ---------------------------------------------------------

    def won(self, i: int) -> None:
        """Lead ``i`` was won now: its order starts (and its customer, if new)."""
        host = self.host
        leads = host.leads
        number = leads.customer[i]
        if number < 0:
            sat = self.spec.satisfaction
            number = len(self.customers)
            self.customers.append(Customer(number, i, host.env.now, sat.level, host.env.now))
        customer = self.customers[number]
        customer.purchases += 1
        customer.revenue += leads.deal_value[i]
        customer.latest = i
        self._order(i, customer)

    def lost(self, i: int) -> None:
        """Repeat opportunity ``i`` was lost now: its customer decides again later."""
        customer = self.customers[self.host.leads.customer[i]]
        self._start(self._decide, customer, i)

    def stop(self) -> None:
        """End every process still waiting (the run is over)."""
        for proc in list(self._procs):
            proc.stop()

    def satisfaction(self, customer: Customer, day: float) -> float:
        """The customer's satisfaction on ``day`` (0 to 10)."""
        sat = self.spec.satisfaction
        return sat.level + (customer.level - sat.level) * math.exp(
            -(day - customer.at) / sat.memory_days)

    # ---- the order -----------------------------------------------------------------

    def _order(self, i: int, customer: Customer) -> None:
        """Open order ``i``: invoice its signature and start its delivery."""
        host, spec = self.host, self.spec
        env = host.env
        keys, rows = host.source_of(i)
        row = host.leads.row[i]
        od: OrderLayer = self._layer(("order", keys), order_layer, host.sc, keys, rows,
                                     host.seed, host.replication)
        tune = host.tuning_of(i)
        now = env.now
        order = self.orders[i] = Order(
            i, customer.number, now, now + od.promised_days[row],
            od.u_bad_debt[row] < tune.bad_debt, len(self.milestones))
        if host.leads.cohort[i]:
            host.hold()
        self._bill(order, SIGNATURE, 0.0)
        lost = od.u_promise_lost[row] < spec.delivery.promise_lost_prob
        order.promise_lost = lost
        self._start(self._deliver, order, customer, od, lost, keys, rows, row)

    def _deliver(self, proc: WorkProcess, order: Order, customer: Customer, od: OrderLayer,
                 lost: bool, keys: Keys, rows: int, row: int) -> LeadLife:
        """Deliver an order step by step, invoicing at its milestones."""
        host, spec = self.host, self.spec
        env = host.env
        sat = spec.satisfaction
        i = order.case
        handoff = od.handoff_days[row]
        if handoff > 0:
            yield handoff
        for k, step in enumerate(self.steps):
            pool = host.pool_for(step.role, i)
            if lost and step.confirms_needs:
                lost, order.caught = False, True
            attempt = 0
            while True:
                layer: StepLayer = self._layer(("step", keys, k, attempt), step_layer, host.sc,
                                               keys, rows, step, attempt, host.seed,
                                               host.replication)
                days = layer.work_days[row] + (layer.fix_days[row] if attempt else 0.0)
                yield from self._work(pool, i, proc, days, i, customer.number, k, attempt)
                wait = layer.lead_time_days[row]
                if wait > 0:
                    yield wait
                if layer.u_pass[row] < step.pass_prob:
                    break
                order.failed += 1
                self._feel(customer, -sat.failed_acceptance, i)
                attempt += 1
                if attempt >= MAX_ATTEMPTS_PER_STAGE:
                    raise RuntimeError(f"an order failed delivery step {step.name!r} "
                                       f"{attempt:,} times; raise after_sale.delivery.steps."
                                       f"{step.name}.pass_prob")
            if lost and k == len(self.steps) - 1:
                extra = od.promise_lost_days[row]
                if extra > 0:
                    yield extra
                self._feel(customer, -sat.promise_lost, i)
            self._bill(order, step.name, 0.0)
        order.delivered = env.now
        late = env.now - order.due
        if late > 0:
            self._feel(customer, -sat.late_per_day * late, i)
        order.satisfaction = self.satisfaction(customer, env.now)
        self.host.delivered(i, order.satisfaction)
        self._bill(order, WARRANTY_END, spec.invoicing.warranty_days)
        self._delivered(customer, order, od, row)

    def _delivered(self, customer: Customer, order: Order, od: OrderLayer, row: int) -> None:
        """A delivered order makes its customer active and sets its next decision."""
        now = self.host.env.now
        spec = self.spec
        if customer.active_from != customer.active_from and now < self.horizon:  # NaN: first
            customer.active_from = now
            if spec.service is not None:
                self._start(self._requests, customer)
            if spec.account_care is not None:
                self._start(self._care, customer)
            if spec.referrals is not None:
                self._start(self._refer, customer)
        if spec.repurchase is not None:
            self._start(self._decide, customer, order.case)

    # ---- invoices ------------------------------------------------------------------

    def _bill(self, order: Order, milestone: str, after_days: float) -> None:
        """Start the invoice of ``milestone``, if the order has one, ``after_days`` on."""
        if milestone not in self.milestones:
            return
        k = self.milestones.index(milestone)
        share = self.spec.invoicing.milestones[k].share
        invoice = Invoice(order.case, k, share * self.host.leads.deal_value[order.case])
        self.invoices.append(invoice)
        order.invoices.append(invoice)
        self._start(self._invoice, order, invoice, milestone, after_days)

    def _invoice(self, proc: WorkProcess, order: Order, invoice: Invoice, milestone: str,
                 after_days: float) -> LeadLife:
        """Write the invoice, chase it when overdue, and settle it: paid or written off."""
        host, spec = self.host, self.spec
        env = host.env
        i = order.case
        keys, rows = host.source_of(i)
        row = host.leads.row[i]
        tune = host.tuning_of(i)
        layer: InvoiceLayer = self._layer(("invoice", keys, milestone), invoice_layer, host.sc,
                                          keys, rows, milestone, host.seed, host.replication)
        delay = after_days + layer.delay_days[row] * tune.invoice
        if delay > 0:
            yield delay
        pool = host.pool_for(spec.invoicing.role, i)
        yield from self._work(pool, i, proc, layer.work_days[row], i, order.customer,
                              self.invoicing, 0)
        invoice.issued = env.now
        invoice.due = env.now + spec.invoicing.terms_days
        pays = math.inf if order.bad_debt else env.now + layer.pay_days[row] * tune.payment
        write_off = invoice.due + spec.invoicing.write_off_days
        if self.chase is not None:
            # Each reminder is a task of its own: a customer pays on its day however
            # long the reminders wait for a rep, and a settled invoice is not chased.
            _, first, every = self.chase
            chase_day = invoice.due + first
            chases = 0
            while chase_day < min(pays, write_off):
                if chase_day > env.now:
                    yield chase_day - env.now
                if invoice.settled:
                    return
                chases += 1
                self._start(self._chase, order, invoice, milestone, chases)
                chase_day += every
        end = min(pays, write_off)
        if end > env.now:
            yield end - env.now
        self._settle(order, invoice, paid=pays <= write_off)

    def _chase(self, proc: WorkProcess, order: Order, invoice: Invoice, milestone: str,
               n: int) -> LeadLife:
        """Reminder ``n`` of an overdue invoice: the rep's work, then maybe the payment."""
        host = self.host
        collection = self.spec.collection
        assert collection is not None and self.chase is not None
        i = order.case
        keys, rows = host.source_of(i)
        row = host.leads.row[i]
        chase: ChaseLayer = self._layer(("chase", keys, milestone, n), chase_layer, host.sc,
                                        keys, rows, milestone, n, host.seed, host.replication)
        yield from self._work(host.pool_for(self.chase[0], i), i, proc,
                              chase.work_days[row], i, order.customer, self.collection, n)
        invoice.chases += 1
        if invoice.settled or order.bad_debt or chase.u_pay[row] >= collection.pay_prob:
            return
        delay = chase.paid_after_days[row]
        if delay > 0:
            yield delay
        if not invoice.settled:
            self._settle(order, invoice, paid=True)

    def _settle(self, order: Order, invoice: Invoice, paid: bool) -> None:
        """The invoice is paid (or written off) now; the order too once all are."""
        if invoice.settled:
            return
        if paid:
            invoice.paid = self.host.env.now
            self.host.paid(order.case, invoice.amount)
        else:
            invoice.written_off = self.host.env.now
        order.open_invoices -= 1
        if order.open_invoices == 0:
            self._settled(order)

    def _settled(self, order: Order) -> None:
        """Every invoice of the order is settled: the lead's payment is known."""
        host = self.host
        i = order.case
        paid = [inv.paid for inv in order.invoices]
        if all(p == p for p in paid):  # none written off
            host.leads.payment_days[i] = max(paid) - order.signed
        if host.leads.cohort[i]:
            host.settle()

    # ---- the customer ----------------------------------------------------------------

    def _decide(self, proc: WorkProcess, customer: Customer, i: int) -> LeadLife:
        """A buying decision, the order's decision delay after now: come back or churn."""
        host = self.host
        env = host.env
        repurchase = self.spec.repurchase
        assert repurchase is not None
        keys, rows = host.source_of(i)
        row = host.leads.row[i]
        od: OrderLayer = self._layer(("order", keys), order_layer, host.sc, keys, rows,
                                     host.seed, host.replication)
        delay = od.decision_days[row]
        if delay > 0:
            yield delay
        if self._over(customer):
            return
        score = self.satisfaction(customer, env.now)
        p = repurchase.probability
        if repurchase.logit_per_point and 0.0 < p < 1.0:
            x = math.log(p / (1 - p)) + repurchase.logit_per_point * (
                score - self.spec.satisfaction.level)
            p = 1.0 / (1.0 + math.exp(-x))
        back = od.u_decision[row] < p
        self.decisions.extend((customer.number, env.now, float(back), score))
        if not back:
            customer.churned = env.now
            return
        sc = host.sc
        leads = host.leads
        origin = customer.origin
        attributes = {"grade": sc.grades.index(repurchase.grade),
                      "region": leads.region[origin], "product": leads.product[origin],
                      "segment": leads.segment[origin]}
        channel = [c.name for c in sc.channels].index(repurchase.channel)
        customer.returns += 1
        host.make_lead(channel, attributes, sc.stage_index(repurchase.enter_at),
                       customer.number, repurchase.value_scale, origin, customer.returns)

    def _requests(self, proc: WorkProcess, customer: Customer) -> LeadLife:
        """The customer's service requests at Poisson times while it stays a customer."""
        def request(layer: CustomerLayer, row: int) -> None:
            self._start(self._request, customer, layer.work_days[row])

        return self._recurring(customer, SERVICE, request)

    def _request(self, proc: WorkProcess, customer: Customer, effort: float) -> LeadLife:
        """One service request: wait for a rep, be served, feel the wait."""
        service = self.spec.service
        sat = self.spec.satisfaction
        assert service is not None
        i = customer.origin
        pool = self.host.pool_for(service.role, i)
        waited = yield from self._work(pool, i, proc, effort, customer.latest,
                                       customer.number, self.service, 0)
        late = waited - sat.tolerated_wait_days
        if late > 0:
            self._feel(customer, -sat.service_wait_per_day * late, customer.latest)

    def _care(self, proc: WorkProcess, customer: Customer) -> LeadLife:
        """Account-care visits every ``every_days`` while it stays a customer."""
        care = self.spec.account_care
        assert care is not None
        env = self.host.env
        due = env.now
        k = 0
        pool = self.host.pool_for(care.role, customer.origin)
        while True:
            due += care.every_days
            if due > env.now:
                yield due - env.now
            if self._over(customer):
                return
            k += 1
            layer, row = self._customer_layer(customer, CARE, k)
            yield from self._work(pool, customer.origin, proc, layer.work_days[row],
                                  customer.latest, customer.number, self.care, 0)
            self._feel(customer, self.spec.satisfaction.care_visit, customer.latest)

    def _refer(self, proc: WorkProcess, customer: Customer) -> LeadLife:
        """Chances to refer at Poisson times; a promoter refers a lead at each."""
        referrals = self.spec.referrals
        assert referrals is not None
        host = self.host
        channel = [c.name for c in host.sc.channels].index(referrals.channel)

        def refer(_: CustomerLayer, __: int) -> None:
            if self.satisfaction(customer, host.env.now) >= self.spec.satisfaction.promoter_from:
                customer.referrals += 1
                host.make_lead(channel, None, 0, -1, 1.0, customer.origin, customer.referrals)

        return self._recurring(customer, REFERRAL, refer)

    def _recurring(self, customer: Customer, what: int,
                   act: Callable[[CustomerLayer, int], None]) -> LeadLife:
        """Events of kind ``what`` at Poisson times while it stays a customer: ``act``.

        The k-th event falls its layer's ``gap_days`` after the one before.
        """
        k = 0
        while True:
            k += 1
            layer, row = self._customer_layer(customer, what, k)
            yield layer.gap_days[row]
            if self._over(customer):
                return
            act(layer, row)

    def _over(self, customer: Customer) -> bool:
        """Whether the customer brings no more events: churned, or the horizon passed."""
        return self.host.env.now >= self.horizon or customer.churned == customer.churned

    # ---- helpers -------------------------------------------------------------------

    def _feel(self, customer: Customer, delta: float, case: int) -> None:
        """Move the customer's satisfaction by ``delta`` points now; complain if it sinks."""
        if delta == 0:
            return
        now = self.host.env.now
        score = min(10.0, max(0.0, self.satisfaction(customer, now) + delta))
        customer.level, customer.at = score, now
        if delta < 0 and score < self.spec.satisfaction.complaint_below:
            customer.complaints += 1
            self.orders[case].complaints += 1
            self.complaints.extend((customer.number, case, now))

    def _work(self, pool: RepPool, key: int, proc: WorkProcess, days: float, case: int,
              customer: int, activity: int, attempt: int) -> Work:
        """Wait for a rep of ``pool``, work ``days`` (at the rep's pace), record it.

        ``key`` is the lead the task is asked for (in owner assignment, its owner
        does it, chosen as for a new lead if it has none but without waiting for room
        in a capped book, and forgotten after).
        """
        env = self.host.env
        leads = self.host.leads
        enable = env.now
        rep = pool.request(key, leads.grade[case], leads.deal_value[case], math.inf, proc,
                           book=False)
        if rep is None:
            rep = yield None
            assert rep is not None  # after-sale work never goes cold
        start = env.now
        work = days * rep.pace
        if rep.ramp_until > start:
            work *= 1.0 + rep.ramp_effort * rep.ramp_share(start)
        if work > 0:
            yield work
        pool.release(rep)
        if pool.owner:
            pool.forget(key)
        self.work.extend((case, customer, activity, attempt, rep.index, enable, start,
                          env.now))
        return start - enable

    def _start(self, life: Callable[..., LeadLife], *args: Any) -> None:
        """Run ``life(process, *args)`` on a process of its own, from now."""
        proc = WorkProcess(self.host.env, self._procs)  # known to ``stop`` while it runs
        proc.start(life(proc, *args))

    def _layer(self, key: tuple[Any, ...], make: Callable[..., Any], *args: Any) -> Any:
        """The layer kept under ``key``, made by ``make(*args)`` the first time."""
        layer = self._layers.get(key)
        if layer is None:
            layer = self._layers[key] = make(*args)
        return layer

    def _customer_layer(self, customer: Customer, what: int, k: int
                        ) -> tuple[CustomerLayer, int]:
        """The layer of the customer's k-th event of kind ``what``, and its row there."""
        host = self.host
        keys, rows = host.source_of(customer.origin)
        layer: CustomerLayer = self._layer(("customer", keys, what, k), customer_layer, host.sc,
                                           keys, rows, what, k, host.seed, host.replication)
        return layer, host.leads.row[customer.origin]

    # ---- output ---------------------------------------------------------------------

    def tables(self, end_day: float) -> dict[str, dict[str, NDArray[Any]]]:
        """The after-sale output as columns (see ``salessim.model.records``)."""
        return after_sale_tables(self, end_day)


def after_sale_tables(model: AfterSaleModel, end_day: float
                      ) -> dict[str, dict[str, NDArray[Any]]]:
    """Orders, invoices, customers, work, complaints and decisions as columns."""
    c = model.customers
    f8, i8, b1 = np.float64, np.int64, np.bool_
    return {
        "customers": {"customer": np.arange(len(c), dtype=i8),
                      **_attributes(c, {"origin": i8, "since": f8, "active_from": f8,
                                        "churned": f8, "purchases": i8, "revenue": f8}),
                      "satisfaction": _scores(model, end_day),
                      **_attributes(c, {"complaints": i8, "referrals": i8})},
        "orders": _attributes(list(model.orders.values()), {
            "case": i8, "customer": i8, "signed": f8, "due": f8, "delivered": f8,
            "failed": i8, "promise_lost": b1, "caught": b1, "complaints": i8, "bad_debt": b1,
            "satisfaction": f8}),
        "invoices": _attributes(model.invoices, {
            "case": i8, "milestone": i8, "amount": f8, "issued": f8, "due": f8, "paid": f8,
            "written_off": f8, "chases": i8}),
        "work": flat_columns(model.work, WORK_FIELDS, (i8, i8, i8, i8, i8, f8, f8, f8)),
        "complaints": flat_columns(model.complaints, ("customer", "case", "day"),
                                   (i8, i8, f8)),
        "decisions": flat_columns(model.decisions,
                                  ("customer", "day", "came_back", "satisfaction"),
                                  (i8, f8, b1, f8)),
    }


def _attributes(items: Sequence[Any], fields: dict[str, Any]) -> dict[str, NDArray[Any]]:
    """Columns of these attributes of the items, with their dtypes."""
    return {name: np.array([getattr(x, name) for x in items], dtype=dtype)
            for name, dtype in fields.items()}


def _scores(model: AfterSaleModel, end_day: float) -> NDArray[np.float64]:
    """Each customer's satisfaction at the horizon (NaN if made later), or on ``end_day``.

    A run stopped before the horizon (between rounds) has no score at the horizon yet.
    """
    if model.at_horizon is None:
        return np.array([model.satisfaction(x, end_day) for x in model.customers],
                        dtype=np.float64)
    later = len(model.customers) - len(model.at_horizon)
    return np.array([*model.at_horizon, *[math.nan] * later], dtype=np.float64)


WORK_FIELDS: tuple[str, ...] = ("case", "customer", "activity", "attempt", "resource",
                                "enable_time", "start_time", "end_time")
"""Columns of the after-sale work rows."""
