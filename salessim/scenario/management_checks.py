"""Cross-reference checks of the management part and of approval stages, with key paths.

Roles, teams and stages named must exist; each target and commission is given once; an
accelerator needs a target on what it pays for; the behaviours need what they act on;
approval tiers of different roles must not cover the same deals; every reviewed rep has a
manager to review it and a forecast weighs every stage a reviewed deal can be at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from salessim.scenario.errors import unknown

if TYPE_CHECKING:  # the schema runs these checks: no import of it at run time
    from salessim.scenario.management import Forecast, Management
    from salessim.scenario.schema import Scenario

Problems = list[tuple[str, str]]

_PATH = "management"
_NEEDS_AFTER_SALE = ("satisfaction is measured after delivery: it needs the after-sale "
                     "part (after_sale:); use bookings, margin, collected or won_deals")


def management_problems(sc: Scenario) -> Problems:
    """Every problem of ``sc.management`` and of the stages' approvals."""
    problems = _approval_problems(sc)
    plan = sc.management
    if plan is None:
        return problems
    return (problems + _target_problems(sc, plan) + _commission_problems(sc, plan)
            + _behaviour_problems(sc, plan) + _discount_problems(sc, plan)
            + _review_problems(sc, plan))


def _target_problems(sc: Scenario, plan: Management) -> Problems:
    problems: Problems = []
    roles = [r.name for r in sc.roles]
    seen: dict[tuple[str, str | None, str], int] = {}
    for i, target in enumerate(plan.targets):
        path = f"{_PATH}.targets[{i}]"
        if target.role not in roles:
            problems.append((f"{path}.role", unknown("role", target.role, roles, "roles are")))
            continue
        if target.team is not None:
            staffed = [t.name for t in sc.teams if t.staffed(target.role)]
            if target.team not in staffed:
                problems.append((f"{path}.team", unknown(
                    "team", target.team, staffed, f"teams with {target.role} reps are")))
        if target.measure == "satisfaction" and sc.after_sale is None:
            problems.append((f"{path}.measure", _NEEDS_AFTER_SALE))
        key = (target.role, target.team, target.measure)
        if key in seen:
            problems.append((path, f"repeats the target of targets[{seen[key]}] (role "
                                   f"{target.role}, measure {target.measure}"
                                   + (f", team {target.team}" if target.team else "")
                                   + "); give each target once"))
        seen.setdefault(key, i)
    return problems


def _commission_problems(sc: Scenario, plan: Management) -> Problems:
    problems: Problems = []
    roles = [r.name for r in sc.roles]
    seen: dict[str, int] = {}
    for i, pay in enumerate(plan.commission):
        path = f"{_PATH}.commission[{i}]"
        if pay.role not in roles:
            problems.append((f"{path}.role", unknown("role", pay.role, roles, "roles are")))
            continue
        if pay.on == "satisfaction" and sc.after_sale is None:
            problems.append((f"{path}.on", _NEEDS_AFTER_SALE))
        if pay.role in seen:
            problems.append((f"{path}.role", f"{pay.role!r} already has a commission plan "
                                             f"(commission[{seen[pay.role]}]); one per role"))
        seen.setdefault(pay.role, i)
        if pay.accelerator is not None and not any(
                t.role == pay.role and t.measure == pay.on for t in plan.targets):
            problems.append((f"{path}.accelerator", (
                f"an accelerator pays above a share of target, and {pay.role} reps have no "
                f"target on {pay.on}; add one under management.targets or drop the "
                "accelerator")))
    return problems


def _behaviour_problems(sc: Scenario, plan: Management) -> Problems:
    problems: Problems = []
    push = plan.behaviour.period_end_push
    path = f"{_PATH}.behaviour"
    if push is not None:
        stages = [s.name for s in sc.stages]
        problems += [(f"{path}.period_end_push.stages[{j}]",
                      unknown("stage", name, stages, "stages are"))
                     for j, name in enumerate(push.stages) if name not in stages]
        if not plan.targets:
            problems.append((f"{path}.period_end_push", (
                "reps push when behind target: it needs management.targets")))
        policy = plan.discounts
        deepest = max([policy.depth, *(d for by in policy.depth_by.values()
                                        for d in by.values())]) if policy else 0.0
        if deepest + push.discount >= 1:
            problems.append((f"{path}.period_end_push.discount", (
                f"with the deepest discount of the policy ({deepest:g}) the push would "
                f"give {deepest + push.discount:g} off, the whole price or more; the two "
                "together must stay below 1")))
        if push.discount > 0 and plan.discounts is None:
            problems.append((f"{path}.period_end_push.discount", (
                "a discount to close needs management.discounts (its stage and what a "
                "discount does to conversion); add it or set the push's discount to 0")))
    if plan.behaviour.chase_payments is not None:
        if plan.chaser() is None:
            problems.append((f"{path}.chase_payments", (
                "reps chase payments when they are paid on them: it needs a commission on "
                "collected cash")))
        if sc.after_sale is None or sc.after_sale.collection is None:
            problems.append((f"{path}.chase_payments", (
                "chasing overdue invoices needs after_sale.collection (the effort of a "
                "reminder, its chance of getting paid and the delay to payment)")))
    if plan.behaviour.sandbagging and not any(
            c.cap_per_period is not None and c.on != "collected" for c in plan.commission):
        problems.append((f"{path}.sandbagging", (
            "reps hold deals once their commission is capped: it needs a commission on "
            "bookings or margin with cap_per_period")))
    return problems


