"""What a trainee reads: the brief before the game, the debrief after it.

Plain text shared by the command line and the page: the levers with their bounds and
costs, the goal, and after scoring the verdict, each condition, what the decisions did
to each KPI against the untouched baseline (paired differences with intervals), and
the trainer's debrief.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from salessim.formatting import fmt_change, fmt_interval, fmt_value, kpi_words
from salessim.formatting import money as amount
from salessim.kpis import better
from salessim.scenario.exercise_spec import Decision, Lever
from salessim.training.exercise import Exercise
from salessim.training.levers import cost_of
from salessim.training.scoring import (
    CONDITION_POINTS,
    OBJECTIVE_POINTS,
    Check,
    Score,
    difference_cells,
)


def lever_terms(exercise: Exercise, lever: Lever) -> str:
    """What a lever takes and what it costs: ``2 to 4, now 2; 12.0k EUR per unit moved``.

    Money in k and M as everywhere else (the page, the debrief, the report).
    """
    money = exercise.currency
    start = exercise.start[lever.name]
    if lever.options is None:
        assert lever.min is not None and lever.max is not None
        takes = f"{lever.min:g} to {lever.max:g}, {start} at the start"
        cost = (f"{amount(lever.cost_per_unit, money)} per unit moved"
                if lever.cost_per_unit else "free")
    else:
        takes = " | ".join(f"{name}{' (at the start)' if name == start else ''}"
                           for name in lever.options)
        priced = [f"{name} {amount(o.cost, money)}" for name, o in lever.options.items()
                  if o.cost]
        cost = ", ".join(priced) if priced else "free"
    when = "; only at the start" if lever.only_at_start else ""
    return f"{takes}; {cost}{when}"


def lever_line(exercise: Exercise, lever: Lever) -> str:
    """``name: label; what it takes; what it costs``."""
    return f"{lever.name}: {lever.label}; {lever_terms(exercise, lever)}"


def goal_lines(exercise: Exercise, baseline: pd.Series | None = None) -> list[str]:
    """The goal in words: each condition, what is scored beyond them, how points are shared.

    Args:
        exercise: The exercise.
        baseline: The baseline's KPI means (by KPI), when known: the goal's numbers are
            then worked out (``≤ 41.2 working days``).
    """
    def base(kpi: str) -> float | None:
        return None if baseline is None else float(baseline[kpi])

    money = exercise.currency
    objective = exercise.objective
    return [*(f"- {t.words(base(t.condition.kpi), money)}" for t in exercise.targets),
            f"- Then: {objective.words(base(objective.kpi), money)}", "",
            f"The baseline is this year left untouched, on the same leads. The conditions "
            f"share {CONDITION_POINTS} points; the objective earns up to {OBJECTIVE_POINTS} "
            "more once every condition is met."]


def brief_text(exercise: Exercise) -> str:
    """The exercise as the trainee meets it: brief, goal, budget, rounds and levers."""
    spec = exercise.spec
    lines = [f"{spec.title} (level {spec.level} of 5)", "", spec.brief.strip(), "",
             "Goal:", *goal_lines(exercise), "",
             f"Budget for levers: {amount(spec.budget, exercise.currency)}. "
             f"{len(exercise.round_starts)} rounds of {spec.round_days:g} working days; "
             f"decisions on day {', '.join(f'{d:g}' for d in run_days(exercise))} of the "
             f"run, as the charts count. {clock_note(exercise)}",
             "", "Levers:", *(f"- {lever_line(exercise, lever)}" for lever in exercise.levers)]
    return "\n".join(lines)


def summary(exercise: Exercise, score: Score) -> str:
    """``goal met; profit 878k EUR (baseline 712k EUR, full marks 1.07M EUR); lever costs ...``."""
    kpi, money = score.objective.kpi, exercise.currency
    met = "goal met" if score.met else "goal not met"
    return (f"{met}; {kpi_words(kpi).lower()} {fmt_value(kpi, score.objective_value, money)} "
            f"(baseline {fmt_value(kpi, score.baseline_value, money)}, full marks "
            f"{fmt_value(kpi, score.excellent_value, money)}); lever costs "
            f"{fmt_value('cost', score.spent, money)}")


def verdict(exercise: Exercise, score: Score) -> str:
    """``Score 78/100: `` and the summary."""
    return f"Score {score.points}/100: {summary(exercise, score)}"


def check_line(check: Check) -> str:
    """``met: Cycle time, mean: at most 90% of the baseline's, i.e. ≤ 68.2 working days; ...``.

    The condition in words with its number, then the answer's mean and the baseline's.
    """
    kpi, money = check.target.condition.kpi, check.currency
    return (f"{'met' if check.met else 'not met'}: {check.target.words(check.baseline, money)}"
            f"; yours {fmt_value(kpi, check.value, money)}, the baseline's "
            f"{fmt_value(kpi, check.baseline, money)}")


def points_lines(exercise: Exercise, score: Score) -> list[str]:
    """How the points were worked out: the goal's conditions, the objective, lever costs."""
    met = sum(c.met for c in score.checks)
    kpi, money = score.objective.kpi, exercise.currency
    value, base = (fmt_value(kpi, v, money) for v in (score.objective_value,
                                                      score.baseline_value))
    excellent = fmt_value(kpi, score.excellent_value, money)
    points = f"{kpi_words(kpi)}: {score.objective_points:.3g} of {OBJECTIVE_POINTS} points"
    if not score.met:
        reading = (f"{points}: the objective counts only once every condition is met "
                   f"(yours {value}, the baseline's {base}).")
    elif score.objective_share <= 0:
        reading = f"{points}: yours, {value}, is no better than the baseline's {base}."
    elif score.objective_share >= 1:
        reading = f"{points}: yours, {value}, reaches full marks ({excellent})."
    else:
        reading = (f"{points}: yours is {value}, against {base} for the baseline and "
                   f"{excellent} for full marks: {score.objective_share:.0%} of the way.")
    return [f"Goal {'met' if score.met else 'not met'}: {score.goal_points:.3g} of "
            f"{CONDITION_POINTS} points. The conditions share them equally; {met} of "
            f"{len(score.checks)} met:",
            *(f"- {check_line(c)}" for c in score.checks), "", reading, "",
            f"Lever costs: {fmt_value('cost', score.spent, money)} of the budget of "
            f"{fmt_value('cost', exercise.spec.budget, money)}, counted in cost and profit."]


