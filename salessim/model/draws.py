"""Random draws of one replication, laid out per lead for common random numbers.

Leads are generated per channel up front (arrival times by inverting the cumulative
rate, attributes and deal values from their own streams). Stage draws come in layers:
one layer per (channel, stage, attempt), with one row per lead of the channel, made
the first time any lead needs it and sampled vectorised. Rows are plain Python lists,
which the event loop indexes much faster than numpy scalars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from salessim.rng import Purpose, name_key, stream
from salessim.scenario.rates import rate_knots
from salessim.scenario.schema import ATTRIBUTES, Channel, Scenario, Stage

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class ChannelLeads:
    """The leads one channel produces over the horizon, in arrival order.

    Attributes:
        arrival_days: Arrival times (days).
        attributes: For each of ``ATTRIBUTES``, the index of the lead's value in the
            scenario's list of values.
        deal_value: Deal value if won (currency).
    """

    arrival_days: FloatArray
    attributes: dict[str, IntArray]
    deal_value: FloatArray


@dataclass(frozen=True)
class StageLayer:
    """Draws for one (channel, stage, attempt), one list entry per lead of the channel.

    Durations are in days; ``u_`` entries are uniforms in [0, 1).
    """

    work_days: list[float]
    customer_days: list[float]
    u_outcome: list[float]
    u_route: list[float]
    handoff_days: list[float]
    u_info_loss: list[float]
    travel_local_days: list[float]
    travel_wide_days: list[float]
    nurture_days: list[float]


@dataclass(frozen=True)
class PaymentDraws:
    """Payment draws of a channel's leads: invoice and payment delays (days), bad debt."""

    invoice_days: list[float]
    payment_days: list[float]
    u_bad_debt: list[float]


_STAGE_COLUMNS = 9


def generate_channel(
    sc: Scenario, channel: Channel, seed: int, replication: int
) -> ChannelLeads:
    """Arrivals, attributes and deal values of one channel over [0, horizon)."""
    horizon = sc.calendar.horizon_days
    ckey = name_key(channel.name)
    days, level = rate_knots(channel.schedule, horizon)
    target = channel.leads_per_day * level[-1]
    rng = stream(seed, replication, Purpose.ARRIVALS, ckey)
    # Unit-rate Poisson points, scaled by the rate: the k-th lead is the same lead
    # (only earlier or later) when the rate changes.
    chunks: list[FloatArray] = []
    total = 0.0
    while total <= target and channel.leads_per_day > 0:
        chunk = np.cumsum(rng.standard_exponential(int(target + 4 * np.sqrt(target) + 16)))
        chunk += total
        chunks.append(chunk)
        total = float(chunk[-1])
    points = np.concatenate(chunks) if chunks else np.empty(0)
    points = points[points < target] / max(channel.leads_per_day, 1e-300)
    arrival = np.interp(points, level, days)
    n = len(arrival)

    attributes: dict[str, IntArray] = {}
    for attr in ATTRIBUTES:
        values = sc.values_of(attr)
        shares = np.array([channel.mix[attr].get(v, 0.0) for v in values])  # type: ignore[index]
        u = stream(seed, replication, Purpose.ATTRIBUTES, ckey, name_key(attr)).random(n)
        idx = np.searchsorted(np.cumsum(shares) / shares.sum(), u, side="right")
        attributes[attr] = np.minimum(idx, len(values) - 1).astype(np.int64)

    u_value = stream(seed, replication, Purpose.DEAL_VALUE, ckey).random(n)
    value = sc.deal_value.distribution.ppf(u_value)
    for attr, factors in sc.deal_value.multipliers.items():
        table = np.array([factors.get(v, 1.0) for v in sc.values_of(attr)])
        value = value * table[attributes[attr]]
    return ChannelLeads(arrival, attributes, value)


def stage_layer(
    sc: Scenario, channel: Channel, n_leads: int, stage: Stage, attempt: int,
    seed: int, replication: int,
) -> StageLayer:
    """Draw the layer of (channel, stage, attempt) for all ``n_leads`` leads."""
    rng = stream(seed, replication, Purpose.STAGE, name_key(channel.name),
                 name_key(stage.name), attempt)
    u = rng.random((n_leads, _STAGE_COLUMNS))
    hpd = sc.calendar.hours_per_day
    handoff = stage.handoff or sc.handoff
    nurture = stage.failure.nurture_days
    travel = sc.travel

    def col(i: int) -> FloatArray:
        return np.ascontiguousarray(u[:, i])

    return StageLayer(
        work_days=(stage.effort_hours.ppf(col(0)) / hpd).tolist(),
        customer_days=stage.customer_delay_days.ppf(col(1)).tolist(),
        u_outcome=col(2).tolist(),
        u_route=col(3).tolist(),
        handoff_days=handoff.delay_days.ppf(col(4)).tolist(),
        u_info_loss=col(5).tolist(),
        travel_local_days=(travel.local.hours.ppf(col(6)) / hpd).tolist(),
        travel_wide_days=(travel.wide.hours.ppf(col(6)) / hpd).tolist(),
        nurture_days=(nurture.ppf(col(7)) if nurture else np.zeros(n_leads)).tolist(),
    )


def payment_draws(sc: Scenario, channel: Channel, n_leads: int, seed: int,
                  replication: int) -> PaymentDraws:
    """Invoice delay, payment delay (days) and bad-debt uniforms for a channel's leads."""
    u = stream(seed, replication, Purpose.PAYMENT, name_key(channel.name)).random((n_leads, 3))
    pay = sc.payment
    return PaymentDraws(
        invoice_days=pay.invoice_delay_days.ppf(np.ascontiguousarray(u[:, 0])).tolist(),
        payment_days=pay.payment_days.ppf(np.ascontiguousarray(u[:, 1])).tolist(),
        u_bad_debt=u[:, 2].tolist(),
    )
