"""The management system around the process: targets, pay, discounts and how reps respond.

Periods are months, quarters or years of working days (250 a year: 20.8, 62.5 or 250
days), counted from the end of the warm-up, so the counted window starts a period.

A won deal is **credited**, for each role with a target or a commission, to the last
rep of that role who worked it. A rep's amount in a period is what the measure says of
the deals credited to the rep:

- ``bookings``: the price of the deals won in the period (after any discount);
- ``margin``: ``money.gross_margin`` times those prices;
- ``won_deals``: how many deals were won in the period;
- ``collected``: the payments of credited deals received in the period;
- ``satisfaction`` (needs the after-sale part): the price of the credited deals whose
  order was delivered in the period, each times its customer's satisfaction just after
  the delivery (late or missing what was promised lowers it) over 10: a deal delivered
  to a customer at 8 counts for 80 % of its price.

**Attainment** is the amount over the target; the target is pro-rated by the share of
the period the rep was employed (and, for a last period cut short by the horizon, by
its share inside the window).

**Commission** per rep and period is ``rate`` times the amount up to the accelerator's
threshold (``from_attainment`` times the target) plus the accelerator's rate times the
amount above it, at most ``cap_per_period``. With ``clawback`` the commission is that of
the amount without the deals never paid (written off as bad debt). It is paid on top of
the roles' salaries and counts in ``cost``.

**Behaviour** that responds to the plan (each an assumption, off unless written):

- ``period_end_push``: in the last ``last_days`` of a period, a deal whose credited
  rep (so far) is behind its first target closes faster at the stages listed: the
  customer's delay is multiplied by ``delay_scale`` and, where ``discount`` is given,
  the deal gets that much more discount (once per deal), which lowers its price and
  raises its conversion as the discount policy says.
- ``sandbagging``: a rep whose commission this period has reached its cap holds a deal
  that would be signed now until the next period starts (the customer is assumed to
  wait); it then counts for the next period.
- ``value_first``: reps of a role paid commission on bookings or margin take the most
  valuable waiting deal first (``value`` dispatch) instead of their role's dispatch:
  effort goes where the plan pays.
- ``chase_payments``: reps of a role paid commission on collected cash chase overdue
  invoices themselves (needs the after-sale part's ``collection``): every reminder is
  theirs instead of the collection role's (a rep of the deal's team; with owner
  assignment the one with the fewest open deals), starting ``first_chase_days`` after
  the due date and repeated every ``every_days``, with the collection's effort, chance
  of getting paid and delay to payment.

**Discounts**: at ``discounts.stage`` each deal gets a discount (``depth``, or the
deepest of ``depth_by`` that applies to it); the price is the deal value times
``1 - discount`` and the stage's conversion is moved by ``logit_per_discount`` times the
discount on the logit scale (a 10 % discount at 4.0 adds 0.4).

**Approvals**: a stage with an ``approval`` is worked only for the deals it covers: those
whose discount (or price) is above ``above`` and at most ``up_to``; the others pass it
without an attempt. Each tier is a stage of its own, with its role, capacity and delay,
so a stricter chain shows up as cycle time.

**Pipeline reviews** (``reviews``): every ``every_days`` a rep of the reviewing role
(a manager) meets each rep of the reviewed role for ``hours_per_rep`` hours of the
manager's working time; the reviewed rep's own time is not taken (the meeting is assumed
to replace the rep's own admin). The manager is a rep of that role in the rep's own team,
or, where the team has none, in the one team that has managers (a national team). At
each rep's review, in this order:

- ``stale_after_days``: the rep's deals parked in nurture (a "not now" from the customer)
  for more than that long are closed as lost ("cleared"): they leave the rep's book,
  making room in a capped one, and the forecast, and any of them that would have come
  back is lost;
- ``coaching``: the rep's conversion effect (logit) rises by ``logit_per_review``, up to
  ``up_to`` in all;
- ``forecast``: the manager forecasts what the rep's open deals will book: with
  ``stage_weighted``, each deal's value times the probability of winning given for its
  stage (``stage_probability``, the CRM's stage probabilities); with ``commit``, the value
  of the deals at or past ``commit_from`` (those the rep commits) times
  ``1 + commit_bias``. A deal waiting for the customer's answer counts at the stage being
  decided. Each forecast is scored against what the same deals booked in the end
  (``salessim.pay``).

Units as in the rest of the schema: ``_days`` are working days, money in the
scenario's currency, rates and discounts are shares (0.05 is 5 %).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from salessim.scenario.adjustments import Facet
from salessim.scenario.errors import KeyPathError
from salessim.scenario.fields import Frozen, Name, Positive, Probability
from salessim.scenario.limits import MAX_NAMED_ITEMS

Period = Literal["month", "quarter", "year"]
PERIOD_DAYS: dict[str, float] = {"month": 250.0 / 12, "quarter": 62.5, "year": 250.0}
"""Working days in each kind of period (250 working days a year)."""

Measure = Literal["bookings", "collected", "margin", "won_deals", "satisfaction"]
PaidOn = Literal["bookings", "collected", "margin", "satisfaction"]
Discount = Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)]
"""A discount off the deal value: 0 (none) up to, not including, 1 (free)."""


class Target(Frozen):
    """What each rep of a role (in one team, or in all) is to reach per period.

    Attributes:
        role: The role whose reps carry the target.
        team: Only the reps of this team; omitted: every team's reps of the role (a
            team's own target takes precedence).
        measure: What is counted (see the module's description).
        per_period: The amount per rep and period (currency, or deals).
    """

    role: Name
    team: Name | None = None
    measure: Measure = "bookings"
    per_period: Positive


class Accelerator(Frozen):
    """A higher commission rate above a share of target.

    Attributes:
        from_attainment: Attainment from which the accelerator's rate applies (1.0:
            above target).
        rate: Commission rate on the amount above that point.
    """

    from_attainment: Positive = 1.0
    rate: Probability


class Commission(Frozen):
    """Variable pay of a role's reps, per period.

    Attributes:
        role: The role paid.
        on: What it is paid on: ``bookings``, ``collected`` cash, ``margin`` or
            ``satisfaction`` (delivered bookings weighted by the customer's score).
        rate: Share of the amount paid as commission (below any accelerator).
        accelerator: Optional higher rate above a share of the target on the same
            measure (the role needs one).
        cap_per_period: Most commission a rep earns in a period (currency).
        clawback: Commission on deals never paid is taken back (not for ``collected``,
            which pays only what was paid).
    """

    role: Name
    on: PaidOn
    rate: Probability
    accelerator: Accelerator | None = None
    cap_per_period: Positive | None = None
    clawback: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Commission:
        problems = []
        if self.accelerator is not None and self.accelerator.rate < self.rate:
            problems.append(("accelerator.rate", (
                f"an accelerator pays more above target: its rate must be at least the base "
                f"rate {self.rate:g}; got {self.accelerator.rate:g}")))
        if self.clawback and self.on == "collected":
            problems.append(("clawback", (
                "only applies to commission on bookings, margin or satisfaction: "
                "commission on collected cash is paid only on what was paid")))
        if problems:
            raise KeyPathError(problems)
        return self

    def pay(self, amount: float, target: float | None) -> float:
        """Commission on ``amount`` for a period with ``target`` (currency).

        Args:
            amount: The rep's amount in the period on ``on``.
            target: The rep's target on the same measure in the period, if any.
        """
        if self.accelerator is None or target is None:
            paid = self.rate * amount
        else:
            threshold = self.accelerator.from_attainment * target
            paid = (self.rate * min(amount, threshold)
                    + self.accelerator.rate * max(amount - threshold, 0.0))
        return paid if self.cap_per_period is None else min(paid, self.cap_per_period)


class PeriodEndPush(Frozen):
    """Reps behind target close faster, and cheaper, near the end of a period.

    Attributes:
        last_days: How many working days before the period's end the push starts.
        stages: The stages where it acts (the deal's credited reps need not work them:
            an AE behind target can press for the signature at the contract stage).
        delay_scale: Factor on the customer's delay at those stages (below 1: faster).
        discount: Extra discount given to close (needs ``discounts``); once per deal.
    """

    last_days: Positive = 10.0
    stages: tuple[Name, ...] = Field(min_length=1, strict=False)
    delay_scale: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = 1.0
    discount: Discount = 0.0


class ChasePayments(Frozen):
    """Reps paid on collected cash chase their overdue invoices, on their own schedule.

    Attributes:
        first_chase_days: Days past the due date of the first reminder.
        every_days: Days between reminders of an invoice still unpaid.
    """

    first_chase_days: Annotated[float, Field(ge=0.0, le=250.0, allow_inf_nan=False)] = 0.0
    every_days: Annotated[float, Field(ge=1.0, le=250.0, allow_inf_nan=False)]


class Behaviour(Frozen):
    """How reps respond to the plan; each is an assumption, off unless written.

    Attributes:
        period_end_push: Closing faster near the end of a period when behind target.
        sandbagging: Holding deals to the next period once the commission is capped.
        value_first: Reps paid on bookings or margin serve the most valuable deal first.
        chase_payments: Reps paid on collected cash chase overdue invoices themselves.
    """

    period_end_push: PeriodEndPush | None = None
    sandbagging: bool = False
    value_first: bool = False
    chase_payments: ChasePayments | None = None


class Discounts(Frozen):
    """The discount policy: how deep, for which deals, and what it does to conversion.

    Attributes:
        stage: The stage where the price is agreed (e.g. ``negotiation``).
        depth: The discount of every deal.
        depth_by: Discounts for deals with an attribute value, e.g.
            ``{segment: {enterprise: 0.12}}``; where several apply, the deepest does.
        logit_per_discount: Conversion effect (logit) at the stage per unit of
            discount (4.0: a 10 % discount adds 0.4).
    """

    stage: Name
    depth: Discount = 0.0
    depth_by: dict[Facet, dict[str, Discount]] = Field(default_factory=dict)
    logit_per_discount: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)] = 0.0


class Approval(Frozen):
    """Which deals a stage approves; the others pass it without an attempt.

    Attributes:
        on: ``discount`` (the deal's discount so far) or ``deal_value`` (its price).
        above: The stage works deals whose ``on`` is above this.
        up_to: ...and at most this; omitted: no upper bound.
    """

    on: Literal["discount", "deal_value"]
    above: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    up_to: Positive | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Approval:
        if self.up_to is not None and self.up_to <= self.above:
            raise KeyPathError([("up_to", f"must be above 'above' ({self.above:g}): the "
                                          f"stage approves deals in (above, up_to]")])
        return self

    def covers(self, discount: float, price: float) -> bool:
        """Whether a deal with this discount and price needs this approval."""
        value = discount if self.on == "discount" else price
        return value > self.above and (self.up_to is None or value <= self.up_to)

    def overlaps(self, other: Approval) -> bool:
        """Whether some deal needs both approvals."""
        top = self.up_to if self.up_to is not None else float("inf")
        other_top = other.up_to if other.up_to is not None else float("inf")
        return self.on == other.on and self.above < other_top and other.above < top


class Coaching(Frozen):
    """A small skill gain of each reviewed rep per review.

    Attributes:
        logit_per_review: Conversion effect (logit) gained at each review.
        up_to: Most a rep gains in all (logit).
    """

    logit_per_review: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)]
    up_to: Annotated[float, Field(gt=0.0, le=3.0, allow_inf_nan=False)]


class Forecast(Frozen):
    """The forecast made at each review of a rep's open deals (see the module's description).

    Attributes:
        method: ``stage_weighted`` or ``commit``.
        stage_probability: ``stage_weighted``: the chance of winning a deal now at each
            stage, for every stage from the reviewed role's first one on.
        commit_from: ``commit``: the first stage whose deals the rep commits.
        commit_bias: ``commit``: share by which the rep's commit overstates (positive) or
            understates (negative) the committed deals' value.
    """

    method: Literal["stage_weighted", "commit"]
    stage_probability: dict[Name, Probability] = Field(default_factory=dict)
    commit_from: Name | None = None
    commit_bias: Annotated[float, Field(gt=-1.0, le=10.0, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _complete(self) -> Forecast:
        if self.method == "stage_weighted" and not self.stage_probability:
            raise KeyPathError([("stage_probability", (
                "a stage-weighted forecast needs the chance of winning at each stage, e.g. "
                "{negotiation: 0.6, contract: 0.9}"))])
        if self.method == "commit" and self.commit_from is None:
            raise KeyPathError([("commit_from", (
                "a commit forecast needs the first stage whose deals the rep commits, "
                "e.g. negotiation"))])
        return self


class Reviews(Frozen):
    """Periodic pipeline reviews held by a manager role (see the module's description).

    Attributes:
        role: The reviewing role (pooled), e.g. ``manager``.
        reviewed_role: The role whose reps' pipelines are reviewed, e.g. ``ae``.
        every_days: Working days between reviews (5: weekly, 20.8: monthly).
        hours_per_rep: The manager's working time per reviewed rep (hours).
        stale_after_days: Deals parked in nurture longer than this are cleared; omitted:
            none are.
        coaching: The reviewed reps' skill gain; omitted: none.
        forecast: The forecast made at each review; omitted: none.
    """

    role: Name
    reviewed_role: Name
    every_days: Annotated[float, Field(ge=1.0, le=250.0, allow_inf_nan=False)]
    hours_per_rep: Annotated[float, Field(gt=0.0, le=24.0, allow_inf_nan=False)]
    stale_after_days: Positive | None = None
    coaching: Coaching | None = None
    forecast: Forecast | None = None


class Management(Frozen):
    """Targets, commission, discounts and behaviour (see the module's description).

    Attributes:
        period: The length of a target and pay period.
        targets: Per-rep targets by role (and team).
        commission: Variable pay by role.
        behaviour: How reps respond to the plan.
        discounts: The discount policy, if deals are discounted.
        reviews: Periodic pipeline reviews, if the manager holds them.
    """

    period: Period = "quarter"
    targets: tuple[Target, ...] = Field(default=(), max_length=MAX_NAMED_ITEMS, strict=False)
    commission: tuple[Commission, ...] = Field(default=(), max_length=MAX_NAMED_ITEMS,
                                               strict=False)
    behaviour: Behaviour = Behaviour()
    discounts: Discounts | None = None
    reviews: Reviews | None = None

    @property
    def period_days(self) -> float:
        """Working days in a period."""
        return PERIOD_DAYS[self.period]

    def target_for(self, role: str, team: str, measure: str) -> float | None:
        """A rep's full-period target on ``measure`` (the team's own first), if any."""
        found = [t for t in self.targets if t.role == role and t.measure == measure
                 and t.team in (team, None)]
        found.sort(key=lambda t: t.team is None)
        return found[0].per_period if found else None

    def dispatch_for(self, role: str, dispatch: str) -> str:
        """The dispatch of ``role``'s reps under the plan (``dispatch``: the role's own)."""
        pays_value = any(c.role == role and c.on != "collected" for c in self.commission)
        return "value" if self.behaviour.value_first and pays_value else dispatch

    def chaser(self) -> str | None:
        """The role that chases overdue invoices under ``chase_payments``, if any."""
        if self.behaviour.chase_payments is None:
            return None
        return next((c.role for c in self.commission if c.on == "collected"), None)

    def credited_roles(self) -> tuple[str, ...]:
        """Roles whose reps are credited with the deals they worked, in order of mention."""
        named = [t.role for t in self.targets] + [c.role for c in self.commission]
        if self.reviews is not None:
            named.append(self.reviews.reviewed_role)
        return tuple(dict.fromkeys(named))
