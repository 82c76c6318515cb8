"""What an optimisation asks: objectives, constraints and a budget, checked before any run.

Objectives are KPI names whose better direction the KPI vocabulary knows (``profit``:
higher; ``cycle_time_p90_days``: lower). Constraints are conditions on KPI means written
``KPI OPERATOR NUMBER`` and read by ``salessim.kpis.Condition`` (never run as code). A
budget bounds what a setting costs before it is simulated: ``salary_per_year`` (the
salaries of the reps employed at the start, for 250 working days) or ``headcount``
(reps at the start). Bad input is one ``ScenarioError`` naming where it was given, the
key path and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from salessim.formatting import kpi_words, lower_first
from salessim.kpis import Condition, Direction, better
from salessim.model.staffing import DAYS_PER_YEAR
from salessim.optimise.levers import Lever
from salessim.results import kpi_names
from salessim.scenario.errors import Problem, ScenarioError, listing, show, unknown
from salessim.scenario.schema import Scenario


def salary_per_year(scenario: Scenario) -> float:
    """Salaries of the reps employed at the start, for a year of 250 working days."""
    return DAYS_PER_YEAR * sum(group.headcount * scenario.role(role).salary_per_day
                               for team in scenario.teams for role, group in team.reps.items())


def headcount(scenario: Scenario) -> float:
    """Reps employed at the start, every role and team."""
    return float(sum(group.headcount for team in scenario.teams for group in team.reps.values()))


COSTS: dict[str, Callable[[Scenario], float]] = {
    "salary_per_year": salary_per_year,
    "headcount": headcount,
}
"""What a budget may bound, each worked out from a scenario before it runs."""


@dataclass(frozen=True)
class Objective:
    """A KPI to optimise.

    Attributes:
        kpi: Its name.
        direction: ``higher`` or ``lower`` is better.
    """

    kpi: str
    direction: Direction

    def score(self, value: float) -> float:
        """The value with higher always better (lower-is-better KPIs negated)."""
        return value if self.direction == "higher" else -value

    def __str__(self) -> str:
        return f"{lower_first(kpi_words(self.kpi))} ({self.direction} is better)"


def parse_objectives(objective: str | Sequence[str], scenario: Scenario) -> tuple[Objective, ...]:
    """The objectives, each a known KPI with a better direction.

    Raises:
        ScenarioError: Naming ``<objective>`` and the KPI at fault.
    """
    names = [objective] if isinstance(objective, str) else list(objective)
    known = kpi_names(scenario)
    ranked = [k for k in known if better(k) is not None]
    problems: list[Problem] = []
    if not names:
        problems.append(Problem("", "give a KPI to optimise, e.g. 'profit'; KPIs with a "
                                    f"better direction: {listing(ranked)}"))
    out: list[Objective] = []
    for i, name in enumerate(names):
        where = "" if isinstance(objective, str) else f"[{i}]"
        if not isinstance(name, str) or name not in known:
            problems.append(Problem(where, unknown("KPI", name, known, "KPIs are")))
        elif (way := better(name)) is None:
            problems.append(Problem(where, (
                f"{name} has no better direction (more is not simply better or worse); "
                f"optimise one of: {listing(ranked)}")))
        elif any(o.kpi == name for o in out):
            problems.append(Problem(where, f"{name} is given twice; give each objective once"))
        else:
            out.append(Objective(name, way))
    if problems:
        raise ScenarioError("<objective>", problems)
    return tuple(out)


def parse_constraints(constraints: str | Sequence[str], scenario: Scenario
                      ) -> tuple[Condition, ...]:
    """The constraints, each ``KPI OPERATOR NUMBER`` on a known KPI.

    Raises:
        ScenarioError: Naming ``<constraints>``, the position and what is allowed.
    """
    texts = [constraints] if isinstance(constraints, str) else list(constraints)
    known = kpi_names(scenario)
    problems: list[Problem] = []
    out: list[Condition] = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            problems.append(Problem(f"[{i}]", (
                f"a constraint is text such as 'cycle_time_p90_days <= 60'; got {show(text)}")))
            continue
        try:
            out.append(Condition.parse(text, known))
        except ValueError as err:
            problems.append(Problem(f"[{i}]", str(err)))
    if problems:
        raise ScenarioError("<constraints>", problems)
    return tuple(out)


def violation(condition: Condition, value: float) -> float:
    """How far a mean is from meeting a condition, relative to the bound (0 or less: met).

    Dividing by the bound puts constraints in days and in currency on one scale, which
    the search adds up to rank settings that miss.
    """
    if not math.isfinite(value):
        return 1e9
    scale = max(abs(condition.value), 1e-9)
    if condition.op == "==":
        return abs(value - condition.value) / scale
    gap = (value - condition.value if condition.op in ("<=", "<")
           else condition.value - value) / scale
    if condition.op in ("<", ">") and gap == 0:
        return 1e-12  # at the bound misses a strict condition
    return gap


def parse_budget(budget: Mapping[str, Any] | None) -> dict[str, float]:
    """The budget's limits, by what they bound.

    Raises:
        ScenarioError: Naming ``<budget>``, the key and what is allowed.
    """
    if budget is None:
        return {}
    if not isinstance(budget, Mapping):
        raise ScenarioError("<budget>", [Problem("", (
            "a budget is a mapping such as {'salary_per_year': 5000000}; got "
            f"{show(budget)}"))])
    problems: list[Problem] = []
    out: dict[str, float] = {}
    for key, limit in budget.items():
        if key not in COSTS:
            problems.append(Problem(show(key), unknown("budget", key, list(COSTS),
                                                       "a budget may bound")))
        elif (isinstance(limit, bool) or not isinstance(limit, int | float)
              or not math.isfinite(limit) or limit <= 0):
            problems.append(Problem(key, f"must be a number above 0; got {show(limit)}"))
        else:
            out[key] = float(limit)
    if problems:
        raise ScenarioError("<budget>", problems)
    return out


def costs(scenario: Scenario) -> dict[str, float]:
    """What a scenario costs, for each thing a budget may bound."""
    return {key: cost(scenario) for key, cost in COSTS.items()}


def over_budget(spent: Mapping[str, float], budget: Mapping[str, float]) -> dict[str, float]:
    """By how much each limit of the budget is exceeded (only those that are)."""
    return {k: spent[k] - limit for k, limit in budget.items() if spent[k] > limit}


def check_budget(scenario: Scenario, levers: Sequence[Lever], budget: Mapping[str, float]
                 ) -> None:
    """Refuse a budget that no setting of the levers meets, saying the cheapest cost.

    Costs add up headcount times salary, so each lever's cheapest value is found with
    the others held (a number at one end of its range, a choice among its values),
    going round the levers until none changes.

    Raises:
        ScenarioError: Naming ``<budget>`` and the cheapest setting's cost.
    """
    if not budget:
        return
    for key, limit in budget.items():
        setting = {lv.path: lv.values()[0] for lv in levers}
        best = COSTS[key](scenario.with_changes(setting, source="<levers>"))
        for _ in range(len(levers) + 1):
            improved = False
            for lv in levers:
                for value in (lv.values() if lv.kind == "choice" else [lv.low, lv.high]):
                    trial = {**setting, lv.path: lv.from_search(lv.to_search(value))}
                    cost = COSTS[key](scenario.with_changes(trial, source="<levers>"))
                    if cost < best:
                        best, setting, improved = cost, trial, True
            if not improved:
                break
        if best > limit:
            shown = ", ".join(f"{p} = {show(v)}" for p, v in setting.items())
            raise ScenarioError("<budget>", [Problem(key, (
                f"no setting of the levers meets {limit:,.0f}: the cheapest ({shown}) "
                f"comes to {best:,.0f}; raise the budget or widen the levers"))])
