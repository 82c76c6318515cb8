"""What a trainee reads: the brief before the game, the debrief after it.

Plain text shared by the command line and the page: the levers with their bounds and
costs, the goal, and after scoring the verdict, each condition, what the decisions did
to each KPI against the untouched baseline (paired differences with intervals), and
the trainer's debrief.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from salessim.formatting import fmt, fmt_diff
from salessim.scenario.exercise_spec import Decision, Lever
from salessim.training.exercise import Exercise
from salessim.training.scoring import Check, Score


def lever_terms(exercise: Exercise, lever: Lever) -> str:
    """What a lever takes and what it costs: ``2 to 4, now 2; 12,000 EUR per unit moved``."""
    money = exercise.currency
    start = exercise.start[lever.name]
    if lever.options is None:
        assert lever.min is not None and lever.max is not None
        takes = f"{lever.min:g} to {lever.max:g}, {start} at the start"
        cost = (f"{fmt('cost', lever.cost_per_unit)} {money} per unit moved"
                if lever.cost_per_unit else "free")
    else:
        takes = " | ".join(f"{name}{' (at the start)' if name == start else ''}"
                           for name in lever.options)
        priced = [f"{name} {fmt('cost', o.cost)} {money}" for name, o in lever.options.items()
                  if o.cost]
        cost = ", ".join(priced) if priced else "free"
    when = "; only at the start" if lever.only_at_start else ""
    return f"{takes}; {cost}{when}"


def lever_line(exercise: Exercise, lever: Lever) -> str:
    """``name: label; what it takes; what it costs``."""
    return f"{lever.name}: {lever.label}; {lever_terms(exercise, lever)}"


def goal_lines(exercise: Exercise) -> list[str]:
    """The goal: each condition, then what is maximised or minimised."""
    goal = exercise.spec.goal
    verb = "maximise" if goal.maximise else "minimise"
    return [*(f"- {t.text}" for t in exercise.targets),
            f"- then {verb} {exercise.objective.kpi} (full marks at {goal.excellent})"]


def brief_text(exercise: Exercise) -> str:
    """The exercise as the trainee meets it: brief, goal, budget, rounds and levers."""
    spec = exercise.spec
    lines = [f"{spec.title} (level {spec.level} of 5)", "", spec.brief.strip(), "",
             "Goal:", *goal_lines(exercise), "",
             f"Budget for levers: {fmt('cost', spec.budget)} {exercise.currency}. "
             f"{len(exercise.round_starts)} rounds of {spec.round_days:g} working days; "
             f"decisions on day {', '.join(f'{d:g}' for d in exercise.round_starts)}.",
             "", "Levers:", *(f"- {lever_line(exercise, lever)}" for lever in exercise.levers)]
    return "\n".join(lines)


def outcome(exercise: Exercise, score: Score) -> str:
    """``goal met; profit 9,012,345 EUR (baseline ..., excellent ...); lever costs ...``."""
    kpi = score.objective.kpi
    money = f" {exercise.currency}" if _money(kpi) else ""
    met = "goal met" if score.met else "goal not met"
    return (f"{met}; {kpi} {fmt(kpi, score.objective_value)}{money} "
            f"(baseline {fmt(kpi, score.baseline_value)}, excellent "
            f"{fmt(kpi, score.excellent_value)}); lever costs {fmt('cost', score.spent)} "
            f"{exercise.currency}")


def verdict(exercise: Exercise, score: Score) -> str:
    """``Score 78/100: `` and the outcome."""
    return f"Score {score.points}/100: {outcome(exercise, score)}"


def check_line(check: Check) -> str:
    """``met  cycle_time_p90_days <= 85% of baseline: 47.3 (bound 48.1)``."""
    kpi = check.target.condition.kpi
    return (f"{'met    ' if check.met else 'not met'}  {check.target.text}: "
            f"{fmt(kpi, check.value)} (bound {fmt(kpi, check.bound)})")


def kpi_rows(score: Score) -> list[tuple[str, str, str, str]]:
    """Per KPI: name, baseline mean, answer mean, difference with its 95 % interval."""
    rows = []
    for kpi, row in score.table.iterrows():
        name = str(kpi)
        diff = fmt_diff(name, row["diff"])
        if math.isfinite(row["diff_ci_low"]) and row["diff_ci_low"] != row["diff_ci_high"]:
            diff += (f" ({fmt_diff(name, row['diff_ci_low'])} .. "
                     f"{fmt_diff(name, row['diff_ci_high'])})")
        rows.append((name, fmt(name, row["baseline"]), fmt(name, row["answer"]), diff))
    return rows


def decision_line(exercise: Exercise, decision: Decision) -> str:
    """``day 0: legal = 3 (Contract counsels)``."""
    lever = exercise.lever(decision.lever)
    value = f"{decision.value:g}" if isinstance(decision.value, float) else decision.value
    return f"day {decision.day:g}: {decision.lever} = {value} ({lever.label})"


def _money(kpi: str) -> bool:
    return kpi in ("revenue", "collected", "cost", "cost_per_won", "profit")


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
             f"money in {exercise.currency}", "", verdict(exercise, score), "", "Goal:",
             *(f"  {check_line(c)}" for c in score.checks), "", "Decisions:",
             *([f"  {decision_line(exercise, d)}" for d in decisions] or ["  none"]), "",
             "What the decisions did, against the untouched scenario on the same seeds "
             "(lever costs counted in cost and profit; 95% paired intervals):", "", *table,
             "", "Debrief:", "", spec.debrief.strip()]
    return "\n".join(lines)
