"""Running a scenario: replications on an executor, the same numbers whatever runs them."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Literal

from salessim.model import RawReplication, simulate
from salessim.results import Results
from salessim.rng import fresh_seed
from salessim.scenario.schema import Scenario

MAX_REPLICATIONS = 100_000

ExecutorSpec = Executor | Literal["serial", "processes"] | None


def run(
    scenario: Scenario,
    replications: int = 10,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    *,
    workers: int | None = None,
    on_replication: Callable[[int], object] | None = None,
) -> Results:
    """Run ``replications`` independent replications of a scenario.

    Replication ``r`` depends only on (scenario, seed, r): serial runs, a process pool
    and any other ``concurrent.futures.Executor`` give identical results.

    Args:
        scenario: A validated scenario (see ``load_scenario``).
        replications: Number of replications (at least 1).
        seed: Root seed, a non-negative integer; None draws a fresh one, recorded in
            ``Results.seed`` so the run can be repeated.
        executor: None or ``"serial"`` to run here; ``"processes"`` for a local process
            pool of ``workers`` processes (default: the number of cores); or an
            Executor you own (it is not shut down).
        workers: Pool size for ``"processes"``.
        on_replication: Called with the replication index as each one finishes
            (progress reporting); never affects results.

    Returns:
        Results with one entry per replication, in replication order.

    Raises:
        ValueError: If ``replications`` or ``seed`` is out of range, or the executor
            is not known.
    """
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise ValueError(f"replications must be between 1 and {MAX_REPLICATIONS}, "
                         f"got {replications}")
    if seed is None:
        seed = fresh_seed()
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    indices = range(replications)
    raws: list[RawReplication]
    if executor is None or executor == "serial":
        raws = []
        for r in indices:
            raws.append(simulate(scenario, seed, r))
            if on_replication:
                on_replication(r)
    elif executor == "processes":
        n = workers or os.cpu_count() or 1
        with ProcessPoolExecutor(max_workers=min(n, replications)) as pool:
            raws = _collect(pool, scenario, seed, indices, on_replication)
    elif isinstance(executor, Executor):
        raws = _collect(executor, scenario, seed, indices, on_replication)
    else:
        raise ValueError(f"executor must be None, 'serial', 'processes' or an Executor, "
                         f"got {executor!r}")
    return Results(scenario=scenario, seed=seed, raw=tuple(raws))


def _collect(
    pool: Executor, scenario: Scenario, seed: int, indices: range,
    on_replication: Callable[[int], object] | None,
) -> list[RawReplication]:
    futures = [pool.submit(simulate, scenario, seed, r) for r in indices]
    out = []
    for r, fut in zip(indices, futures, strict=True):
        out.append(fut.result())
        if on_replication:
            on_replication(r)
    return out
