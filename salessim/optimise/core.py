"""``optimise``: search lever settings on common random numbers, then select with confidence.

1. Check everything (levers, objectives, constraints, budget) before any run.
2. Search: Optuna proposes settings in batches (``salessim.optimise.search``); a setting
   over the budget is skipped without being simulated and without counting as a trial;
   each batch's replications run together on the chosen executor.
3. Select: the best few feasible settings are re-run, one replication at a time, until
   Kim and Nelson's procedure (``salessim.optimise.selection``) has one left; if that
   one misses a constraint on its final replications, the others are chosen among.
4. Compare the recommendation with the baseline (paired intervals of every KPI) and
   move each lever one step around it (sensitivity).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import optuna
import pandas as pd

from salessim.executors import ExecutorSpec, open_executor
from salessim.optimise.evaluate import Evaluator, means
from salessim.optimise.levers import Lever, LeversSource, contains, parse_levers, value_at
from salessim.optimise.result import Optimisation
from salessim.optimise.search import (
    MAX_OVER_BUDGET,
    Proposer,
    Record,
    Space,
    StorageSpec,
    load_records,
    open_storage,
    study_name,
)
from salessim.optimise.select import recommend, sensitivity
from salessim.optimise.spec import (
    check_budget,
    costs,
    over_budget,
    parse_budget,
    parse_constraints,
    parse_objectives,
)
from salessim.progress import progress_bar
from salessim.results import kpi_names
from salessim.runner import StoreSpec, check_replications, check_seed
from salessim.scenario import ScenarioError, load_scenario
from salessim.scenario.errors import Problem
from salessim.scenario.loader import ScenarioSource
from salessim.scenario.schema import Scenario
from salessim.stats import DEFAULT_CONFIDENCE
from salessim.store import scenario_hash

DEFAULT_TRIALS = 300
DEFAULT_SEARCH_REPLICATIONS = 5
"""Replications per trial: few, because the selection step re-runs the leaders."""
MAX_TRIALS = 100_000


@dataclass(frozen=True)
class Settings:
    """How the study runs, checked before anything runs.

    Attributes:
        trials: Trials to simulate (settings over the budget not counted).
        replications: Replications per trial.
        batch: Trials proposed together and simulated together.
        candidates: Leading settings re-run in the selection step.
        first_stage: Replications of each candidate before the selection drops any.
        indifference: Differences of the objective that do not matter, or None.
        confidence: Probability of a correct selection, and of the intervals.
        max_replications: Most replications of a candidate in the selection step.
    """

    trials: int
    replications: int
    batch: int
    candidates: int
    first_stage: int
    indifference: float | None
    confidence: float
    max_replications: int

    def check(self) -> None:
        """A ValueError for the first count or level that is not usable."""
        check_replications(self.replications)
        for name, value, low in (("trials", self.trials, 1), ("batch", self.batch, 1),
                                 ("candidates", self.candidates, 1),
                                 ("first_stage", self.first_stage, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or not (
                    low <= value <= MAX_TRIALS):
                raise ValueError(f"{name} must be a whole number from {low} to "
                                 f"{MAX_TRIALS:,}, got {value!r}")
        if not self.first_stage <= self.max_replications:
            raise ValueError(f"max_replications ({self.max_replications}) must be at least "
                             f"first_stage ({self.first_stage})")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {self.confidence!r}")
        if self.indifference is not None and not self.indifference > 0:
            raise ValueError("indifference must be above 0 (in the objective's unit), got "
                             f"{self.indifference!r}")


def optimise(
    scenario: ScenarioSource,
    levers: LeversSource,
    *,
    objective: str | Sequence[str],
    constraints: str | Sequence[str] = (),
    budget: Mapping[str, float] | None = None,
    trials: int = DEFAULT_TRIALS,
    replications: int = DEFAULT_SEARCH_REPLICATIONS,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    storage: StorageSpec = None,
    batch: int = 8,
    candidates: int = 5,
    first_stage: int = 10,
    indifference: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    max_replications: int = 50,
    progress: bool | None = None,
) -> Optimisation:
    """Find the lever settings that do best on an objective, within constraints and budget.

    Args:
        scenario: The scenario as it is (a Scenario, file path, YAML text or document).
        levers: Key path -> values (``range(6, 14)``, ``[owner, pooled]``,
            ``{"low": 2.0, "high": 8.0}``), or a levers file (see
            ``salessim.optimise.levers``).
        objective: A KPI with a better direction (``"profit"``), or two or more: the
            first ranks the recommendation, all of them shape the search and its
            frontier.
        constraints: Conditions on KPI means, ``"cycle_time_p90_days <= 60"``.
        budget: Limits on a setting's cost, checked before it runs:
            ``{"salary_per_year": 5_000_000}`` and/or ``{"headcount": 40}``.
        trials: Settings to simulate; those over the budget are skipped and not counted.
        replications: Replications per trial (the same indices for every trial).
        seed: Root seed of the replications and the search (None draws one).
        executor: Where replications run (see ``salessim.run``); the history is the
            same on every executor.
        workers: Pool size for ``"processes"``.
        store: Results store for the replications (see ``salessim.run``).
        storage: Where the study is kept: None (memory), a SQLite file (e.g.
            ``"study.db"``; run again to resume) or a database URL.
        batch: Trials proposed, and simulated, together.
        candidates: Leading feasible settings re-run in the selection step.
        first_stage: Replications of each candidate before the selection drops any.
        indifference: Differences of the first objective smaller than this do not
            matter, in its unit (default 1 % of the best candidate's mean).
        confidence: Probability that the selection is right (the best, or within the
            indifference of it), and level of every interval.
        max_replications: Most replications of a candidate in the selection step.
        progress: Progress bar: True, False, or None for automatic.

    Raises:
        ScenarioError: For a bad lever, objective, constraint or budget, before any
            trial runs.
        ValueError: For a bad count, level, seed, executor or storage.
    """
    sc = load_scenario(scenario)
    settings = Settings(trials, replications, batch, candidates, first_stage, indifference,
                        confidence, max_replications)
    settings.check()
    space = _space(sc, levers, objective, constraints, budget)
    seed = check_seed(seed)
    started = time.perf_counter()
    with _quiet_optuna(), open_executor(executor, workers, batch * replications) as pool:
        ev = Evaluator(seed, pool, store)
        name, records, note = _search(sc, space, settings, seed, storage, ev, progress)
        best = recommend(sc, space, settings, records, ev)
        moves, runs = sensitivity(sc, space, settings, best, ev)
    total = time.perf_counter() - started
    return Optimisation(
        scenario=sc, levers=space.levers, objectives=space.objectives,
        constraints=space.constraints, budget=dict(space.budget), seed=seed,
        replications=replications, history=history_table(sc, space, records),
        skipped=sum(r.over for r in records), best=best, moves=moves, sensitivity_runs=runs,
        timings={"total": total, "simulating": ev.simulated_s,
                 "search": total - ev.simulated_s},
        study_name=name, note=note)


def _space(sc: Scenario, levers: LeversSource, objective: str | Sequence[str],
           constraints: str | Sequence[str], budget: Mapping[str, float] | None) -> Space:
    """Every part of the question, checked against the scenario; problems all at once."""
    errors: list[ScenarioError] = []
    parts: list[Any] = []
    for parse in (lambda: parse_levers(levers, sc), lambda: parse_objectives(objective, sc),
                  lambda: parse_constraints(constraints, sc), lambda: parse_budget(budget)):
        try:
            parts.append(parse())
        except ScenarioError as err:
            errors.append(err)
            parts.append(None)
    if errors:
        raise errors[0] if len(errors) == 1 else _joined(errors)
    space = Space(*parts)
    check_budget(sc, space.levers, space.budget)
    return space


def _joined(errors: Sequence[ScenarioError]) -> ScenarioError:
    """Problems of several inputs as one error, each line naming its own input."""
    first = errors[0]
    rest = [Problem(f"{e.source}: {p.path}" if p.path else e.source, p.message)
            for e in errors[1:] for p in e.problems]
    return ScenarioError(first.source, [*first.problems, *rest])


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna's log lines (a study created, a trial finished) held back, then restored."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(previous)


def _identity(sc: Scenario, space: Space, settings: Settings, seed: int) -> dict[str, Any]:
    """What decides the proposals: a study resumes only if all of it is the same."""
    return {"scenario": scenario_hash(sc), "seed": seed, "batch": settings.batch,
            "replications": settings.replications,
            "levers": [(lv.path, lv.kind, lv.low, lv.high, lv.step, lv.log, list(lv.choices))
                       for lv in space.levers],
            "objectives": [o.kpi for o in space.objectives],
            "constraints": [str(c) for c in space.constraints], "budget": dict(space.budget)}


def _search(sc: Scenario, space: Space, settings: Settings, seed: int, storage: StorageSpec,
            ev: Evaluator, progress: bool | None) -> tuple[str, list[Record], str | None]:
    """Run (or resume) the study until it holds ``trials`` trials; its records, in order."""
    name = study_name(_identity(sc, space, settings, seed))
    study, records = load_records(open_storage(storage), name, space)
    records = _first_trials(records, settings.trials)
    proposer = Proposer(space, seed, settings.batch, _start(sc, space.levers))
    counted = sum(not r.over for r in records)
    note = None
    with progress_bar(settings.trials, "trials", progress, initial=counted) as bar:
        while counted < settings.trials:
            if _skipped_in_a_row(records) >= MAX_OVER_BUDGET:
                note = (f"The search stopped after {counted} trials: the last "
                        f"{MAX_OVER_BUDGET} settings it proposed were over the budget or not "
                        "valid scenarios, so little room is left within them.")
                break
            new = _batch(sc, space, settings, proposer, records, counted, ev)
            study.add_trials([space.frozen(r, running=False) for r in new])
            records += new
            done = sum(not r.over for r in new)
            counted += done
            bar.update(done)
    return name, records, note


def _first_trials(records: list[Record], trials: int) -> list[Record]:
    """The records up to the ``trials``-th counted one (a stored study may hold more)."""
    counted = 0
    for i, r in enumerate(records):
        counted += not r.over
        if counted == trials:
            return records[:i + 1]
    return records


def _skipped_in_a_row(records: Sequence[Record]) -> int:
    n = 0
    for r in reversed(records):
        if not r.over:
            break
        n += 1
    return n


def _batch(sc: Scenario, space: Space, settings: Settings, proposer: Proposer,
           records: list[Record], counted: int, ev: Evaluator) -> list[Record]:
    """Propose the rest of the batch the next trial belongs to, and simulate it."""
    number = counted // settings.batch
    wanted = min((number + 1) * settings.batch, settings.trials) - counted
    proposer.begin(records, number)
    new: list[Record] = []
    pending: list[tuple[int, Scenario]] = []
    in_a_row = _skipped_in_a_row(records)
    while len(pending) < wanted and in_a_row < MAX_OVER_BUDGET:
        k = len(records) + len(new)
        params, system = proposer.propose(k)
        record, variant = _proposal(sc, space, k, number, params, system)
        new.append(record)
        if record.over:
            proposer.over_budget(record)
            in_a_row += 1
        else:
            pending.append((len(new) - 1, variant))
            in_a_row = 0
    rows = ev.rows([v for _, v in pending], [range(settings.replications)] * len(pending),
                   label="trial")
    for (i, _), trial_rows in zip(pending, rows, strict=True):
        new[i] = replace(new[i], kpis=means(trial_rows))
    return new


def _proposal(sc: Scenario, space: Space, k: int, number: int, params: dict[str, Any],
              system: dict[str, Any]) -> tuple[Record, Scenario]:
    """A proposal as a record (skipped if over the budget or not a valid scenario)."""
    try:
        variant = sc.with_changes(space.decode(params), source=f"trial {k}")
    except ScenarioError as err:
        return Record(k, number, params, {}, f"not a valid scenario: {err}",
                      system=system), sc
    spent = costs(variant)
    over = over_budget(spent, space.budget)
    skipped = ("over the budget: " + ", ".join(f"{key} by {v:,.0f}" for key, v in over.items())
               if over else "")
    return Record(k, number, params, spent, skipped, system=system), variant


def _start(sc: Scenario, levers: Sequence[Lever]) -> dict[str, Any] | None:
    """The scenario's own values as the first proposal, when every lever can take them."""
    start: dict[str, Any] = {}
    for lv in levers:
        found, value = value_at(sc, lv.path)
        if not found or not contains(lv, value):
            return None
        start[lv.path] = lv.to_search(value)
    return start


def history_table(sc: Scenario, space: Space, records: Sequence[Record]) -> pd.DataFrame:
    """One row per trial: lever values, KPI means, feasibility and costs."""
    names = kpi_names(sc)
    rows = []
    for r in (r for r in records if not r.over):
        row: dict[str, Any] = space.decode(r.params)
        row.update({k: r.kpis.get(k, float("nan")) for k in names})
        row["feasible"] = space.feasible(r)
        row.update(r.spent)
        rows.append(row)
    columns = [lv.path for lv in space.levers] + names + ["feasible", "salary_per_year",
                                                           "headcount"]
    return pd.DataFrame(rows, columns=columns, index=pd.RangeIndex(len(rows), name="trial"))

