"""Parameters that depend on the deal: adjustments keyed by a lead's attribute values.

An enterprise deal takes longer at every stage than an SMB one, a referral converts
better than a cold list, a large contract is paid later. A stage, the handoff and the
payment terms may each carry an ``adjust`` block: for an attribute (``grade``,
``region``, ``product``, ``segment``, ``channel`` or ``deal_size``) and one of its
values, how the base parameters change for such leads::

    adjust:
      segment:
        enterprise: {effort_scale: 2.0, customer_delay_scale: 4.0, conversion_logit: -0.4}
        smb: {customer_delay_scale: 0.5}
      channel:
        referral: {conversion_logit: 0.8}

A lead gets the adjustments of each of its values: scales multiply, logits add (an
enterprise lead from a referral gets both lines above). A share, probability or count
that replaces the base one (``rework_share``, ``nurture_share``, ``follow_ups``,
``info_loss_prob``, ``bad_debt_prob``) may be set under one attribute only, so that no
lead gets two.
Scales act on the lead's own draw (the same uniform, scaled): common random numbers
hold across scenarios that adjust differently.

``deal_size`` values are the bands of ``deal_value.bands`` (lower bounds of the deal
value, in currency).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field

from salessim.scenario.fields import Frozen, Logit, Probability, Scale
from salessim.scenario.limits import MAX_FOLLOW_UPS

Facet = Literal["grade", "region", "product", "segment", "channel", "deal_size"]
"""What an adjustment may be keyed by: a lead attribute, its channel or its deal size."""
FACETS: tuple[Facet, ...] = ("grade", "region", "product", "segment", "channel", "deal_size")


class StageAdjustment(Frozen):
    """How a stage differs for leads with one attribute value.

    Attributes:
        effort_scale: Factor on the rep's effort per attempt.
        customer_delay_scale: Factor on the customer's delay.
        conversion_logit: Added to the log-odds of passing the stage.
        rework_share: Replaces the stage's ``failure.rework_share``.
        nurture_share: Replaces the stage's ``failure.nurture_share``.
        follow_ups: Replaces the stage's ``follow_ups.count`` (the stage must have a
            ``follow_ups`` block, which gives the gaps and the effort).
    """

    effort_scale: Scale = 1.0
    customer_delay_scale: Scale = 1.0
    conversion_logit: Logit = 0.0
    rework_share: Probability | None = None
    nurture_share: Probability | None = None
    follow_ups: Annotated[int, Field(ge=0, le=MAX_FOLLOW_UPS)] | None = None


class HandoffAdjustment(Frozen):
    """How a handoff differs for leads with one attribute value.

    Attributes:
        delay_scale: Factor on the handoff delay.
        info_loss_prob: Replaces the handoff's ``info_loss_prob``.
    """

    delay_scale: Scale = 1.0
    info_loss_prob: Probability | None = None


class PaymentAdjustment(Frozen):
    """How payment differs for deals with one attribute value.

    Attributes:
        invoice_delay_scale: Factor on the delay from the win to the invoice.
        payment_days_scale: Factor on the delay from the invoice to the payment.
        bad_debt_prob: Replaces ``payment.bad_debt_prob``.
    """

    invoice_delay_scale: Scale = 1.0
    payment_days_scale: Scale = 1.0
    bad_debt_prob: Probability | None = None


AdjustmentT = StageAdjustment | HandoffAdjustment | PaymentAdjustment
StageAdjust = dict[Facet, dict[str, StageAdjustment]]
HandoffAdjust = dict[Facet, dict[str, HandoffAdjustment]]
PaymentAdjust = dict[Facet, dict[str, PaymentAdjustment]]


REPLACING: dict[type[Frozen], tuple[str, ...]] = {
    StageAdjustment: ("rework_share", "nurture_share", "follow_ups"),
    HandoffAdjustment: ("info_loss_prob",),
    PaymentAdjustment: ("bad_debt_prob",),
}
"""The fields of each kind of adjustment that replace a base value rather than scale it."""


def replacement_problems(adjust: Mapping[Facet, Mapping[str, AdjustmentT]], path: str
                         ) -> list[tuple[str, str]]:
    """A replacing field set under more than one attribute: which lead would get which?"""
    problems: list[tuple[str, str]] = []
    for kind, fields in REPLACING.items():
        for name in fields:
            facets = [facet for facet, values in adjust.items()
                      if any(isinstance(a, kind) and getattr(a, name) is not None
                             for a in values.values())]
            if len(facets) > 1:
                problems.append((f"{path}.{facets[1]}",
                                 f"{name} is set under {' and '.join(facets)}; it replaces "
                                 "the base value, so set it under one attribute only"))
    return problems
