"""How a lead finds its team: routing by coverage, built from scenario data.

Regional, product, customer and hybrid structures are all the same mechanism: each
team covers sets of regions, products and segments, and for each role a lead goes to
the first team in the scenario's order that covers it and has reps of that role.
"""

from __future__ import annotations

import itertools

import simpy

from salessim.model.reps import Rep, RepPool
from salessim.scenario.schema import Scenario, Team

Cell = tuple[int, int, int]
"""(region, product, segment) indices."""


Key = tuple[int, int, int, int]
"""(grade, region, product, segment) indices."""


def team_effects(sc: Scenario, team: Team, skill_logit: float) -> dict[Key, float]:
    """Total conversion effect (logit) of a team's reps for every lead attribute key."""
    table: dict[Key, float] = {}
    dims = [sc.grades, sc.regions, sc.products, sc.segments]
    names = ["grade", "region", "product", "segment"]
    key: Key
    for key in itertools.product(*(range(len(d)) for d in dims)):  # type: ignore[assignment]
        total = skill_logit
        for attr, values, i in zip(names, dims, key, strict=True):
            total += team.effects.get(attr, {}).get(values[i], 0.0)  # type: ignore[call-overload]
        table[key] = total
    return table


def build_organisation(
    env: simpy.Environment, sc: Scenario
) -> tuple[list[Rep], list[RepPool], list[dict[Cell, RepPool]]]:
    """Create reps, pools and the routing table.

    Returns:
        All reps (indexed as in the event log), all pools, and for each role (in the
        scenario's role order) a map from lead cell to the pool that serves it.
    """
    reps: list[Rep] = []
    pools: list[RepPool] = []
    routes: list[dict[Cell, RepPool]] = []
    cells = list(itertools.product(range(len(sc.regions)), range(len(sc.products)),
                                   range(len(sc.segments))))
    pools_by_team_role: dict[tuple[str, str], RepPool] = {}
    for team in sc.teams:
        for role_name, group in team.reps.items():
            if group.headcount == 0:
                continue
            role = sc.role(role_name)
            members = [Rep(len(reps) + i, team.name, role_name) for i in range(group.headcount)]
            reps.extend(members)
            pool = RepPool(
                env, team.name, role_name, members,
                owner=role.assignment == "owner", dispatch=role.dispatch,
                max_wait_days=sc.going_cold.max_wait_days, local=team.is_local,
                effect=team_effects(sc, team, group.skill_logit),
            )
            pools.append(pool)
            pools_by_team_role[team.name, role_name] = pool
    for role in sc.roles:
        table: dict[Cell, RepPool] = {}
        for cell in cells:
            region, product, segment = (sc.regions[cell[0]], sc.products[cell[1]],
                                        sc.segments[cell[2]])
            for team in sc.teams:
                serving = pools_by_team_role.get((team.name, role.name))
                if serving is not None and team.covers(region, product, segment):
                    table[cell] = serving
                    break
        routes.append(table)
    return reps, pools, routes