def decision_words(exercise: Exercise, decisions: Sequence[Decision]) -> list[str]:
    """Each decision as a trainee says it: ``Contract counsels from 1 to 2, at the start``.

    Args:
        exercise: The exercise.
        decisions: The decisions, in order of day.
    """
    values = dict(exercise.start)
    said = []
    for d in decisions:
        lever = exercise.lever(d.lever)
        old, values[d.lever] = values[d.lever], d.value
        starts = exercise.round_starts
        when = ("at the start" if d.day == 0 else
                f"before round {starts.index(d.day) + 1}" if d.day in starts else
                f"on day {exercise.takeover_day + d.day:g} of the run")
        cost = cost_of(lever, old, d.value)
        paid = f" ({fmt_value('cost', cost, exercise.currency)})" if cost else ""
        said.append(f"{lever.label} from {_show(old)} to {_show(d.value)}, {when}{paid}")
    return said


def effect_lines(exercise: Exercise, score: Score) -> list[str]:
    """What the decisions did, in words: the paired differences of the goal's KPIs.

    The verdict follows the objective's difference and its interval: clearly better
    (the decisions helped), clearly worse (they did harm), or within chance (no clear
    difference); with no decision, nothing changed at all.
    """
    n = score.results.replications
    head = ("What your decisions did, against the untouched year on the same leads (95% "
            f"paired intervals over {n} replications):")
    if not score.decisions:
        return [head, "", "You changed nothing, so your game is the baseline's year on the "
                          "same leads: every difference is zero."]
    kpi = score.objective.kpi
    verdicts = {"better": "Your decisions helped: {} is clearly better than the baseline's.",
                "worse": "Your decisions did harm: {} is clearly worse than the baseline's.",
                "": ("Your decisions made no clear difference to {}: what changed is within "
                     f"what chance moves over {n} replications.")}
    goal = dict.fromkeys([kpi, *(c.target.condition.kpi for c in score.checks)])
    lines = [head, "", f"You set {'; '.join(decision_words(exercise, score.decisions))}.",
             verdicts[_change(score, kpi)].format(kpi_words(kpi).lower()), "",
             *(f"- {_difference_words(score, k)}" for k in goal)]
    moved = [k for k in map(str, score.table.index) if k not in goal and _change(score, k)]
    if moved:
        lines.append("- Other KPIs that moved clearly: " + "; ".join(
            _difference_words(score, k, interval=False) for k in moved))
    return lines


