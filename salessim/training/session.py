"""A trainee's game: decide, play a round, look at the state, decide again.

``Session`` wraps ``salessim.sandbox.Sandbox``: the exercise's scenario runs, with the
exercise's seed and replications, up to the end of its warm-up, where the trainee takes
over. Before each round the trainee sets levers (``decide``; values can be revised until
the round is played); ``play`` applies them from that day on and runs one round, the run
going on from where it stopped. The last round also runs the drain, after which the
answer can be scored. The decisions are an answer (``answer``): ``salessim exercise
check`` on them gives the same numbers, since the same decisions on the same days give
the same outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salessim.formatting import money
from salessim.results import Results, kpi_html
from salessim.sandbox import Sandbox
from salessim.scenario.errors import Problem, ScenarioError
from salessim.scenario.exercise_spec import Decision
from salessim.scenario.schema import Scenario
from salessim.scenario.yaml12 import dump_yaml
from salessim.training.exercise import Exercise, LeverValue
from salessim.training.levers import (
    changes_for,
    check_day,
    check_value,
    cost_of,
    over_budget,
    start_scenario,
)
from salessim.training.scoring import Score, score_results, with_spend


class Session:
    """One trainee playing one exercise in rounds.

    Args:
        exercise: The exercise.

    Attributes:
        exercise: The exercise.
        spent: Lever costs paid in the rounds played so far (currency).
    """

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.spent = 0.0
        self._in_force: dict[str, LeverValue] = dict(exercise.start)
        self._pending: dict[str, LeverValue] = {}
        self._decisions: list[Decision] = []
        self._round = 0
        self._final: Results | None = None
        self._sandbox = self._start(exercise.scenario)

    def _start(self, scenario: Scenario) -> Sandbox:
        sandbox = Sandbox(scenario, replications=self.exercise.spec.replications,
                          seed=self.exercise.spec.seed)
        sandbox.play(until=self.exercise.takeover_day)
        return sandbox

    # ---- where the game is -------------------------------------------------------

    @property
    def rounds(self) -> int:
        """Rounds in the exercise."""
        return len(self.exercise.round_starts)

    @property
    def round(self) -> int:
        """Rounds played so far."""
        return self._round

    @property
    def day(self) -> float:
        """Days since the trainee took over (the first day of the next round)."""
        starts = self.exercise.round_starts
        return starts[self._round] if self._round < len(starts) else self.exercise.year_days

    @property
    def finished(self) -> bool:
        """Whether every round is played and the open deals have run to their end."""
        return self._final is not None

    @property
    def values(self) -> dict[str, LeverValue]:
        """Each lever's value for the next round: in force, or as just decided."""
        return {**self._in_force, **self._pending}

    @property
    def pending_cost(self) -> float:
        """What the values decided for the next round cost (currency)."""
        return sum(cost_of(self.exercise.lever(name), self._in_force[name], value)
                   for name, value in self._pending.items())

    @property
    def budget_left(self) -> float:
        """Budget not yet spent or committed for the next round (currency)."""
        return self.exercise.spec.budget - self.spent - self.pending_cost

    # ---- deciding and playing ------------------------------------------------------

    def decide(self, values: Mapping[str, Any]) -> None:
        """Set levers for the next round (and on); earlier values for today are replaced.

        Nothing changes if any value is refused.

        Args:
            values: Lever name -> value (a number, or an option's name).

        Raises:
            ScenarioError: One problem per refused value, naming the lever and what it
                allows; or the budget, if the values together cost more than is left.
            ValueError: If the game is over.
        """
        if self._round >= self.rounds:
            raise ValueError("every round is played; the game is over")
        self._pending = check_decisions(self.exercise, self._in_force, self.spent, self.day,
                                        {**self._pending, **values})

    def play(self) -> None:
        """Apply the values decided and play one round; the last round runs to the end.

        Raises:
            ValueError: If the game is over.
        """
        if self._round >= self.rounds:
            raise ValueError("every round is played; the game is over")
        day = self.day
        levers = {name: self.exercise.lever(name) for name in self._pending}
        at_start = {n: v for n, v in self._pending.items() if levers[n].only_at_start}
        if at_start:
            self._sandbox = self._start(start_scenario(self.exercise, at_start))
        changes: dict[str, Any] = {}
        for name, value in self._pending.items():
            if not levers[name].only_at_start:
                changes.update(changes_for(levers[name], value))
            self._decisions.append(Decision(day=day, lever=name, value=value))
        if changes:
            self._sandbox.change(changes)
        self.spent += self.pending_cost
        self._in_force.update(self._pending)
        self._pending = {}
        self._round += 1
        if self._round < self.rounds:
            self._sandbox.play(until=self.exercise.takeover_day + self.day)
        else:
            self._final = self._sandbox.finish()

    # ---- what the trainee sees -------------------------------------------------------

    def pipeline(self) -> pd.DataFrame:
        """Open leads by stage and where they are in it, now (mean over replications)."""
        return self._sandbox.pipeline()

    def pools(self) -> pd.DataFrame:
        """Reps, busy reps and tasks waiting per team and role, now (mean over replications)."""
        return self._sandbox.pools()

    def results(self) -> Results:
        """Results so far, or at the end when finished.

        So far, leads that have arrived count (those in progress as open), with their
        channel cost; leads still to come count nowhere.
        """
        if self._final is not None:
            return self._final
        return self._sandbox.results()

    def kpis(self) -> pd.Series:
        """KPI means so far, lever costs counted in cost, cost per won and profit."""
        return with_spend(self.results().kpis, self.spent).mean()

    def score(self, base: Results) -> Score:
        """The score of the game played.

        Args:
            base: ``salessim.training.baseline(exercise)``.

        Raises:
            ValueError: If rounds are left to play.
        """
        if self._final is None:
            raise ValueError(f"{self.rounds - self._round} rounds are left to play; the score "
                             "comes at the end")
        return score_results(self.exercise, self._final, self.spent, base, self._decisions)

    def __repr__(self) -> str:
        where = ("finished" if self.finished else
                 f"round {self._round + 1} of {self.rounds}, day {self.day:g}")
        decisions = len(self._decisions)
        return (f"<Session of {self.exercise.title!r}: {where}; {decisions} "
                f"decision{'' if decisions == 1 else 's'}, budget left "
                f"{money(self.budget_left, self.exercise.currency)}>")

    def _repr_html_(self) -> str:
        """The headline KPIs so far with their intervals, for a notebook."""
        where = ("every round played" if self.finished else
                 f"before round {self._round + 1} of {self.rounds}")
        return kpi_html(with_spend(self.results().kpis, self.spent), self.exercise.currency,
                        f"{self.exercise.title}: {where}, lever costs counted")

    def answer(self, trainee: str = "") -> str:
        """The decisions made, as the YAML text of an answer file."""
        decisions = [{"day": d.day, "lever": d.lever, "value": d.value} for d in self._decisions]
        return dump_yaml({"trainee": trainee, "decisions": decisions})


