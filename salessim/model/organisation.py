"""How a lead finds its team: routing by coverage, built from scenario data.

Regional, product, customer and hybrid structures are all the same mechanism
(``salessim.scenario.routing``): each team covers sets of regions, products and
segments, and for each role a lead goes to the covering team of highest priority, or,
for a bundle no single team covers, to the team of each of its products together.
"""

from __future__ import annotations

import itertools
from statistics import fmean

import simpy

from salessim.model.reps import Rep, RepPool
from salessim.scenario.routing import RoutingProblem, serving_teams
from salessim.scenario.schema import Scenario, Team, TravelZone

Cell = tuple[int, int, int]
"""(region, product, segment) indices; products include bundles."""

Key = tuple[int, int, int, int]
"""(grade, region, product, segment) indices."""

Routes = dict[str, dict[Cell, tuple[RepPool, ...]]]
"""Role -> lead cell -> the pools serving it (one, or one per product of a bundle)."""


def team_effects(sc: Scenario, team: Team, skill_logit: float) -> dict[Key, float]:
    """Total conversion effect (logit) of a team's reps for every lead attribute key.

    A bundle's product effect is the mean of its products' effects.
    """
    products = sc.values_of("product")
    product_effect = {p: fmean([team.effects.get("product", {}).get(c, 0.0)
                                for c in sc.components(p)]) for p in products}
    dims = [sc.grades, sc.regions, products, sc.segments]
    table: dict[Key, float] = {}
    key: Key
    for key in itertools.product(*(range(len(d)) for d in dims)):  # type: ignore[assignment]
        grade, region, product, segment = (d[i] for d, i in zip(dims, key, strict=True))
        table[key] = (skill_logit + product_effect[product]
                      + team.effects.get("grade", {}).get(grade, 0.0)
                      + team.effects.get("region", {}).get(region, 0.0)
                      + team.effects.get("segment", {}).get(segment, 0.0))
    return table


def travel_zones(sc: Scenario) -> list[TravelZone]:
    """The distinct travel of visits: the scenario's zones, then teams' own travel."""
    zones: list[TravelZone] = list(sc.travel.zones) if sc.travel is not None else []
    zones += [t.travel for t in sc.teams if t.travel is not None]
    return zones


def team_travel(sc: Scenario, team: Team) -> int:
    """Index in ``travel_zones`` of a team's visits, or -1 when visits need no travel."""
    if team.travel is not None:
        n_zones = len(sc.travel.zones) if sc.travel is not None else 0
        own = [t.name for t in sc.teams if t.travel is not None]
        return n_zones + own.index(team.name)
    if sc.travel is None:
        return -1
    return sc.travel.zone_for(team.reach(len(sc.regions)))


def build_organisation(
    env: simpy.Environment, sc: Scenario
) -> tuple[list[Rep], list[RepPool], Routes]:
    """Create reps, pools and the routing table.

    Returns:
        All reps (indexed as in the event log), all pools, and for each role a map
        from lead cell to the pools that serve it (cells no channel produces map to
        nothing).
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
                owner=role.assignment == "owner", dispatch=role.dispatch,
                max_wait_days=sc.going_cold.max_wait_days, travel=zone,
                travel_cost=zones[zone].cost if zone >= 0 else 0.0,
                effect=team_effects(sc, team, group.skill_logit),
            )
            pools.append(pool)
            by_team_role[team.name, role_name] = pool
    products = sc.values_of("product")
    routes: Routes = {}
    for role in sc.roles:
        table: dict[Cell, tuple[RepPool, ...]] = {}
        for cell in itertools.product(range(len(sc.regions)), range(len(products)),
                                      range(len(sc.segments))):
            served = serving_teams(sc, role.name, sc.regions[cell[0]], products[cell[1]],
                                   sc.segments[cell[2]])
            if not isinstance(served, RoutingProblem):
                table[cell] = tuple(by_team_role[t.name, role.name] for t in served)
        routes[role.name] = table
    return reps, pools, routes
