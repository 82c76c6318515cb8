"""Levers: the scenario values an optimisation may set, and the values each may take.

A lever is a key path of the scenario (any path ``Scenario.with_changes`` takes, e.g.
``teams.north.ae.headcount``) with a range:

* whole numbers: ``range(6, 14)``, or ``{low: 6, high: 13}`` (``step`` optional);
* a continuous number: ``{low: 2.0, high: 8.0}`` (a float bound makes it continuous;
  ``log: true`` searches it on a log scale);
* a choice: a list of values, e.g. ``[owner, pooled]`` (no order is assumed).

Levers are given as a mapping of path -> range, or as a levers file (YAML, read by
``salessim.scenario.loader``) holding ``levers:`` with the same mapping. Everything is
checked against the scenario before anything runs, and every problem names the file
(or ``<levers>``), the key path and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from salessim.scenario.document import plain_data
from salessim.scenario.errors import Problem, ScenarioError, show, unknown
from salessim.scenario.loader import read_document
from salessim.scenario.schema import Scenario

LeverKind = Literal["int", "float", "choice"]
LeversSource = Mapping[str, Any] | str | Path
"""Levers as key path -> range, or the path of a levers file."""
MAX_LEVERS = 50
"""Most levers one optimisation takes."""
MAX_CHOICES = 1_000
"""Most values one choice lever takes."""
_RANGE_KEYS = ("low", "high", "step", "log")
_SENSITIVITY_SHARE = 0.1
"""A continuous lever is moved by this share of its range in the sensitivity analysis."""


@dataclass(frozen=True)
class Lever:
    """One scenario value the search sets.

    Attributes:
        path: Key path, as written (``teams.north.ae.headcount``).
        kind: ``int`` (whole numbers from ``low`` to ``high`` by ``step``), ``float``
            (any number from ``low`` to ``high``) or ``choice`` (one of ``choices``).
        low: Smallest value (numbers only).
        high: Largest value (numbers only).
        step: Step of a whole-number lever (1 unless given).
        log: Whether a continuous lever is searched on a log scale.
        choices: The values of a choice lever, in the order given.
    """

    path: str
    kind: LeverKind
    low: float = 0.0
    high: float = 0.0
    step: int = 1
    log: bool = False
    choices: tuple[Any, ...] = ()

    def values(self) -> list[Any]:
        """Every value of a whole-number or choice lever (a continuous one: its ends)."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, self.step))
        return [self.low, self.high]

    def to_search(self, value: Any) -> Any:
        """The value as the search holds it: a choice by its position in ``choices``."""
        if self.kind == "choice":
            return next(i for i, c in enumerate(self.choices) if c == value)
        return value

    def from_search(self, value: Any) -> Any:
        """The scenario value of a value the search holds."""
        if self.kind == "choice":
            return self.choices[int(value)]
        return int(value) if self.kind == "int" else float(value)

    def neighbours(self, value: Any) -> list[Any]:
        """Values one step either side of ``value`` (for a choice: every other value)."""
        if self.kind == "choice":
            return [c for c in self.choices if c != value]
        if self.kind == "int":
            return [v for v in (value - self.step, value + self.step) if self.low <= v <= self.high]
        move = _SENSITIVITY_SHARE * (self.high - self.low)
        return [v for v in (max(self.low, value - move), min(self.high, value + move))
                if v != value]

    def describe(self) -> str:
        """What the lever allows, in words."""
        if self.kind == "choice":
            return "one of " + ", ".join(plain(c) for c in self.choices)
        if self.kind == "int":
            by = f" in steps of {self.step}" if self.step != 1 else ""
            return f"whole numbers from {int(self.low)} to {int(self.high)}{by}"
        return f"any number from {self.low:g} to {self.high:g}" + (" (log scale)"
                                                                     if self.log else "")