def _change(score: Score, kpi: str) -> str:
    """How a KPI moved, if its interval leaves out zero; ``""`` if it does not.

    ``better`` or ``worse``, or ``higher`` or ``lower`` for a KPI with no better
    direction (utilisation).
    """
    row = score.row(kpi)
    low, high = row["diff_ci_low"], row["diff_ci_high"]
    if not (math.isfinite(low) and math.isfinite(high)) or low <= 0 <= high:
        return ""
    way = better(kpi)
    if way is None:
        return "higher" if low > 0 else "lower"
    return "better" if (low > 0) == (way == "higher") else "worse"


def _difference_words(score: Score, kpi: str, interval: bool = True) -> str:
    """``Cycle time, mean -10.2 working days (-17.7 .. -2.72): clearly better``."""
    row, change = score.row(kpi), _change(score, kpi)
    text = f"{kpi_words(kpi)} {fmt_change(kpi, row['diff'], score.currency)}"
    if not interval:
        return f"{text} ({change})" if change in ("better", "worse") else text
    text += f" ({fmt_interval(kpi, row['diff_ci_low'], row['diff_ci_high'], sign=True)})"
    return text + (f": clearly {change}" if change else ": no clear change")


def outcome(exercise: Exercise, score: Score) -> str:
    """The reading of a score: how its points were worked out and what the decisions did.

    Lines of plain text; lines that start with ``- `` are items of a list, and an empty
    line ends a paragraph, so that a front may show it as Markdown.
    """
    return "\n".join([*points_lines(exercise, score), "", *effect_lines(exercise, score)])


def kpi_rows(score: Score) -> list[tuple[str, str, str, str]]:
    """Per KPI: name, baseline mean, answer mean, difference with its 95 % interval.

    Numbers without units (the KPI's label carries them): counts whole, money in k
    and M, shares in % and their differences in points.
    """
    rows = []
    for kpi in score.table.index:
        name = str(kpi)
        base, answer, diff, interval = difference_cells(score, name)
        rows.append((name, base, answer, f"{diff} ({interval})" if interval != "-" else diff))
    return rows


def decision_line(exercise: Exercise, decision: Decision) -> str:
    """``day 20 of the run (answer file: day 0): Contract counsels: 3 (lever legal)``.

    Both clocks are named: the run's, as the charts and the page count, and the answer
    file's, days after the takeover, where the trainee looks the decision up.
    """
    lever = exercise.lever(decision.lever)
    return (f"day {exercise.takeover_day + decision.day:g} of the run (answer file: day "
            f"{decision.day:g}): {lever.label}: {_show(decision.value)} "
            f"(lever {decision.lever})")


def run_days(exercise: Exercise) -> list[float]:
    """The rounds' first days on the charts' clock: working days from the start of the run."""
    return [exercise.takeover_day + d for d in exercise.round_starts]


def clock_note(exercise: Exercise) -> str:
    """How an answer file's days relate to the run's, said once wherever both appear."""
    return (f"An answer file counts days from the takeover: its day 0 is day "
            f"{exercise.takeover_day:g} of the run, the end of the warm-up.")


def _show(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def debrief_text(exercise: Exercise, score: Score, decisions: Sequence[Decision],
                 table: Sequence[str]) -> str:
    """The whole debrief of one answer.

    Args:
        exercise: The exercise.
        score: The answer's score.
        decisions: The answer's decisions, in order of day.
        table: The KPI table already laid out as lines (the front chooses the layout).
    """
    spec = exercise.spec
    lines = [f"{spec.title}: {spec.replications} replications, seed {spec.seed}, "
             f"money in {exercise.currency}", "", f"Score {score.points}/100", "",
             *points_lines(exercise, score), "", "Decisions:",
             *([f"  {decision_line(exercise, d)}" for d in decisions] or ["  none"]),
             *([f"  ({clock_note(exercise)})"] if decisions else []), "",
             *effect_lines(exercise, score), "", "Every KPI (lever costs counted in cost "
             "and profit):", "", *table, "", "Debrief:", "", spec.debrief.strip()]
    return "\n".join(lines)
