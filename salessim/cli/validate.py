"""``salessim validate FILE...``: check any salessim file, as what it is.

A file is read once and recognised by its keys: an exercise (``levers``, ``goal``), an
answer (``decisions``), a sweep file (``grid`` or ``changes``), a calibration mapping
(``mapping_version``, ``opportunities``) or, otherwise, a scenario.
Each is validated as that kind, with one line per problem naming the file and the key
path; the exit status is 2 if any file has a problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from salessim.cli.common import EXIT_BAD_INPUT, EXIT_OK
from salessim.scenario import Scenario, ScenarioError, load_scenario
from salessim.scenario.errors import did_you_mean
from salessim.scenario.loader import read_answer, read_document, read_mapping, read_sweep_spec

EXERCISE_KEYS = frozenset({"levers", "goal", "round_days", "debrief", "brief"})
"""Keys only an exercise file has."""
ANSWER_KEYS = frozenset({"decisions", "trainee"})
"""Keys of an answer file."""
SWEEP_KEYS = frozenset({"grid", "changes"})
"""Keys of a sweep file."""
MAPPING_KEYS = frozenset({"mapping_version", "opportunities", "stage_history", "lookups",
                          "export_date"})
"""Keys only a calibration mapping has."""
SCENARIO_KEYS = frozenset({*(f.alias or name for name, f in Scenario.model_fields.items()),
                           "extends", "replace"})
"""Keys of a scenario file."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``validate``."""
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.set_defaults(func=_validate)


def kind_of(document: Any) -> str:
    """What a file's keys say it is: ``exercise``, ``answer``, ``sweep``, ``mapping``, ``scenario``.

    A file with no key of a scenario whose keys are misspellings of another kind's
    (``gird``, ``decisons``) is taken as that kind, so that its message says so.
    """
    keys = {str(k) for k in document} if isinstance(document, Mapping) else set()
    if not keys & SCENARIO_KEYS:
        keys |= {hint for k in keys
                 if (hint := did_you_mean(k, EXERCISE_KEYS | ANSWER_KEYS | SWEEP_KEYS))}
    if keys & EXERCISE_KEYS:
        return "exercise"
    if keys & MAPPING_KEYS:
        return "mapping"
    if keys & ANSWER_KEYS and not keys & SCENARIO_KEYS:
        return "answer"
    if keys & SWEEP_KEYS and not keys & SCENARIO_KEYS:
        return "sweep"
    return "scenario"


def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            kind = kind_of(read_document(path))
            print(f"ok  {path}: {CHECKS[kind](path)}")
        except ScenarioError as err:
            print(str(err), file=sys.stderr)
            failed += 1
    return EXIT_BAD_INPUT if failed else EXIT_OK


def _scenario(path: Path) -> str:
    sc = load_scenario(path)
    return (f"{sc.name} ({len(sc.stages)} stages, {len(sc.teams)} teams, "
            f"{sum(g.headcount for t in sc.teams for g in t.reps.values())} reps, "
            f"about {sc.expected_leads():,.0f} leads, "
            f"{sc.expected_leads(sc.calendar.warmup_days):,.0f} counted)")


def _exercise(path: Path) -> str:
    # Exercises and sweeps are imported when such a file comes: they load the simulation
    # and pandas, which validating a scenario does not need.
    from salessim.training import Exercise

    ex = Exercise.load(path)
    spec = ex.spec
    return (f"exercise {spec.title!r} (level {spec.level}, {len(ex.levers)} levers, "
            f"{len(ex.round_starts)} rounds of {spec.round_days:g} days, "
            f"{spec.replications} replications)")


def _answer(path: Path) -> str:
    answer = read_answer(path)
    who = f" by {answer.trainee}" if answer.trainee else ""
    return (f"answer{who} ({len(answer.decisions)} decision"
            f"{'' if len(answer.decisions) == 1 else 's'}; checked against an exercise by "
            "salessim exercise check)")


def _sweep(path: Path) -> str:
    from salessim.sweep import sweep_points  # see _exercise

    spec = read_sweep_spec(path)
    points = sweep_points(path)
    shape = (f"grid of {len(spec.grid)} key paths, {len(points):,} points"
             if spec.grid is not None else f"{len(points)} change sets")
    return f"sweep file ({shape}; checked against the base scenario when the sweep starts)"


def _mapping(path: Path) -> str:
    spec = read_mapping(path)
    tables = 1 + (spec.stage_history is not None) + len(spec.lookups)
    return (f"calibration mapping {spec.name!r} ({len(spec.stages)} stages, "
            f"{len(spec.roles)} role{'' if len(spec.roles) == 1 else 's'}, {tables} tables; "
            "the tables themselves are checked by salessim calibrate)")


CHECKS: dict[str, Callable[[Path], str]] = {
    "scenario": _scenario, "exercise": _exercise, "answer": _answer, "sweep": _sweep,
    "mapping": _mapping}
"""How each kind of file is validated, and what is said of a good one."""
