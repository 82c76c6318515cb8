"""The scenario schema: one frozen, typed description of a sales process and organisation.

Units are in the field names: ``_days`` are working days (the simulation clock),
``_hours`` are working hours (divided by ``calendar.hours_per_day`` to become days),
money is in ``money.currency``, probabilities are in [0, 1] and ``_logit`` values are
additive shifts on the log-odds of a stage's conversion probability.

Every default lives here, in one place, and is documented; the model never guesses one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from salessim.scenario.adjustments import (
    Facet,
    HandoffAdjust,
    PaymentAdjust,
    StageAdjust,
)
from salessim.scenario.after_sale import AfterSale
from salessim.scenario.checks import cross_reference_problems
from salessim.scenario.distributions import Distribution
from salessim.scenario.document import apply_changes, plain_data
from salessim.scenario.errors import (
    KeyPathError,
    Problem,
    ScenarioError,
    repeats,
    show,
    validate_document,
)
from salessim.scenario.fields import (
    Frozen,
    Logit,
    Name,
    NonNegative,
    Positive,
    Probability,
)
from salessim.scenario.limits import (
    ATTRIBUTES,
    MAX_ATTRIBUTE_VALUES,
    MAX_FOLLOW_UPS,
    MAX_HORIZON_DAYS,
    MAX_NAMED_ITEMS,
    MIN_CYCLE_DAYS,
    MIX_TOLERANCE,
)
from salessim.scenario.management import Approval, Management
from salessim.scenario.rates import cumulative_rate
from salessim.scenario.yaml12 import dump_yaml

SCHEMA_VERSION = 1



Values = Annotated[tuple[str, ...], Field(strict=False)]
"""A list of attribute values (read from a YAML list)."""
AttributeValues = Annotated[tuple[Name, ...], Field(min_length=1, max_length=MAX_ATTRIBUTE_VALUES,
                                                    strict=False)]
"""The values a lead attribute takes (grades, regions, products, segments)."""


_SINGULAR = {"grades": "grade", "regions": "region", "products": "product",
             "segments": "segment", "channels": "channel", "roles": "role", "teams": "team",
             "stages": "stage"}


def _unique(names: Iterable[str], field: str, suffix: str = "") -> None:
    """Refuse repeated names, naming each repeat's position and its first use."""
    what = _SINGULAR.get(field, "item")
    problems = [(f"[{i}]{suffix}", f"duplicate {what} name {n!r}, already used at "
                                   f"{field}[{j}]; each {what} needs its own name")
                for i, n, j in repeats(names)]
    if problems:
        raise KeyPathError(problems)


class Calendar(Frozen):
    """The simulated time window.

    Attributes:
        horizon_days: Working days during which leads arrive (250 is about one year).
        warmup_days: Leads arriving before this day load the system but are not
            counted; costs and utilisation are measured from here to the horizon.
        drain_limit_days: After the horizon no lead arrives; the run goes on until
            every counted lead is won or lost, but for at most this many days. Leads
            still open then are counted as open.
        hours_per_day: Working hours in one day; converts ``_hours`` efforts to days.
    """

    horizon_days: Annotated[float, Field(gt=0.0, le=MAX_HORIZON_DAYS, allow_inf_nan=False)]
    warmup_days: NonNegative = 0.0
    drain_limit_days: Annotated[float, Field(ge=0.0, le=MAX_HORIZON_DAYS)] = 250.0
    hours_per_day: Annotated[float, Field(ge=1.0, le=24.0)] = 8.0

    @model_validator(mode="after")
    def _warmup_inside(self) -> Calendar:
        if self.warmup_days >= self.horizon_days:
            raise KeyPathError([(
                "warmup_days",
                f"must be less than horizon_days ({self.horizon_days:g}); "
                f"got {self.warmup_days:g}",
            )])
        return self


class RatePeriod(Frozen):
    """A multiplier on a channel's lead rate for days in [``from_day``, ``to_day``).

    Periods repeat every ``Schedule.cycle_days`` when a cycle is given, so a
    quarter-end push can be written once.
    """

    from_day: NonNegative
    to_day: Positive
    multiplier: NonNegative

    @model_validator(mode="after")
    def _ordered(self) -> RatePeriod:
        if self.to_day <= self.from_day:
            raise KeyPathError([(
                "to_day", f"must be after from_day ({self.from_day:g}); got {self.to_day:g}"
            )])
        return self


