"""How a lead finds its team: routing by coverage, built from scenario data.

Regional, product, customer and hybrid structures are all the same mechanism
(``salessim.scenario.routing``): each team covers sets of regions, products and
segments, and for each role a lead goes to the covering team of highest priority, or,
for a bundle no single team covers, to the team of each of its products together.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import fmean

import simpy

from salessim.model.reps import Rep, RepPool
from salessim.scenario.routing import RoutingProblem, serving_teams
from salessim.scenario.schema import Scenario, Team, TravelZone

Cell = tuple[int, int, int]
"""(region, product, segment) indices; products include bundles."""

Key = tuple[int, int, int, int]
"""(grade, region, product, segment) indices."""



class TeamEffects:
    """Total conversion effect (logit) of a team's reps for each kind of lead.

    The effect of a kind is the sum of the rep group's skill and the team's effect on
    each of the lead's attribute values (a bundle's product effect is the mean of its
    products' effects), added up when asked: a table of every kind would hold one
    entry per combination of grades, regions, products and segments.
    """

    __slots__ = ("_grade", "_product", "_region", "_segment", "_skill")

    def __init__(self, sc: Scenario, team: Team, skill_logit: float) -> None:
        def shifts(attr: str, values: Iterable[str]) -> list[float]:
            table = team.effects.get(attr, {})  # type: ignore[call-overload]
            return [float(table.get(v, 0.0)) for v in values]

        products = team.effects.get("product", {})
        self._skill = skill_logit
        self._grade = shifts("grade", sc.grades)
        self._region = shifts("region", sc.regions)
        self._product = [fmean([products.get(c, 0.0) for c in sc.components(p)])
                         for p in sc.values_of("product")]
        self._segment = shifts("segment", sc.segments)

    def __getitem__(self, key: Key) -> float:
        """The effect (logit) on leads of kind ``key`` (grade, region, product, segment)."""
        grade, region, product, segment = key
        return (self._skill + self._product[product] + self._grade[grade]
                + self._region[region] + self._segment[segment])


def travel_zones(sc: Scenario) -> list[TravelZone]:
    """The distinct travel of visits: the scenario's zones, then teams' own travel."""
    zones: list[TravelZone] = list(sc.travel.zones) if sc.travel is not None else []
    zones += [t.travel for t in sc.teams if t.travel is not None]
    return zones


def dispatch_of(sc: Scenario, role: str) -> str:
    """How reps of ``role`` choose their next task: the role's rule, or the plan's."""
    own = sc.role(role).dispatch
    return sc.management.dispatch_for(role, own) if sc.management is not None else own


def team_travel(sc: Scenario, team: Team) -> int:
    """Index in ``travel_zones`` of a team's visits, or -1 when visits need no travel."""
    if team.travel is not None:
        n_zones = len(sc.travel.zones) if sc.travel is not None else 0
        own = [t.name for t in sc.teams if t.travel is not None]
        return n_zones + own.index(team.name)
    if sc.travel is None:
        return -1
    return sc.travel.zone_for(team.reach(len(sc.regions)))


class Routes:
    """For a role and a lead cell, the pools that serve it: worked out when first asked.

    A table of every cell would hold one entry per combination of regions, products and
    segments for every role; a run meets only the cells its leads come from.
    """

    def __init__(self, sc: Scenario, by_team_role: dict[tuple[str, str], RepPool]) -> None:
        self._sc = sc
        self._pools = by_team_role
        self._products = sc.values_of("product")
        self._known: dict[tuple[str, Cell], tuple[RepPool, ...]] = {}

    def serving(self, role: str, cell: Cell) -> tuple[RepPool, ...]:
        """The pools of ``role`` serving leads of ``cell`` (one, or one per bundle product).

        Raises:
            KeyError: For a cell no team covers (no channel brings such leads: the
                scenario's checks make sure of it).
        """
        key = (role, cell)
        found = self._known.get(key)
        if found is None:
            sc = self._sc
            served = serving_teams(sc, role, sc.regions[cell[0]], self._products[cell[1]],
                                   sc.segments[cell[2]])
            if isinstance(served, RoutingProblem):
                raise KeyError(key)
            found = self._known[key] = tuple(self._pools[t.name, role] for t in served)
        return found


def build_organisation(
    env: simpy.Environment, sc: Scenario
) -> tuple[list[Rep], list[RepPool], Routes]:
    """Create reps, pools and the routing.

    Returns:
        All reps (indexed as in the event log), all pools, and the routes from lead
        cells to the pools serving them.
    """
    reps: list[Rep] = []
    pools: list[RepPool] = []
    by_team_role: dict[tuple[str, str], RepPool] = {}
    zones = travel_zones(sc)
    for team in sc.teams:
        zone = team_travel(sc, team)
        for role_name, group in team.reps.items():
            if group.headcount == 0:
                continue
            role = sc.role(role_name)
            members = [Rep(len(reps) + i, team.name, role_name) for i in range(group.headcount)]
            reps.extend(members)
            pool = RepPool(
                env, team.name, role_name, members,
                owner=role.assignment == "owner", dispatch=dispatch_of(sc, role.name),
                max_wait_days=sc.going_cold.max_wait_days, travel=zone,
                travel_cost=zones[zone].cost if zone >= 0 else 0.0,
                effect=TeamEffects(sc, team, group.skill_logit), max_open=role.max_open_deals,
                window=(sc.calendar.warmup_days, sc.calendar.horizon_days),
            )
            pools.append(pool)
            by_team_role[team.name, role_name] = pool
    return reps, pools, Routes(sc, by_team_role)
