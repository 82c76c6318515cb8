"""The management plan during a run: credit, attainment so far, discounts, push and holds.

What reps do under the plan depends on where they stand in the current period, so the
replication keeps, per rep and period, the amounts credited so far (see
``salessim.scenario.management`` for the rules). Commission itself is worked out
afterwards from the tables this hands back (``salessim.pay``); nothing here draws a
random number, so the plan never shifts another draw.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from salessim.model.reps import Rep
from salessim.scenario.adjustments import FACETS, Facet
from salessim.scenario.management import Management
from salessim.scenario.schema import Scenario

MEASURES: tuple[str, ...] = ("bookings", "margin", "won_deals", "collected", "satisfaction")
"""The amounts kept per rep and period, in this order."""


def period_of(day: float, start: float, length: float) -> int:
    """Number of the period holding ``day`` (0 is the first counted one; negative before)."""
    return math.floor((day - start) / length)


def employed_share(hired: float, left: float, begin: float, end: float, length: float
                   ) -> float:
    """Share of a period of ``length`` days that [hired, left) covers inside [begin, end)."""
    return max(0.0, min(left, end) - max(hired, begin)) / length


class ManagementModel:
    """The plan's state in one replication.

    Args:
        sc: The scenario (with a management part).
        reps: Every rep of the replication, by index (it grows as reps are hired).
        deal_value: The leads' deal values, updated in place to the price at a discount.
    """

    def __init__(self, sc: Scenario, reps: Sequence[Rep], deal_value: array[float]) -> None:
        assert sc.management is not None
        self.plan: Management = sc.management
        self.reps = reps
        self.deal_value = deal_value
        self.start = sc.calendar.warmup_days
        self.length = self.plan.period_days
        self.margin = sc.money.gross_margin
        self.roles = self.plan.credited_roles()
        self.credit: dict[int, list[int]] = {}
        """Per lead, the credited rep of each of ``roles`` (-1: none worked it yet)."""
        self.amounts: defaultdict[tuple[int, int], list[float]] = defaultdict(
            lambda: [0.0] * len(MEASURES))
        """(rep, period) -> the amounts of ``MEASURES`` credited so far."""
        self.list_value: dict[int, float] = {}
        self.discount: dict[int, float] = {}
        self.pushed: set[int] = set()
        self.held: dict[int, float] = {}
        reviews = self.plan.reviews
        self.reviewed = self.roles.index(reviews.reviewed_role) if reviews else -1
        """Position in ``roles`` of the role whose pipelines are reviewed (-1: none)."""
        self.book: defaultdict[int, set[int]] = defaultdict(set)
        """With reviews: each reviewed rep's open credited deals."""
        self.parked: dict[int, float] = {}
        """With reviews that clear stale deals: deals parked in nurture, and since when
        (days)."""
        self.clears = reviews is not None and reviews.stale_after_days is not None
        self.deciding: dict[int, int] = {}
        """With forecasts: the stage each deal's customer was last asked to decide on."""
        self._forecasts = reviews is not None and reviews.forecast is not None
        self._rules(sc)

    def _rules(self, sc: Scenario) -> None:
        plan = self.plan
        self.push = plan.behaviour.period_end_push
        self.push_stages = (frozenset(sc.stage_index(s) for s in self.push.stages)
                            if self.push is not None else frozenset())
        policy = plan.discounts
        self.discount_stage = sc.stage_index(policy.stage) if policy is not None else -1
        self.logit_per_discount = policy.logit_per_discount if policy is not None else 0.0
        self.capped = [c for c in plan.commission
                       if c.cap_per_period is not None and c.on != "collected"]

    # ---- what the lead's life reports ----------------------------------------------

    def worked(self, i: int, rep: Rep) -> None:
        """Rep ``rep`` worked lead ``i``'s attempt (as the lead's own rep of the stage)."""
        if rep.role in self.roles:
            credit = self.credit.get(i)
            if credit is None:
                credit = self.credit[i] = [-1] * len(self.roles)
            k = self.roles.index(rep.role)
            if k == self.reviewed and credit[k] != rep.index:
                if credit[k] >= 0:
                    self.book[credit[k]].discard(i)
                self.book[rep.index].add(i)
            credit[k] = rep.index

    def park(self, i: int, day: float) -> None:
        """Lead ``i`` goes into nurture on ``day`` (kept only when reviews clear deals)."""
        if self.clears:
            self.parked[i] = day

    def closed(self, i: int) -> None:
        """Lead ``i`` is closed (won or lost): it leaves its reviewed rep's book."""
        self.parked.pop(i, None)
        self.deciding.pop(i, None)
        credit = self.credit.get(i)
        if credit is not None and self.reviewed >= 0:
            self.book[credit[self.reviewed]].discard(i)

    def decision(self, i: int, stage: int, day: float,
                 names: dict[Facet, str]) -> tuple[float, float]:
        """The plan's effect on an attempt whose customer's answer starts at ``day``.

        Sets the deal's discount at the discount stage (and a push's extra discount).

        Args:
            i: The lead.
            stage: The stage attempted.
            day: When the rep's work ended (days).
            names: The lead's value of each facet (for the discount policy).

        Returns:
            (conversion effect (logit), factor on the customer's delay).
        """
        if self._forecasts:
            self.deciding[i] = stage
        offered = 0.0
        if stage == self.discount_stage:
            offered = self._depth(names)
            self._set_discount(i, offered)
        delay = 1.0
        push = self.push
        if push is not None and stage in self.push_stages and self._pushing(i, day):
            delay = push.delay_scale
            if push.discount > 0 and i not in self.pushed:
                self.pushed.add(i)
                self._set_discount(i, self.discount.get(i, 0.0) + push.discount)
                offered += push.discount
        return self.logit_per_discount * offered, delay

    def hold_until(self, i: int, day: float) -> float:
        """When a deal the customer signs on ``day`` is closed: later if a rep holds it."""
        if not self.plan.behaviour.sandbagging:
            return day
        k = period_of(day, self.start, self.length)
        credit = self.credit.get(i, ())
        for pay in self.capped:
            r = credit[self.roles.index(pay.role)] if credit else -1
            if r < 0:
                continue
            rep = self.reps[r]
            amount = self.amounts[r, k][MEASURES.index(pay.on)]
            assert pay.cap_per_period is not None
            if pay.pay(amount, self._target(rep, pay.on, k)) >= pay.cap_per_period:
                until = self.start + (k + 1) * self.length
                self.held[i] = until - day
                return until
        return day

    def won(self, i: int, day: float, payment_days: float) -> None:
        """Credit lead ``i``, won on ``day``, to its reps (paid ``payment_days`` later)."""
        k = period_of(day, self.start, self.length)
        price = self.deal_value[i]
        paid = (period_of(day + payment_days, self.start, self.length)
                if payment_days == payment_days else None)
        for r in self.credit.get(i, ()):
            if r >= 0:
                amounts = self.amounts[r, k]
                amounts[0] += price
                amounts[1] += self.margin * price
                amounts[2] += 1.0
                if paid is not None:
                    self.amounts[r, paid][3] += price

    def delivered(self, i: int, score: float, day: float) -> None:
        """Lead ``i``'s order was delivered on ``day``; its customer's score is ``score``."""
        k = period_of(day, self.start, self.length)
        weighted = self.deal_value[i] * score / 10.0
        for r in self.credit.get(i, ()):
            if r >= 0:
                self.amounts[r, k][4] += weighted

    def paid(self, i: int, amount: float, day: float) -> None:
        """An invoice of lead ``i`` of ``amount`` was paid on ``day`` (after-sale part)."""
        k = period_of(day, self.start, self.length)
        for r in self.credit.get(i, ()):
            if r >= 0:
                self.amounts[r, k][3] += amount

    # ---- the plan's rules ----------------------------------------------------------

    def _depth(self, names: dict[Facet, str]) -> float:
        policy = self.plan.discounts
        assert policy is not None
        depths = [policy.depth] + [policy.depth_by[f][names[f]] for f in FACETS
                                   if f in policy.depth_by and names[f] in policy.depth_by[f]]
        return max(depths)

    def _set_discount(self, i: int, discount: float) -> None:
        listed = self.list_value.setdefault(i, self.deal_value[i])
        self.discount[i] = discount
        self.deal_value[i] = listed * (1.0 - discount)

    def _target(self, rep: Rep, measure: str, k: int) -> float | None:
        full = self.plan.target_for(rep.role, rep.team, measure)
        if full is None:
            return None
        begin = self.start + k * self.length
        return full * employed_share(rep.hired, rep.left, begin, begin + self.length,
                                     self.length)

    def _pushing(self, i: int, day: float) -> bool:
        """Whether lead ``i``'s deal is in a period's last days with a rep behind target."""
        assert self.push is not None
        k = period_of(day, self.start, self.length)
        if self.start + (k + 1) * self.length - day > self.push.last_days:
            return False
        for r in self.credit.get(i, ()):
            if r < 0:
                continue
            rep = self.reps[r]
            target = next((t for t in self.plan.targets if t.role == rep.role
                           and t.team in (rep.team, None)), None)
            if target is not None:
                full = self._target(rep, target.measure, k)
                amount = self.amounts[r, k][MEASURES.index(target.measure)]
                if full is not None and amount < full:
                    return True
        return False

    # ---- output --------------------------------------------------------------------

    def tables(self) -> dict[str, dict[str, NDArray[np.generic]]]:
        """``deals`` (discounts, pushes, holds) and ``credits`` (which rep got which deal)."""
        cases = sorted(set(self.list_value) | set(self.held))
        deals = {
            "case": np.array(cases, dtype=np.int64),
            "list_value": np.array([self.list_value.get(i, self.deal_value[i])
                                    for i in cases], dtype=np.float64),
            "discount": np.array([self.discount.get(i, 0.0) for i in cases],
                                 dtype=np.float64),
            "pushed": np.array([i in self.pushed for i in cases], dtype=np.bool_),
            "held_days": np.array([self.held.get(i, 0.0) for i in cases], dtype=np.float64),
        }
        rows = [(i, k, r) for i, credit in sorted(self.credit.items())
                for k, r in enumerate(credit) if r >= 0]
        credits = {
            "case": np.array([c for c, _, _ in rows], dtype=np.int64),
            "role": np.array([self.roles[k] for _, k, _ in rows], dtype=str),
            "rep": np.array([r for _, _, r in rows], dtype=np.int64),
        }
        return {"deals": deals, "credits": credits}
