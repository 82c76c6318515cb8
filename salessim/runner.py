"""Running scenarios: replications on an executor, kept in a store, the same numbers always.

Everything that simulates (``run``, ``run_until``, ``compare``, ``sweep``) goes through
``replicate``: a list of jobs (scenario, seed, replication index) run here, in a local
process pool or on a dask cluster, each finished replication written to the results
store (if one is given) as it completes, and already-stored ones read back instead of
run again. A crash in one replication is reported with its scenario, seed and index
after the others have finished.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salessim.executors import ExecutorSpec, local_workers, open_executor
from salessim.footprint import available_memory, footprint
from salessim.kpis import check_kpi
from salessim.model import RawReplication, Timeline, simulate
from salessim.model.changes import change_problems
from salessim.progress import progress_bar
from salessim.replications import Replay, Replications
from salessim.results import Results, kpi_names, kpi_row
from salessim.rng import fresh_seed
from salessim.scenario import ScenarioError, load_scenario
from salessim.scenario.errors import Problem, show
from salessim.scenario.loader import ScenarioSource
from salessim.scenario.schema import Scenario
from salessim.stats import DEFAULT_CONFIDENCE
from salessim.store import Store, scenario_hash

DEFAULT_REPLICATIONS = 20
"""Replications of every simulating call (run, compare, sweep, the sandbox, the CLI) unless
told otherwise."""
MAX_REPLICATIONS = 100_000
MAX_SEED = 2**63 - 1

StoreSpec = Store | str | Path | None
"""A results store: an open ``Store``, a file path (opened and closed here), or None."""


@dataclass(frozen=True)
class Job:
    """One replication to run.

    Attributes:
        scenario: What to simulate.
        seed: Root seed.
        replication: Replication index, from 0.
        label: The scenario's name in the experiment, for messages.
        timeline: Changes during the run (see ``salessim.model.simulate``).
    """

    scenario: Scenario
    seed: int
    replication: int
    label: str
    timeline: Timeline = ()

    @property
    def final(self) -> Scenario:
        """The scenario that holds at the end of the run."""
        return self.timeline[-1][1] if self.timeline else self.scenario


@dataclass(frozen=True)
class Failure:
    """A replication that raised an error.

    Attributes:
        label: The scenario's name in the experiment.
        seed: Root seed.
        replication: Replication index.
        error: ``ExceptionType: message``.
        detail: The traceback, where it is known.
    """

    label: str
    seed: int
    replication: int
    error: str
    detail: str

    def __str__(self) -> str:
        return (f"scenario {self.label!r}, seed {self.seed}, replication {self.replication}: "
                f"{self.error}")


class ReplicationError(RuntimeError):
    """Some replications failed; the others finished.

    Attributes:
        failures: What failed, with scenario, seed and replication index.
        completed: Raw output of the replications that finished, by job position (also
            kept in the results store, if one was given; a ``Replay`` for one read back
            from it).
    """

    def __init__(self, failures: Sequence[Failure],
                 completed: dict[int, RawReplication | Replay], store: Path | None) -> None:
        self.failures = tuple(failures)
        self.completed = completed
        kept = (f" and are kept in the results store {store}" if store is not None else
                "; give a results store (store=...) to keep finished replications")
        lines = [f"{len(failures)} replication{'s' if len(failures) > 1 else ''} failed; "
                 f"the other {len(completed)} finished{kept}:"]
        lines += [f"  {f}" for f in failures]
        super().__init__("\n".join(lines))


def check_seed(seed: int | None) -> int:
    """``seed``, or a fresh one if None; a ValueError if it is not a usable root seed."""
    if seed is None:
        return fresh_seed()
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    return seed


def check_replications(replications: int) -> None:
    """A ValueError unless ``replications`` is a usable count."""
    if (isinstance(replications, bool) or not isinstance(replications, int)
            or not 1 <= replications <= MAX_REPLICATIONS):
        raise ValueError(f"replications must be a whole number from 1 to {MAX_REPLICATIONS}, "
                         f"got {replications!r}")


def replicate(
    jobs: Sequence[Job],
    *,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    progress: bool | None = None,
    desc: str = "replications",
) -> list[RawReplication | Replay]:
    """Run jobs (or read them from the store) and return their raw output, in job order.

    Jobs with the same scenario (by hash), seed and index run once. A replication read
    back from a store that kept only its KPIs comes as a ``Replay`` (see
    ``salessim.replications``).

    Args:
        jobs: The replications wanted.
        executor: Where to run them (see ``salessim.executors.ExecutorSpec``).
        workers: Pool size for ``"processes"`` (default: the number of cores).
        store: Results store to read finished replications from and write new ones to.
        progress: Progress bar: True, False, or None for automatic.
        desc: Label of the progress bar.

    Raises:
        ReplicationError: If some replications raised; the others are finished first.
        ValueError: For a bad executor; StoreError for an unusable store.
    """
    if isinstance(store, Store):
        return _replicate(jobs, executor, workers, store, progress, desc)
    if store is None:
        return _replicate(jobs, executor, workers, None, progress, desc)
    with Store(store) as opened:
        return _replicate(jobs, executor, workers, opened, progress, desc)


def _replicate(
    jobs: Sequence[Job], executor: ExecutorSpec, workers: int | None, store: Store | None,
    progress: bool | None, desc: str,
) -> list[RawReplication | Replay]:
    hashes: dict[tuple[int, int], str] = {}
    keys = [(hashes.setdefault((id(j.scenario), id(j.timeline)),
                               scenario_hash(j.scenario, j.timeline)), j.seed, j.replication)
            for j in jobs]
    first: dict[tuple[str, int, int], int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    unique = sorted(first.values())
    done: dict[int, RawReplication | Replay] = {}
    if store is not None:
        done = _from_store(store, jobs, keys, unique)
    todo = [i for i in unique if i not in done]
    failures: list[Failure] = []
    keep_raw = _fits(jobs, todo, executor, workers)

    def finish(i: int, raw: RawReplication) -> None:
        job = jobs[i]
        kpis = kpi_row(job.final, raw) if store is not None or not keep_raw else {}
        if store is not None:
            store.save(job.scenario, keys[i][0], job.seed, raw, kpis)
        done[i] = (raw if keep_raw else
                   Replay(job.scenario, job.seed, job.replication, job.timeline, kpis))
        bar.update()

    with progress_bar(len(unique), desc, progress, initial=len(done)) as bar, \
            open_executor(executor, workers, len(todo)) as pool:
        if pool is None:
            for i in todo:
                job = jobs[i]
                try:
                    raw = simulate(job.scenario, job.seed, job.replication, job.timeline)
                except Exception as err:
                    failures.append(_failure(job, err, traceback.format_exc()))
                else:
                    finish(i, raw)
        else:
            futures: dict[Future[RawReplication], int] = {
                pool.submit(simulate, jobs[i].scenario, jobs[i].seed, jobs[i].replication,
                            jobs[i].timeline): i
                for i in todo
            }
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    raw = fut.result()
                except Exception as err:
                    failures.append(_failure(jobs[i], err, "".join(
                        traceback.format_exception(err))))
                else:
                    finish(i, raw)
    if failures:
        failures.sort(key=lambda f: (f.label, f.replication))
        raise ReplicationError(failures, done, store.path if store is not None else None)
    return [done[first[key]] for key in keys]


def _fits(jobs: Sequence[Job], todo: Sequence[int], executor: ExecutorSpec,
          workers: int | None) -> bool:
    """Whether the finished replications' raw output can be kept (see ``footprint``).

    Raises:
        MemoryRefused: If the replications running at once would not fit in memory.
    """
    biggest = [max(jobs[i].scenario, jobs[i].final, key=lambda sc: sc.expected_leads())
               for i in todo]
    plan = footprint(biggest, local_workers(executor, workers, len(todo)),
                     available_memory())
    if not plan.keep_raw:
        warnings.warn(
            f"{len(todo)} replications' raw output (about {plan.kept / 2**30:,.1f} GB) "
            f"would not fit in memory beside the running ones; each is kept as its KPIs, "
            "and a table that needs its leads or events simulates it again",
            RuntimeWarning, stacklevel=4)
    return plan.keep_raw


def _from_store(store: Store, jobs: Sequence[Job], keys: list[tuple[str, int, int]],
                unique: list[int]) -> dict[int, RawReplication | Replay]:
    """Read the stored replications among ``unique`` jobs, by job position."""
    wanted: dict[tuple[str, int], dict[int, int]] = {}
    for i in unique:
        key, seed, r = keys[i]
        wanted.setdefault((key, seed), {})[r] = i
    found: dict[int, RawReplication | Replay] = {}
    for (key, seed), positions in wanted.items():
        present = store.done(key, seed) & positions.keys()
        for r, kept in store.load(key, seed, sorted(present)).items():
            job = jobs[positions[r]]
            found[positions[r]] = (kept.raw if kept.raw is not None else
                                   Replay(job.scenario, seed, r, job.timeline, kept.kpis))
    return found


def _failure(job: Job, err: BaseException, detail: str) -> Failure:
    message = str(err).splitlines()[0] if str(err) else ""
    error = f"{type(err).__name__}: {message}" if message else type(err).__name__
    return Failure(job.label, job.seed, job.replication, error, detail)


def dated_scenarios(scenario: Scenario,
                    timeline: Sequence[tuple[float, Mapping[str, Any]]]) -> Timeline:
    """Changes on given days as the scenarios that hold from each day, all checked first.

    Args:
        scenario: The scenario at the start.
        timeline: ``(day, changes)`` pairs in order of day (days from the start of the
            run; changes are key path -> value, as in ``Scenario.with_changes``).

    Raises:
        ScenarioError: For a day out of order or outside the run, a change that is not
            valid, or one to something fixed once the run starts; nothing runs then.
    """
    out: list[tuple[float, Scenario]] = []
    current, last = scenario, 0.0
    end = scenario.calendar.horizon_days + scenario.calendar.drain_limit_days
    for k, entry in enumerate(timeline):
        source = f"<timeline[{k}]>"
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            raise ScenarioError(source, [Problem("", "each entry is (day, changes); got "
                                                     f"{show(entry)}")])
        day, changes = entry
        if (isinstance(day, bool) or not isinstance(day, int | float)
                or not last <= day <= end):
            raise ScenarioError(source, [Problem("day", (
                f"must be a day from {last:g} (the previous change) to {end:g} (the end of "
                f"the run); got {show(day)}"))])
        changed = current.with_changes(changes, source=f"{source} (day {day:g})")
        problems = change_problems(current, changed)
        if problems:
            raise ScenarioError(f"{source} (day {day:g})", problems)
        out.append((float(day), changed))
        current, last = changed, float(day)
    return tuple(out)


def run(
    scenario: ScenarioSource,
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    progress: bool | None = None,
    timeline: Sequence[tuple[float, Mapping[str, Any]]] = (),
) -> Results:
    """Run ``replications`` independent replications of a scenario.

    Replication ``r`` depends only on (scenario, seed, r) and the timeline: serial runs,
    a process pool, any ``concurrent.futures.Executor`` and a dask cluster give
    identical results.

    Args:
        scenario: A Scenario, a path to a scenario file, YAML text or a document.
        replications: Number of replications (at least 1).
        seed: Root seed, a whole number from 0 to 2**63 - 1; None draws a fresh one,
            recorded in ``Results.seed`` so the run can be repeated.
        executor: None (a local process pool when there are several cores and several
            replications, else here), ``"serial"``, ``"processes"``, an Executor or a
            dask Client you own (left open), or a dask scheduler address.
        workers: Pool size for ``"processes"`` (default: the number of cores).
        store: A results store (path or ``Store``): finished replications are written
            to it as they complete, and replications already in it are read back
            instead of run again.
        progress: Show a progress bar: True, False, or None for automatic (on a
            terminal or in a notebook, once the run takes more than a moment).
        timeline: Changes during the run, ``(day, changes)`` in order of day, e.g.
            ``[(120, {"teams.north.ae.headcount": 12})]``: the same numbers as playing
            the run in rounds (``salessim.sandbox.Sandbox``) with those changes.

    Returns:
        Results with one entry per replication, in replication order (their scenario
        is the one that holds at the end).

    Raises:
        ScenarioError: If the scenario or a change in the timeline is not valid.
        ValueError: If ``replications``, ``seed`` or the executor is not usable.
        ReplicationError: If some replications raised an error (the others finish
            first and are kept in the store).
    """
    sc = load_scenario(scenario)
    check_replications(replications)
    seed = check_seed(seed)
    dated = dated_scenarios(sc, timeline)
    jobs = [Job(sc, seed, r, sc.name, dated) for r in range(replications)]
    raws = replicate(jobs, executor=executor, workers=workers, store=store, progress=progress)
    return Results(scenario=jobs[0].final, seed=seed, raw=Replications(raws))


def run_until(
    scenario: ScenarioSource,
    kpi: str,
    *,
    half_width: float | None = None,
    relative: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int | None = None,
    min_replications: int = 10,
    max_replications: int = 500,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    store: StoreSpec = None,
    progress: bool | None = None,
) -> Results:
    """Run replications until a KPI's confidence interval is as narrow as asked.

    Starts with ``min_replications``, estimates from their spread how many are needed
    (``Results.replications_needed``), runs that many more, and repeats until the
    interval's half-width meets the target or ``max_replications`` is reached (then
    a ``RuntimeWarning`` says how many would be needed).

    Args:
        scenario: A Scenario, a path to a scenario file, YAML text or a document.
        kpi: The KPI whose interval must be narrow (e.g. ``"profit"``).
        half_width: Target half-width, in the KPI's unit.
        relative: Target half-width as a share of the mean (e.g. 0.02).
        confidence: Confidence level of the interval.
        seed: Root seed (None draws one).
        min_replications: Replications of the first round (at least 2).
        max_replications: Most replications run in all.
        executor: Where replications run (see ``run``).
        workers: Pool size for ``"processes"``.
        store: Results store (see ``run``).
        progress: Progress bar (see ``run``).

    Returns:
        The results of all replications run.
    """
    sc = load_scenario(scenario)
    check_kpi(kpi, kpi_names(sc))
    if not 2 <= min_replications <= max_replications <= MAX_REPLICATIONS:
        raise ValueError(f"need 2 <= min_replications <= max_replications <= "
                         f"{MAX_REPLICATIONS}; got {min_replications} and {max_replications}")
    if (half_width is None) == (relative is None):
        raise ValueError("give exactly one target: half_width (in the KPI's unit) or "
                         "relative (a share of the mean, e.g. 0.02)")
    seed = check_seed(seed)
    raws: list[RawReplication | Replay] = []
    n = min_replications
    while True:
        jobs = [Job(sc, seed, r, sc.name) for r in range(len(raws), n)]
        raws += replicate(jobs, executor=executor, workers=workers, store=store,
                          progress=progress)
        res = Results(scenario=sc, seed=seed, raw=Replications(raws), confidence=confidence)
        needed = res.replications_needed(kpi, half_width=half_width, relative=relative)
        if needed <= n:
            return res
        if n >= max_replications:
            warnings.warn(f"{kpi}: {needed} replications would be needed for the asked "
                          f"interval, but max_replications is {max_replications}",
                          RuntimeWarning, stacklevel=2)
            return res
        n = min(max_replications, needed)

