"""An exercise checked against the engine: levers that work, a goal that can be scored.

``Exercise.load(path)`` reads an exercise file through the loader
(``salessim.scenario.loader.read_exercise_spec``), then checks what needs the engine: every
lever's key path and bounds give a valid scenario, levers pulled during the run change
only what may change during a run (``salessim.model.changes``), a choice lever has one
option that leaves the scenario as it is, and the goal names KPIs with a direction.
Every problem names the file and the key path, like a bad scenario.

Time in an exercise: the trainee takes over when the scenario's warm-up ends (the
pipeline is full) and plays the counted year in rounds of ``round_days``; day 0 of the
exercise is simulation day ``calendar.warmup_days``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salessim.model.changes import change_problems
from salessim.results import kpi_names
from salessim.scenario.errors import Problem, ScenarioError, listing, unknown
from salessim.scenario.exercise_spec import MAX_ROUNDS, ExerciseSpec, Lever, LeverOption
from salessim.scenario.loader import read_exercise_spec
from salessim.scenario.schema import Scenario
from salessim.training.goal import Objective, ObjectiveError, Target

LeverValue = float | str
"""A number lever's value (int for whole-number paths such as headcounts) or an option."""


@dataclass(frozen=True)
class Exercise:
    """A training exercise, ready to play and score.

    Attributes:
        spec: The exercise file as validated (title, brief, levers, goal...).
        source: The file it came from, named in messages.
        start: Each lever's value when the trainee takes over.
        targets: The goal's conditions.
        objective: What is maximised or minimised beyond them.
    """

    spec: ExerciseSpec
    source: str
    start: Mapping[str, LeverValue]
    targets: tuple[Target, ...]
    objective: Objective

    @classmethod
    def load(cls, path: str | Path) -> Exercise:
        """Read and check an exercise file.

        Raises:
            ScenarioError: Naming the file, each key path and what is allowed.
        """
        return cls.from_spec(read_exercise_spec(path), str(path))

    @classmethod
    def from_spec(cls, spec: ExerciseSpec, source: str) -> Exercise:
        """Check a validated exercise file against the engine.

        Raises:
            ScenarioError: Naming ``source``, each key path and what is allowed.
        """
        problems: list[Problem] = []
        start: dict[str, LeverValue] = {}
        bases = _structures(spec)
        for i, lever in enumerate(spec.levers):
            where = f"levers[{i}]"
            try:
                start[lever.name] = _start(lever, spec.scenario, where)
                for base in bases:
                    _check_lever(lever, base, where)
            except ScenarioError as err:
                problems.extend(err.problems)
        known = kpi_names(spec.scenario)
        targets: list[Target] = []
        for i, text in enumerate(spec.goal.conditions):
            try:
                targets.append(Target.parse(text, known))
            except ValueError as err:
                problems.append(Problem(f"goal.conditions[{i}]", str(err)))
        way = "higher" if spec.goal.maximise is not None else "lower"
        key = "maximise" if way == "higher" else "minimise"
        objective = None
        try:
            objective = Objective.parse(spec.goal.objective, way, spec.goal.excellent, known)
        except ObjectiveError as err:
            problems.append(Problem(f"goal.{key if err.part == 'kpi' else err.part}", str(err)))
        problems += _round_problems(spec)
        if problems or objective is None:
            raise ScenarioError(source, problems)
        return cls(spec, source, start, tuple(targets), objective)

    # ---- what the trainee reads ---------------------------------------------------

    @property
    def title(self) -> str:
        """The exercise's title."""
        return self.spec.title

    @property
    def scenario(self) -> Scenario:
        """The scenario as the trainee finds it."""
        return self.spec.scenario

    @property
    def levers(self) -> tuple[Lever, ...]:
        """The levers, in file order."""
        return self.spec.levers

    @property
    def currency(self) -> str:
        """Currency of budget, costs and money KPIs."""
        return self.scenario.money.currency

    def lever(self, name: str) -> Lever:
        """The lever called ``name``.

        Raises:
            ValueError: Naming the levers this exercise offers.
        """
        for lever in self.levers:
            if lever.name == name:
                return lever
        names = [lever.name for lever in self.levers]
        raise ValueError(unknown("lever", name, names, "this exercise's levers are"))

    # ---- time -----------------------------------------------------------------------

    @property
    def takeover_day(self) -> float:
        """Simulation day on which the trainee takes over: the end of the warm-up (days)."""
        return self.scenario.calendar.warmup_days

    @property
    def year_days(self) -> float:
        """Days the trainee plays in rounds: the scenario's counted period (days)."""
        cal = self.scenario.calendar
        return cal.horizon_days - cal.warmup_days

    @property
    def round_starts(self) -> tuple[float, ...]:
        """Exercise days on which decisions fall: the first day of each round (days)."""
        n = math.ceil(self.year_days / self.spec.round_days - 1e-9)
        return tuple(i * self.spec.round_days for i in range(n))