class Schedule(Frozen):
    """A piecewise-constant rate schedule: seasons, campaigns, quarter ends.

    Days not inside any period have multiplier 1.

    Attributes:
        cycle_days: If given, the periods repeat with this period (days, at least
            ``MIN_CYCLE_DAYS``); every period must lie inside [0, cycle_days).
        periods: Non-overlapping periods with their rate multipliers.
    """

    cycle_days: Positive | None = None
    periods: tuple[RatePeriod, ...] = Field(min_length=1, strict=False)

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        problems: list[tuple[str, str]] = []
        order = sorted(range(len(self.periods)), key=lambda i: self.periods[i].from_day)
        for i, j in itertools.pairwise(order):
            a, b = self.periods[i], self.periods[j]
            if b.from_day < a.to_day:
                problems.append((
                    f"periods[{j}]",
                    f"days {b.from_day:g} to {b.to_day:g} overlap periods[{i}] (days "
                    f"{a.from_day:g} to {a.to_day:g}); periods must not overlap",
                ))
        if self.cycle_days is not None:
            if self.cycle_days < MIN_CYCLE_DAYS:
                problems.append((
                    "cycle_days", f"must be at least {MIN_CYCLE_DAYS:g} day; got "
                    f"{self.cycle_days:g}",
                ))
            for i, p in enumerate(self.periods):
                if p.to_day > self.cycle_days:
                    problems.append((
                        f"periods[{i}].to_day",
                        f"ends at day {p.to_day:g}, after cycle_days ({self.cycle_days:g}); "
                        "every period must lie inside the cycle",
                    ))
        if problems:
            raise KeyPathError(problems)
        return self


class Channel(Frozen):
    """A source of leads.

    Attributes:
        name: Channel name (e.g. ``trade_show``).
        leads_per_day: Mean Poisson arrival rate, leads per working day.
        cost_per_lead: Marketing spend per lead (currency).
        schedule: Optional rate multipliers over time.
        mix: For each lead attribute (``grade``, ``region``, ``product``,
            ``segment``), the probability of each value; each must sum to 1.
    """

    name: Name
    leads_per_day: NonNegative
    cost_per_lead: NonNegative = 0.0
    schedule: Schedule | None = None
    mix: dict[Literal["grade", "region", "product", "segment"], dict[str, Probability]]


class DealValue(Frozen):
    """Deal value of a won lead (currency).

    Attributes:
        distribution: Base deal value.
        multipliers: Optional factors by attribute value, e.g.
            ``{segment: {enterprise: 4.0}}``; values not listed have factor 1.
        bands: Optional deal-size bands by name, each with its lower bound (currency),
            e.g. ``{small: 0, mid: 20000, large: 100000}``; a deal is in the band with
            the highest bound not above its value, so one band must start at 0.
            Adjustments may then be keyed by ``deal_size``.
    """

    distribution: Distribution
    multipliers: dict[Literal["grade", "region", "product", "segment"], dict[str, NonNegative]] = (
        Field(default_factory=dict)
    )
    bands: dict[Name, NonNegative] = Field(default_factory=dict, max_length=MAX_ATTRIBUTE_VALUES)

    @model_validator(mode="after")
    def _bands_from_zero(self) -> DealValue:
        problems: list[tuple[str, str]] = []
        lowest = min(self.bands.values(), default=0.0)
        if lowest != 0:
            problems.append(("bands", "one band must start at 0 so that every deal is in a "
                                      f"band; the lowest bound given is {lowest:g}"))
        first: dict[float, str] = {}
        for name, bound in self.bands.items():
            if bound in first:
                problems.append((f"bands.{name}", f"starts at {bound:g} like "
                                                  f"{first[bound]!r}; each band needs its own "
                                                  "lower bound"))
            first.setdefault(bound, name)
        if problems:
            raise KeyPathError(problems)
        return self

    def band_names(self) -> tuple[str, ...]:
        """The bands in increasing order of their lower bound."""
        return tuple(sorted(self.bands, key=self.bands.__getitem__))


