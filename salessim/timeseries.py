"""Work in progress, queues and busy reps over time, sampled at a fixed step.

Computed after the run from the event records (see ``salessim.intervals``): each
quantity at time ``t`` is the number of intervals ``[from, to)`` that cover ``t``,
counted for all sample times at once with two sorted searches, so it costs nothing
during the simulation and little after it (``benchmarks/bench_timeseries.py``).

Every lead is counted, warm-up leads included: this is the state of the organisation,
not cohort accounting. An activity enters the event log once its rep has finished, so
activities not finished when the results were taken are not counted: at the very end
of a run stopped by the drain limit, and, for a run still under way (a ``Sandbox``
between rounds), over the last days before today, where the series falls short of the
real load by the activities still in progress. ``Sandbox.pipeline()`` gives the exact
state today.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from salessim.intervals import PHASES, phases

if TYPE_CHECKING:
    from salessim.results import Results

STAGE_MEASURES: tuple[str, ...] = ("wip", *PHASES)
"""Measures per stage: ``wip`` (leads at the stage: waiting for a rep, worked or
waiting on the customer) and the number of leads in each phase of ``PHASES``
(``wait`` is the queue for a rep)."""
ROLE_MEASURES: tuple[str, ...] = ("busy_reps",)
"""Measures per role: ``busy_reps``, the number of the role's reps working."""
COLUMNS: tuple[str, ...] = ("replication", "time_days", "measure", "stage", "role", "value")


def timeseries(res: Results, step_days: float = 1.0) -> pd.DataFrame:
    """Per stage and per role counts at times 0, step, 2 step, ... up to each run's end.

    Args:
        res: Results of a run.
        step_days: Sampling step (days).

    Returns:
        A long table with columns ``replication``, ``time_days``, ``measure`` (one of
        ``STAGE_MEASURES`` or ``ROLE_MEASURES``), ``stage`` (empty for role measures),
        ``role`` and ``value`` (a count of leads or reps).

    Raises:
        ValueError: If ``step_days`` is not a positive number.
    """
    if not step_days > 0:
        raise ValueError(f"step_days must be a positive number of days, got {step_days}")
    sc = res.scenario
    stages = [s.name for s in sc.stages]
    roles = [r.name for r in sc.roles]
    stage_role = np.array([roles.index(s.role) for s in sc.stages], dtype=np.int64)
    columns: dict[str, list[NDArray[Any]]] = {c: [] for c in COLUMNS}
    for raw in res.raw:
        times = np.arange(0.0, raw.end_day + step_days / 2, step_days)
        ph = phases(raw)
        blocks = []
        for measure in STAGE_MEASURES:
            lo, hi = ((ph.bounds["wait"][0], ph.bounds["customer"][1]) if measure == "wip"
                      else ph.bounds[measure])
            blocks.append(covering(lo, hi, ph.stage, len(stages), times))
        # Busy reps count every rep's own work, joint work included.
        rep_role = np.array([roles.index(r) for r in raw.rep_role], dtype=np.int64)
        E = raw.events
        served = E["resource"] >= 0
        blocks.append(covering(E["start_time"][served], E["end_time"][served],
                               rep_role[E["resource"][served]], len(roles), times))
        # One row per (measure, stage or role, time): codes now, names once at the end.
        n_stage_rows, n_role_rows = len(STAGE_MEASURES) * len(stages), len(roles)
        series = n_stage_rows + n_role_rows
        measure_code = np.append(np.repeat(np.arange(len(STAGE_MEASURES)), len(stages)),
                                 np.full(n_role_rows, len(STAGE_MEASURES)))
        stage_code = np.append(np.tile(np.arange(len(stages)) + 1, len(STAGE_MEASURES)),
                               np.zeros(n_role_rows, dtype=np.int64))
        role_code = np.append(np.tile(stage_role, len(STAGE_MEASURES)), np.arange(n_role_rows))
        columns["replication"].append(np.full(series * len(times), raw.replication))
        columns["time_days"].append(np.tile(times, series))
        columns["measure"].append(np.repeat(measure_code, len(times)))
        columns["stage"].append(np.repeat(stage_code, len(times)))
        columns["role"].append(np.repeat(role_code, len(times)))
        columns["value"].append(np.concatenate([b.ravel() for b in blocks]))
    flat = {c: np.concatenate(v) for c, v in columns.items()}
    return pd.DataFrame({
        "replication": flat["replication"],
        "time_days": flat["time_days"],
        "measure": pd.Categorical.from_codes(flat["measure"],
                                             pd.Index([*STAGE_MEASURES, *ROLE_MEASURES])),
        "stage": pd.Categorical.from_codes(flat["stage"], pd.Index(["", *stages])),
        "role": pd.Categorical.from_codes(flat["role"], pd.Index(roles)),
        "value": flat["value"],
    })


def covering(
    lo: NDArray[np.float64], hi: NDArray[np.float64], group: NDArray[np.int64],
    n_groups: int, times: NDArray[np.float64],
) -> NDArray[np.int64]:
    """How many intervals ``[lo, hi)`` of each group cover each time.

    Args:
        lo: Interval starts (days).
        hi: Interval ends (days); an interval with ``hi <= lo`` covers nothing.
        group: Group index of each interval, in ``[0, n_groups)``.
        n_groups: Number of groups.
        times: Sample times (days), ascending.

    Returns:
        Counts, shape ``(n_groups, len(times))``.
    """
    keep = hi > lo
    lo, hi, group = lo[keep], hi[keep], group[keep]
    out = np.zeros((n_groups, len(times)), dtype=np.int64)
    for g in range(n_groups):
        mine = group == g
        out[g] = (np.searchsorted(np.sort(lo[mine]), times, side="right")
                  - np.searchsorted(np.sort(hi[mine]), times, side="right"))
    return out