def _round_problems(spec: ExerciseSpec) -> list[Problem]:
    """The rounds fit the counted period, and are not absurdly many."""
    year = spec.scenario.calendar.horizon_days - spec.scenario.calendar.warmup_days
    if spec.round_days > year:
        return [Problem("round_days", f"must be at most the counted year of the scenario "
                                      f"({year:g} days); got {spec.round_days:g}")]
    rounds = math.ceil(year / spec.round_days - 1e-9)
    if rounds > MAX_ROUNDS:
        return [Problem("round_days", f"{spec.round_days:g} days make {rounds:,} rounds of the "
                                      f"counted {year:g} days; at most {MAX_ROUNDS} rounds are "
                                      f"allowed: make a round at least "
                                      f"{math.ceil(year / MAX_ROUNDS):g} days")]
    return []


def _structures(spec: ExerciseSpec) -> list[Scenario]:
    """Every scenario the run may start from: the exercise's and each structure option's."""
    bases = [spec.scenario]
    for lever in spec.levers:
        bases += [o.scenario for o in (lever.options or {}).values() if o.scenario is not None]
    return bases


def value_at(scenario: Scenario, path: str) -> Any:
    """The value at a key path of a scenario (``teams.T.ROLE`` may skip ``reps``).

    Raises:
        KeyError: If the path does not lead to a value.
    """
    node: Any = scenario.to_document()
    for part in path.split("."):
        if isinstance(node, list):
            node = next((item for item in node if item.get("name") == part), None)
        elif isinstance(node, dict) and part not in node and part in node.get("reps", {}):
            node = node["reps"][part]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            node = None
        if node is None:
            raise KeyError(path)
    return node


def _start(lever: Lever, scenario: Scenario, where: str) -> LeverValue:
    """The lever's value in the scenario: the number at its path, or the option in force."""
    if lever.options is None:
        assert lever.path is not None and lever.min is not None and lever.max is not None
        try:
            value = value_at(scenario, lever.path)
        except KeyError:
            try:
                scenario.with_changes({lever.path: lever.min}, source="")
            except ScenarioError as err:  # the path does not exist: say which step
                raise ScenarioError("", [Problem(f"{where}.path", str(p))
                                         for p in err.problems]) from None
            value = None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError("", [Problem(f"{where}.path", (
                f"{lever.path} is not a number in the scenario; a number lever needs a key "
                "path to a number, e.g. teams.solutions.se.headcount"))])
        if not lever.min <= value <= lever.max:
            raise ScenarioError("", [Problem(f"{where}.min", (
                f"the scenario has {lever.path} = {value:g}, outside min..max "
                f"({lever.min:g}..{lever.max:g}); the bounds must include where the trainee "
                "starts"))])
        return value
    unchanged = [name for name, option in lever.options.items()
                 if _with_option(scenario, option, f"{where}.options.{name}") == scenario]
    if len(unchanged) != 1:
        found = f" ({listing(unchanged)} all do)" if unchanged else ""
        raise ScenarioError("", [Problem(f"{where}.options", (
            "exactly one option must leave the scenario as it is, to say where the trainee "
            f"starts{found}; write each option's values in full"))])
    return unchanged[0]


def _with_option(scenario: Scenario, option: LeverOption, where: str) -> Scenario:
    """The scenario with a choice lever's option; its problems at the option's key path."""
    try:
        return (option.scenario or scenario).with_changes(option.changes, source="")
    except ScenarioError as err:
        raise ScenarioError("", [Problem(f"{where}.changes", str(p))
                                 for p in err.problems]) from None


def _check_lever(lever: Lever, scenario: Scenario, where: str) -> None:
    """Each value the lever can take must give a scenario that is valid, and changeable."""
    variants: list[tuple[str, Scenario]] = []
    try:
        if lever.options is None:
            assert lever.path is not None and lever.min is not None and lever.max is not None
            for key, bound in (("min", lever.min), ("max", lever.max)):
                value = whole_if_int(value_at(scenario, lever.path), bound)
                variants.append((f"{where}.{key}",
                                 scenario.with_changes({lever.path: value}, source="")))
        else:
            for name, option in lever.options.items():
                if option.scenario is None:
                    variants.append((f"{where}.options.{name}.changes",
                                     scenario.with_changes(option.changes, source="")))
    except ScenarioError as err:
        raise ScenarioError("", [Problem(where, f"{p}") for p in err.problems]) from None
    except KeyError:
        raise ScenarioError("", [Problem(f"{where}.path", f"{lever.path} is not in the "
                                                          "scenario")]) from None
    if lever.only_at_start:
        return
    problems = [Problem(path, f"{p}") for path, changed in variants
                for p in change_problems(scenario, changed)]
    if problems:
        raise ScenarioError("", [Problem(p.path, p.message + "; a lever pulled at the start "
                                                             "only may: only_at_start: true")
                                 for p in problems])


def whole_if_int(start: Any, value: float) -> float | int:
    """``value`` as an int when the path holds a whole number (e.g. a headcount)."""
    if isinstance(start, int) and not isinstance(start, bool) and float(value).is_integer():
        return int(value)
    return value


def option_names(lever: Lever) -> Sequence[str]:
    """The options of a choice lever, in file order (empty for a number lever)."""
    return list(lever.options or {})