class RampUp(Frozen):
    """How a newly hired rep gets up to speed; both penalties fade linearly to zero.

    Attributes:
        days: Length of the ramp-up (working days).
        logit: Conversion effect (logit, usually negative) of a rep on the first day.
        extra_effort: Extra share of effort on the first day (0.5: tasks take 50 %
            longer).
    """

    days: Positive
    logit: Logit = 0.0
    extra_effort: Annotated[float, Field(ge=0.0, le=10.0)] = 0.0


class Role(Frozen):
    """A job in the sales process.

    Attributes:
        name: Role name used by stages and teams (e.g. ``ae``).
        title: Human-readable title.
        salary_per_day: Fully loaded cost of one rep per working day employed (currency).
        assignment: ``owner``: a lead keeps the rep of this role who first worked on
            it for all later stages of the role; ``pooled``: any free rep of the
            lead's team takes the next task.
        dispatch: Which waiting task a free rep takes: ``fifo`` (longest waiting),
            ``grade`` (best grade first, then longest waiting), ``value`` (highest
            deal value first) or ``deadline`` (the task whose stage SLA runs out
            soonest; tasks without an SLA after them, longest waiting first).
        ramp_up: How hires of this role get up to speed; omitted means at once.
        attrition_per_year: Expected leavers per rep per 250 working days (0.2: one
            rep in five leaves in a year), at exponentially distributed times.
        replacement_days: Working days from a leaver's departure to the replacement's
            first day; omitted means leavers are not replaced.
        max_open_deals: The most open leads one rep may own (owner assignment only): a
            rep with a full book takes no new lead. A new lead goes to the rep with the
            fewest open leads among those with room; when every book is full it waits
            (and may go cold) until a lead closes and makes room. Omitted: no cap.
        non_selling_share: Share of a rep's working day spent on admin, internal
            meetings and training (0.3: 30 %); an hour of selling then keeps the rep
            for ``1 / (1 - share)`` hours, which count as busy.
        skill_spread_logit: Spread (standard deviation, logit) of skill between the
            role's reps: each rep draws its own skill, normal with mean 0, from a stream
            of its own position, so adding a rep does not change the others.
        effort_spread: Spread of the reps' pace: each rep's efforts are multiplied by
            its own lognormal factor with mean 1 and this standard deviation of its log.
    """

    name: Name
    title: str = ""
    salary_per_day: NonNegative
    assignment: Literal["owner", "pooled"] = "pooled"
    dispatch: Literal["fifo", "grade", "value", "deadline"] = "fifo"
    ramp_up: RampUp | None = None
    attrition_per_year: Annotated[float, Field(ge=0.0, le=50.0)] = 0.0
    replacement_days: NonNegative | None = None
    max_open_deals: Annotated[int, Field(ge=1, le=100_000)] | None = None
    non_selling_share: Annotated[float, Field(ge=0.0, le=0.9, allow_inf_nan=False)] = 0.0
    skill_spread_logit: Annotated[float, Field(ge=0.0, le=5.0, allow_inf_nan=False)] = 0.0
    effort_spread: Annotated[float, Field(ge=0.0, le=2.0, allow_inf_nan=False)] = 0.0

    @model_validator(mode="after")
    def _book_needs_owner(self) -> Role:
        if self.max_open_deals is not None and self.assignment != "owner":
            raise KeyPathError([("max_open_deals", "a book belongs to a rep: a cap on open "
                                                   "deals needs assignment: owner (it is "
                                                   f"{self.assignment})")])
        return self


class HeadcountChange(Frozen):
    """From ``day`` on, a rep group has ``headcount`` reps (hiring or leaving then).

    Attributes:
        day: Working day of the change.
        headcount: Reps from that day on (at least 1).
    """

    day: NonNegative
    headcount: Annotated[int, Field(ge=1, le=10_000)]


