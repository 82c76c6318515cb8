"""Checks that span several parts of a scenario, each problem with its key path.

Names that must exist (roles, stages, attribute values), channel mixes, bundles, travel
zones, rework targets, and routing: every lead a channel can bring must find exactly
one serving team (or one per product of a bundle) for every role that works it, and
every team must get some leads. These run once, when a scenario is loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from salessim.scenario.adjustments import AdjustmentT, Facet, StageAdjustment, replacement_problems
from salessim.scenario.errors import listing, unknown
from salessim.scenario.limits import (
    ATTRIBUTES,
    MAX_EXPECTED_LEADS,
    MAX_LEAD_KINDS,
    MIX_TOLERANCE,
)
from salessim.scenario.loops import loop_problems
from salessim.scenario.management_checks import management_problems
from salessim.scenario.routing import RoutingProblem, joins, serving_teams

if TYPE_CHECKING:  # the schema runs these checks: no import of it at run time
    from salessim.scenario.schema import Scenario

Problems = list[tuple[str, str]]


def cross_reference_problems(sc: Scenario) -> Problems:
    """Every cross-reference problem of a scenario, as (key path, message) pairs."""
    problems: Problems = _size_problems(sc)
    if problems:  # the checks below take time in proportion to the kinds of lead
        return problems
    problems += _mix_problems(sc)
    problems += _bundle_problems(sc)
    problems += _name_problems(sc)
    problems += _stage_problems(sc)
    problems += _adjust_problems(sc)
    problems += _after_sale_problems(sc)
    problems += management_problems(sc)
    if not problems:  # routing and loops are only meaningful once the names are right
        problems += _routing_problems(sc)
        problems += _travel_problems(sc)
        problems += loop_problems(sc)
    problems += _volume_problems(sc)
    return problems


def _size_problems(sc: Scenario) -> Problems:
    """The kinds of lead (one per combination of attribute values) within the limit."""
    counts = {attr: len(sc.values_of(attr)) for attr in ATTRIBUTES}
    kinds = math.prod(counts.values())
    if kinds <= MAX_LEAD_KINDS:
        return []
    sizes = " x ".join(f"{n} {attr}{'s' if n > 1 else ''}" for attr, n in counts.items())
    return [("", f"{sizes} make {kinds:,} kinds of lead; the limit is {MAX_LEAD_KINDS:,}: "
                 "group regions, products or segments that are worked alike")]


def _unknown_value(sc: Scenario, path: str, attr: str, value: str) -> tuple[str, str]:
    return path, unknown(attr, value, sc.values_of(attr), f"{attr}s are")


def _mix_problems(sc: Scenario) -> Problems:
    problems: Problems = []
    for i, ch in enumerate(sc.channels):
        for attr in ATTRIBUTES:
            allowed = sc.values_of(attr)
            mix = ch.mix.get(attr)
            path = f"channels[{i}].mix.{attr}"
            if mix is None:
                problems.append((path, f"missing; give the share of each {attr}: "
                                       f"{listing(allowed)} (shares sum to 1)"))
                continue
            problems += [_unknown_value(sc, f"{path}.{key}", attr, key)
                         for key in mix if key not in allowed]
            total = sum(mix.values())
            if abs(total - 1.0) > MIX_TOLERANCE:
                problems.append((path, f"shares sum to {total:.6g}; they must sum to 1"))
    return problems


def _bundle_problems(sc: Scenario) -> Problems:
    problems: Problems = []
    for name, parts in sc.bundles.items():
        path = f"bundles.{name}"
        if name in sc.products:
            problems.append((path, f"{name!r} is already a product; a bundle needs a name "
                                   "of its own"))
        problems += [(path, unknown("product", p, sc.products, "products are"))
                     for p in parts if p not in sc.products]
        if len(set(parts)) < 2:
            problems.append((path, "a bundle is two or more different products, e.g. "
                                   f"[{', '.join(sc.products[:2])}]"))
    return problems


def _name_problems(sc: Scenario) -> Problems:
    problems: Problems = []
    roles = [r.name for r in sc.roles]
    for attr, factors in sc.deal_value.multipliers.items():
        problems += [_unknown_value(sc, f"deal_value.multipliers.{attr}.{key}", attr, key)
                     for key in factors if key not in sc.values_of(attr)]
    for i, team in enumerate(sc.teams):
        for attr, values in (("region", team.regions), ("segment", team.segments)):
            problems += [_unknown_value(sc, f"teams[{i}].{attr}s[{j}]", attr, v)
                         for j, v in enumerate(values or ()) if v not in sc.values_of(attr)]
        for j, product in enumerate(team.products or ()):
            if product in sc.bundles:
                problems.append((f"teams[{i}].products[{j}]",
                                 f"{product!r} is a bundle; list its products instead: "
                                 f"{listing(sc.bundles[product])}"))
            elif product not in sc.products:
                problems.append((f"teams[{i}].products[{j}]",
                                 unknown("product", product, sc.products, "products are")))
        problems += [(f"teams[{i}].reps.{role}", unknown("role", role, roles, "roles are"))
                     for role in team.reps if role not in roles]
        for attr, shifts in team.effects.items():
            problems += [_unknown_value(sc, f"teams[{i}].effects.{attr}.{key}", attr, key)
                         for key in shifts if key not in sc.values_of(attr)]
    return problems


def _stage_problems(sc: Scenario) -> Problems:
    problems: Problems = []
    roles = [r.name for r in sc.roles]
    stage_names = [s.name for s in sc.stages]
    for i, st in enumerate(sc.stages):
        if st.role not in roles:
            problems.append((f"stages[{i}].role", unknown("role", st.role, roles, "roles are")))
        absent = [g for g in sc.grades if g not in st.conversion]
        if absent:
            problems.append((f"stages[{i}].conversion",
                             f"missing grade{'s' if len(absent) > 1 else ''} "
                             f"{listing(absent)}; give a probability for each grade: "
                             f"{listing(sc.grades)}"))
        problems += [_unknown_value(sc, f"stages[{i}].conversion.{g}", "grade", g)
                     for g in st.conversion if g not in sc.grades]
        target = st.failure.rework_to
        if target is not None:
            path = f"stages[{i}].failure.rework_to"
            if target not in stage_names:
                problems.append((path, unknown("stage", target, stage_names[: i + 1],
                                               "rework can go back to")))
            elif stage_names.index(target) > i:
                problems.append((path, f"{target!r} comes after {st.name!r}; rework can only "
                                       f"go back to this or an earlier stage: "
                                       f"{listing(stage_names[: i + 1])}"))
        seen = {st.role}
        for j, joint in enumerate(st.joint):
            path = f"stages[{i}].joint[{j}]"
            if joint.role not in roles:
                problems.append((f"{path}.role", unknown("role", joint.role, roles,
                                                         "roles are")))
            elif joint.role in seen:
                problems.append((f"{path}.role", f"{joint.role!r} already works this stage; "
                                                 "each role joins a stage once"))
            seen.add(joint.role)
            for attr, values in joint.when.items():
                problems += [_unknown_value(sc, f"{path}.when.{attr}[{k}]", attr, v)
                             for k, v in enumerate(values) if v not in sc.values_of(attr)]
    return problems


def _after_sale_problems(sc: Scenario) -> Problems:
    """Roles, channels, grade and entry stage named by the after-sale part exist."""
    after = sc.after_sale
    if after is None:
        return []
    roles = [r.name for r in sc.roles]
    problems: Problems = [(path, unknown("role", role, roles, "roles are"))
                          for path, role in after.roles() if role not in roles]
    channels = [c.name for c in sc.channels]
    named = [("after_sale.repurchase.channel", after.repurchase.channel)] if after.repurchase \
        else []
    if after.referrals is not None:
        named.append(("after_sale.referrals.channel", after.referrals.channel))
    problems += [(path, unknown("channel", name, channels, "channels are"))
                 for path, name in named if name not in channels]
    if after.repurchase is not None:
        stages = [s.name for s in sc.stages]
        if after.repurchase.enter_at not in stages:
            problems.append(("after_sale.repurchase.enter_at",
                             unknown("stage", after.repurchase.enter_at, stages,
                                     "repeat opportunities can enter at")))
        if after.repurchase.grade not in sc.grades:
            problems.append(_unknown_value(sc, "after_sale.repurchase.grade", "grade",
                                           after.repurchase.grade))
    return problems


def _adjust_problems(sc: Scenario) -> Problems:
    """Adjustments keyed by values that exist, each replacing field under one attribute."""
    blocks: list[tuple[str, Mapping[Facet, Mapping[str, AdjustmentT]]]] = [
        ("handoff.adjust", sc.handoff.adjust), ("payment.adjust", sc.payment.adjust)]
    for i, st in enumerate(sc.stages):
        blocks.append((f"stages[{i}].adjust", st.adjust))
        if st.handoff is not None:
            blocks.append((f"stages[{i}].handoff.adjust", st.handoff.adjust))
    problems: Problems = []
    for path, adjust in blocks:
        for facet, values in adjust.items():
            allowed = sc.facet_values(facet)
            if facet == "deal_size" and not allowed:
                problems.append((f"{path}.deal_size", "deal sizes are the bands of "
                                 "deal_value.bands, and it names none; add e.g. "
                                 "{small: 0, large: 100000}"))
                continue
            words = facet.replace("_", " ")
            problems += [(f"{path}.{facet}.{key}", unknown(words, key, allowed,
                                                           f"{words}s are"))
                         for key in values if key not in allowed]
        problems += replacement_problems(adjust, path)
    for i, st in enumerate(sc.stages):
        problems += _adjusted_share_problems(st.adjust, st.failure, f"stages[{i}].adjust")
        if st.follow_ups is None:
            problems += [(f"stages[{i}].adjust.{facet}.{key}.follow_ups",
                          "the stage has no follow_ups block to take the gaps and the "
                          "effort from; add e.g. follow_ups: {count: 2, gap_days: {dist: "
                          "exponential, mean: 5}, effort_hours: {dist: fixed, value: 0.5}}")
                         for facet, values in st.adjust.items()
                         for key, a in values.items() if a.follow_ups is not None]
    return problems


def _adjusted_share_problems(adjust: Mapping[Facet, Mapping[str, StageAdjustment]],
                             failure: Any, path: str) -> Problems:
    """Adjusted failure shares that sum past 1 or lack the stage or days they need."""
    problems: Problems = []
    for facet, values in adjust.items():
        for key, a in values.items():
            where = f"{path}.{facet}.{key}"
            rework = failure.rework_share if a.rework_share is None else a.rework_share
            nurture = failure.nurture_share if a.nurture_share is None else a.nurture_share
            if rework + nurture > 1 + MIX_TOLERANCE:
                problems.append((where, f"rework_share {rework:g} + nurture_share "
                                        f"{nurture:g} = {rework + nurture:g} for these leads; "
                                        "shares of the failures sum to at most 1"))
            if rework > 0 and failure.rework_to is None:
                problems.append((f"{where}.rework_share", "the stage's failure has no "
                                 "rework_to; say there which stage rework goes back to"))
            if nurture > 0 and failure.nurture_days is None:
                problems.append((f"{where}.nurture_share", "the stage's failure has no "
                                 "nurture_days; say there how long nurture lasts"))
    return problems


def _routing_problems(sc: Scenario) -> Problems:
    """Every reachable lead finds its teams for every role that works it; no idle team."""
    problems: Problems = []
    kinds = list(sc.reachable_leads())
    used: set[str] = set()
    served_by: dict[tuple[str, str, str, str], Any] = {}

    def serving(role: str, region: str, product: str, segment: str) -> Any:
        key = (role, region, product, segment)
        if key not in served_by:  # stages of one role ask the same question
            served_by[key] = serving_teams(sc, role, region, product, segment)
        return served_by[key]

    works: list[tuple[str, str, Mapping[Any, tuple[str, ...]] | None]] = []
    for i, st in enumerate(sc.stages):
        works.append((f"stages[{i}].role", st.role, None))
        works += [(f"stages[{i}].joint[{j}].role", jw.role, jw.when)
                  for j, jw in enumerate(st.joint)]
    if sc.after_sale is not None:
        works += [(path, role, None) for path, role in sc.after_sale.roles()]
    for path, role, when in works:
        if not any(t.staffed(role) for t in sc.teams):
            problems.append((path, f"no team has reps of role {role!r}; add some under "
                                   f"teams[...].reps.{role}.headcount"))
            continue
        for grade, region, product, segment in kinds:
            attrs = {"grade": grade, "region": region, "product": product,
                     "segment": segment}
            if when is not None and not joins(attrs, when):
                continue
            served = serving(role, region, product, segment)
            if isinstance(served, RoutingProblem):
                problems.append((path, _routing_message(role, region, served, segment)))
                break
            used.update(t.name for t in served)
    # A team whose reps work no stage (managers as overhead) is fine; one staffing a
    # working role but never given a lead is a structure mistake.
    working = {role for _, role, _ in works}
    for i, team in enumerate(sc.teams):
        if (team.name not in used and not problems
                and any(team.staffed(role) for role in working)):
            problems.append((f"teams[{i}]", _idle_message(sc, team.name)))
    return problems


def _routing_message(role: str, region: str, problem: RoutingProblem, segment: str) -> str:
    lead = f"region={region!r}, product={problem.product!r}, segment={segment!r}"
    if problem.kind == "tie":
        return (f"teams {listing(problem.teams)} all cover leads of {lead} for role {role!r} "
                "with the same priority; give the one that should take them a higher "
                "priority, or narrow their regions, products or segments")
    return (f"no team with {role!r} reps covers leads of {lead}; widen a team's regions, "
            "products or segments, or add reps")


def _idle_message(sc: Scenario, name: str) -> str:
    team = next(t for t in sc.teams if t.name == name)
    cover = ", ".join(f"{attr} in [{', '.join(values)}]" for attr, values in
                      (("region", team.regions), ("product", team.products),
                       ("segment", team.segments)) if values is not None)
    return (f"team {name!r} would get no leads: no channel brings leads it covers"
            f"{f' ({cover})' if cover else ''}, or a team of higher priority takes all of "
            "them; change its coverage or priority, or remove it")


def _travel_problems(sc: Scenario) -> Problems:
    if sc.travel is None:
        return []
    widest = sc.travel.zones[-1].up_to_regions
    return [(f"teams[{i}].regions",
             f"covers {t.reach(len(sc.regions))} regions, but the widest travel zone "
             f"(travel.zones[-1]) is up to {widest}; add a zone up to "
             f"{t.reach(len(sc.regions))} regions or give the team its own travel")
            for i, t in enumerate(sc.teams)
            if t.travel is None and t.reach(len(sc.regions)) > widest]


def _volume_problems(sc: Scenario) -> Problems:
    expected = sc.expected_leads()
    if expected <= MAX_EXPECTED_LEADS:
        return []
    amount = f"about {expected:,.0f}" if math.isfinite(expected) else "unboundedly many"
    return [("channels", f"{amount} leads expected per replication; the limit is "
                         f"{MAX_EXPECTED_LEADS:,.0f}: lower leads_per_day or "
                         "calendar.horizon_days")]
