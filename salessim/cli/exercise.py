"""``salessim exercise``: show a training exercise, score answers, serve the trainees' page.

``exercise show EXERCISE.yaml`` prints the brief, the goal and the levers;
``exercise check EXERCISE.yaml ANSWER.yaml`` scores one answer and prints the debrief;
with several answer files or a folder of them it prints one line per answer (``--format
csv`` for a spreadsheet). ``exercise page [EXERCISE.yaml | FOLDER]`` serves the page
where trainees play in rounds.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salessim.cli.common import EXIT_BAD_INPUT, EXIT_OK, text_table, whole_number
from salessim.formatting import fmt_number
from salessim.plots import Labels
from salessim.scenario import Problem, ScenarioError
from salessim.scenario.loader import read_answer
from salessim.training import AnswerSpec, Exercise, Score, baseline, check_answer, plan
from salessim.training.debrief import brief_text, debrief_text, kpi_rows

ANSWER_SUFFIXES = (".yaml", ".yml")
"""Files of an answers folder that are read as answers."""
DEFAULT_EXERCISES = Path("scenarios") / "exercises"
"""Where ``exercise page`` looks for exercises when given none."""
GAMES_PER_WORKER = 10
"""Games a page worker holds in memory by default: a game of the shipped exercises takes
about 210 MB after the warm-up and 35 MB more per round played (measured), so a worker
stays under about 3 GB, and a class of 20 on two workers is never replayed."""
MAX_TRAINEES = 40
"""Games the page runs at once by default."""
FORGET_AFTER_S = 15.0
"""How long after its tab closes a game is dropped by default (seconds): a page that
loses its connection for a moment gets it back with its game."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The commands of ``exercise``: ``show``, ``check`` and ``page``."""
    commands = p.add_subparsers(dest="exercise_command", required=True, metavar="COMMAND")

    show = commands.add_parser("show", help="print an exercise's brief, goal and levers")
    show.add_argument("exercise", type=Path, metavar="EXERCISE")
    show.set_defaults(func=_show)

    check = commands.add_parser("check", help="score answers: one gives the debrief, "
                                              "several (or a folder) a table")
    check.add_argument("exercise", type=Path, metavar="EXERCISE")
    check.add_argument("answers", nargs="+", type=Path, metavar="ANSWER",
                       help="answer files ({day, lever, value} decisions) or folders of them")
    check.add_argument("-f", "--format", choices=("table", "csv"), default="table",
                       help="table for people (one answer: the debrief); csv: one row per "
                            "answer")
    check.set_defaults(func=_check)

    page = commands.add_parser("page", help="serve the page where trainees play an exercise "
                                            "in rounds")
    page.add_argument("exercises", nargs="?", type=Path, default=DEFAULT_EXERCISES,
                      metavar="EXERCISE",
                      help=f"an exercise file or a folder of them (default {DEFAULT_EXERCISES})")
    page.add_argument("--port", type=int, default=5006, help="port to serve on (default 5006)")
    page.add_argument("--address", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this computer only)")
    page.add_argument("--show", action="store_true", help="open the page in a browser")
    page.add_argument("--workers", type=_at_least_one, default=os.cpu_count() or 1, metavar="N",
                      help="processes that play the games, one round at a time each "
                           "(default: one per core, %(default)s)")
    page.add_argument("--games-per-worker", type=_at_least_one, default=GAMES_PER_WORKER,
                      metavar="N",
                      help="games a worker holds in memory; beyond, the least recently played "
                           "is dropped and replayed from its decisions when played again "
                           "(default %(default)s, about 3 GB per worker)")
    page.add_argument("--max-trainees", type=_at_least_one, default=MAX_TRAINEES, metavar="N",
                      help="games at once; beyond, the page asks the trainee to try again "
                           "later (default %(default)s)")
    page.add_argument("--forget-after", type=_seconds, default=FORGET_AFTER_S,
                      metavar="SECONDS",
                      help="drop a game this long after its tab closes (default %(default)g)")
    page.set_defaults(func=_page)


def _show(args: argparse.Namespace) -> int:
    sys.stdout.write(brief_text(Exercise.load(args.exercise)) + "\n")
    return EXIT_OK


@dataclass(frozen=True)
class _Scored:
    path: Path
    trainee: str
    score: Score