class RepGroup(Frozen):
    """The reps of one role in one team.

    Attributes:
        headcount: Reps at the start.
        skill_logit: Conversion effect of these reps on stages they work (logit).
        plan: Headcount changes during the run, in order of day; hires ramp up as
            their role says.
        skill_spread_logit: This group's spread of skill between reps, instead of the
            role's (``Role.skill_spread_logit``).
        effort_spread: This group's spread of pace, instead of the role's.
    """

    headcount: Annotated[int, Field(ge=0, le=10_000)]
    skill_logit: Logit = 0.0
    skill_spread_logit: Annotated[float, Field(ge=0.0, le=5.0, allow_inf_nan=False)] | None = None
    effort_spread: Annotated[float, Field(ge=0.0, le=2.0, allow_inf_nan=False)] | None = None
    plan: tuple[HeadcountChange, ...] = Field(default=(), strict=False)

    @model_validator(mode="after")
    def _plan_in_order(self) -> RepGroup:
        problems: list[tuple[str, str]] = []
        if self.plan and self.headcount == 0:
            problems.append(("plan", "a group that starts with no reps cannot hire during "
                                     "the run; give it a headcount of at least 1"))
        for i, (a, b) in enumerate(itertools.pairwise(self.plan)):
            if b.day <= a.day:
                problems.append((f"plan[{i + 1}].day", f"must be after plan[{i}].day "
                                                        f"({a.day:g}); got {b.day:g}"))
        if problems:
            raise KeyPathError(problems)
        return self


class TravelZone(Frozen):
    """Travel for one customer visit.

    Attributes:
        hours: Rep travel time per visit (hours); the rep is busy.
        cost: Travel cost per visit (currency).
    """

    hours: Distribution
    cost: NonNegative = 0.0


class ReachZone(TravelZone):
    """Travel for the visits of teams whose territory spans up to some regions.

    Attributes:
        up_to_regions: The zone applies to teams covering at most this many regions
            (and more than the previous zone's).
    """

    up_to_regions: Annotated[int, Field(ge=1, le=10_000)]


class Travel(Frozen):
    """Travel per visit by how far a team's territory reaches.

    A team covering one region travels little; a team covering the whole country (a
    product or key-account team) travels far. Each team's visits use the first zone
    whose ``up_to_regions`` is at least the number of regions the team covers (all of
    them when it lists none), unless the team gives its own ``travel``.

    Attributes:
        zones: Zones in increasing order of ``up_to_regions``.
    """

    zones: tuple[ReachZone, ...] = Field(min_length=1, strict=False)

    @model_validator(mode="after")
    def _increasing(self) -> Travel:
        problems = [
            (f"zones[{i + 1}].up_to_regions",
             f"must be more than zones[{i}].up_to_regions ({a.up_to_regions}); got "
             f"{b.up_to_regions}")
            for i, (a, b) in enumerate(itertools.pairwise(self.zones))
            if b.up_to_regions <= a.up_to_regions
        ]
        if problems:
            raise KeyPathError(problems)
        return self

    def zone_for(self, reach: int) -> int:
        """Index of the zone for a team covering ``reach`` regions."""
        return next(i for i, z in enumerate(self.zones) if z.up_to_regions >= reach)


class Team(Frozen):
    """A team and the leads it covers.

    A team covers a lead when the lead's region, product and segment are each in the
    team's lists; an omitted list covers every value (a bundle of products is covered
    when all its products are). For each role, a lead goes to the team with the highest
    ``priority`` among those that cover it and have reps of that role; two such teams
    with the same priority are refused when the scenario is loaded. A bundle no single
    team covers is worked by the team covering each of its products, together.

    Attributes:
        name: Team name.
        regions: Regions covered; omitted means all. How many regions a team covers
            decides its travel zone (``Travel``).
        products: Products covered (not bundles); omitted means all.
        segments: Customer segments covered; omitted means all.
        priority: Where teams overlap, the higher priority takes the lead (e.g. a
            key-account team over the regional teams).
        travel: The team's own travel per visit, instead of its zone's.
        effects: Conversion effects (logit) by lead attribute value for work done by
            this team, e.g. a product specialist ``{product: {platform: 0.5}}``.
        reps: Rep groups by role name.
    """

    name: Name
    regions: tuple[str, ...] | None = Field(default=None, min_length=1, strict=False)
    products: tuple[str, ...] | None = Field(default=None, min_length=1, strict=False)
    segments: tuple[str, ...] | None = Field(default=None, min_length=1, strict=False)
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    travel: TravelZone | None = None
    effects: dict[Literal["grade", "region", "product", "segment"], dict[str, Logit]] = Field(
        default_factory=dict
    )
    reps: dict[str, RepGroup] = Field(min_length=1)

    def covers(self, region: str, products: Iterable[str], segment: str) -> bool:
        """Whether this team covers a lead of this region and segment for all ``products``."""
        return (
            (self.regions is None or region in self.regions)
            and (self.products is None or all(p in self.products for p in products))
            and (self.segments is None or segment in self.segments)
        )

    def staffed(self, role: str) -> bool:
        """Whether the team has reps of ``role`` at the start."""
        group = self.reps.get(role)
        return group is not None and group.headcount > 0

    def reach(self, n_regions: int) -> int:
        """How many regions the team covers, of ``n_regions``."""
        return n_regions if self.regions is None else len(self.regions)


