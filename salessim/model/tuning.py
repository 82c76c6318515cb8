"""The parameters of one kind of lead: a scenario's adjustments applied to its base values.

A kind of lead is its grade, region, product, segment, channel and deal-size band.
``Tuning`` holds, stage by stage, the factors and shares the event loop reads for such
leads (see ``salessim.scenario.adjustments``): scales multiply, logits add, and a
replacing share takes the place of the base one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from salessim.scenario.adjustments import (
    AdjustmentT,
    Facet,
    HandoffAdjustment,
    PaymentAdjustment,
    StageAdjustment,
)
from salessim.scenario.schema import Scenario


@dataclass(frozen=True)
class Tuning:
    """Per-stage parameters of one kind of lead (tuples indexed by stage).

    Attributes:
        effort: Factor on the rep's effort.
        delay: Factor on the customer's delay.
        logit: Conversion effect (logit) of the adjustments.
        rework_share: Share of failures sent back.
        nurture_until: ``rework_share + nurture_share``: a failure's routing uniform
            below it is nurtured (above ``rework_share``).
        follow_ups: Follow-up touches per attempt (0 for stages without follow-ups).
        handoff: Factor on the handoff delay into the stage.
        info_loss_prob: Probability that a handoff into the stage loses information.
        invoice: Factor on the delay from the win to the invoice.
        payment: Factor on the delay from the invoice to the payment.
        bad_debt: Probability a won deal is never paid.
    """

    effort: tuple[float, ...]
    delay: tuple[float, ...]
    logit: tuple[float, ...]
    rework_share: tuple[float, ...]
    nurture_until: tuple[float, ...]
    follow_ups: tuple[int, ...]
    handoff: tuple[float, ...]
    info_loss_prob: tuple[float, ...]
    invoice: float
    payment: float
    bad_debt: float


A = TypeVar("A", StageAdjustment, HandoffAdjustment, PaymentAdjustment)


def _matching(adjust: Mapping[Facet, Mapping[str, A]], values: Mapping[Facet, str]) -> list[A]:
    return [table[values[facet]] for facet, table in adjust.items() if values[facet] in table]


def _product(factors: Sequence[float]) -> float:
    return math.prod(factors) if factors else 1.0


def _replaced(found: Sequence[AdjustmentT], name: str, base: float) -> float:
    """The one adjustment's replacement of ``name`` (the checks allow at most one), or base."""
    return next((float(v) for a in found if (v := getattr(a, name)) is not None), base)


def tuning(sc: Scenario, values: Mapping[Facet, str]) -> Tuning:
    """The parameters for leads with these values (facet -> value name)."""
    effort, delay, logit, rework, nurture_until, handoff, info_loss = ([] for _ in range(7))
    follow_ups: list[int] = []
    for st in sc.stages:
        found = _matching(st.adjust, values)
        effort.append(_product([a.effort_scale for a in found]))
        delay.append(_product([a.customer_delay_scale for a in found]))
        logit.append(math.fsum(a.conversion_logit for a in found))
        share = _replaced(found, "rework_share", st.failure.rework_share)
        rework.append(share)
        nurture_until.append(share + _replaced(found, "nurture_share", st.failure.nurture_share))
        base_count = st.follow_ups.count if st.follow_ups is not None else 0
        follow_ups.append(int(_replaced(found, "follow_ups", base_count)))
        base = st.handoff or sc.handoff
        moved = _matching(base.adjust, values)
        handoff.append(_product([a.delay_scale for a in moved]))
        info_loss.append(_replaced(moved, "info_loss_prob", base.info_loss_prob))
    paid = _matching(sc.payment.adjust, values)
    return Tuning(
        effort=tuple(effort), delay=tuple(delay), logit=tuple(logit),
        rework_share=tuple(rework), nurture_until=tuple(nurture_until),
        follow_ups=tuple(follow_ups),
        handoff=tuple(handoff), info_loss_prob=tuple(info_loss),
        invoice=_product([a.invoice_delay_scale for a in paid]),
        payment=_product([a.payment_days_scale for a in paid]),
        bad_debt=_replaced(paid, "bad_debt_prob", sc.payment.bad_debt_prob),
    )