def answer_files(paths: list[Path]) -> list[Path]:
    """The answer files named, folders expanded to their YAML files in name order.

    Raises:
        ScenarioError: For a path that does not exist or a folder without answers.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in ANSWER_SUFFIXES)
            if not found:
                raise ScenarioError(str(path), [Problem("", "no answer files (*.yaml) in "
                                                            "this folder")])
            files += found
        else:
            files.append(path)
    return files


def _check(args: argparse.Namespace) -> int:
    exercise = Exercise.load(args.exercise)
    files = answer_files(args.answers)
    accepted: list[tuple[Path, AnswerSpec]] = []
    refused = 0
    for path in files:  # every answer is read and checked before anything runs
        try:
            answer = read_answer(path)
            plan(exercise, answer.decisions, str(path))
            accepted.append((path, answer))
        except ScenarioError as err:
            if len(files) == 1:
                raise
            print(str(err), file=sys.stderr)
            refused += 1
    base = baseline(exercise)
    scored = [_Scored(path, answer.trainee,
                      check_answer(exercise, answer.decisions, str(path), base))
              for path, answer in accepted]
    if args.format == "csv":
        sys.stdout.write(_table(exercise, scored).to_csv(index=False, float_format="%.10g"))
    elif len(files) == 1:
        only = scored[0]
        decisions = accepted[0][1].decisions
        lab = Labels.of(exercise.scenario)
        table = text_table([("KPI", "baseline", "your answer", "difference (95% interval)"),
                            *((lab.kpi_label(k, exercise.currency), *cells)
                              for k, *cells in kpi_rows(only.score))],
                           (False, True, True, True))
        plan_order = sorted(decisions, key=lambda d: d.day)
        sys.stdout.write(debrief_text(exercise, only.score, plan_order, table) + "\n")
    else:
        sys.stdout.write(_people_table(exercise, scored) + "\n")
    return EXIT_BAD_INPUT if refused else EXIT_OK


def _table(exercise: Exercise, scored: list[_Scored]) -> pd.DataFrame:
    """One row per answer: points, goal met, the objective, lever costs, each condition."""
    rows = []
    for s in scored:
        row: dict[str, object] = {"answer": s.path.name, "trainee": s.trainee,
                                  "points": s.score.points, "goal_met": s.score.met,
                                  exercise.objective.kpi: s.score.objective_value,
                                  "lever_costs": s.score.spent}
        for c in s.score.checks:
            row[c.target.condition.kpi] = c.value
        rows.append(row)
    return pd.DataFrame(rows)


def _people_table(exercise: Exercise, scored: list[_Scored]) -> str:
    table = _table(exercise, scored).sort_values("points", ascending=False, kind="stable")
    kpis = [c for c in table.columns if c not in ("answer", "trainee", "points", "goal_met",
                                                  "lever_costs")]
    lab, currency = Labels.of(exercise.scenario), exercise.currency
    rows: list[tuple[str, ...]] = [("answer", "trainee", "points", "goal",
                                    *(lab.kpi_label(k, currency) for k in kpis),
                                    f"lever costs ({currency})")]
    for _, r in table.iterrows():
        rows.append((str(r["answer"]), str(r["trainee"]), str(r["points"]),
                     "met" if r["goal_met"] else "not met",
                     *(fmt_number(k, float(r[k])) for k in kpis),
                     fmt_number("cost", float(r["lever_costs"]))))
    spec = exercise.spec
    head = (f"{spec.title}: {len(scored)} answers, {spec.replications} replications, seed "
            f"{spec.seed}, money in {exercise.currency}; best first")
    right = (False, False, True, False, *(True,) * (len(kpis) + 1))
    return "\n".join([head, "", *text_table(rows, right)])


def _page(args: argparse.Namespace) -> int:
    try:
        from salessim.training.page import serve
    except ImportError as err:
        raise ValueError(f"the page needs Panel ({err.name} is missing): pip install "
                         "'salessim[training]'") from None
    serve(args.exercises, port=args.port, address=args.address, show=args.show,
          workers=args.workers, games_per_worker=args.games_per_worker,
          max_trainees=args.max_trainees, forget_after_s=args.forget_after)
    return EXIT_OK


def _at_least_one(text: str) -> int:
    """Argument type of the page's counts: a whole number from 1 up."""
    value = whole_number(text, "the count")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    """Argument type of the page's waits: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value