class Handoff(Frozen):
    """What a change of role between consecutive activities costs.

    Attributes:
        delay_days: Elapsed time before the next role can start (days).
        info_loss_prob: Probability that information is lost in the handoff.
        info_loss_logit: Conversion effect (logit, usually negative) on the receiving
            stage when information was lost.
        adjust: Changes by lead attribute value (``salessim.scenario.adjustments``),
            e.g. ``{segment: {enterprise: {delay_scale: 2.0}}}``.
    """

    delay_days: Distribution
    info_loss_prob: Probability = 0.0
    info_loss_logit: Logit = 0.0
    adjust: HandoffAdjust = Field(default_factory=dict)


class Failure(Frozen):
    """Where a lead goes when it does not pass a stage.

    Shares are of the failures: ``rework_share`` go back to ``rework_to``,
    ``nurture_share`` wait ``nurture_days`` and retry this stage, the rest are lost.

    Attributes:
        rework_share: Share of failures sent back to an earlier stage.
        rework_to: Name of that earlier stage (or this one).
        nurture_share: Share of failures kept warm and retried later.
        nurture_days: Time in nurture before the retry (days).
    """

    rework_share: Probability = 0.0
    rework_to: Name | None = None
    nurture_share: Probability = 0.0
    nurture_days: Distribution | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Failure:
        problems: list[tuple[str, str]] = []
        if self.rework_share + self.nurture_share > 1 + MIX_TOLERANCE:
            problems.append((
                "",
                f"rework_share + nurture_share = {self.rework_share + self.nurture_share:g}; "
                "they are shares of the failures and must sum to at most 1",
            ))
        if self.rework_share > 0 and self.rework_to is None:
            problems.append((
                "rework_to", "missing; rework_share > 0 needs the stage to go back to"
            ))
        if self.nurture_share > 0 and self.nurture_days is None:
            problems.append((
                "nurture_days", "missing; nurture_share > 0 needs how long nurture lasts, "
                "e.g. {dist: uniform, low: 20, high: 60}",
            ))
        if problems:
            raise KeyPathError(problems)
        return self


class JointWork(Frozen):
    """Another role working a stage together with the stage's role.

    The iron triangle is one: sales, solution and service meet the customer together at
    needs analysis instead of one after another.

    Attributes:
        role: The joining role.
        effort_hours: Its rep's working time per attempt (hours).
        when: Which leads it joins for, by attribute, e.g. ``{segment: [enterprise]}``;
            omitted means every lead.
    """

    role: Name
    effort_hours: Distribution
    when: dict[Literal["grade", "region", "product", "segment"], Values] = Field(
        default_factory=dict)


class FollowUps(Frozen):
    """Touches after the first piece of work of an attempt, before the customer answers.

    A proposal is sent, then chased: every few days the rep calls or writes again until
    the customer decides. Each follow-up waits for the lead's rep (its owner, for roles
    that own their leads) like any task, so a rep's load grows with the deals in their
    book. The customer's delay (``customer_delay_days``) starts after the last
    follow-up. Follow-ups are never visits and are worked by the stage's own role only.

    Attributes:
        count: Follow-ups per attempt (``adjust`` may set another count by attribute).
        gap_days: Elapsed time before each follow-up (days); holds no rep. The stage's
            ``customer_delay_scale`` adjustment acts on it too.
        effort_hours: Rep working time per follow-up (hours); the stage's
            ``effort_scale`` adjustment acts on it too.
    """

    count: Annotated[int, Field(ge=0, le=MAX_FOLLOW_UPS)]
    gap_days: Distribution
    effort_hours: Distribution