def check_decisions(exercise: Exercise, in_force: Mapping[str, LeverValue], spent: float,
                    day: float, values: Mapping[str, Any]) -> dict[str, LeverValue]:
    """Levers' values for a round, checked as ``Session.decide`` checks them.

    The page checks a trainee's values with this as they are typed, before a round is
    asked for.

    Args:
        exercise: The exercise.
        in_force: Each lever's value in force.
        spent: Lever costs paid so far (currency).
        day: The round's first day (days since the takeover).
        values: Lever name -> value (a number, or an option's name).

    Returns:
        The values that differ from those in force: the round's decisions.

    Raises:
        ScenarioError: One problem per refused value, naming the lever and what it
            allows; or the budget, if the values together cost more than is left.
    """
    pending: dict[str, LeverValue] = {}
    problems: list[Problem] = []
    for name, raw in values.items():
        try:
            lever = exercise.lever(name)
            value = check_value(exercise, lever, raw)
            if value == in_force[name]:  # not a decision: the day does not matter
                continue
            check_day(exercise, lever, day)
        except ValueError as err:
            problems.append(Problem(str(name), str(err)))
            continue
        pending[name] = value
    source = f"day {day:g}"
    if problems:
        raise ScenarioError(source, problems)
    for name, value in pending.items():
        lever = exercise.lever(name)
        cost = cost_of(lever, in_force[name], value)
        if spent + cost > exercise.spec.budget + 1e-9:
            raise ScenarioError(source, [Problem(name, over_budget(
                exercise, lever, value, cost, spent))])
        spent += cost
    return pending


@dataclass(frozen=True)
class Reference:
    """The exercise left untouched, played as a game without a decision.

    Attributes:
        so_far: KPI means at the start of each round (``so_far[0]`` at the takeover),
            as ``Session.kpis`` gives them: what a trainee's KPIs so far compare with.
        baseline: KPI means of the whole run: the means of
            ``salessim.training.baseline(exercise)``, which the goal's bounds are
            worked out from.
        results: The whole run, replication by replication: what
            ``salessim.training.baseline(exercise)`` gives, which scores a game.
    """

    so_far: tuple[pd.Series, ...]
    baseline: pd.Series
    results: Results


def reference(exercise: Exercise) -> Reference:
    """Play the exercise round by round without a decision, to its end.

    Args:
        exercise: The exercise.
    """
    game = Session(exercise)
    so_far = []
    while not game.finished:
        so_far.append(game.kpis())
        game.play()
    return Reference(tuple(so_far), game.kpis(), game.results())
