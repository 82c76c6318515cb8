"""Warm-up guidance: how long an empty start takes to fill the pipeline.

A scenario starts with no leads in progress, so the first weeks see short queues and
quick cycles that the steady state never sees. The leads arriving then should not be
counted (``calendar.warmup_days``). ``suggest_warmup`` runs the scenario counting from
day 0 over twice its horizon and applies two rules, and suggests the longer of them:

* **Pipeline fill.** Starting empty, the expected number of leads in progress at day
  ``t`` is ``rate * integral_0^t S(s) ds``, where ``S`` is the survival function of a
  lead's life (arrival to won or lost); this is exact for a pipeline whose time is
  spent with customers rather than in queues (an M/G/infinity system). The pipeline is
  ``full`` (95 % by default) full once ``E[min(L, t)] / E[L]`` reaches that share,
  estimated from the lives of every lead arriving in the second half of the run.
  Robust: it uses thousands of leads, not one noisy series.
* **MSER-5** (``salessim.stats.mser``) on the work in progress (leads arrived and not
  yet closed), sampled daily and averaged over replications: the truncation that makes
  the rest of the series most stable. It also sees a queue that keeps settling after
  the pipeline is full (a busy role starting idle), which the fill rule assumes away.
  On strongly autocorrelated output (work in progress wanders over weeks) it can cut
  too late: its suggestion is then conservative, not wrong.

A rate schedule (seasons, trade fairs) makes the series move by design, not because
of the empty start; MSER then tends to cut at a seasonal turn. Read the suggestion
together with ``WarmupAdvice.series`` (plot it) in that case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salessim.executors import ExecutorSpec
from salessim.model import RawReplication
from salessim.runner import DEFAULT_REPLICATIONS, check_replications, run
from salessim.scenario import load_scenario
from salessim.scenario.limits import MAX_HORIZON_DAYS
from salessim.scenario.loader import ScenarioSource
from salessim.stats import mser

STEP_DAYS = 1.0
"""Sampling step of the work-in-progress series (days)."""
MSER_BATCH = 5
"""Observations per batch mean in MSER (MSER-5)."""
FULL = 0.95
"""Default share of its steady-state work in progress at which the pipeline is full."""


@dataclass(frozen=True)
class WarmupAdvice:
    """A suggested warm-up and the evidence for it.

    Attributes:
        days: Suggested ``calendar.warmup_days``: the longer of ``fill_days`` and
            ``mser_days`` (days).
        fill_days: When the pipeline is ``full`` full, from the leads' lives (days).
        mser_days: MSER-5's truncation of the mean work in progress (days).
        full: The share of steady-state work in progress that counts as full.
        current_days: The scenario's own ``warmup_days`` (days).
        series: ``time_days`` and ``wip_mean`` (leads in progress, mean over
            replications), sampled daily over twice the scenario's horizon.
        replications: Replications the advice rests on.
        settled: Whether MSER found its cut inside the first half of the series; if
            not, the work in progress never settled and ``mser_days`` is a lower bound.
    """

    days: float
    fill_days: float
    mser_days: float
    full: float
    current_days: float
    series: pd.DataFrame
    replications: int
    settled: bool

    @property
    def message(self) -> str:
        """One paragraph for the user."""
        rules = (f"the pipeline is {self.full:.0%} full after {self.fill_days:g} days, and "
                 f"MSER-5 on the mean work in progress cuts at {self.mser_days:g} days")
        if not self.settled:
            return (f"Over {self.replications} replications {rules}, but the work in "
                    "progress had not settled: the warm-up is at least that long, or the "
                    "scenario never reaches a steady state (is a role overloaded, or does "
                    "a rate schedule keep it moving?). Plot the series to see.")
        verdict = ("enough" if self.current_days >= self.days else
                   "too short: raise calendar.warmup_days")
        return (f"Over {self.replications} replications {rules}: a warm-up of {self.days:g} "
                f"days is suggested; the scenario uses {self.current_days:g} days, which is "
                f"{verdict}.")


def wip_series(raw: RawReplication, times: np.ndarray) -> np.ndarray:
    """Leads in progress (arrived, not yet won or lost) at each time (days)."""
    arrival = np.sort(raw.leads["arrival_time"])
    close = raw.leads["close_time"]
    closed = np.sort(close[np.isfinite(close)])
    in_progress: np.ndarray = (np.searchsorted(arrival, times, side="right")
                               - np.searchsorted(closed, times, side="right"))
    return in_progress


def fill_time(raws: Sequence[RawReplication], since_day: float, full: float = FULL) -> float:
    """Days until an empty pipeline holds ``full`` of its steady work in progress.

    Args:
        raws: The replications of a run that started empty.
        since_day: Only leads arriving from this day on (in steady state) are used;
            a lead still open at the end counts with its life so far.
        full: The share of the steady-state work in progress that counts as full.

    Returns:
        The smallest whole number of days ``t`` with ``E[min(L, t)] >= full * E[L]``.
    """
    lives = []
    for raw in raws:
        arrival, close = raw.leads["arrival_time"], raw.leads["close_time"]
        steady = arrival >= since_day
        end = np.where(np.isfinite(close[steady]), close[steady], raw.end_day)
        lives.append(end - arrival[steady])
    life = np.sort(np.concatenate(lives))
    if len(life) == 0 or life[-1] <= 0:
        return 0.0
    # E[min(L, t)] is piecewise linear in t between the sorted lives; step by days.
    days = np.arange(0.0, np.ceil(life[-1]) + 1.0)
    below = np.searchsorted(life, days, side="right")
    partial = np.concatenate([[0.0], np.cumsum(life)])[below]
    expected = (partial + days * (len(life) - below)) / len(life)
    return float(days[np.argmax(expected >= full * life.mean())])


def suggest_warmup(
    scenario: ScenarioSource,
    *,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    executor: ExecutorSpec = None,
    workers: int | None = None,
    progress: bool | None = None,
    full: float = FULL,
) -> WarmupAdvice:
    """Suggest ``calendar.warmup_days`` for a scenario that starts empty.

    Args:
        scenario: The scenario (a Scenario, a file path, YAML text or a document); it
            is run with ``warmup_days`` set to 0 and twice its horizon (at most
            ``MAX_HORIZON_DAYS``).
        replications: Replications to base the advice on.
        seed: Root seed (None draws one).
        executor: Where replications run (see ``salessim.run``).
        workers: Pool size for ``"processes"``.
        full: Share of the steady-state work in progress that counts as a full pipeline.
        progress: Progress bar: True, False, or None for automatic.
    """
    scenario = load_scenario(scenario)
    check_replications(replications)
    if not 0 < full < 1:
        raise ValueError(f"full must be a share between 0 and 1, got {full}")
    horizon = min(2 * scenario.calendar.horizon_days, MAX_HORIZON_DAYS)
    from_zero = scenario.with_changes({"calendar.warmup_days": 0.0,
                                       "calendar.horizon_days": horizon})
    res = run(from_zero, replications=replications, seed=seed, executor=executor,
              workers=workers, progress=progress)
    times = np.arange(0.0, horizon, STEP_DAYS)
    mean_wip = np.mean([wip_series(raw, times) for raw in res.raw], axis=0)
    cut = mser(mean_wip, MSER_BATCH)
    batches = len(times) // MSER_BATCH
    fill = fill_time(res.raw, horizon / 2, full)
    return WarmupAdvice(
        days=max(fill, float(times[cut])),
        fill_days=fill,
        mser_days=float(times[cut]),
        full=full,
        current_days=scenario.calendar.warmup_days,
        series=pd.DataFrame({"time_days": times, "wip_mean": mean_wip}),
        replications=replications,
        settled=cut < (batches // 2) * MSER_BATCH,
    )
