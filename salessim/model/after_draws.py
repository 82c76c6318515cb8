"""Random draws of the after-sale part, laid out for common random numbers.

An order's draws are rows of layers keyed by the source of its lead (a channel, or a
block of leads made during the run) and the lead's row there, like the stage draws:
one layer for the order itself, one per (delivery step, attempt), one per invoice
milestone and one per (milestone, chase). A customer's recurring events (service
requests, account-care visits, chances to refer) come from one layer per kind of event
and its number k, at the row of the lead that made the customer: the k-th service
request of a customer has the same draws in two scenarios.
"""

from __future__ import annotations

import numpy as np

from salessim.model.draws import (
    BLOCK_ROWS,
    Columns,
    FloatArray,
    Keys,
    Rows,
    StageLayer,
    Uniforms,
    hours,
)
from salessim.model.inverse import ZERO, exponential_gaps, inverse
from salessim.model.staffing import DAYS_PER_YEAR
from salessim.rng import Purpose, name_key, stream
from salessim.scenario.after_sale import AfterSale, DeliveryStep
from salessim.scenario.schema import Scenario


class OrderLayer(StageLayer):
    """Draws of the orders of one source: one row per lead of the source.

    Columns: ``promised_days``, ``handoff_days``, ``u_promise_lost``,
    ``promise_lost_days``, ``decision_days`` (delivery to the next buying decision),
    ``u_decision``, ``u_bad_debt``.
    """

    promised_days: Rows
    handoff_days: Rows
    u_promise_lost: Rows
    promise_lost_days: Rows
    decision_days: Rows
    u_decision: Rows
    u_bad_debt: Rows


class StepLayer(StageLayer):
    """Draws of one (delivery step, attempt).

    Columns: ``work_days``, ``fix_days``, ``lead_time_days`` and ``u_pass``.
    """

    fix_days: Rows
    lead_time_days: Rows
    u_pass: Rows


class InvoiceLayer(StageLayer):
    """Draws of one milestone's invoice.

    Columns: ``delay_days`` (milestone to invoice), ``work_days`` (writing it) and
    ``pay_days`` (invoice to the customer's own payment).
    """

    delay_days: Rows
    pay_days: Rows


class ChaseLayer(StageLayer):
    """Draws of one chase of one milestone's invoice.

    Columns: ``work_days``, ``u_pay`` and ``paid_after_days``.
    """

    u_pay: Rows
    paid_after_days: Rows


SPARSE_CHUNK = 16
"""Rows of uniforms made at a time in after-sale layers of a channel (``LazyColumn``):
the rows near a won lead's are often another won lead's, and drawing 16 rows costs
about what drawing one does."""