class Stage(Frozen):
    """One step of the sales process.

    Attributes:
        name: Stage name (e.g. ``qualify``, ``contract``).
        role: Role that does the work.
        effort_hours: Rep working time per attempt (hours); the rep is busy.
        customer_delay_days: Elapsed time after the work until the customer's answer
            (days); holds no rep. With joint work it starts when the last rep is done.
        decline_delay_days: The customer's time to answer when the answer is no (the
            attempt fails: lost, reworked or nurtured), instead of
            ``customer_delay_days``; omitted means the same. In many CRMs a lost deal
            lingers in its stage until someone closes it. The stage's
            ``customer_delay_scale`` adjustment acts on it too.
        conversion: Base probability of passing the stage, by lead grade.
        failure: Where failures go.
        visit: Whether each attempt is a customer visit (adds travel time and cost for
            every rep who works it).
        sla_days: Optional service level: the most days a lead may wait for a rep at
            this stage; misses are counted, not enforced (``deadline`` dispatch serves
            the tasks nearest to missing theirs first).
        handoff: Optional override of the scenario's ``handoff`` for arrivals at this
            stage from a different role (e.g. removing a handoff). No handoff applies
            when the stage's role already worked the previous activity.
        joint: Other roles that work each attempt together with the stage's role; the
            lead waits until all are done.
        joint_logit: Conversion effect (logit) of the joint work, for leads it joins.
        adjust: Changes of effort, customer delay, conversion, failure shares and the
            number of follow-ups by lead attribute value
            (``salessim.scenario.adjustments``), e.g.
            ``{segment: {enterprise: {customer_delay_scale: 3.0}}}``.
        follow_ups: Optional touches after the first work of each attempt, before the
            customer's delay (``FollowUps``).
        approval: Optional: the stage approves only the deals this covers (by
            discount or price, ``salessim.scenario.management.Approval``); the others
            pass it without an attempt.
    """

    name: Name
    role: Name
    effort_hours: Distribution
    customer_delay_days: Distribution
    decline_delay_days: Distribution | None = None
    conversion: dict[str, Probability]
    failure: Failure = Failure()
    visit: bool = False
    sla_days: Positive | None = None
    handoff: Handoff | None = None
    joint: tuple[JointWork, ...] = Field(default=(), strict=False)
    joint_logit: Logit = 0.0
    adjust: StageAdjust = Field(default_factory=dict)
    follow_ups: FollowUps | None = None
    approval: Approval | None = None


class GoingCold(Frozen):
    """What waiting for a rep does to a lead.

    Attributes:
        logit_per_day: Conversion effect (logit) per day the lead waited for a rep at
            the stage attempt, its follow-ups' waits included (usually negative).
        max_wait_days: A lead waiting longer than this for a rep is lost as cold;
            omitted means never.
    """

    logit_per_day: Logit = 0.0
    max_wait_days: Positive | None = None


class Payment(Frozen):
    """Invoicing and collection (回款) of won deals.

    Attributes:
        invoice_delay_days: From the win to the invoice (delivery, acceptance) (days).
        payment_days: From the invoice to the payment: terms plus lateness (days).
        bad_debt_prob: Probability a won deal is never paid.
        window_days: A payment counts as collected if it arrives within this many
            days of the win.
        adjust: Changes of the delays and the bad-debt probability by deal attribute
            value (``salessim.scenario.adjustments``), e.g.
            ``{segment: {enterprise: {payment_days_scale: 1.5}}}``.
    """

    invoice_delay_days: Distribution
    payment_days: Distribution
    bad_debt_prob: Probability = 0.0
    window_days: Positive = 90.0
    adjust: PaymentAdjust = Field(default_factory=dict)


class Money(Frozen):
    """Currency and margin.

    Attributes:
        currency: Currency code used in reports.
        gross_margin: Share of revenue that is margin before cost of sales;
            ``profit = gross_margin * revenue - cost``.
    """

    currency: str = "EUR"
    gross_margin: Probability = 1.0


