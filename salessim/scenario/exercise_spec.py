"""Training files as data: an exercise (what a trainer writes) and an answer (a trainee's).

An exercise names a scenario, the levers a trainee may pull with their bounds and costs,
a budget, a goal, the length of a round, the seed and replications every trainee is
scored on, and a brief and a debrief in plain words::

    schema_version: 1
    title: Find the bottleneck
    level: 1                                  # 1 easy .. 5 hard
    brief: Deals take too long ...
    scenario: ../regional.yaml                # a file, or a mapping with extends:
    round_days: 62                            # a quarter per round (working days)
    replications: 6
    seed: 11
    budget: 40000                             # for lever costs (currency)
    levers:
      - name: legal                           # a number at a key path
        label: Contract counsels
        path: teams.legal.legal.headcount
        min: 2
        max: 4
        cost_per_unit: 9000                   # recruiting fee per hire (or severance)
      - name: pre_review                      # a choice among named bundles of changes
        label: Contract template
        options:
          as_is: {changes: {stages.contract.customer_delay_days: {dist: gamma, mean: 7, sd: 2.5}}}
          pre_review: {cost: 15000, changes: {...}}
    goal:
      conditions: ["cycle_time_p90_days <= 85% of baseline"]
      maximise: profit
      excellent: 104% of baseline             # the objective an expert reaches
    debrief: What the trainer explains afterwards ...

An answer lists decisions: ``decisions: [{day: 0, lever: legal, value: 3}, ...]``.

The loader resolves the scenario references (``scenario`` and the options'
``extends``) while validating, through the ``read_scenario`` callback it passes in; this
module reads no file itself. What needs the engine (lever paths against the scenario,
goal KPIs) is checked by ``salessim.training`` when the exercise is built.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from salessim.scenario.errors import KeyPathError, ScenarioError, show, validate_document
from salessim.scenario.fields import Frozen, Name, NonNegative, Positive
from salessim.scenario.limits import MAX_AMOUNT
from salessim.scenario.schema import Scenario

ScenarioReader = Callable[[Any, str | None], Scenario]
"""``read(scenario_ref, extends)``: the exercise's scenario (a path or an inline mapping),
built on ``extends`` instead of its own parent when that is given. Raises ScenarioError."""

KeyPath = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]
MAX_REPLICATIONS = 100
"""Most replications an exercise may ask for: scoring must stay quick on a laptop."""
MAX_ROUNDS = 500
"""Most rounds an exercise may have (two years of daily rounds)."""
Bound = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False)]
"""A lever's bound or a decision's value, in the unit of the lever's key path."""


class LeverOption(Frozen):
    """One choice of a choice lever: a named bundle of changes, with its one-off cost.

    Attributes:
        label: What the trainee reads (default: the option's name).
        changes: Key path -> value, as in ``Scenario.with_changes``.
        extends: A scenario file (relative to the exercise) that the exercise's own
            scenario builds on with this option, instead of its ``extends``: a whole
            organisation structure. Only for levers pulled at the start.
        scenario: The exercise's scenario built on ``extends`` (filled in by the loader).
        cost: Paid each time the option is chosen (currency).
    """

    label: str = ""
    changes: dict[KeyPath, Any] = Field(default_factory=dict)
    extends: Annotated[str, Field(min_length=1)] | None = None
    scenario: Scenario | None = None
    cost: NonNegative = 0.0

    @model_validator(mode="before")
    @classmethod
    def _read_structure(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping) or "scenario" in data or data.get("extends") is None:
            return data
        if not isinstance(data["extends"], str) or not data["extends"].strip():
            return data  # the field check says what is wrong
        return {**data, "scenario": _read(info, data["extends"], "extends")}


