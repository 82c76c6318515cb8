"""Where a lead's time goes: each activity split into phases, as intervals of days.

A lead's life is a chain of activities (one per attempt at a stage, or per touch of an
attempt with follow-ups, however many reps work it). Between its arrival and its close,
every moment belongs to exactly one phase of one activity:

- ``handoff``: handed over from another role (``enable - handoff_days`` to ``enable``);
- ``nurture``: parked after a nurture outcome, until the retry's handoff (the previous
  activity's decision to ``enable - handoff_days``);
- ``wait``: waiting for a rep, the queue (``enable`` to ``start``; for a lead that went
  cold, ``enable`` to the time it was lost);
- ``work``: a rep works, travel included (``start`` to ``end``; with joint work, to the
  end of the last rep's work);
- ``customer``: the customer answers, holding no rep (``end`` to ``decision``); for a
  touch followed up, the gap until the follow-up falls due.

Handoff and nurture belong to the activity they lead to. The phases are computed from
the raw event records after the run, so they cost nothing during the simulation.
Times are days from the start of the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from salessim.model.records import NURTURE, RawReplication

PHASES: tuple[str, ...] = ("handoff", "nurture", "wait", "work", "customer")
"""The phases of an activity, in the order they happen."""


@dataclass(frozen=True)
class Phases:
    """The activities of one replication, each split into phases.

    Attributes:
        case: Lead id of each activity.
        stage: Stage index of each activity.
        resource: Rep index of each activity (-1 for a lead that went cold unserved).
        bounds: Phase name -> (from, to) days of each activity; ``from == to`` where the
            activity had no such phase.
    """

    case: NDArray[np.int64]
    stage: NDArray[np.int64]
    resource: NDArray[np.int64]
    bounds: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]

    def days(self, phase: str) -> NDArray[np.float64]:
        """Length of ``phase`` in each activity (days)."""
        lo, hi = self.bounds[phase]
        out: NDArray[np.float64] = hi - lo
        return out


def phases(raw: RawReplication) -> Phases:
    """Split every activity of a replication into its phases.

    An activity worked by several reps together (joint work) is the lead's one
    activity: its row for the lead's own rep, whose work phase lasts until the last rep
    is done (the customer's clock starts then).
    """
    every = raw.events
    last_end = _touch_end(every)
    main = every["part"] == 0
    E = {name: column[main] for name, column in every.items()}
    enable, start = E["enable_time"], E["start_time"]
    end, decision = last_end[main], E["decision_time"]
    served = E["resource"] >= 0
    # A lead that went cold has no start: its wait ends when it is lost.
    wait_end = np.where(served, start, decision)
    work_lo = np.where(served, start, wait_end)
    work_hi = np.where(served, end, wait_end)
    handoff_lo = enable - E["handoff_days"]
    nurture_lo = np.minimum(_previous_decision_if_nurtured(E, handoff_lo), handoff_lo)
    return Phases(
        case=E["case"],
        stage=E["stage"],
        resource=E["resource"],
        bounds={
            "handoff": (handoff_lo, enable),
            "nurture": (nurture_lo, handoff_lo),
            "wait": (enable, wait_end),
            "work": (work_lo, work_hi),
            "customer": (work_hi, np.where(served, decision, work_hi)),
        },
    )


def _touch_end(E: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
    """For each row, when the last rep working its touch (lead, stage, attempt, touch) ended."""
    order = np.lexsort((E["touch"], E["attempt"], E["stage"], E["case"]))
    keys = np.stack([E["case"], E["stage"], E["attempt"], E["touch"]])[:, order]
    starts = np.flatnonzero(np.r_[True, (keys[:, 1:] != keys[:, :-1]).any(axis=0)])
    # fmax ignores the NaN end of a lead that went cold before its rep started.
    group_end = np.fmax.reduceat(E["end_time"][order], starts) if len(order) else np.empty(0)
    out = np.empty(len(order))
    out[order] = np.repeat(group_end, np.diff(np.r_[starts, len(order)]))
    return out


def _previous_decision_if_nurtured(
    E: dict[str, NDArray[Any]], default: NDArray[np.float64]
) -> NDArray[np.float64]:
    """For each activity that retries a nurtured one, the nurtured one's decision time.

    Other activities get ``default``. The model records a lead's activities in the
    order they happen, so a stable sort by lead keeps each lead's chain in order.
    """
    order = np.argsort(E["case"], kind="stable")
    case = E["case"][order]
    after_nurture = np.zeros(len(order), dtype=bool)
    after_nurture[1:] = (case[1:] == case[:-1]) & (E["outcome"][order][:-1] == NURTURE)
    previous = np.empty(len(order))
    previous[1:] = E["decision_time"][order][:-1]
    out = default.copy()
    rows = order[after_nurture]
    out[rows] = previous[after_nurture]
    return out