def _discount_problems(sc: Scenario, plan: Management) -> Problems:
    policy = plan.discounts
    if policy is None:
        return []
    path = f"{_PATH}.discounts"
    stages = [s.name for s in sc.stages]
    problems: Problems = []
    if policy.stage not in stages:
        problems.append((f"{path}.stage", unknown("stage", policy.stage, stages,
                                                  "stages are")))
    for facet, depths in policy.depth_by.items():
        allowed = sc.facet_values(facet)
        problems += [(f"{path}.depth_by.{facet}.{value}",
                      unknown(facet, value, allowed, f"{facet} values are"))
                     for value in depths if value not in allowed]
    return problems


def _review_problems(sc: Scenario, plan: Management) -> Problems:
    reviews = plan.reviews
    if reviews is None:
        return []
    path = f"{_PATH}.reviews"
    roles = [r.name for r in sc.roles]
    problems: Problems = [(f"{path}.{key}", unknown("role", name, roles, "roles are"))
                          for key, name in (("role", reviews.role),
                                            ("reviewed_role", reviews.reviewed_role))
                          if name not in roles]
    if problems:
        return problems
    if reviews.role == reviews.reviewed_role:
        return [(f"{path}.reviewed_role", "a role does not review itself: name the role "
                                          "whose pipelines the managers review")]
    if sc.role(reviews.role).assignment != "pooled":
        problems.append((f"{path}.role", (
            f"reviews are held by any free {reviews.role}: the role's assignment must be "
            "pooled")))
    managed = [t.name for t in sc.teams if t.staffed(reviews.role)]
    for team in sc.teams:
        if (team.staffed(reviews.reviewed_role) and team.name not in managed
                and len(managed) != 1):
            problems.append((f"{path}.role", (
                f"team {team.name!r} has {reviews.reviewed_role} reps but no "
                f"{reviews.role}, and " + (f"{len(managed)} teams have one" if managed
                                            else "no team has one")
                + f": give each team its own {reviews.role}s, or one team of them all")))
            break
    if reviews.forecast is not None:
        problems += _forecast_problems(sc, reviews.reviewed_role, reviews.forecast,
                                       f"{path}.forecast")
    return problems


def _forecast_problems(sc: Scenario, role: str, forecast: Forecast, path: str) -> Problems:
    stages = [s.name for s in sc.stages]
    problems: Problems = [(f"{path}.stage_probability.{name}",
                           unknown("stage", name, stages, "stages are"))
                          for name in forecast.stage_probability if name not in stages]
    if forecast.commit_from is not None and forecast.commit_from not in stages:
        problems.append((f"{path}.commit_from",
                         unknown("stage", forecast.commit_from, stages, "stages are")))
    first = next((i for i, st in enumerate(sc.stages) if st.role == role), None)
    if forecast.method == "stage_weighted" and first is not None:
        # A failed deal can go back to an earlier stage and still be in the rep's book.
        back = [st.failure.rework_to for st in sc.stages[first:]
                if st.failure.rework_share > 0]
        missing = [n for n in stages if (n in stages[first:] or n in back)
                   and n not in forecast.stage_probability]
        if missing:
            problems.append((f"{path}.stage_probability", (
                f"a deal {role} reps work can be at any stage from {stages[first]!r} on; "
                f"give the chance of winning at {', '.join(map(repr, missing))} too")))
    return problems


def _approval_problems(sc: Scenario) -> Problems:
    problems: Problems = []
    policy = sc.management.discounts if sc.management is not None else None
    tiers = [(i, st) for i, st in enumerate(sc.stages) if st.approval is not None]
    for k, (i, st) in enumerate(tiers):
        assert st.approval is not None
        path = f"stages[{i}].approval"
        if st.approval.on == "discount":
            if policy is None:
                problems.append((f"{path}.on", (
                    "approving by discount needs management.discounts (where deals get "
                    "their discount); approve by deal_value or add a discount policy")))
            elif policy.stage in [s.name for s in sc.stages[i:]]:
                problems.append((f"{path}.on", (
                    f"the discount is agreed at {policy.stage!r}, which does not come "
                    f"before {st.name!r}: an approval of the discount must follow it")))
        for j, other in tiers[:k]:
            assert other.approval is not None
            if other.role != st.role and other.approval.overlaps(st.approval):
                problems.append((path, (
                    f"covers deals that {other.name!r} (stages[{j}], {other.role}) also "
                    f"approves; tiers of different roles take ranges that do not overlap, "
                    f"e.g. above 0.1 up_to 0.2 and above 0.2")))
    return problems
