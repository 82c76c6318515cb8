"""Scoring an answer: the goal's conditions, the objective, and what changed against the baseline.

Every answer to an exercise runs with the exercise's seed and replications, and so does
the baseline (the scenario left untouched), so replication ``r`` of both sees the same
leads: differences are paired over replications, like ``salessim.compare``.

Lever costs count: they are added to ``cost`` (and ``cost_per_won``) and taken off
``profit``, so a lever has to pay for itself.

Points, out of 100: ``CONDITION_POINTS`` shared equally by the goal's conditions met;
and, once every condition is met, up to ``OBJECTIVE_POINTS`` in proportion to how far
the objective moved from the baseline's mean towards the exercise's ``excellent`` value
(nothing for no gain or a loss, all of them at ``excellent`` or beyond).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from salessim.executors import ExecutorSpec
from salessim.formatting import (
    HEADLINE_KPIS,
    fmt_interval,
    fmt_number,
    fmt_value,
    html_table,
    kpi_label,
    money,
)
from salessim.results import Results
from salessim.runner import run
from salessim.scenario.exercise_spec import Decision
from salessim.stats import paired_difference
from salessim.training.exercise import Exercise
from salessim.training.goal import Objective, Target
from salessim.training.levers import plan

CONDITION_POINTS = 50
"""Points for meeting every condition of the goal (shared equally between them)."""
OBJECTIVE_POINTS = 50
"""Points for reaching the excellent value of the objective, once the goal is met."""

TABLE_COLUMNS = ("baseline", "answer", "diff", "diff_ci_low", "diff_ci_high", "p_value")
"""Columns of ``Score.table``."""


@dataclass(frozen=True)
class Check:
    """One condition of the goal, checked.

    Attributes:
        target: The condition as written.
        value: The answer's mean of the KPI.
        baseline: The baseline's mean of the KPI.
        bound: The bound in the KPI's unit (a relative one worked out from the baseline).
        met: Whether the mean meets the bound.
        currency: The currency of money KPIs.
    """

    target: Target
    value: float
    baseline: float
    bound: float
    met: bool
    currency: str


@dataclass(frozen=True)
class Score:
    """How an answer did.

    Attributes:
        points: 0 to 100 (see the module): ``goal_points`` and ``objective_points``,
            rounded.
        met: Whether every condition of the goal holds.
        checks: Each condition, checked.
        objective: What is maximised or minimised.
        objective_value: The answer's mean of it (lever costs included).
        baseline_value: The baseline's mean of it.
        excellent_value: The value that earns full marks (the KPI's unit).
        objective_share: How far from the baseline (0) towards the excellent value (1)
            the answer got, clipped to [0, 1].
        goal_points: Points for the conditions met (``CONDITION_POINTS`` shared equally).
        objective_points: Points for the objective: ``OBJECTIVE_POINTS`` times
            ``objective_share`` once the goal is met, else 0.
        spent: Lever costs paid (currency).
        table: Per KPI: ``baseline`` and ``answer`` means, and the paired difference
            (answer minus baseline) with its 95 % interval and p-value.
        results: The answer's results (KPIs without lever costs; see ``kpis``).
        decisions: The answer's decisions, in order of day.
    """

    points: int
    met: bool
    checks: tuple[Check, ...]
    objective: Objective
    objective_value: float
    baseline_value: float
    excellent_value: float
    objective_share: float
    goal_points: float
    objective_points: float
    spent: float
    table: pd.DataFrame
    results: Results
    decisions: tuple[Decision, ...]

    @property
    def currency(self) -> str:
        """The currency of money KPIs and lever costs."""
        return self.results.scenario.money.currency

    def row(self, kpi: str) -> dict[str, float]:
        """A KPI's row of ``table``: column -> value."""
        return {column: float(self.table[column][kpi]) for column in TABLE_COLUMNS}

    def __repr__(self) -> str:
        met = "goal met" if self.met else "goal not met"
        kpi = self.objective.kpi
        return (f"<Score {self.points}/100: {met}; {kpi} "
                f"{fmt_value(kpi, self.objective_value, self.currency)} against "
                f"{fmt_value(kpi, self.baseline_value, self.currency)} for the baseline; "
                f"{_count(len(self.decisions), 'decision')}, lever costs "
                f"{money(self.spent, self.currency)}>")

    def _repr_html_(self) -> str:
        """The points and the goal's KPIs against the baseline, for a notebook."""
        kpis = dict.fromkeys([*(c.target.condition.kpi for c in self.checks),
                              self.objective.kpi, *HEADLINE_KPIS])
        rows = [(kpi_label(k, self.currency), *difference_cells(self, k))
                for k in kpis if k in self.table.index]
        caption = (f"Score {self.points}/100: {self.goal_points:.3g} of {CONDITION_POINTS} "
                   f"points for the goal, {self.objective_points:.3g} of {OBJECTIVE_POINTS} "
                   f"for the objective; lever costs {money(self.spent, self.currency)}")
        return html_table(("KPI", "baseline", "answer", "difference", "95% interval"), rows,
                          caption)


def difference_cells(score: Score, kpi: str) -> tuple[str, str, str, str]:
    """A KPI of a score as text: baseline, answer, difference and its interval."""
    row = score.row(kpi)
    return (fmt_number(kpi, row["baseline"]), fmt_number(kpi, row["answer"]),
            fmt_number(kpi, row["diff"], sign=True),
            fmt_interval(kpi, row["diff_ci_low"], row["diff_ci_high"], sign=True))


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def with_spend(kpis: pd.DataFrame, spent: float) -> pd.DataFrame:
    """KPIs per replication with lever costs counted in cost, cost per won and profit.

    Args:
        kpis: ``Results.kpis``.
        spent: Lever costs paid (currency).
    """
    out = kpis.copy()
    out["cost"] = out["cost"] + spent
    out["profit"] = out["profit"] - spent
    out["cost_per_won"] = out["cost"] / out["won"].where(out["won"] > 0)
    return out


def baseline(exercise: Exercise, *, executor: ExecutorSpec = None) -> Results:
    """The exercise's scenario left untouched, on the exercise's seed and replications.

    Args:
        exercise: The exercise.
        executor: Where the replications run (see ``salessim.run``).
    """
    spec = exercise.spec
    return run(exercise.scenario, replications=spec.replications, seed=spec.seed,
               executor=executor, progress=False)


def check_answer(exercise: Exercise, decisions: Sequence[Decision], source: str,
                 base: Results | None = None, *, executor: ExecutorSpec = None) -> Score:
    """Play an answer's decisions and score them.

    Args:
        exercise: The exercise.
        decisions: The answer's decisions.
        source: The answer (a file name), named in messages.
        base: ``baseline(exercise)`` if already run (scoring many answers).
        executor: Where the replications run (see ``salessim.run``).

    Raises:
        ScenarioError: If a decision is not allowed (see ``levers.plan``).
    """
    chosen = plan(exercise, decisions, source)
    spec = exercise.spec
    if base is None:
        base = baseline(exercise, executor=executor)
    if chosen.rounds or chosen.scenario != exercise.scenario:
        results = run(chosen.scenario, replications=spec.replications, seed=spec.seed,
                      timeline=chosen.rounds, executor=executor, progress=False)
    else:  # an answer that changes nothing is the baseline: same scenario, seed, count
        results = base
    return score_results(exercise, results, chosen.spent, base, chosen.decisions)


def score_results(exercise: Exercise, results: Results, spent: float, base: Results,
                  decisions: Sequence[Decision] = ()) -> Score:
    """Score finished results against the goal and the baseline.

    Args:
        exercise: The exercise.
        results: The answer's results, run to the end.
        spent: Lever costs paid (currency).
        base: ``baseline(exercise)``.
        decisions: The decisions that gave ``results``, in order of day.
    """
    table = difference_table(with_spend(results.kpis, spent), base.kpis)
    answer_means, base_means = table["answer"], table["baseline"]
    checks = []
    for target in exercise.targets:
        kpi = target.condition.kpi
        value, base_mean = float(answer_means[kpi]), float(base_means[kpi])
        checks.append(Check(target, value, base_mean, target.bound(base_mean),
                            target.holds(value, base_mean), exercise.currency))
    met = all(c.met for c in checks)
    objective = exercise.objective
    value = float(answer_means[objective.kpi])
    base_value = float(base_means[objective.kpi])
    share = objective.share(value, base_value)
    goal_points = CONDITION_POINTS * sum(c.met for c in checks) / len(checks)
    objective_points = OBJECTIVE_POINTS * share if met else 0.0
    return Score(points=round(goal_points + objective_points), met=met, checks=tuple(checks),
                 objective=objective, objective_value=value, baseline_value=base_value,
                 excellent_value=objective.excellent_value(base_value), objective_share=share,
                 goal_points=goal_points, objective_points=objective_points, spent=spent,
                 table=table, results=results, decisions=tuple(decisions))


def difference_table(answer: pd.DataFrame, untouched: pd.DataFrame) -> pd.DataFrame:
    """Per KPI of both: the means and the paired difference (``Score.table``).

    Args:
        answer: The answer's KPIs per replication, lever costs counted.
        untouched: The baseline's KPIs per replication, on the same seeds.
    """
    rows = []
    for kpi in [k for k in untouched.columns if k in answer.columns]:
        d = paired_difference(answer[kpi], untouched[kpi])
        rows.append({"kpi": kpi, "baseline": float(untouched[kpi].mean()),
                     "answer": float(answer[kpi].mean()), "diff": d.mean,
                     "diff_ci_low": d.low, "diff_ci_high": d.high, "p_value": d.p_value})
    return pd.DataFrame(rows).set_index("kpi")[list(TABLE_COLUMNS)]
