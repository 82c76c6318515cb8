"""Levers to scenario changes: what a value means, what it costs, whether it is allowed.

A number lever sets its key path; a choice lever applies its option's bundle of
changes. Costs are one-off payments from the exercise's budget: a number lever's
``cost_per_unit`` for every unit it moves (a recruiting fee per hire, severance per
leaver), a choice lever's option ``cost`` each time the option is chosen. Salaries of
reps hired are not lever costs: the simulation counts them for the days they work.

``plan`` turns an answer's decisions into what ``salessim.sandbox`` plays: the scenario
to start from and the changes on each day; every refusal names the decision, what was
wrong and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from salessim.formatting import fmt
from salessim.scenario.errors import Problem, ScenarioError, listing, show, unknown
from salessim.scenario.exercise_spec import Decision, Lever
from salessim.scenario.schema import Scenario
from salessim.training.exercise import Exercise, LeverValue, option_names, value_at, whole_if_int


def check_value(exercise: Exercise, lever: Lever, value: Any) -> LeverValue:
    """The value as the lever takes it (an int for a whole-number path).

    Raises:
        ValueError: Saying what the lever allows.
    """
    if lever.options is not None:
        options = option_names(lever)
        if not isinstance(value, str) or value not in options:
            raise ValueError(unknown("option", value, options, f"{lever.name} ({lever.label}) "
                                                              "can be"))
        return value
    assert lever.min is not None and lever.max is not None and lever.path is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{lever.name} ({lever.label}) takes a number from {lever.min:g} to "
                         f"{lever.max:g}; got {show(value)}")
    start = exercise.start[lever.name]
    whole = isinstance(start, int)
    if whole and not float(value).is_integer():
        raise ValueError(f"{lever.name} ({lever.label}) takes a whole number from "
                         f"{lever.min:g} to {lever.max:g}; got {show(value)}")
    if not lever.min <= value <= lever.max:
        raise ValueError(f"{show(value)} is outside the bounds of {lever.name} "
                         f"({lever.label}): allowed {lever.min:g} to {lever.max:g}")
    return whole_if_int(start, value)


def changes_for(lever: Lever, value: LeverValue) -> dict[str, Any]:
    """Key path -> value that set the lever to ``value`` (a structure option has none)."""
    if lever.options is None:
        assert lever.path is not None
        return {lever.path: value}
    return dict(lever.options[str(value)].changes)


def cost_of(lever: Lever, old: LeverValue, new: LeverValue) -> float:
    """What moving the lever from ``old`` to ``new`` costs (currency)."""
    if old == new:
        return 0.0
    if lever.options is not None:
        return lever.options[str(new)].cost
    return (lever.cost_per_unit or 0.0) * abs(float(new) - float(old))


def start_scenario(exercise: Exercise, at_start: Mapping[str, LeverValue]) -> Scenario:
    """The scenario a run starts from, with the levers pulled only at the start.

    Args:
        exercise: The exercise.
        at_start: Values of ``only_at_start`` levers that differ from the start.
    """
    scenario = exercise.scenario
    for lever in exercise.levers:
        if lever.name in at_start and lever.options is not None:
            structure = lever.options[str(at_start[lever.name])].scenario
            scenario = structure or scenario
    for lever in exercise.levers:
        if lever.name in at_start:
            value = at_start[lever.name]
            if lever.path is not None:
                value = whole_if_int(value_at(scenario, lever.path), float(value))
            scenario = scenario.with_changes(changes_for(lever, value),
                                             source=f"<{lever.name} at the start>")
    return scenario


def check_day(exercise: Exercise, lever: Lever, day: float) -> None:
    """Decisions fall on the first day of a round; some levers only before the first.

    Raises:
        ValueError: Naming the days allowed.
    """
    # An answer file's days count from the takeover, not from the start of the run as the
    # page and the charts do: the message says so.
    if lever.only_at_start and day != 0:
        raise ValueError(f"{lever.name} ({lever.label}) can only be chosen at the start "
                         f"(day 0 after the takeover); got day {day:g}")
    starts = exercise.round_starts
    if day not in starts:
        days = listing(f"{d:g}" for d in starts)
        raise ValueError(f"decisions are made between rounds, on day {days} after the "
                         f"takeover (a round is {exercise.spec.round_days:g} days); got day "
                         f"{day:g}")


@dataclass(frozen=True)
class Plan:
    """An answer ready to play.

    Attributes:
        scenario: The scenario the run starts from (levers pulled at the start applied).
        rounds: ``(simulation day, changes)`` in order of day: the run's timeline.
        spent: What the decisions cost in all (currency).
        decisions: The decisions, in order of day.
    """

    scenario: Scenario
    rounds: tuple[tuple[float, Mapping[str, Any]], ...]
    spent: float
    decisions: tuple[Decision, ...]


def plan(exercise: Exercise, decisions: Sequence[Decision], source: str) -> Plan:
    """Check an answer's decisions and turn them into scenario changes.

    Args:
        exercise: The exercise answered.
        decisions: The decisions, in any order of day (same-day ones in file order).
        source: The answer file, named in messages.

    Raises:
        ScenarioError: One problem per bad decision, at ``decisions[i]...``: a lever the
            exercise does not offer, a value outside its bounds, a day that is not a
            round's first, the same lever twice on one day, or spending over the budget.
    """
    problems: list[Problem] = []
    order = sorted(range(len(decisions)), key=lambda i: decisions[i].day)
    values: dict[str, LeverValue] = dict(exercise.start)
    at_start: dict[str, LeverValue] = {}
    by_day: dict[float, dict[str, Any]] = {}
    seen: dict[tuple[float, str], int] = {}
    spent = 0.0
    for i in order:
        d = decisions[i]
        try:
            lever = exercise.lever(d.lever)
        except ValueError as err:
            problems.append(Problem(f"decisions[{i}].lever", str(err)))
            continue
        if (d.day, d.lever) in seen:
            problems.append(Problem(f"decisions[{i}]", (
                f"{d.lever} is already set on day {d.day:g} by decisions[{seen[d.day, d.lever]}]"
                "; a lever takes one value per day")))
            continue
        seen[d.day, d.lever] = i
        try:
            check_day(exercise, lever, d.day)
        except ValueError as err:
            problems.append(Problem(f"decisions[{i}].day", str(err)))
            continue
        try:
            value = check_value(exercise, lever, d.value)
        except ValueError as err:
            problems.append(Problem(f"decisions[{i}].value", str(err)))
            continue
        cost = cost_of(lever, values[lever.name], value)
        if spent + cost > exercise.spec.budget + 1e-9:
            problems.append(Problem(f"decisions[{i}]", over_budget(exercise, lever, value, cost,
                                                                     spent)))
            continue
        spent += cost
        values[lever.name] = value
        if lever.only_at_start:
            at_start[lever.name] = value
        else:
            by_day.setdefault(d.day, {}).update(changes_for(lever, value))
    if problems:
        raise ScenarioError(source, problems)
    start = start_scenario(exercise, at_start)
    rounds = tuple((exercise.takeover_day + day, changes) for day, changes in by_day.items())
    return Plan(start, rounds, spent, tuple(decisions[i] for i in order))


def over_budget(exercise: Exercise, lever: Lever, value: LeverValue, cost: float,
                spent: float) -> str:
    """Why a decision is refused for money: its cost, what is spent, the budget."""
    money = exercise.currency
    return (f"{lever.name} = {value} costs {fmt('cost', cost)} {money}; with "
            f"{fmt('cost', spent)} {money} already spent that is "
            f"{fmt('cost', spent + cost)} {money}, over the budget of "
            f"{fmt('cost', exercise.spec.budget)} {money}")
