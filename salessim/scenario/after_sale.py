"""The after-sale part of a scenario: delivery, invoicing, collection, customers, repeat business.

A won deal becomes an order. The order is handed to delivery, worked step by step by
roles with their own capacity (an acceptance step may fail and be fixed and retried),
and is late if it ends after the day sales promised. Its value is invoiced in
milestones (at the signature, when a step is done, and a retention released when the
warranty ends); each invoice is work for the invoicing role and is paid by the
customer after its own delay, sooner if the collection role chases it, or written off.

The first order of a customer makes a lasting customer (an account). Once an order is
delivered the customer raises service requests, gets account-care visits, may refer
new leads while satisfied, and reaches a buying decision: a new opportunity for the
same customer, entering the sales process at a named stage, or churn.

Satisfaction is a score from 0 to 10 per customer. It starts at ``level``; each event
moves it by a fixed amount (a late delivery by so much per day late, a lost promise, a
failed acceptance, a service wait past the tolerated one, an account-care visit), it is
kept inside [0, 10], and between events it returns towards ``level`` exponentially with
time constant ``memory_days``. A negative event that leaves it below ``complaint_below``
is a complaint. The chance of coming back at a buying decision is moved on the logit
scale by ``logit_per_point`` for each point above ``level``; only customers at
``promoter_from`` or above refer.

Units as in the rest of the schema: ``_days`` are working days, ``_hours`` working
hours, probabilities in [0, 1], money in the scenario's currency.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from salessim.scenario.distributions import Distribution
from salessim.scenario.errors import KeyPathError, repeats
from salessim.scenario.fields import Frozen, Logit, Name, NonNegative, Positive, Probability
from salessim.scenario.limits import MAX_NAMED_ITEMS, MIX_TOLERANCE

Score = Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)]
"""A satisfaction score, from 0 (furious) to 10 (delighted)."""

SIGNATURE = "signature"
"""The milestone of the signature itself (``Milestone.at``)."""
WARRANTY_END = "warranty_end"
"""The milestone at the end of the warranty after delivery (``Milestone.at``)."""


class DeliveryStep(Frozen):
    """One step of delivering an order, worked by a rep of ``role``.

    Attributes:
        name: Step name (e.g. ``installation``, ``acceptance``).
        role: Role doing the work; the order's team for that role works it.
        effort_hours: Rep working time per attempt (hours); the rep is busy.
        lead_time_days: Elapsed time after the work, holding no rep (production,
            shipping, the customer's testing) (days).
        pass_prob: Chance the step's result is accepted; otherwise it is fixed (the
            rep works ``fix_hours`` more) and the step is tried again.
        fix_hours: Extra rep time of each retry (hours); needed when ``pass_prob`` is
            below 1.
        confirms_needs: Whether this step checks with the customer what sales
            promised: a promise lost in the handoff to delivery is found here and
            scheduled, so it costs neither days nor satisfaction.
    """

    name: Name
    role: Name
    effort_hours: Distribution
    lead_time_days: Distribution
    pass_prob: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    fix_hours: Distribution | None = None
    confirms_needs: bool = False

    @model_validator(mode="after")
    def _fix_given(self) -> DeliveryStep:
        if self.pass_prob < 1.0 and self.fix_hours is None:
            raise KeyPathError([("fix_hours", "missing; a step that can fail "
                                              f"(pass_prob {self.pass_prob:g}) needs the time "
                                              "a fix takes, e.g. {dist: triangular, low: 1, "
                                              "mode: 2, high: 6}")])
        return self


class Delivery(Frozen):
    """From the signature to the delivered order.

    Attributes:
        promised_days: Days from the signature to the delivery date sales promised;
            an order done later is late by the difference.
        handoff_days: Days from the signature until delivery starts on the order.
        promise_lost_prob: Chance that what sales promised (scope, date) never
            reaches delivery's plan; unless a step ``confirms_needs`` first, the gap is
            found at the end and closing it takes ``promise_lost_days`` more.
        promise_lost_days: Extra days an order with a lost promise takes; needed when
            ``promise_lost_prob`` is above 0.
        steps: The steps, in order.
    """

    promised_days: Distribution
    handoff_days: Distribution
    promise_lost_prob: Probability = 0.0
    promise_lost_days: Distribution | None = None
    steps: tuple[DeliveryStep, ...] = Field(min_length=1, max_length=MAX_NAMED_ITEMS,
                                            strict=False)

    @model_validator(mode="after")
    def _consistent(self) -> Delivery:
        problems: list[tuple[str, str]] = []
        if self.promise_lost_prob > 0 and self.promise_lost_days is None:
            problems.append(("promise_lost_days", "missing; promise_lost_prob > 0 needs the "
                                                  "extra days such an order takes, e.g. "
                                                  "{dist: uniform, low: 5, high: 20}"))
        problems += [(f"steps[{i}].name", f"duplicate step name {name!r}, already used at "
                                          f"steps[{j}]; each step needs its own name")
                     for i, name, j in repeats(s.name for s in self.steps)]
        problems += [(f"steps[{i}].name", f"{step.name!r} names a milestone; give the step "
                                          "another name")
                     for i, step in enumerate(self.steps)
                     if step.name in (SIGNATURE, WARRANTY_END)]
        if problems:
            raise KeyPathError(problems)
        return self


class Milestone(Frozen):
    """A share of the deal value invoiced at a point of the order's life.

    Attributes:
        at: ``signature``, the name of a delivery step (invoiced when it is done), or
            ``warranty_end`` (a retention, invoiced ``Invoicing.warranty_days`` after
            delivery).
        share: Share of the deal value.
    """

    at: Name
    share: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]


class Invoicing(Frozen):
    """How an order's value is invoiced.

    The time from a milestone to its invoice is ``payment.invoice_delay_days``; the
    customer's time from the invoice to paying it is ``payment.payment_days``, and a
    customer who never pays (``payment.bad_debt_prob``) pays none of the order's
    invoices.

    Attributes:
        role: Role that writes the invoices (finance).
        effort_hours: Its working time per invoice (hours).
        milestones: Shares of the deal value by milestone; they add up to 1.
        terms_days: Days from an invoice to its due date.
        warranty_days: Days from delivery to the end of the warranty, when a
            ``warranty_end`` milestone (a retention) is invoiced.
        write_off_days: Days past its due date after which an unpaid invoice is
            written off as bad debt.
    """

    role: Name
    effort_hours: Distribution
    milestones: tuple[Milestone, ...] = Field(min_length=1, max_length=MAX_NAMED_ITEMS,
                                              strict=False)
    terms_days: Positive
    warranty_days: NonNegative = 0.0
    write_off_days: Positive = 250.0

    @model_validator(mode="after")
    def _shares_add_up(self) -> Invoicing:
        problems: list[tuple[str, str]] = []
        total = sum(m.share for m in self.milestones)
        if abs(total - 1.0) > MIX_TOLERANCE:
            problems.append(("milestones", f"the shares add up to {total:g}; the milestones "
                                           "invoice the whole deal value, so their shares "
                                           "must add up to 1"))
        problems += [(f"milestones[{i}].at", f"{at!r} is already invoiced at "
                                             f"milestones[{j}]; give each point one "
                                             "milestone")
                     for i, at, j in repeats(m.at for m in self.milestones)]
        if problems:
            raise KeyPathError(problems)
        return self


class Collection(Frozen):
    """Chasing overdue invoices (回款 follow-up), as work of the collection role.

    Attributes:
        role: Role that chases (finance, or the account executive).
        effort_hours: Its working time per chase (hours).
        first_chase_days: Days past the due date of the first chase.
        every_days: Days between chases of an invoice still unpaid.
        pay_prob: Chance that a chase gets a customer who would otherwise pay late to
            pay now (after ``paid_after_days``); customers who never pay are not moved.
        paid_after_days: Days from a successful chase to the payment.
    """

    role: Name
    effort_hours: Distribution
    first_chase_days: NonNegative = 0.0
    every_days: Positive
    pay_prob: Probability
    paid_after_days: Distribution


class Satisfaction(Frozen):
    """How each customer's satisfaction (0 to 10) moves; see the module's description.

    Attributes:
        level: Score of a new customer, and where the score returns to between events.
        memory_days: Time constant (days) of the return to ``level``: after this many
            days an event's effect is down to about 37 % (1/e).
        late_per_day: Points lost per day an order is delivered late.
        promise_lost: Points lost when an order's lost promise is found at its end.
        failed_acceptance: Points lost per failed attempt of a delivery step.
        tolerated_wait_days: Days a service request may wait for a rep unnoticed.
        service_wait_per_day: Points lost per day a service request waited beyond that.
        care_visit: Points gained per account-care visit.
        complaint_below: A negative event that leaves the score below this is a
            complaint.
        promoter_from: Customers at or above this score refer new leads.
    """

    level: Score = 7.0
    memory_days: Positive = 250.0
    late_per_day: NonNegative = 0.0
    promise_lost: NonNegative = 0.0
    failed_acceptance: NonNegative = 0.0
    tolerated_wait_days: NonNegative = 0.0
    service_wait_per_day: NonNegative = 0.0
    care_visit: NonNegative = 0.0
    complaint_below: Score = 5.0
    promoter_from: Score = 9.0


class Service(Frozen):
    """Service requests of customers with a delivered order, worked by the service role.

    Attributes:
        role: Role that handles the requests (a pool: any free rep of the customer's
            team takes the next one, and a request never goes cold).
        requests_per_year: Requests per customer per 250 working days, at Poisson
            times.
        effort_hours: Rep working time per request (hours).
    """

    role: Name
    requests_per_year: Annotated[float, Field(gt=0.0, le=10_000.0, allow_inf_nan=False)]
    effort_hours: Distribution


class AccountCare(Frozen):
    """Periodic account-care visits to each customer with a delivered order.

    Attributes:
        role: Role that makes the visits (an account executive or customer success).
        every_days: Days between visits; the first falls due this long after delivery.
        effort_hours: Rep working time per visit (hours).
    """

    role: Name
    every_days: Annotated[float, Field(ge=1.0, le=2500.0, allow_inf_nan=False)]
    effort_hours: Distribution


class Repurchase(Frozen):
    """Buying decisions of customers: a renewal, upsell or repurchase, or churn.

    A decision falls ``after_days`` after an order is delivered (or after a repeat
    opportunity is lost). The customer comes back with probability ``probability`` at
    satisfaction ``Satisfaction.level``, moved by ``logit_per_point`` per point above
    it; otherwise the customer churns. Coming back is a new lead of ``channel`` for the
    same customer (its region, product and segment), of grade ``grade``, entering the
    sales process at stage ``enter_at``, with a deal value drawn as for a first deal of
    those attributes times ``value_scale``. No decision falls after the horizon.

    Attributes:
        after_days: Days from delivery to the next buying decision.
        probability: Chance of coming back at satisfaction ``level``.
        logit_per_point: Effect (logit) on that chance per point of satisfaction
            above ``level`` (below: the opposite).
        channel: The channel repeat opportunities are counted under (its
            ``cost_per_lead`` is paid for each).
        grade: Their grade.
        enter_at: The stage they start at.
        value_scale: Factor on their deal value.
    """

    after_days: Distribution
    probability: Probability
    logit_per_point: Logit = 0.0
    channel: Name
    grade: Name
    enter_at: Name
    value_scale: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)] = 1.0


class Referrals(Frozen):
    """New leads referred by satisfied customers.

    A customer with a delivered order has chances to refer at Poisson times, and refers
    at a chance when its satisfaction is at least ``Satisfaction.promoter_from``. A
    referred lead is a new lead of ``channel``, its attributes drawn from that channel's
    mix, arriving at once; none arrives after the horizon.

    Attributes:
        per_year: Chances to refer per customer per 250 working days.
        channel: The channel referred leads join (its ``cost_per_lead`` is paid for
            each).
    """

    per_year: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)]
    channel: Name


class AfterSale(Frozen):
    """What happens after the signature (see the module's description).

    Attributes:
        delivery: From the signature to the delivered order.
        invoicing: Milestone invoices.
        collection: Chasing overdue invoices; omitted: nobody chases.
        satisfaction: How satisfaction moves.
        service: Service requests; omitted: none.
        account_care: Periodic visits; omitted: none.
        repurchase: Buying decisions; omitted: customers neither come back nor churn.
        referrals: Referred leads; omitted: none.
    """

    delivery: Delivery
    invoicing: Invoicing
    collection: Collection | None = None
    satisfaction: Satisfaction = Satisfaction()
    service: Service | None = None
    account_care: AccountCare | None = None
    repurchase: Repurchase | None = None
    referrals: Referrals | None = None

    @model_validator(mode="after")
    def _milestones_exist(self) -> AfterSale:
        steps = [s.name for s in self.delivery.steps]
        allowed = [SIGNATURE, *steps, WARRANTY_END]
        problems = [(f"invoicing.milestones[{i}].at",
                     f"unknown milestone {m.at!r}; milestones are {', '.join(allowed)}")
                    for i, m in enumerate(self.invoicing.milestones) if m.at not in allowed]
        if problems:
            raise KeyPathError(problems)
        return self

    def roles(self) -> list[tuple[str, str]]:
        """(key path, role) of every piece of after-sale work."""
        works = [(f"after_sale.delivery.steps[{i}].role", s.role)
                 for i, s in enumerate(self.delivery.steps)]
        works.append(("after_sale.invoicing.role", self.invoicing.role))
        for key, part in (("collection", self.collection), ("service", self.service),
                          ("account_care", self.account_care)):
            if part is not None:
                works.append((f"after_sale.{key}.role", part.role))
        return works

    def activities(self) -> tuple[str, ...]:
        """Names of the after-sale activities, by code (``salessim.model.aftersale``)."""
        return (*(s.name for s in self.delivery.steps), "invoicing", "collection",
                "service", "account_care")
