"""What one replication hands back: columns of numbers, cheap to pickle between processes.

Codes (stages, reps, outcomes) are integers here; ``salessim.results`` turns them into
names. Times are days from the start of the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from salessim.model.leads import Lead
    from salessim.model.reps import Rep

ADVANCED, LOST_OUTCOME, REWORK, NURTURE, COLD = 0, 1, 2, 3, 4
OUTCOMES: tuple[str, ...] = ("advanced", "lost", "rework", "nurture", "cold")
"""Activity outcome names by code."""

EVENT_FIELDS: tuple[str, ...] = (
    "case", "stage", "attempt", "resource", "enable_time", "start_time", "end_time",
    "decision_time", "outcome", "handoff_days", "info_lost", "travel_cost",
)
"""Columns of the raw event records, in the order the model writes them."""

LEAD_FIELDS: tuple[str, ...] = (
    "case", "channel", "grade", "region", "product", "segment", "deal_value", "arrival_time",
    "cohort", "status", "close_time", "lost_stage", "lost_reason", "first_start_time",
    "paid_time",
)


@dataclass(frozen=True)
class RawReplication:
    """The raw output of one replication.

    Attributes:
        replication: Replication index.
        leads: Per-lead columns (``LEAD_FIELDS``); attribute columns are indices.
        events: Per-activity columns (``EVENT_FIELDS``).
        rep_team: Team of each rep, by rep index.
        rep_role: Role of each rep, by rep index.
        end_day: Time the run stopped (days).
    """

    replication: int
    leads: dict[str, NDArray[Any]]
    events: dict[str, NDArray[Any]]
    rep_team: tuple[str, ...]
    rep_role: tuple[str, ...]
    end_day: float

    @classmethod
    def collect(
        cls, replication: int, leads: Sequence[Lead],
        events: Sequence[tuple[Any, ...]], reps: Sequence[Rep], end_day: float,
    ) -> RawReplication:
        """Turn the model's objects into columns."""
        lead_cols: dict[str, NDArray[Any]] = {
            "case": np.fromiter((x.id for x in leads), np.int64, len(leads)),
            "channel": np.fromiter((x.channel for x in leads), np.int64, len(leads)),
            "grade": np.fromiter((x.grade for x in leads), np.int64, len(leads)),
            "region": np.fromiter((x.region for x in leads), np.int64, len(leads)),
            "product": np.fromiter((x.product for x in leads), np.int64, len(leads)),
            "segment": np.fromiter((x.segment for x in leads), np.int64, len(leads)),
            "deal_value": np.fromiter((x.deal_value for x in leads), np.float64, len(leads)),
            "arrival_time": np.fromiter((x.arrival for x in leads), np.float64, len(leads)),
            "cohort": np.fromiter((x.cohort for x in leads), np.bool_, len(leads)),
            "status": np.fromiter((x.status for x in leads), np.int64, len(leads)),
            "close_time": np.fromiter((x.close_time for x in leads), np.float64, len(leads)),
            "lost_stage": np.fromiter((x.lost_stage for x in leads), np.int64, len(leads)),
            "lost_reason": np.array([x.lost_reason for x in leads], dtype=object),
            "first_start_time": np.fromiter((x.first_start for x in leads), np.float64,
                                            len(leads)),
            "paid_time": np.fromiter((x.paid_time for x in leads), np.float64, len(leads)),
        }
        if events:
            cols = list(zip(*events, strict=True))
        else:
            cols = [() for _ in EVENT_FIELDS]
        dtypes = (np.int64, np.int64, np.int64, np.int64, np.float64, np.float64, np.float64,
                  np.float64, np.int64, np.float64, np.bool_, np.float64)
        event_cols = {
            name: np.asarray(col, dtype=dt)
            for name, col, dt in zip(EVENT_FIELDS, cols, dtypes, strict=True)
        }
        return cls(
            replication=replication,
            leads=lead_cols,
            events=event_cols,
            rep_team=tuple(r.team for r in reps),
            rep_role=tuple(r.role for r in reps),
            end_day=end_day,
        )