class Lever(Frozen):
    """Something a trainee may change: a number at a key path, or a choice of options.

    Attributes:
        name: How answers refer to it.
        label: What the trainee reads, e.g. ``Solution engineers``.
        help: One sentence on what it means in the business.
        path: Key path of a number lever, e.g. ``teams.solutions.se.headcount``.
        min: Lowest value allowed (the path's unit).
        max: Highest value allowed (the path's unit).
        step: Step of the number on the page (the path's unit; default 1).
        cost_per_unit: Paid per unit the value moves, up or down: a recruiting fee per
            hire, severance per leaver (currency).
        options: Name -> option of a choice lever; one of them must leave the scenario
            as it is (where the trainee starts).
        only_at_start: The lever can only be pulled before the first round, and then
            holds from the first day of the run (e.g. the structure of the teams).
    """

    name: Name
    label: Text
    help: str = ""
    path: KeyPath | None = None
    min: Bound | None = None
    max: Bound | None = None
    step: Positive | None = None
    cost_per_unit: NonNegative | None = None
    options: dict[Name, LeverOption] | None = Field(default=None, min_length=2)
    only_at_start: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Lever:
        number = ("path", "min", "max", "step", "cost_per_unit")
        given = [k for k in number if getattr(self, k) is not None]
        problems: list[tuple[str, str]] = []
        if self.options is None and self.path is None:
            problems.append(("", "give either path with min and max (a number lever) or "
                                 "options (a choice lever)"))
        elif self.options is not None and given:
            problems.append(("", f"a choice lever (options) takes no {', '.join(given)}; "
                                 "put each option's cost under the option"))
        elif self.options is None:
            problems += [(k, "missing; a number lever needs min and max")
                         for k in ("min", "max") if getattr(self, k) is None]
            if self.min is not None and self.max is not None and self.min > self.max:
                problems.append(("max", f"must be at least min ({self.min:g}); got "
                                        f"{self.max:g}"))
        for name, option in (self.options or {}).items():
            if option.extends is not None and not self.only_at_start:
                problems.append((f"options.{name}.extends", (
                    "a whole structure can only be chosen before the run starts; add "
                    "only_at_start: true to the lever")))
        if problems:
            raise KeyPathError(problems)
        return self


