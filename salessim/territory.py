"""Territory balance: sizing teams by workload or by sales potential.

Territories (the teams of one role) are balanced by **workload** when every rep has
about the same work (equal utilisation, short and equal queues), or by **potential**
when every rep has about the same deal value to sell (equal earning chances). The two
differ when territories differ in deal size or in how much work a deal takes.

``balance`` measures a pilot run of the scenario (busy time, or the deal value of the
leads each team worked) and spreads the role's headcount over its teams in proportion,
by the largest-remainder rule, keeping the total and at least one rep per team.
``Results.teams()`` shows the load per team (``load_index``, ``potential_per_rep``)
so an unbalanced design shows.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from salessim.executors import ExecutorSpec
from salessim.results import Results
from salessim.runner import DEFAULT_REPLICATIONS, run
from salessim.scenario import Scenario, load_scenario
from salessim.scenario.loader import ScenarioSource

Basis = Literal["workload", "potential"]


def balance(
    scenario: ScenarioSource,
    role: str,
    by: Basis = "workload",
    *,
    total: int | None = None,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> Scenario:
    """The scenario with ``role``'s headcount spread over its teams by workload or potential.

    Args:
        scenario: The scenario to rebalance (a Scenario, a file path, YAML text or a
            document).
        role: The role whose teams are resized (e.g. ``"ae"``).
        by: ``"workload"``: in proportion to the busy time each team's reps had in a
            pilot run; ``"potential"``: to the deal value of the leads each team worked.
        total: Headcount to spread (default: the role's current total).
        replications: Replications of the pilot run.
        seed: Root seed of the pilot run.
        executor: Where the pilot run's replications run (see ``salessim.run``).
        workers: Pool size for ``"processes"``.
        progress: Progress bar: True, False, or None for automatic.

    Returns:
        The rebalanced scenario (the pilot run is not returned; run it as usual).

    Raises:
        ValueError: If no team or a single team staffs ``role``, ``by`` is unknown, or
            ``total`` is less than the number of teams.
    """
    scenario = load_scenario(scenario)
    teams = [t.name for t in scenario.teams if t.staffed(role)]
    if len(teams) < 2:
        roles = sorted({r for t in scenario.teams for r in t.reps if t.staffed(r)})
        raise ValueError(f"balancing needs a role staffed by two or more teams; {role!r} is "
                         f"staffed by {len(teams)} (roles with staff: {', '.join(roles)})")
    if by not in ("workload", "potential"):
        raise ValueError(f"by must be 'workload' or 'potential', got {by!r}")
    current = sum(next(t for t in scenario.teams if t.name == name).reps[role].headcount
                  for name in teams)
    total = current if total is None else total
    if total < len(teams):
        raise ValueError(f"{total} reps cannot staff {len(teams)} teams with one rep each")
    pilot = run(scenario, replications=replications, seed=seed, executor=executor,
                workers=workers, progress=progress)
    load = measured_load(pilot, role, by)
    sizes = largest_remainder([load[name] for name in teams], total)
    return scenario.with_changes({f"teams.{name}.reps.{role}.headcount": size
                                  for name, size in zip(teams, sizes, strict=True)},
                                 source=f"<balance {role} by {by}>")


def measured_load(res: Results, role: str, by: Basis) -> dict[str, float]:
    """Each team's measured load for a role: busy days, or potential (currency)."""
    table = res.teams().xs(role, level="role")
    load = table["utilisation"] * table["headcount"] if by == "workload" else table["potential"]
    return {str(team): float(value) for team, value in load.items()}


def largest_remainder(weights: list[float], total: int, minimum: int = 1) -> list[int]:
    """Whole shares of ``total`` in proportion to ``weights``, each at least ``minimum``.

    Hamilton's rule: every share gets the whole part of its quota, and the reps left go
    to the largest remainders. Shares that would fall below ``minimum`` are raised to
    it and the rest is spread again over the others.
    """
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    fixed = np.zeros(len(w), dtype=bool)
    quota = np.zeros(len(w))
    while not fixed.all():
        free = ~fixed
        left = total - minimum * int(fixed.sum())
        share = w[free] / w[free].sum() if w[free].sum() > 0 else np.full(free.sum(),
                                                                           1 / free.sum())
        quota[free] = share * left
        low = free & (quota < minimum)
        if not low.any():
            break
        fixed |= low
    shares = np.where(fixed, minimum, np.floor(quota)).astype(int)
    remainder = np.where(fixed, 0.0, quota - np.floor(quota))
    for i in np.argsort(-remainder, kind="stable")[: total - int(shares.sum())]:
        shares[i] += 1
    return [int(x) for x in shares]