def _laziness(n: int) -> tuple[int, int]:
    """(Rows converted before a column converts whole, rows of uniforms made at a time).

    Only won leads have orders and customers (a few in a hundred): for a channel, rows
    convert one by one until half of the column was read. A source of leads made during
    the run has a few leads in its rows, drawn one by one.
    """
    if n <= BLOCK_ROWS:
        return n, 1
    return max(SPARSE_CHUNK, n // 2), SPARSE_CHUNK


def _uniforms(rng: np.random.Generator, n: int, c: int) -> Uniforms:
    """A layer's uniforms, made where read (most rows never are)."""
    return Uniforms(rng, n, c, sparse=True)


def order_layer(sc: Scenario, source: Keys, n: int, seed: int, replication: int
                ) -> OrderLayer:
    """The order draws of a source's ``n`` leads."""
    after = _after(sc)
    rng = stream(seed, replication, Purpose.ORDER, *source)
    delivery = after.delivery
    lost = delivery.promise_lost_days
    decision = inverse(after.repurchase.after_days) if after.repurchase is not None else ZERO
    columns: Columns = {
        "promised_days": (0, inverse(delivery.promised_days)),
        "handoff_days": (1, inverse(delivery.handoff_days)),
        "u_promise_lost": (2, None),
        "promise_lost_days": (3, inverse(lost) if lost is not None else ZERO),
        "decision_days": (4, decision),
        "u_decision": (5, None),
        "u_bad_debt": (6, None),
    }
    return OrderLayer(_uniforms(rng, n, 7), columns, *_laziness(n))


def step_layer(sc: Scenario, source: Keys, n: int, step: DeliveryStep, attempt: int,
               seed: int, replication: int) -> StepLayer:
    """The draws of attempt ``attempt`` (from 0) at a delivery step for a source's leads."""
    hpd = sc.calendar.hours_per_day
    rng = stream(seed, replication, Purpose.DELIVERY, *source, name_key(step.name), attempt)
    columns: Columns = {
        "work_days": (0, hours(step.effort_hours, hpd)),
        "fix_days": (1, hours(step.fix_hours, hpd) if step.fix_hours is not None else ZERO),
        "lead_time_days": (2, inverse(step.lead_time_days)),
        "u_pass": (3, None),
    }
    return StepLayer(_uniforms(rng, n, 4), columns, *_laziness(n))


def invoice_layer(sc: Scenario, source: Keys, n: int, milestone: str, seed: int,
                  replication: int) -> InvoiceLayer:
    """The draws of the invoice at ``milestone`` for a source's leads."""
    after = _after(sc)
    rng = stream(seed, replication, Purpose.INVOICE, *source, name_key(milestone))
    columns: Columns = {
        "delay_days": (0, inverse(sc.payment.invoice_delay_days)),
        "work_days": (1, hours(after.invoicing.effort_hours, sc.calendar.hours_per_day)),
        "pay_days": (2, inverse(sc.payment.payment_days)),
    }
    return InvoiceLayer(_uniforms(rng, n, 3), columns, *_laziness(n))


def chase_layer(sc: Scenario, source: Keys, n: int, milestone: str, chase: int, seed: int,
                replication: int) -> ChaseLayer:
    """The draws of chase ``chase`` (from 1) of the invoice at ``milestone``."""
    collection = _after(sc).collection
    assert collection is not None, "only a scenario with collection chases"
    rng = stream(seed, replication, Purpose.CHASE, *source, name_key(milestone), chase)
    columns: Columns = {
        "work_days": (0, hours(collection.effort_hours, sc.calendar.hours_per_day)),
        "u_pay": (1, None),
        "paid_after_days": (2, inverse(collection.paid_after_days)),
    }
    return ChaseLayer(_uniforms(rng, n, 3), columns, *_laziness(n))


class CustomerLayer(StageLayer):
    """Draws of customers' k-th recurring event of one kind.

    One row per lead of the source of the leads that made the customers. Columns:
    ``gap_days`` (time since the previous event, for service requests and chances to
    refer) and ``work_days``.
    """

    gap_days: Rows


SERVICE, CARE, REFERRAL = 1, 2, 3
"""Kinds of a customer's recurring events (part of their stream key)."""


def customer_layer(sc: Scenario, origin: Keys, n: int, what: int, k: int, seed: int,
                   replication: int) -> CustomerLayer:
    """The draws of the k-th (from 1) event of kind ``what`` of a source's customers.

    Args:
        sc: The scenario.
        origin: Source keys of the leads that made the customers.
        n: Rows of that source.
        what: ``SERVICE``, ``CARE`` or ``REFERRAL``.
        k: The event's number.
        seed: Root seed.
        replication: Replication index.
    """
    after = _after(sc)
    hpd = sc.calendar.hours_per_day
    rng = stream(seed, replication, Purpose.CUSTOMER, *origin, what, k)
    rate, effort = 1.0, None
    if what == SERVICE:
        assert after.service is not None
        rate, effort = after.service.requests_per_year, after.service.effort_hours
    elif what == CARE:
        assert after.account_care is not None
        effort = after.account_care.effort_hours
    else:
        assert after.referrals is not None
        rate = after.referrals.per_year
    columns: Columns = {
        "gap_days": (0, exponential_gaps(rate / DAYS_PER_YEAR)),
        "work_days": (1, hours(effort, hpd) if effort is not None else ZERO),
    }
    return CustomerLayer(_uniforms(rng, n, 2), columns, *_laziness(n))


def made_lead_uniforms(source: Keys, seed: int, replication: int) -> FloatArray:
    """Uniforms of a source of leads made during the run: attributes, then deal value."""
    rng = stream(seed, replication, Purpose.MADE_LEAD, *source)
    return rng.random((BLOCK_ROWS, 5))


def _after(sc: Scenario) -> AfterSale:
    assert sc.after_sale is not None, "only a scenario with an after-sale part has its draws"
    return sc.after_sale