class Goal(Frozen):
    """What a trainee must reach, and what is scored beyond it.

    Conditions and ``excellent`` are read as data: ``KPI OPERATOR NUMBER`` with an
    optional ``%`` and ``of baseline`` (a share of the untouched scenario's mean).

    Attributes:
        conditions: Each ``KPI OPERATOR BOUND``, e.g. ``cycle_time_p90_days <= 85% of
            baseline`` or ``conversion_rate >= 11%``.
        maximise: KPI to raise (give this or ``minimise``).
        minimise: KPI to lower.
        excellent: The objective's value an expert reaches: a number in the KPI's unit
            or ``N% of baseline``; it earns full marks.
    """

    conditions: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = Field(
        min_length=1, strict=False)
    maximise: Name | None = None
    minimise: Name | None = None
    excellent: float | Annotated[str, Field(min_length=1, max_length=100)]

    @field_validator("excellent", mode="before")
    @classmethod
    def _number_or_share(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise KeyPathError([("", "must be a number in the objective's unit or a share "
                                     f"of the baseline such as '104% of baseline'; got "
                                     f"{show(value)}")])
        if not isinstance(value, str) and not _bounded(value):
            raise KeyPathError([("", "must be a number between -10^12 and 10^12, or a share "
                                     f"of the baseline; got {show(value)}")])
        return value

    @model_validator(mode="after")
    def _one_objective(self) -> Goal:
        if (self.maximise is None) == (self.minimise is None):
            raise KeyPathError([("", "give either maximise: KPI or minimise: KPI (what is "
                                     "scored beyond the conditions), not both")])
        return self

    @property
    def objective(self) -> str:
        """The KPI that is maximised or minimised."""
        return self.maximise or self.minimise or ""


class ExerciseSpec(Frozen):
    """A validated exercise file; ``salessim.training.Exercise`` checks it against the engine.

    Attributes:
        schema_version: 1.
        title: Short name of the exercise.
        level: Difficulty, 1 (easy) to 5 (hard).
        brief: The situation and the task, in plain words (Markdown).
        scenario: The scenario as it is when the trainee takes over (resolved by the
            loader from a path or an inline mapping with ``extends``).
        round_days: Length of a round: the trainee decides, then this many working days
            run (days; 5 is a week, about 21 a month, about 62 a quarter).
        replications: Replications every answer is scored on.
        seed: Root seed every answer is scored on.
        budget: Most the trainee may spend on lever costs in all (currency).
        levers: What the trainee may change.
        goal: The goal and what is scored.
        debrief: What the trainer explains afterwards (Markdown).
    """

    schema_version: Literal[1]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    level: Annotated[int, Field(ge=1, le=5)]
    brief: Text
    scenario: Scenario
    round_days: Annotated[float, Field(gt=0.0, le=2500.0, allow_inf_nan=False)]
    replications: Annotated[int, Field(ge=2, le=MAX_REPLICATIONS)]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
    budget: NonNegative
    levers: tuple[Lever, ...] = Field(min_length=1, strict=False)
    goal: Goal
    debrief: Text

    @field_validator("scenario", mode="before")
    @classmethod
    def _read_scenario(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, Scenario):
            return value
        if not isinstance(value, str | Mapping) or not value:
            raise KeyPathError([("", (
                "must be the path of a scenario file (relative to this file), e.g. "
                f"'scenario: ../regional.yaml', or a scenario with extends:; got {show(value)}"))])
        return _read(info, None, "")

    @field_validator("levers")
    @classmethod
    def _unique_levers(cls, levers: tuple[Lever, ...]) -> tuple[Lever, ...]:
        first: dict[str, int] = {}
        problems: list[tuple[str, str]] = []
        for i, lever in enumerate(levers):
            if lever.name in first:
                problems.append((f"[{i}].name", f"duplicate lever name {lever.name!r}, "
                                                f"already used at levers[{first[lever.name]}]"))
            first.setdefault(lever.name, i)
        structures = [i for i, lever in enumerate(levers)
                      if any(o.extends for o in (lever.options or {}).values())]
        problems += [(f"[{i}].options", "only one lever may choose the scenario a structure "
                                        f"builds on (levers[{structures[0]}] does)")
                     for i in structures[1:]]
        if problems:
            raise KeyPathError(problems)
        return levers

    @classmethod
    def from_document(cls, document: Any, source: str, read_scenario: ScenarioReader
                      ) -> ExerciseSpec:
        """Validate the plain data of an exercise file.

        Args:
            document: What the file holds.
            source: The file, named in messages.
            read_scenario: Resolves the scenario references (given by the loader).

        Raises:
            ScenarioError: Naming ``source``, each key path and what is allowed; a bad
                scenario's own problems are quoted under ``scenario``.
        """
        scenario = document.get("scenario") if isinstance(document, Mapping) else None
        return validate_document(cls, document, source, (
            "an exercise file is a mapping with keys such as title, brief, scenario, levers, "
            "goal and debrief"), {"read": read_scenario, "scenario": scenario})


def _read(info: ValidationInfo, extends: str | None, where: str) -> Scenario:
    """The exercise's scenario via the loader's reader; its problems quoted at ``where``."""
    context = info.context or {}
    try:
        scenario: Scenario = context["read"](context["scenario"], extends)
    except ScenarioError as err:
        raise KeyPathError([(where, f"{err.source}: {p}" if err.source else str(p))
                            for p in err.problems]) from None
    return scenario


def _bounded(value: float) -> bool:
    """Whether a number is finite and within +-``MAX_AMOUNT``."""
    # abs() first: an int too large for a float has no isfinite()
    return abs(value) <= MAX_AMOUNT and math.isfinite(value)


class Decision(Frozen):
    """A trainee's decision: set a lever to a value from a day on.

    Attributes:
        day: Working days after the trainee took over (0 is the first round; decisions
            fall on the first day of a round).
        lever: The lever's name.
        value: A number for a number lever, an option's name for a choice lever.
    """

    day: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    lever: Name
    value: int | float | str

    @field_validator("value", mode="before")
    @classmethod
    def _number_or_name(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise KeyPathError([("", (
                f"must be a number or an option's name; got {show(value)} (YAML reads true "
                "and false as true/false: put an option's name in quotes)"))])
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not _bounded(value):
                raise KeyPathError([("", f"must be a number between -10^12 and 10^12; got "
                                         f"{show(value)}")])
            return value
        if not isinstance(value, str):
            raise KeyPathError([("", f"must be a number or an option's name; got {show(value)}")])
        return value


class AnswerSpec(Frozen):
    """A trainee's answer file.

    Attributes:
        trainee: Who answered (shown in the trainer's table).
        decisions: The decisions, each ``{day, lever, value}``.
    """

    trainee: Annotated[str, Field(max_length=200)] = ""
    decisions: tuple[Decision, ...] = Field(default=(), strict=False)

    @classmethod
    def from_document(cls, document: Any, source: str) -> AnswerSpec:
        """Validate the plain data of an answer file.

        Raises:
            ScenarioError: Naming ``source``, the key path and what is allowed.
        """
        return validate_document(cls, document, source, (
            "an answer file is a mapping with the key decisions: a list of "
            "{day: D, lever: NAME, value: V}"))
