"""A scenario played in rounds: run a period, look, change, run on from the same state.

``Sandbox`` holds a few replications of one scenario in memory, all on the same clock.
``play`` runs them for a period (a week is 5 working days, a month about 21, a quarter
about 62) or up to a day; ``pipeline``, ``pools`` and ``results`` show the state;
``change`` applies new values (the same key paths as ``Scenario.with_changes``) from
today on, to every replication; the run continues where it stopped, not from scratch.
Replication ``r`` depends only on the scenario, the seed, ``r`` and the changes with
their days, so the same decisions on the same days give the same outcome, and
``salessim.run(scenario, timeline=[(day, changes), ...])`` gives the same numbers
without holding the run in memory.

What may change during a run is listed in ``salessim.model.changes``: headcounts and
hiring plans, assignment and dispatch, efforts and delays, conversions, handoffs...;
the calendar, channels, stages and team coverage are fixed once the run starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salessim.model.process import Replication
from salessim.results import Results
from salessim.runner import DEFAULT_REPLICATIONS, check_replications, check_seed
from salessim.scenario import Scenario, load_scenario
from salessim.scenario.loader import ScenarioSource


@dataclass(frozen=True)
class Change:
    """A change made during a run.

    Attributes:
        day: Simulation day it took effect (days).
        changes: Key path -> new value, as given.
    """

    day: float
    changes: Mapping[str, Any]


class Sandbox:
    """A scenario run in rounds, with changes between them.

    Args:
        scenario: The scenario at the start (a Scenario, a file path, YAML text or a
            document).
        replications: Replications played side by side (the state and KPIs are their
            means).
        seed: Root seed (None draws one; see ``seed``).

    Attributes:
        scenario: The scenario as changed so far.
        seed: Root seed.
        history: The changes made, in order.
    """

    def __init__(self, scenario: ScenarioSource, *, replications: int = DEFAULT_REPLICATIONS,
                 seed: int | None = None) -> None:
        check_replications(replications)
        self.seed = check_seed(seed)
        self.scenario = scenario = load_scenario(scenario)
        self.history: list[Change] = []
        self._runs = [Replication(scenario, self.seed, r) for r in range(replications)]
        for run in self._runs:
            run.start()
        self._day = 0.0

    @property
    def day(self) -> float:
        """Today: the day played up to (days); a replication may have ended before it."""
        return self._day

    @property
    def finished(self) -> bool:
        """Whether every replication has run to its end."""
        return all(run.finished for run in self._runs)

    @property
    def end_day(self) -> float:
        """The last day a run can reach: the horizon plus the drain limit (days)."""
        cal = self.scenario.calendar
        return cal.horizon_days + cal.drain_limit_days

    def play(self, days: float | None = None, *, until: float | None = None) -> None:
        """Run every replication ``days`` further, or up to the day ``until`` (or to its end).

        Args:
            days: How long to play from today (days).
            until: The day to play up to (days from the start of the run).

        Raises:
            ValueError: Unless exactly one of ``days`` and ``until`` is given, or for a
                round that does not move forward.
        """
        if (days is None) == (until is None):
            raise ValueError("give days (how long to play) or until (the day to play to), "
                             "not both and not neither")
        if days is not None:
            if not days > 0:
                raise ValueError(f"a round must last a positive number of days, got {days}")
            until = self.day + days
        assert until is not None
        if until != until or until < self.day:
            raise ValueError(f"until must be a day from today ({self.day:g}) on, got {until}")
        for run in self._runs:
            run.advance(until)
        self._day = max(self._day, min(until, max(run.now for run in self._runs)))

    def finish(self) -> Results:
        """Run to the end and return the results."""
        self.play(until=np.inf)
        return self.results()

    def change(self, changes: Mapping[str, Any]) -> Scenario:
        """Apply new values from today on, in every replication.

        Args:
            changes: Key path -> value, e.g. ``{"teams.solutions.se.headcount": 8,
                "roles.ae.assignment": "pooled"}``.

        Returns:
            The scenario as changed.

        Raises:
            ScenarioError: If a path or value is not valid, or names something fixed
                during a run; nothing is changed then.
        """
        source = f"<change on day {self.day:g}>"
        changed = self.scenario.with_changes(changes, source=source)
        for run in self._runs:
            run.apply(changed, source=source)
        self.scenario = changed
        self.history.append(Change(self.day, dict(changes)))
        return changed

    def results(self) -> Results:
        """The results so far: leads still in progress are open; costs run to today."""
        return Results(scenario=self.scenario, seed=self.seed,
                       raw=tuple(run.collect() for run in self._runs))

    def pipeline(self) -> pd.DataFrame:
        """Open leads by stage (rows) and where they are in it (columns), mean over runs."""
        states = [run.pipeline() for run in self._runs]
        mean = np.mean([s["leads"] for s in states], axis=0)
        return pd.DataFrame(mean, index=pd.Index(states[0]["stages"], name="stage"),
                            columns=states[0]["phases"])

    def pools(self) -> pd.DataFrame:
        """Per team and role now: reps, busy reps and tasks waiting, mean over runs."""
        rows: list[dict[str, Any]] = [p for run in self._runs for p in run.pipeline()["pools"]]
        return pd.DataFrame(rows).groupby(["team", "role"], sort=False).mean()
