"""Simulating settings on common random numbers, each replication once per session.

Every setting runs with the study's seed and replication indices from 0, so two
settings differ only where they really differ. A replication is a function of the
scenario, the seed and its index, so one already run (for the same scenario, found by
its hash) is read from memory instead of run again: the search proposing a setting
twice, the selection step re-running a leading trial and the baseline's own runs cost
nothing more. What is kept is each replication's KPIs, not its leads or events.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from salessim.replications import Replay, Replications
from salessim.results import Results, kpi_row
from salessim.runner import Job, StoreSpec, replicate
from salessim.scenario.schema import Scenario
from salessim.stats import DEFAULT_CONFIDENCE, mean_ci
from salessim.store import scenario_hash

Row = dict[str, float]
"""One replication's KPIs."""


@dataclass
class Evaluator:
    """Runs replications of scenarios on one executor and keeps their KPIs.

    Args:
        seed: The root seed of every replication.
        executor: The executor replications run on, None to run them here.
        store: A results store to read and write replications (see ``salessim.run``).
    """

    seed: int
    executor: Executor | None
    store: StoreSpec = None
    simulated_s: float = 0.0
    """Seconds spent running replications and working out their KPIs."""
    _rows: dict[str, dict[int, Row]] = field(default_factory=dict)
    _hashes: dict[int, tuple[Scenario, str]] = field(default_factory=dict)

    def rows(self, scenarios: Sequence[Scenario], replications: Sequence[Sequence[int]],
             label: str = "setting") -> list[list[Row]]:
        """The KPIs of the given replications of each scenario, running what is missing.

        Args:
            scenarios: The scenarios.
            replications: For each scenario, the replication indices wanted.
            label: What the scenarios are, named in the message of a replication that
                fails.
        """
        started = time.perf_counter()
        keys = [self._key(sc) for sc in scenarios]
        jobs = []
        for i, (sc, key, wanted) in enumerate(zip(scenarios, keys, replications, strict=True)):
            have = self._rows.setdefault(key, {})
            jobs += [Job(sc, self.seed, r, f"{label} {i}") for r in wanted if r not in have]
        if jobs:
            raws = replicate(jobs, executor=self.executor or "serial", store=self.store,
                             progress=False)
            for job, raw in zip(jobs, raws, strict=True):
                kpis = dict(raw.kpis) if isinstance(raw, Replay) else kpi_row(job.final, raw)
                self._rows[self._key(job.scenario)][job.replication] = kpis
        self.simulated_s += time.perf_counter() - started
        return [[self._rows[key][r] for r in wanted]
                for key, wanted in zip(keys, replications, strict=True)]

    def results(self, scenario: Scenario, replications: Sequence[int],
                confidence: float = DEFAULT_CONFIDENCE) -> Results:
        """A scenario's replications as ``Results`` (kept as KPIs, re-simulated if read)."""
        rows = self.rows([scenario], [replications])[0]
        replays = [Replay(scenario, self.seed, r, (), row)
                   for r, row in zip(replications, rows, strict=True)]
        return Results(scenario=scenario, seed=self.seed, raw=Replications(replays),
                       confidence=confidence)

    def _key(self, scenario: Scenario) -> str:
        # Keyed by identity, holding the scenario so that its id is not reused.
        known = self._hashes.get(id(scenario))
        if known is None:
            known = self._hashes[id(scenario)] = (scenario, scenario_hash(scenario))
        return known[1]


def means(rows: Sequence[Row]) -> dict[str, float]:
    """Each KPI's mean over replications (those with a value)."""
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {k: mean_ci([row.get(k, float("nan")) for row in rows]).mean for k in names}