def plain(value: Any) -> str:
    """A lever value as a reader writes it: text without quotes, numbers to 4 digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.4g}"
    return show(value)


def read_levers(source: LeversSource) -> tuple[str, str, dict[str, Any]]:
    """The levers' plain data, where they come from, and the key path prefix of problems.

    Raises:
        ScenarioError: For a file that cannot be read, or one without a ``levers``
            mapping.
    """
    if isinstance(source, str | Path):
        label = str(source)
        document = read_document(source)
        if not isinstance(document, Mapping) or set(document) != {"levers"}:
            raise ScenarioError(label, [Problem("", (
                "a levers file is a mapping with the one key levers: key path -> range, "
                "e.g. levers: {teams.north.ae.headcount: {low: 6, high: 13}}; got "
                f"{show(document)}"))])
        levers = document["levers"]
        prefix = "levers."
    else:
        label, levers, prefix = "<levers>", source, ""
    if not isinstance(levers, Mapping) or not levers:
        raise ScenarioError(label, [Problem(prefix.rstrip("."), (
            "give at least one lever: a mapping of key path -> range, e.g. "
            f"{{'teams.north.ae.headcount': range(6, 14)}}; got {show(levers)}"))])
    return label, prefix, dict(levers)


def parse_levers(source: LeversSource, scenario: Scenario) -> tuple[Lever, ...]:
    """Levers checked against the scenario: each path names a value, each value is valid.

    Raises:
        ScenarioError: Naming the file (or ``<levers>``), each lever's key path and what
            is allowed, for every problem found, before anything runs.
    """
    label, prefix, raw = read_levers(source)
    if len(raw) > MAX_LEVERS:
        raise ScenarioError(label, [Problem(prefix.rstrip("."), (
            f"{len(raw)} levers; the limit is {MAX_LEVERS}"))])
    problems: list[Problem] = []
    levers: list[Lever] = []
    for path, spec in raw.items():
        where = f"{prefix}{path}"
        if not isinstance(path, str) or not path.strip():
            problems.append(Problem(f"{prefix}{show(path)}", (
                "a lever is a key path such as 'teams.north.ae.headcount'")))
            continue
        try:
            lever = _lever(path.strip(), spec)
        except ValueError as err:
            problems.append(Problem(where, str(err)))
            continue
        found = _value_problems(lever, scenario)
        problems += [Problem(where, message) for message in found]
        levers.append(lever)
    if problems:
        raise ScenarioError(label, problems)
    return tuple(levers)


def _lever(path: str, spec: Any) -> Lever:
    """One lever from its range as given; a ValueError saying what a range may be."""
    if isinstance(spec, range):
        if len(spec) == 0:
            raise ValueError(f"the range {spec!r} has no values; give e.g. range(6, 14)")
        if spec.step < 0:
            spec = spec[::-1]
        return Lever(path, "int", spec.start, spec[-1], spec.step)
    spec, _ = plain_data(spec)
    if isinstance(spec, Mapping):
        return _numeric(path, spec)
    if isinstance(spec, list):
        return _choice(path, spec)
    raise ValueError(
        "give the values a lever takes: a list (a choice, e.g. [owner, pooled]), "
        "{low: 6, high: 13} (whole numbers), {low: 2.0, high: 8.0} (any number between) "
        f"or a range; got {show(spec)}")


def _choice(path: str, values: list[Any]) -> Lever:
    if not values:
        raise ValueError("the list has no values; give at least one, e.g. [owner, pooled]")
    if len(values) > MAX_CHOICES:
        raise ValueError(f"{len(values):,} values; the limit is {MAX_CHOICES:,}")
    unique: list[Any] = []
    for v in values:
        if any(_same(v, u) for u in unique):
            raise ValueError(f"the value {show(v)} is listed twice; list each value once")
        unique.append(v)
    return Lever(path, "choice", choices=tuple(unique))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _numeric(path: str, spec: Mapping[str, Any]) -> Lever:
    extra = [k for k in spec if k not in _RANGE_KEYS]
    if extra:
        raise ValueError(unknown("key", extra[0], _RANGE_KEYS, "a range takes"))
    missing = [k for k in ("low", "high") if k not in spec]
    if missing:
        raise ValueError(f"a range needs low and high (missing: {', '.join(missing)}), "
                         "e.g. {low: 6, high: 13}")
    low, high, step, log = spec["low"], spec["high"], spec.get("step"), spec.get("log", False)
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"{name} must be a number; got {show(v)}")
    if not isinstance(log, bool):
        raise ValueError(f"log must be true or false; got {show(log)}")
    if high < low:
        raise ValueError(f"the range from {low:g} to {high:g} has no values: high must be at "
                         "least low")
    if isinstance(low, int) and isinstance(high, int) and not log:
        if step is None:
            step = 1
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(f"step must be a whole number of at least 1; got {show(step)}")
        return Lever(path, "int", low, high - (high - low) % step, step)
    if step is not None:
        raise ValueError("step is for whole-number ranges ({low: 6, high: 13, step: 2}); a "
                         "range with a decimal bound takes any number between")
    if log and low <= 0:
        raise ValueError(f"a log-scale range needs low above 0; got {low:g}")
    if low == high:
        raise ValueError(f"the range from {low:g} to {high:g} holds one value; give it as a "
                         f"list, [{low:g}], or widen it")
    return Lever(path, "float", float(low), float(high), log=log)


def _value_problems(lever: Lever, scenario: Scenario) -> list[str]:
    """What is wrong with setting each of the lever's values (ends, middle, choices)."""
    exists, _ = value_at(scenario, lever.path)
    checked: list[Any] = {
        "choice": list(lever.choices),
        "int": sorted({int(lever.low), int(lever.high)}),
        "float": [lever.low, (lever.low + lever.high) / 2, lever.high],
    }[lever.kind]
    problems: list[str] = []
    for value in checked:
        try:
            scenario.with_changes({lever.path: value}, source="<levers>")
        except ScenarioError as err:
            if not exists:  # the path is at fault, not the value: say it once
                return [f"names no scenario value: {err.problems[0].message}"]
            problems += [f"the value {show(value)} is not allowed: {p.message}"
                         for p in err.problems]
    return problems


def value_at(scenario: Scenario, path: str) -> tuple[bool, Any]:
    """Whether the key path leads to a value of the scenario, and the value.

    ``teams.T.ROLE`` may skip ``reps``, as in ``Scenario.with_changes``. A value the
    scenario leaves unset (an optional key) is not found.
    """
    roles = {r.name for r in scenario.roles}
    node: Any = scenario.to_document()
    for depth, part in enumerate(path.split(".")):
        if isinstance(node, list):
            named = [item for item in node if isinstance(item, Mapping)
                     and item.get("name") == part]
            if part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif named:
                node = named[0]
            else:
                return False, None
        elif isinstance(node, Mapping):
            if part not in node and depth == 2 and part in roles and "reps" in node:
                node = node["reps"]
            if part not in node:
                return False, None
            node = node[part]
        else:
            return False, None
    return True, node


def contains(lever: Lever, value: Any) -> bool:
    """Whether ``value`` is one the lever takes."""
    if lever.kind == "choice":
        return any(_same(value, c) for c in lever.choices)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if lever.kind == "int":
        return (isinstance(value, int) and lever.low <= value <= lever.high
                and (value - int(lever.low)) % lever.step == 0)
    return lever.low <= value <= lever.high
