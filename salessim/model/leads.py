"""The leads of one replication: one potential deal each, kept as columns.

A lead is an index (its id, in arrival order) into ``LeadTable``'s columns rather than
an object of its own: the event loop reads a lead's attributes into local variables
once, and a replication of ten thousand leads then creates no long-lived Python
objects per lead, which keeps the garbage collector out of the run. The columns are
typed arrays (``array.array``): 8 bytes a time or an amount and 4 a code, where a list
holds a pointer for each and, for a time or a row number, an object of 24 to 28 bytes.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
from numpy.typing import NDArray

OPEN, WON, LOST = 0, 1, 2
"""Lead status codes."""
IN_TRANSIT, QUEUED, WORKING, AFTER_WORK = 0, 1, 2, 3
"""Where an open lead is within its current stage attempt: not yet at the stage
(handoff, nurture), waiting for a rep, with a rep, or after the rep's work (waiting on
the customer until ``answer_time``, then in transit to the next activity)."""
NOT_LOST, DECLINED, COLD_LOSS, CLEARED = 0, 1, 2, 3
"""Codes of why a lead was lost (``LOST_REASONS`` names them)."""
LOST_REASONS: tuple[str, ...] = ("", "declined", "cold", "cleared")
"""Names of the lost-reason codes."""
DRAWN, REPEAT, REFERRED = 0, 1, 2
"""Where a lead comes from: a channel's arrivals, a customer coming back, a referral."""
MADE_BY: tuple[str, ...] = ("channel", "repeat", "referral")
"""Names of the codes of where a lead comes from."""


def packed(values: NDArray[np.float64]) -> array[float]:
    """Doubles as a typed array: the same values, bit for bit, without a float object each."""
    return array("d", np.ascontiguousarray(values, dtype=np.float64).tobytes())


def packed_ints(values: NDArray[np.integer] | NDArray[np.bool_]) -> array[int]:
    """Whole numbers (codes, row numbers, flags) as a typed array of C ints."""
    return array("i", np.ascontiguousarray(values, dtype=np.intc).tobytes())


def _filled(value: float, n: int) -> array[float]:
    return array("d", [value]) * n


def _filled_ints(value: int, n: int) -> array[int]:
    return array("i", [value]) * n


class LeadTable:
    """All leads of a replication, indexed by lead id (arrival order).

    Attribute columns are indices into the scenario's value lists; times are in days
    from the start of the run; money is in the scenario's currency.

    Attributes:
        channel: Channel index.
        row: Position of the lead among its channel's leads (its row in the draws).
        grade: Grade index.
        region: Region index.
        product: Product index.
        segment: Segment index.
        deal_value: Deal value if won.
        band: Index of the deal-size band (``DealValue.band_names``; 0 without bands).
        arrival: Arrival time.
        cohort: Whether the lead is counted (arrived in [warm-up, horizon)).
        status: ``OPEN``, ``WON`` or ``LOST``.
        close_time: When the lead was won or lost (NaN while open).
        lost_stage: Stage index where a lost lead was lost (-1 otherwise).
        lost_reason: ``DECLINED``, ``COLD_LOSS`` or ``CLEARED`` (at a pipeline review)
            for lost leads, else ``NOT_LOST``.
        first_start: When a rep first started working on the lead (NaN if never).
        payment_days: Days from the win to the payment of a won deal (NaN if never
            paid); kept as a delay, not a time, so that comparing it with a collection
            window cannot round across the window's edge.
        waiting_since: When the lead started its current wait for a rep (NaN if not
            waiting).
        waiting_stage: Stage index of the lead's current or last wait for a rep.
        waiting_attempt: Attempt (from 0) at that stage of that wait.
        waiting_touch: Touch of that attempt (0 for the first work, then follow-ups).
        stage_now: Stage index of the lead's current attempt (-1 before the first).
        phase_now: ``IN_TRANSIT``, ``QUEUED``, ``WORKING`` or ``AFTER_WORK``.
        answer_time: When the customer answers the current attempt (days).
        source: Index of the lead's source of draws: its channel for leads drawn when
            the run starts, a block of leads made during the run otherwise.
        entry: Stage index the lead starts at.
        customer: The customer a repeat opportunity is for (-1 for other leads).
        made_by: ``DRAWN`` for leads of the channels, ``REPEAT`` or ``REFERRED`` for
            leads made during the run.
        drawn: Leads drawn when the run started (the first ``drawn`` ids); the others
            were made during the run (repeat opportunities, referrals).
    """

    def __init__(
        self, channel: NDArray[np.int64], row: NDArray[np.int64],
        attributes: dict[str, NDArray[np.int64]], deal_value: NDArray[np.float64],
        arrival: NDArray[np.float64], warmup_days: float, band: NDArray[np.int64],
    ) -> None:
        n = len(arrival)
        self.n = n
        self.channel = packed_ints(channel)
        self.row = packed_ints(row)
        self.grade = packed_ints(attributes["grade"])
        self.region = packed_ints(attributes["region"])
        self.product = packed_ints(attributes["product"])
        self.segment = packed_ints(attributes["segment"])
        self.deal_value = packed(deal_value)
        self.band = packed_ints(band)
        self.arrival = packed(arrival)
        self.cohort = packed_ints(arrival >= warmup_days)
        """1 for a counted lead, else 0."""
        self.status = _filled_ints(OPEN, n)
        self.close_time = _filled(math.nan, n)
        self.lost_stage = _filled_ints(-1, n)
        self.lost_reason = _filled_ints(NOT_LOST, n)
        self.first_start = _filled(math.nan, n)
        self.payment_days = _filled(math.nan, n)
        self.waiting_since = _filled(math.nan, n)
        self.waiting_stage = _filled_ints(-1, n)
        self.waiting_attempt = _filled_ints(-1, n)
        self.waiting_touch = _filled_ints(0, n)
        self.stage_now = _filled_ints(-1, n)
        self.phase_now = _filled_ints(IN_TRANSIT, n)
        self.answer_time = _filled(math.nan, n)
        self.source = array("i", self.channel)
        self.entry = _filled_ints(0, n)
        self.customer = _filled_ints(-1, n)
        self.made_by = _filled_ints(DRAWN, n)
        self.drawn = n

    def add(self, channel: int, source: int, row: int, attributes: dict[str, int],
            deal_value: float, band: int, arrival: float, cohort: bool, entry: int,
            customer: int) -> int:
        """Add a lead made during the run (arriving now); returns its id."""
        i = self.n
        self.n += 1
        for ints, value in ((self.channel, channel), (self.row, row),
                            (self.grade, attributes["grade"]),
                            (self.region, attributes["region"]),
                            (self.product, attributes["product"]),
                            (self.segment, attributes["segment"]), (self.band, band),
                            (self.source, source), (self.entry, entry),
                            (self.customer, customer),
                            (self.made_by, REPEAT if customer >= 0 else REFERRED),
                            (self.status, OPEN), (self.lost_stage, -1),
                            (self.lost_reason, NOT_LOST), (self.waiting_stage, -1),
                            (self.waiting_attempt, -1), (self.waiting_touch, 0),
                            (self.stage_now, -1), (self.phase_now, IN_TRANSIT)):
            ints.append(value)
        for floats, number in ((self.deal_value, deal_value), (self.arrival, arrival),
                               (self.close_time, math.nan), (self.first_start, math.nan),
                               (self.payment_days, math.nan), (self.waiting_since, math.nan),
                               (self.answer_time, math.nan)):
            floats.append(number)
        self.cohort.append(int(cohort))
        return i
