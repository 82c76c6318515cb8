"""The lead: one potential deal moving through the process."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salessim.model.reps import Rep

OPEN, WON, LOST = 0, 1, 2
"""Lead status codes."""


class Lead:
    """A lead and what happened to it.

    Attributes are attribute indices into the scenario's value lists; times are in
    days from the start of the run; money is in the scenario's currency.
    """

    __slots__ = (
        "arrival", "attempts", "channel", "close_time", "cohort", "deal_value",
        "first_start", "grade", "id", "key", "lost_reason", "lost_stage", "owners",
        "paid_time", "product", "region", "row", "segment", "status", "waiting_since",
    )

    def __init__(
        self, lead_id: int, channel: int, row: int, grade: int, region: int, product: int,
        segment: int, deal_value: float, arrival: float, cohort: bool, n_stages: int,
        n_roles: int,
    ) -> None:
        self.id = lead_id
        self.channel = channel
        self.row = row
        self.grade = grade
        self.region = region
        self.product = product
        self.segment = segment
        self.key = (grade, region, product, segment)
        self.deal_value = deal_value
        self.arrival = arrival
        self.cohort = cohort
        self.attempts = [0] * n_stages
        self.owners: list[Rep | None] = [None] * n_roles
        self.status = OPEN
        self.close_time = float("nan")
        self.first_start = float("nan")
        self.lost_stage = -1
        self.lost_reason = ""
        self.paid_time = float("nan")
        self.waiting_since = float("nan")