class Scenario(Frozen):
    """A complete, validated scenario. Build it with ``salessim.load_scenario``."""

    schema_version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    calendar: Calendar
    grades: AttributeValues
    regions: AttributeValues
    products: AttributeValues
    segments: AttributeValues
    bundles: dict[Name, Annotated[tuple[Name, ...], Field(strict=False)]] = Field(
        default_factory=dict)
    channels: tuple[Channel, ...] = Field(min_length=1, max_length=MAX_NAMED_ITEMS, strict=False)
    deal_value: DealValue
    roles: tuple[Role, ...] = Field(min_length=1, max_length=MAX_NAMED_ITEMS, strict=False)
    teams: tuple[Team, ...] = Field(min_length=1, max_length=MAX_NAMED_ITEMS, strict=False)
    stages: tuple[Stage, ...] = Field(min_length=1, max_length=MAX_NAMED_ITEMS, strict=False)
    handoff: Handoff
    going_cold: GoingCold = GoingCold()
    travel: Travel | None = None
    payment: Payment
    money: Money = Money()
    after_sale: AfterSale | None = None
    """What happens after the signature (``salessim.scenario.after_sale``); omitted: a
    won deal is invoiced and paid as ``payment`` says, and nothing follows."""
    management: Management | None = None
    """Targets, commission, discounts and how reps respond to them
    (``salessim.scenario.management``); omitted: salaries only, list prices."""

    @field_validator("grades", "regions", "products", "segments")
    @classmethod
    def _unique_values(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        _unique(v, str(info.field_name))
        return v

    @field_validator("channels", "roles", "teams", "stages")
    @classmethod
    def _unique_names(
        cls, v: tuple[Channel | Role | Team | Stage, ...], info: ValidationInfo
    ) -> tuple[object, ...]:
        _unique((x.name for x in v), str(info.field_name), ".name")
        return v

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems = cross_reference_problems(self)
        if problems:
            raise CrossReferenceError(problems)
        return self

    # ---- building and changing ---------------------------------------------------------

    @classmethod
    def from_document(cls, document: Any, source: str = "<dict>") -> Scenario:
        """Validate a plain document (what a YAML file holds) into a Scenario.

        Args:
            document: The scenario as mappings, lists and scalars.
            source: Where it came from, named in error messages.

        Raises:
            ScenarioError: Naming ``source``, each bad key path and what is allowed.
        """
        return validate_document(cls, document, source, _not_a_mapping(document))

    def to_document(self) -> dict[str, Any]:
        """The scenario as a plain document, every default filled in."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_yaml(self) -> str:
        """The fully resolved scenario as YAML text (re-loads to an equal Scenario)."""
        return dump_yaml(self.to_document())

    def with_changes(self, changes: Mapping[str, Any], source: str = "<with_changes>"
                     ) -> Scenario:
        """A new scenario with values replaced at dotted key paths.

        Args:
            changes: Key path -> value, the same paths as in the YAML file; items of
                named lists are addressed by name, e.g.
                ``{"stages.contract.effort_hours": {"dist": "fixed", "value": 2},
                "teams.north.reps.ae.headcount": 5}``. A team's rep group may skip
                ``reps``: ``teams.north.ae.headcount`` is ``teams.north.reps.ae.headcount``.
            source: What the changes are, named in error messages.

        Raises:
            ScenarioError: If a path does not exist or the result is not valid.
        """
        plain = _plain_changes(changes, source)
        written = {self._expand(path): path for path in plain}
        try:
            document = apply_changes(self.to_document(),
                                     {self._expand(p): v for p, v in plain.items()})
        except KeyError as err:
            problem: Problem = err.args[0]
            raise ScenarioError(source, [Problem(written.get(problem.path, problem.path),
                                                 problem.message)]) from None
        return Scenario.from_document(document, source)

    def _expand(self, path: str) -> str:
        """Write out the ``teams.<team>.<role>`` shorthand as ``teams.<team>.reps.<role>``."""
        parts = path.split(".")
        roles = {r.name for r in self.roles}
        if (len(parts) > 2 and parts[0] == "teams" and parts[2] in roles
                and parts[2] not in Team.model_fields):
            parts.insert(2, "reps")
        return ".".join(parts)

    def __repr__(self) -> str:
        """The name and the size, not every value (``to_yaml()`` gives them all)."""
        stages = " -> ".join(st.name for st in self.stages)
        reps = sum(g.headcount for t in self.teams for g in t.reps.values())
        return (f"Scenario({self.name!r}: {len(self.channels)} channels, {len(self.teams)} "
                f"teams, {reps} reps at the start; {stages}"
                + ("; after-sale part" if self.after_sale is not None else "")
                + ("; management plan" if self.management is not None else "") + ")")

    # ---- derived, read-only views used by the model and the fronts -----------------

    def role(self, name: str) -> Role:
        """The role called ``name``."""
        return next(r for r in self.roles if r.name == name)

    def stage_index(self, name: str) -> int:
        """Position of the stage called ``name`` in the process."""
        return next(i for i, s in enumerate(self.stages) if s.name == name)

    def values_of(self, attribute: str) -> tuple[str, ...]:
        """The allowed values of a lead attribute (``grade``, ``region``, ...)."""
        return {
            "grade": self.grades,
            "region": self.regions,
            "product": (*self.products, *self.bundles),
            "segment": self.segments,
        }[attribute]

    def facet_values(self, facet: Facet) -> tuple[str, ...]:
        """The values an adjustment may be keyed by: an attribute's, channels or bands."""
        if facet == "channel":
            return tuple(c.name for c in self.channels)
        if facet == "deal_size":
            return self.deal_value.band_names()
        return self.values_of(facet)

    def components(self, product: str) -> tuple[str, ...]:
        """The products a lead for ``product`` (a product or a bundle) buys."""
        return self.bundles.get(product, (product,))

    def expected_leads(self, from_day: float = 0.0) -> float:
        """Expected number of leads arriving in [from_day, horizon), all channels.

        Args:
            from_day: Start of the count (days); ``calendar.warmup_days`` gives the
                counted leads.
        """
        horizon = self.calendar.horizon_days
        return sum(
            ch.leads_per_day * (cumulative_rate(ch.schedule, horizon)
                                - cumulative_rate(ch.schedule, min(from_day, horizon)))
            for ch in self.channels
        )

    def reachable_leads(self) -> Iterator[tuple[str, str, str, str]]:
        """(grade, region, product, segment) combinations some channel can produce.

        A channel fed by referrals counts even without arrivals of its own, and repeat
        opportunities are the customers' kinds with the repurchase grade.
        """
        kinds: set[tuple[str, str, str, str]] = set()
        referred = self.after_sale.referrals.channel if (
            self.after_sale is not None and self.after_sale.referrals is not None) else None
        for ch in self.channels:
            if ch.leads_per_day == 0 and ch.name != referred:
                continue
            grades, regions, products, segments = (
                [k for k, p in ch.mix.get(attr, {}).items() if p > 0] for attr in ATTRIBUTES)
            kinds.update(itertools.product(grades, regions, products, segments))
        if self.after_sale is not None and self.after_sale.repurchase is not None:
            # Repeat opportunities are of the customer's kind, with their own grade.
            grade = self.after_sale.repurchase.grade
            kinds.update((grade, *kind[1:]) for kind in list(kinds))
        return iter(sorted(kinds))


def _plain_changes(changes: Any, source: str) -> dict[str, Any]:
    """Changes as key path (text) -> plain value; one ScenarioError for what is not."""
    if not isinstance(changes, Mapping):
        raise ScenarioError(source, [Problem("", (
            "changes must be a mapping of key path -> value, e.g. "
            f"{{'teams.north.ae.headcount': 12}}; got {show(changes)}"))])
    problems = [Problem(show(path), "a key path must be text such as "
                                    "'teams.north.ae.headcount'")
                for path in changes if not isinstance(path, str) or not path]
    plain, found = plain_data({p: v for p, v in changes.items() if isinstance(p, str)})
    problems += found
    if problems:
        raise ScenarioError(source, problems)
    return dict(plain)


def _not_a_mapping(document: Any) -> str:
    keys = "schema_version, name, calendar, channels, roles, teams, stages"
    if document is None:
        return f"the scenario is empty; it must be a YAML mapping with keys such as {keys}"
    kind = {list: "a list", tuple: "a list", str: "a single piece of text", bool: "true/false",
            int: "a number", float: "a number"}.get(type(document), type(document).__name__)
    return (f"the scenario must be a mapping of keys to values (key: value lines, "
            f"with keys such as {keys}), not {kind}")


class CrossReferenceError(KeyPathError):
    """Problems found across sections, each with its key path."""

    about_references = True

